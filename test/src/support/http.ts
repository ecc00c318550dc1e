/** Minimal HTTPS requests with the admin client certificate, for wire-level assertions. */
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface Creds { ca: Buffer; cert: Buffer; key: Buffer; server: string }

interface KubeconfigDoc {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
}

export function credsFromKubeconfig(path: string): Creds {
  const kc = parse(readFileSync(path, 'utf8')) as KubeconfigDoc;
  const b = (s: string) => Buffer.from(s, 'base64');
  return {
    server: kc.clusters[0]!.cluster.server,
    ca: b(kc.clusters[0]!.cluster['certificate-authority-data']),
    cert: b(kc.users[0]!.user['client-certificate-data']),
    key: b(kc.users[0]!.user['client-key-data']),
  };
}

export interface Resp { status: number; headers: Record<string, string | string[] | undefined>; body: string; json<T = Record<string, unknown>>(): T }

export function request(creds: Creds | { server: string; ca: Buffer }, method: string, path: string,
  opts: { body?: string | Buffer; contentType?: string; accept?: string; anonymous?: boolean } = {}): Promise<Resp> {
  const u = new URL(path, creds.server);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, ca: creds.ca,
      ...('cert' in creds && !opts.anonymous ? { cert: creds.cert, key: creds.key } : {}),
      headers: {
        ...(opts.accept ? { Accept: opts.accept } : {}),
        ...(opts.body !== undefined ? { 'Content-Type': opts.contentType ?? 'application/json' } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Opens a watch and collects events until `count` arrived (or the timeout). */
export function watchEvents(creds: Creds, path: string, count: number, timeoutMs = 5000, accept?: string): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const u = new URL(path, creds.server);
  return new Promise((resolve, reject) => {
    const events: { type: string; object: Record<string, unknown> }[] = [];
    let buf = '';
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', ca: creds.ca, cert: creds.cert, key: creds.key, headers: accept ? { Accept: accept } : {} }, (res) => {
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i); buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line) as { type: string; object: Record<string, unknown> });
          if (events.length >= count) { clearTimeout(t); req.destroy(); resolve(events); return; }
        }
      });
      res.on('end', () => { clearTimeout(t); resolve(events); });
    });
    const t = setTimeout(() => { req.destroy(); resolve(events); }, timeoutMs);
    req.on('error', (e) => { if (events.length < count) reject(e); });
    req.end();
  });
}
