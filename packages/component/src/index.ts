/**
 * What every tskube component process has in common: a plain-HTTP health and metrics
 * endpoint (/healthz, /livez, /readyz, /metrics), shutdown on SIGTERM/SIGINT through an
 * AbortSignal, and environment parsing that fails loudly once at start.
 */
import http from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '@tskube/log';

export interface Check {
  name: string;
  /** Resolves when healthy; rejects (with the reason) otherwise. */
  check(): Promise<void> | void;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  /** Checks for /healthz and /livez (process is alive and not wedged). */
  liveness?: Check[];
  /** Checks for /readyz (ready to do its job: synced caches, leader or standby …). */
  readiness?: Check[];
  registry: Registry;
  logger: Logger;
  /**
   * Extra GET endpoints of the component (e.g. the scheduler's /debug/pods/...): called for
   * every path other than /metrics, /healthz, /livez and /readyz; undefined = not mine (404).
   */
  extra?: (path: string, query: URLSearchParams) => { status: number; contentType: string; body: string } | undefined;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

async function run(checks: Check[]): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  let ok = true;
  for (const c of checks) {
    try {
      await c.check();
      lines.push(`[+]${c.name} ok`);
    } catch (e) {
      ok = false;
      lines.push(`[-]${c.name} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { ok, lines };
}

/** Starts the endpoint; resolves once listening (port 0 picks a free port). */
export function startHealthServer(o: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-cache, private' });
      res.end(body);
    };
    void (async () => {
      if (path === '/metrics') return send(200, await o.registry.metrics(), o.registry.contentType);
      const kind = path.replace(/^\/|\/$/g, '');
      const checks = kind === 'readyz' ? [...(o.liveness ?? []), ...(o.readiness ?? [])] : kind === 'healthz' || kind === 'livez' ? (o.liveness ?? []) : null;
      if (!checks) {
        const r = o.extra?.(path, new URL(req.url ?? '/', 'http://x').searchParams);
        return r ? send(r.status, r.body, r.contentType) : send(404, '404 page not found\n');
      }
      const r = await run([{ name: 'ping', check: () => {} }, ...checks]);
      const verbose = new URL(req.url ?? '/', 'http://x').searchParams.has('verbose');
      send(r.ok ? 200 : 500, r.ok && !verbose ? 'ok' : `${r.lines.join('\n')}\n${kind} check ${r.ok ? 'passed' : 'failed'}\n`);
    })().catch((e: unknown) => { o.logger.error('health endpoint failed', { err: e }); send(500, 'internal error\n'); });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => {
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a ? a.port : o.port,
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

/** A metrics registry with Node's process metrics (CPU, RSS, event loop lag …). */
export function newMetricsRegistry(component: string): Registry {
  const r = new Registry();
  r.setDefaultLabels({ component });
  collectDefaultMetrics({ register: r });
  return r;
}

/** An AbortSignal that fires on SIGTERM or SIGINT (logged once). */
export function shutdownSignal(logger: Logger): AbortSignal {
  const ac = new AbortController();
  const stop = (sig: string) => {
    if (ac.signal.aborted) return;
    logger.info('shutting down', { signal: sig });
    ac.abort();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return ac.signal;
}

/** Environment parsing: every error names the variable and what it wants. */
export const env = {
  str(name: string, dflt?: string): string {
    const v = process.env[name];
    if (v !== undefined && v !== '') return v;
    if (dflt === undefined) throw new Error(`${name} must be set`);
    return dflt;
  },
  optional(name: string): string | undefined {
    const v = process.env[name];
    return v === undefined || v === '' ? undefined : v;
  },
  int(name: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = process.env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got "${v}"`);
    return n;
  },
  bool(name: string, dflt: boolean): boolean {
    const v = process.env[name];
    if (v === undefined || v === '') return dflt;
    if (['1', 'true', 'yes'].includes(v.toLowerCase())) return true;
    if (['0', 'false', 'no'].includes(v.toLowerCase())) return false;
    throw new Error(`${name} must be true or false, got "${v}"`);
  },
};

/** Logs a fatal startup error as one JSON line and exits 1 (for main.ts). */
export function fatal(component: string, err: unknown): never {
  process.stderr.write(`${JSON.stringify({ level: 'error', component, message: 'fatal', error: err instanceof Error ? err.stack : String(err) })}\n`);
  process.exit(1);
}
