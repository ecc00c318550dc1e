/** tskube-apiserver: configuration, logger, PKI, storage, then the server (design habit 1). */
import { createLogger } from '@tskube/log';
import { CachedStorage, EtcdStorage } from '@tskube/storage';
import { RESOURCES } from '@tskube/api';
import { loadConfig } from './config.js';
import { ensurePki, loadKubeletClientTls, loadServiceAccountKey, loadServingTls, parseSanList } from './pki/index.js';
import { buildApiServer } from './server.js';
import { SchemaCodec } from './handlers/schema-codec.js';
import { OpenApiV3 } from './handlers/openapi.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ component: 'apiserver', level: config.logLevel });
  const pki = await ensurePki({
    dataDir: config.dataDir, externalUrl: config.externalUrl, internalUrl: config.internalUrl,
    extraSans: parseSanList(config.extraSans.join(',')), log,
  });
  const serving = await loadServingTls(pki.paths);
  const kubeletClient = await loadKubeletClientTls(pki.paths);
  const etcd = new EtcdStorage({ endpoints: config.etcdServers, logger: log.child({ subsystem: 'storage' }) });
  // Watches, resourceVersion=0 and not-older-than reads of every resource come from the watch cache.
  const storage = new CachedStorage(etcd, { logger: log.child({ subsystem: 'watch-cache' }) });
  const server = buildApiServer({
    storage, logger: log, version: config.version, codec: new SchemaCodec(), openapi: new OpenApiV3(RESOURCES),
    tls: { key: serving.key, cert: serving.cert, clientCA: serving.ca, kubeletClient: { key: kubeletClient.key, cert: kubeletClient.cert } },
    maxRequestBytes: config.maxRequestBytes, minRequestTimeoutSeconds: config.minRequestTimeoutSeconds,
    externalAddress: new URL(config.externalUrl).host,
    serviceClusterIPRanges: config.serviceClusterIPRanges, serviceAccountKey: await loadServiceAccountKey(pki.paths.pkiDir),
    disableAdmissionPlugins: config.disableAdmissionPlugins,
  });
  const abort = new AbortController();
  await server.start({ port: config.securePort, host: config.bindAddress, signal: abort.signal });
  const shutdown = (sig: string) => {
    log.info('shutting down', { signal: sig });
    abort.abort();
    void server.close().then(() => storage.close()).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', component: 'apiserver', message: 'fatal', error: err instanceof Error ? err.stack : String(err) })}\n`);
  process.exit(1);
});
