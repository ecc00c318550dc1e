/**
 * /healthz, /livez and /readyz with named checks, in upstream's format:
 * `ok`, or with ?verbose `[+]ping ok\n[+]etcd ok\nreadyz check passed`; a failing check
 * makes the endpoint answer 500. /readyz/<check> runs a single check.
 */
import type { ServerResponse } from 'node:http';

export interface HealthCheck {
  name: string;
  /** Resolves when healthy; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export class HealthEndpoints {
  constructor(private readonly checks: Record<'healthz' | 'livez' | 'readyz', HealthCheck[]>) {}

  /** Handles /healthz, /livez, /readyz and their sub-paths; false for other paths. */
  async handle(res: ServerResponse, path: string, query: URLSearchParams): Promise<boolean> {
    const m = /^\/(healthz|livez|readyz)(?:\/([^/]+))?\/?$/.exec(path);
    if (!m) return false;
    const kind = m[1] as 'healthz' | 'livez' | 'readyz';
    let checks = this.checks[kind];
    if (m[2]) {
      checks = checks.filter((c) => c.name === m[2]);
      if (!checks.length) return false;
    }
    const excluded = new Set(query.getAll('exclude'));
    const results = await Promise.all(checks.filter((c) => !excluded.has(c.name)).map(async (c) => {
      const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timed out')), 5000).unref());
      try { await Promise.race([c.check(), timeout]); return { name: c.name, ok: true, why: '' }; } catch (e) {
        return { name: c.name, ok: false, why: e instanceof Error ? e.message : String(e) };
      }
    }));
    const ok = results.every((r) => r.ok);
    const verbose = query.has('verbose') || !ok;
    let body: string;
    if (!verbose) body = 'ok';
    else {
      const lines = results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`));
      for (const r of results) if (!r.ok) lines.push(`${r.name} check failed: ${r.why}`);
      body = `${lines.join('\n')}\n${m[2] ? m[2] : kind} check ${ok ? 'passed' : 'failed'}\n`;
    }
    res.statusCode = ok ? 200 : 500;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-cache, private');
    res.end(body);
    return true;
  }
}
