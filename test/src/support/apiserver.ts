/**
 * An apiserver for integration tests: a real etcd process, the real apiserver (in this
 * process) with a freshly generated PKI, HTTPS and client-certificate auth. Returns the
 * admin kubeconfig path, so tests can use the real kubectl or @tskube/client against it.
 */
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESOURCES } from '@tskube/api';
import { CachedStorage, EtcdStorage, type CachedStorageOptions } from '@tskube/storage';
import { nullLogger, createLogger, type Logger } from '@tskube/log';
import { buildApiServer, ensurePki, loadKubeletClientTls, loadServingTls, OpenApiV3, SchemaCodec, type ApiServer } from '@tskube/apiserver';
import { startEtcd, type EtcdProcess } from './etcd.js';
import { freePort } from './ports.js';

export interface TestApiServer {
  url: string;
  port: number;
  dataDir: string;
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  /** Component kubeconfigs, all pointing at `url`. */
  kubeconfigs: { scheduler: string; controllerManager: string; kubelet: string };
  server: ApiServer;
  /** What the apiserver uses: the watch cache over `etcdStorage` (unless `watchCache: false`). */
  storage: CachedStorage | EtcdStorage;
  etcdStorage: EtcdStorage;
  etcd: EtcdProcess;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Reuse an etcd (e.g. to restart the apiserver on the same data). */
  etcd?: EtcdProcess;
  logger?: Logger;
  minRequestTimeoutSeconds?: number;
  /** Serve watches and cached reads through the watch cache (default true, as in production), optionally tuned. */
  watchCache?: boolean | Omit<CachedStorageOptions, 'logger'>;
  /**
   * Admission plugins to turn off (upstream --disable-admission-plugins). Default
   * ['ServiceAccount'], as upstream's integration tests do: without the serviceaccount-controller
   * no namespace has a `default` account and every pod would be refused. Pass [] (and run the
   * serviceaccount-controller and root-ca-cert-publisher) for pods with API credentials.
   */
  disableAdmissionPlugins?: string[];
}

function readyz(port: number, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/readyz', ca, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

export async function startApiServer(opts: StartOptions = {}): Promise<TestApiServer> {
  const log = opts.logger ?? (process.env.TSKUBE_TEST_LOG ? createLogger({ component: 'apiserver', level: 'debug' }) : nullLogger());
  const etcd = opts.etcd ?? await startEtcd();
  const dataDir = mkdtempSync(join(tmpdir(), 'tskube-apiserver-'));
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const pki = await ensurePki({ dataDir, externalUrl: url, internalUrl: url, log });
  const serving = await loadServingTls(pki.paths);
  const kc = await loadKubeletClientTls(pki.paths);
  const etcdStorage = new EtcdStorage({ endpoints: [etcd.endpoint], logger: log });
  const storage = opts.watchCache === false ? etcdStorage
    : new CachedStorage(etcdStorage, { ...(typeof opts.watchCache === 'object' ? opts.watchCache : {}), logger: log });
  const server = buildApiServer({
    storage, logger: log, version: { major: '1', minor: '32', gitVersion: 'v1.32.0-tskube' },
    codec: new SchemaCodec(), openapi: new OpenApiV3(RESOURCES),
    tls: { key: serving.key, cert: serving.cert, clientCA: serving.ca, kubeletClient: { key: kc.key, cert: kc.cert } },
    ...(opts.minRequestTimeoutSeconds ? { minRequestTimeoutSeconds: opts.minRequestTimeoutSeconds } : {}),
    disableAdmissionPlugins: opts.disableAdmissionPlugins ?? ['ServiceAccount'],
  });
  await server.start({ port, host: '127.0.0.1' });
  // ready = /readyz passes: storage reachable and every bootstrap hook done
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await readyz(port, serving.ca)) break;
    if (Date.now() > deadline) throw new Error('apiserver did not become ready within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url, port, dataDir, server, storage, etcdStorage, etcd,
    kubeconfig: pki.paths.adminKubeconfig,
    kubeconfigs: { scheduler: pki.paths.schedulerKubeconfig, controllerManager: pki.paths.controllerManagerKubeconfig, kubelet: pki.paths.kubeletKubeconfig },
    async stop() {
      await server.close();
      await storage.close();
      if (!opts.etcd) await etcd.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
