/**
 * Wiring of the apiserver (design habit 1): filters (request info → authentication →
 * authorization), then the non-resource endpoints, discovery, OpenAPI and the resource
 * handler. Every dependency is passed in; nothing here reads the environment.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ApiError, forbidden, unauthorized, groupResourceString } from '@tskube/api';
import type { Storage } from '@tskube/storage';
import type { Logger } from '@tskube/log';
import { parseRequestInfo, type RequestInfo } from './filters/request-info.js';
import { ANONYMOUS, UnionAuthenticator, X509Authenticator, type Authenticator, type UserInfo } from './filters/authentication.js';
import { AuthenticatedAuthorizer, PublicInfoAuthorizer, UnionAuthorizer, type Authorizer } from './filters/authorization.js';
import { AdmissionChain, type MutatingPlugin, type ValidatingPlugin } from './admission/admission.js';
import { NamespaceLifecycle } from './admission/namespace-lifecycle.js';
import { DefaultTolerationSeconds } from './admission/default-toleration-seconds.js';
import { Priority, priorityClassSource } from './admission/priority.js';
import { ServiceAccountAdmission, serviceAccountSource } from './admission/service-account.js';
import { ServiceAccountTokenAuthenticator, registryLookup } from './filters/service-account-token.js';
import { SERVICE_ACCOUNT_ISSUER, ServiceAccountTokenSigner } from './registry/core/token.js';
import { buildRegistry, namespaceGetter, type ApiRegistry } from './registry/index.js';
import { KubeletClient } from './kubelet-client.js';
import { ResourceHandler } from './handlers/resource.js';
import { Discovery } from './handlers/discovery.js';
import { HealthEndpoints } from './handlers/health.js';
import { sendError, sendJson } from './handlers/respond.js';
import { acceptUpgrades } from './handlers/upgrade.js';
import type { BodyCodec } from './handlers/codec.js';
import { ApiServerMetrics } from './metrics.js';
import { fieldManagerFor } from './fieldmanager/index.js';

export interface OpenApiEndpoint {
  /** Serves /openapi/v3 and /openapi/v3/<gv>; false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean;
}

export interface TlsMaterial {
  key: Buffer | string;
  cert: Buffer | string;
  /** CA that client certificates must chain to. */
  clientCA: Buffer | string;
  /** The apiserver's client credential towards kubelets. */
  kubeletClient?: { key: Buffer | string; cert: Buffer | string };
}

export interface ApiServerDeps {
  storage: Storage;
  tls: TlsMaterial;
  codec: BodyCodec;
  openapi?: OpenApiEndpoint;
  logger: Logger;
  version: { major: string; minor: string; gitVersion: string };
  maxRequestBytes?: number;
  minRequestTimeoutSeconds?: number;
  /** Address clients reach us at, for legacy /api discovery. */
  externalAddress?: string;
  /** Service ClusterIP ranges (default 10.96.0.0/12). */
  serviceClusterIPRanges?: readonly string[];
  /** Service account token signing key (PEM, pki/sa.key); absent: an in-memory key. */
  serviceAccountKey?: { privateKeyPem: string; publicKeyPem: string };
  /**
   * Admission plugins turned off by name (upstream --disable-admission-plugins), e.g.
   * ['ServiceAccount'] for a test apiserver without the serviceaccount-controller. Unknown names throw.
   */
  disableAdmissionPlugins?: readonly string[];
}

export interface ApiServer {
  readonly registry: ApiRegistry;
  readonly server: https.Server;
  readonly metrics: ApiServerMetrics;
  /** Listens and bootstraps; resolves with the bound port once listening. */
  start(opts: { port: number; host?: string; signal?: AbortSignal }): Promise<number>;
  close(): Promise<void>;
}

/** The chain without the plugins named in `disabled` (a plugin in both lists goes from both). */
function admissionChain(disabled: readonly string[], mutating: MutatingPlugin[], validating: ValidatingPlugin[]): AdmissionChain {
  const known = new Set([...mutating, ...validating].map((p) => p.name));
  for (const n of disabled) {
    if (!known.has(n)) throw new Error(`unknown admission plugin "${n}" (known: ${[...known].sort().join(', ')})`);
  }
  const on = <P extends { name: string }>(ps: P[]) => ps.filter((p) => !disabled.includes(p.name));
  return new AdmissionChain(on(mutating), on(validating));
}

export function buildApiServer(deps: ApiServerDeps): ApiServer {
  const log = deps.logger;
  let registry!: ApiRegistry;
  const serviceAccount = new ServiceAccountAdmission(serviceAccountSource(() => registry, log));
  const namespaceLifecycle = new NamespaceLifecycle(namespaceGetter(() => registry, log));
  const admission = admissionChain(deps.disableAdmissionPlugins ?? [],
    [namespaceLifecycle, serviceAccount, new DefaultTolerationSeconds(), new Priority(priorityClassSource(() => registry, log))],
    [namespaceLifecycle, serviceAccount],
  );
  // one signer: TokenRequest signs with it, the token authenticator verifies with its public half
  const saSigner = new ServiceAccountTokenSigner(deps.serviceAccountKey);
  const kubelets = new KubeletClient(deps.tls.kubeletClient ?? {});
  registry = buildRegistry({
    storage: deps.storage, admission, kubelets, logger: log,
    ...(deps.serviceClusterIPRanges ? { serviceClusterIPRanges: deps.serviceClusterIPRanges } : {}),
    serviceAccountSigner: saSigner,
  });
  // stops the registry's background work (module bootstrap hooks) on close
  const stopping = new AbortController();
  const metrics = new ApiServerMetrics();
  const authn: Authenticator = new UnionAuthenticator([
    new X509Authenticator(),
    new ServiceAccountTokenAuthenticator({
      publicKey: () => saSigner.publicKeyPem(), issuers: [SERVICE_ACCOUNT_ISSUER], audiences: [SERVICE_ACCOUNT_ISSUER],
      lookup: registryLookup(() => registry, log),
    }),
  ]);
  const authz: Authorizer = new UnionAuthorizer([new PublicInfoAuthorizer(), new AuthenticatedAuthorizer()]);
  let bootstrapped = false;
  let boundPort = 0;
  const discovery = new Discovery(registry.resources, () => deps.externalAddress ?? `127.0.0.1:${boundPort}`);
  const resources = new ResourceHandler({
    registry, codec: deps.codec, log, maxRequestBytes: deps.maxRequestBytes ?? 3 * 1024 * 1024,
    minRequestTimeoutSeconds: deps.minRequestTimeoutSeconds ?? 1800,
    fieldManager: fieldManagerFor(registry, log),
    onWatch: (d, def) => metrics.longRunning.inc({ group: def.group, version: def.version, resource: def.plural }, d),
  });
  const ping = { name: 'ping', check: async () => {} };
  const etcd = { name: 'etcd', check: () => deps.storage.ping() };
  const boot = { name: 'poststarthook/bootstrap-namespaces', check: async () => { if (!bootstrapped) throw new Error('not finished'); } };
  const health = new HealthEndpoints({ livez: [ping], healthz: [ping, etcd], readyz: [ping, etcd, boot] });

  const versionInfo = {
    ...deps.version, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean',
    buildDate: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), goVersion: `node${process.versions.node}`, compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };

  function denied(user: UserInfo, info: RequestInfo): ApiError {
    if (user === ANONYMOUS) return unauthorized();
    const what = info.isResourceRequest
      ? `${groupResourceString({ group: info.apiGroup, resource: info.subresource ? `${info.resource}/${info.subresource}` : info.resource })} is forbidden: User "${user.username}" cannot ${info.verb} resource "${info.resource}" in API group "${info.apiGroup}"${info.namespace ? ` in the namespace "${info.namespace}"` : ''}`
      : `forbidden: User "${user.username}" cannot ${info.verb} path "${info.path}"`;
    return forbidden(what);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'https://localhost');
    const path = url.pathname;
    const query = url.searchParams;
    const info = parseRequestInfo(req.method ?? 'GET', path, query);
    const reqLog = log.child({ reqId: randomUUID(), verb: info.verb, path });
    res.on('finish', () => {
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      const labels = { verb: info.verb.toUpperCase(), group: info.apiGroup, version: info.apiVersion, resource: info.resource, subresource: info.subresource };
      metrics.requests.inc({ ...labels, code: String(res.statusCode) });
      if (info.verb !== 'watch' && !(info.verb === 'get' && info.subresource === 'log')) metrics.duration.observe(labels, secs);
      const fields = { code: res.statusCode, ms: Math.round(secs * 1000), user: (req as { user?: string }).user };
      if (res.statusCode >= 500) reqLog.warn('request failed', fields); else reqLog.debug('request', fields);
    });
    try {
      let user: UserInfo;
      try {
        user = (await authn.authenticate(req)) ?? ANONYMOUS;
      } catch {
        throw unauthorized();
      }
      (req as { user?: string }).user = user.username;
      if (authz.authorize(user, info).decision !== 'allow') throw denied(user, info);

      if (await health.handle(res, path, query)) return;
      if (path === '/version' || path === '/version/') return sendJson(res, 200, versionInfo);
      if (path === '/metrics') {
        res.setHeader('Content-Type', metrics.registry.contentType);
        res.end(await metrics.registry.metrics());
        return;
      }
      if (deps.openapi?.handle(req, res, path, query)) return;
      if (info.isResourceRequest) return await resources.handle(req, res, info, user, query, reqLog);
      if (req.method === 'GET' && discovery.handle(req, res, path)) return;
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    } catch (e) {
      sendError(res, e, reqLog, { path });
    }
  }

  const server = https.createServer({
    key: deps.tls.key, cert: deps.tls.cert, ca: deps.tls.clientCA,
    requestCert: true, rejectUnauthorized: false,
    // keep-alive connections from informers stay open for long watches
    keepAliveTimeout: 65_000,
  }, (req, res) => { void serve(req, res); });
  // exec/attach/port-forward: upgrades take the same path (handlers/upgrade.ts)
  acceptUpgrades(server, (req, res) => { void serve(req, res); });
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)); });

  async function bootstrap(signal?: AbortSignal): Promise<void> {
    const ns = registry.store('Namespace');
    const ctx = { user: { username: 'system:apiserver', groups: ['system:masters'] }, namespace: '', dryRun: false, log };
    let delay = 200;
    for (;;) {
      try {
        for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
          try {
            await ns.create(ctx, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
            log.info('created system namespace', { namespace: name });
          } catch (e) {
            if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
          }
        }
        await registry.bootstrap({
          signal: stopping.signal, securePort: boundPort,
          ...(deps.externalAddress ? { advertiseAddress: deps.externalAddress.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') } : {}),
        });
        bootstrapped = true;
        return;
      } catch (e) {
        if (signal?.aborted || stopping.signal.aborted) return;
        log.warn('bootstrap waiting for storage', { err: e, retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  return {
    registry,
    server,
    metrics,
    async start({ port, host, signal }) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host ?? '0.0.0.0', () => { server.off('error', reject); resolve(); });
      });
      const addr = server.address();
      boundPort = typeof addr === 'object' && addr ? addr.port : port;
      log.info('apiserver listening', { port: boundPort });
      void bootstrap(signal);
      return boundPort;
    },
    async close() {
      stopping.abort();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      // Upgraded (exec/attach/port-forward) connections are no longer HTTP connections:
      // closeAllConnections leaves them, and close() would wait for them forever.
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
