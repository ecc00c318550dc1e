/**
 * API machinery figures, against one apiserver process on one etcd process, with raw etcd
 * measured in the same run as the baseline:
 *
 *   create   throughput and p50/p99 latency at 1, 16 and 64 concurrent clients
 *            baseline: etcd3 puts of the same objects at the same concurrency
 *   read     list of 10,000 pods with resourceVersion=0 (watch cache) and without (etcd),
 *            get of one pod; baseline: one etcd range read of the same 10,000 keys
 *   watch    100 watchers × 1,000 events: delivery latency (write start → event received)
 *            baseline: 100 raw etcd watchers on the same number of puts
 *   memory   apiserver RSS empty and with 10,000 pods stored (and etcd's, for scale)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { createClientFromKubeconfig, loadKubeconfig, Resources, type Client } from '@tskube/client';
import type { Pod } from '@tskube/api';
import { startEtcd, type EtcdProcess } from '@tskube/test/support/etcd';
import { freePort } from '@tskube/test/support/ports';
import { eventually } from '@tskube/test/support/kubectl';
import { fmtMs, median, percentile, say } from './stats.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function podObject(name: string, ns: string, annotations: Record<string, string> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'bench', tier: 'load' }, annotations },
    spec: {
      schedulerName: 'none',
      containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], ports: [{ containerPort: 8080, name: 'http' }],
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
        env: [{ name: 'MODE', value: 'bench' }] }],
    },
  };
}

export interface ApiProcess { child: ChildProcess; port: number; kubeconfig: string; dataDir: string; stop(): Promise<void> }

export async function startApiProcess(etcd: EtcdProcess): Promise<ApiProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tskube-bench-api-'));
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'services/apiserver/dist/main.js')], {
    env: {
      ...process.env, TSKUBE_ETCD_SERVERS: etcd.endpoint, TSKUBE_SECURE_PORT: String(port), TSKUBE_BIND_ADDRESS: '127.0.0.1',
      TSKUBE_DATA_DIR: dataDir, TSKUBE_EXTERNAL_URL: `https://127.0.0.1:${port}`, TSKUBE_INTERNAL_URL: `https://127.0.0.1:${port}`,
      TSKUBE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const kubeconfig = join(dataDir, 'admin.kubeconfig');
  await eventually('apiserver ready', async () => {
    try {
      const kc = loadKubeconfig(kubeconfig);
      return await new Promise<boolean>((resolve) => {
        https.get({ host: '127.0.0.1', port, path: '/readyz', ca: kc.ca }, (r) => { r.resume(); resolve(r.statusCode === 200); }).on('error', () => resolve(false));
      });
    } catch { return false; }
  }, 60_000, 200);
  return {
    child, port, kubeconfig, dataDir,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Runs `n` tasks with at most `concurrency` at once; returns each task's latency (ms) and the wall time. */
export async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<{ lat: number[]; wallMs: number }> {
  const lat: number[] = new Array(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < n; i = next++) {
      const s = performance.now();
      await task(i);
      lat[i] = performance.now() - s;
    }
  }));
  return { lat, wallMs: performance.now() - t0 };
}

async function ensureNamespace(client: Client, name: string): Promise<void> {
  await client.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(() => undefined);
}

async function createBench(client: Client, etcd: Etcd3, count: number): Promise<void> {
  say(`## create: ${count} pods per level; baseline etcd3 put of the same JSON`);
  const pods = client.resource(Resources.pods);
  for (const c of [1, 16, 64]) {
    const ns = `create-${c}`;
    await ensureNamespace(client, ns);
    const api = await pool(count, c, async (i) => { await pods.create(ns, podObject(`p-${i}`, ns)); });
    const stored = JSON.stringify({ ...podObject('x', ns), metadata: { ...podObject('x', ns).metadata, uid: '7a2c0e4c-8f5b-4e55-a1d6-0123456789ab', creationTimestamp: '2026-11-21T00:00:00Z' } });
    const raw = await pool(count, c, async (i) => { await etcd.put(`/bench-raw/${c}/p-${i}`).value(stored); });
    const tput = (count / api.wallMs) * 1000;
    const rawTput = (count / raw.wallMs) * 1000;
    say(`RESULT create c=${c}: tskube ${tput.toFixed(0)}/s p50 ${fmtMs(percentile(api.lat, 50))} p99 ${fmtMs(percentile(api.lat, 99))} | ` +
      `etcd put ${rawTput.toFixed(0)}/s p50 ${fmtMs(percentile(raw.lat, 50))} p99 ${fmtMs(percentile(raw.lat, 99))} | ` +
      `throughput ratio ${(tput / rawTput).toFixed(2)}, p99 ratio ${(percentile(api.lat, 99) / percentile(raw.lat, 99)).toFixed(1)}x`);
  }
}

function getJson(port: number, kubeconfig: string, path: string): Promise<{ ms: number; bytes: number; items: number }> {
  const kc = loadKubeconfig(kubeconfig);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    https.get({ host: '127.0.0.1', port, path, ca: kc.ca, cert: kc.cert, key: kc.key, headers: { Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) { reject(new Error(`${path}: ${res.statusCode} ${body.toString().slice(0, 200)}`)); return; }
        const items = (JSON.parse(body.toString()) as { items?: unknown[] }).items?.length ?? 1;
        resolve({ ms, bytes: body.length, items });
      });
    }).on('error', reject);
  });
}

async function readBench(api: ApiProcess, client: Client, etcd: Etcd3, count: number, rounds: number): Promise<void> {
  say(`## read: ${count} pods stored in namespace "scale"`);
  await ensureNamespace(client, 'scale');
  const pods = client.resource(Resources.pods);
  const fill = await pool(count, 64, async (i) => { await pods.create('scale', podObject(`s-${i}`, 'scale')); });
  say(`filled ${count} pods in ${fmtMs(fill.wallMs)}`);
  const cached: number[] = []; const quorum: number[] = []; const raw: number[] = []; const gets: number[] = [];
  // the cache may trail the writes a little: the first read waits until it has the fill's revision
  const rv = (await pods.list({ namespace: 'scale', limit: 1 })).metadata.resourceVersion;
  const first = await getJson(api.port, api.kubeconfig, `/api/v1/namespaces/scale/pods?resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`);
  if (first.items !== count) throw new Error(`cached list returned ${first.items} items`);
  for (let r = 0; r < rounds; r++) {
    const a = await getJson(api.port, api.kubeconfig, '/api/v1/namespaces/scale/pods?resourceVersion=0');
    if (a.items !== count) throw new Error(`cached list returned ${a.items} items`);
    cached.push(a.ms);
    quorum.push((await getJson(api.port, api.kubeconfig, '/api/v1/namespaces/scale/pods')).ms);
    const t0 = performance.now();
    const res = await etcd.getAll().prefix('/registry/pods/scale/').exec();
    raw.push(performance.now() - t0);
    if (res.kvs.length !== count) throw new Error(`etcd range returned ${res.kvs.length}`);
    gets.push((await getJson(api.port, api.kubeconfig, `/api/v1/namespaces/scale/pods/s-${r}`)).ms);
  }
  say(`RESULT list ${count} pods: from watch cache (RV=0) median ${fmtMs(median(cached))}; from etcd (quorum) median ${fmtMs(median(quorum))}; ` +
    `raw etcd range read median ${fmtMs(median(raw))}; ratio cache/etcd-range ${(median(cached) / median(raw)).toFixed(1)}x; get one pod median ${fmtMs(median(gets))}`);
  say(`RESULT memory: apiserver RSS with ${count} pods ${rssMiB(api.child.pid!).toFixed(0)} MiB`);
}

/** A raw HTTPS watch collecting receive times per object name. */
function openWatch(api: ApiProcess, path: string, onEvent: (name: string, at: number) => void): Promise<{ close(): void }> {
  const kc = loadKubeconfig(api.kubeconfig);
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: api.port, path, ca: kc.ca, cert: kc.cert, key: kc.key, agent: false }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i); buf = buf.slice(i + 1);
          const ev = JSON.parse(line) as { type: string; object: { metadata?: { name?: string; annotations?: Record<string, string> } } };
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') onEvent(ev.object.metadata?.annotations?.seq ?? '', performance.now());
        }
      });
      resolve({ close: () => req.destroy() });
    });
    req.on('error', (e) => { if (!req.destroyed) reject(e); });
  });
}

async function watchBench(api: ApiProcess, client: Client, etcd: Etcd3, watchers: number, events: number): Promise<void> {
  say(`## watch fan-out: ${watchers} watchers × ${events} events (sequential writes)`);
  await ensureNamespace(client, 'fan');
  const pods = client.resource(Resources.pods);
  const list = await pods.list({ namespace: 'fan' });
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  let received = 0;
  const ws = await Promise.all(Array.from({ length: watchers }, () => openWatch(api, `/api/v1/namespaces/fan/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`, (seq, at) => {
    const t = sentAt.get(seq);
    if (t !== undefined) { lat.push(at - t); received++; }
  })));
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < events; i++) {
    const seq = String(i);
    sentAt.set(seq, performance.now());
    await pods.create('fan', podObject(`w-${i}`, 'fan', { seq }));
  }
  await eventually('all events delivered', async () => received >= watchers * events || null, 120_000, 100);
  for (const w of ws) w.close();

  // baseline: raw etcd watchers on the same number of puts
  const rawLat: number[] = [];
  const rawSent = new Map<string, number>();
  const rawWatchers = await Promise.all(Array.from({ length: watchers }, async () => {
    const w = await etcd.watch().prefix('/bench-fan/').create();
    w.on('put', (kv) => { const t = rawSent.get(kv.key.toString()); if (t !== undefined) rawLat.push(performance.now() - t); });
    return w;
  }));
  const value = JSON.stringify(podObject('w', 'fan'));
  for (let i = 0; i < events; i++) {
    const key = `/bench-fan/${i}`;
    rawSent.set(key, performance.now());
    await etcd.put(key).value(value);
  }
  await eventually('raw events delivered', async () => rawLat.length >= watchers * events || null, 120_000, 100);
  await Promise.all(rawWatchers.map((w) => w.cancel()));
  say(`RESULT watch fan-out ${watchers}x${events}: tskube delivery p50 ${fmtMs(percentile(lat, 50))} p99 ${fmtMs(percentile(lat, 99))} ` +
    `(${lat.length} deliveries) | raw etcd watchers p50 ${fmtMs(percentile(rawLat, 50))} p99 ${fmtMs(percentile(rawLat, 99))} | ` +
    `p99 ratio ${(percentile(lat, 99) / percentile(rawLat, 99)).toFixed(1)}x`);
}

export async function apiBench(opts: { creates: number; pods: number; watchers: number; events: number; rounds: number }): Promise<void> {
  say('# API machinery: one apiserver process on one etcd process (both on this machine)');
  const etcdProc = await startEtcd();
  const api = await startApiProcess(etcdProc);
  const etcd = new Etcd3({ hosts: etcdProc.endpoint, grpcOptions: { 'grpc.max_receive_message_length': -1 } });
  const client = createClientFromKubeconfig(api.kubeconfig, { component: 'bench' });
  try {
    say(`RESULT memory: apiserver RSS at start ${rssMiB(api.child.pid!).toFixed(0)} MiB`);
    await createBench(client, etcd, opts.creates);
    await watchBench(api, client, etcd, opts.watchers, opts.events);
    await readBench(api, client, etcd, opts.pods, opts.rounds);
  } finally {
    client.close();
    etcd.close();
    await api.stop();
    await etcdProc.stop();
  }
}
