import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Pod, PodStatus } from '@tskube/api';
import { nullLogger } from '@tskube/log';
import { systemClock } from '../clock.js';
import { FakeRuntime } from '../cri/index.js';
import { containerIdForLogs, HttpError, parseLogOptions, serveContainerLogs } from './logs.js';

describe('parseLogOptions', () => {
  const ok: Array<[string, Record<string, unknown>]> = [
    ['', { follow: false, previous: false, timestamps: false }],
    ['follow=true&timestamps=1&previous=false', { follow: true, previous: false, timestamps: true }],
    ['tailLines=5&limitBytes=10', { follow: false, previous: false, timestamps: false, tailLines: 5, limitBytes: 10 }],
    ['tail=3', { follow: false, previous: false, timestamps: false, tailLines: 3 }],
    ['tail=all', { follow: false, previous: false, timestamps: false }],
    ['sinceTime=2024-05-01T10:00:00Z', { follow: false, previous: false, timestamps: false, sinceTime: Date.parse('2024-05-01T10:00:00Z') }],
  ];
  for (const [q, want] of ok) {
    it(`accepts "${q}"`, () => {
      const got = parseLogOptions(new URLSearchParams(q));
      const defined = Object.fromEntries(Object.entries(got).filter(([, v]) => v !== undefined));
      assert.deepEqual(defined, want);
    });
  }
  const bad: Array<[string, number]> = [
    ['follow=maybe', 400], ['tailLines=x', 400], ['sinceTime=yesterday', 400],
    ['tailLines=-1', 422], ['limitBytes=0', 422], ['sinceSeconds=0', 422], ['sinceSeconds=5&sinceTime=2024-05-01T10:00:00Z', 422],
  ];
  for (const [q, code] of bad) {
    it(`rejects "${q}" with ${code}`, () => {
      assert.throws(() => parseLogOptions(new URLSearchParams(q)), (e: unknown) => e instanceof HttpError && e.code === code);
    });
  }
});

describe('containerIdForLogs', () => {
  const status = (cs: NonNullable<PodStatus['containerStatuses']>[number]): PodStatus => ({ containerStatuses: [cs] });
  const base = { name: 'web', image: 'i', imageID: '', ready: false, restartCount: 0 };
  const cases: Array<{ name: string; s: PodStatus; previous?: boolean; want: string | RegExp }> = [
    { name: 'running', s: status({ ...base, containerID: 'docker://abc', state: { running: {} } }), want: 'abc' },
    { name: 'terminated', s: status({ ...base, containerID: 'docker://abc', state: { terminated: { exitCode: 3, containerID: 'docker://abc' } } }), want: 'abc' },
    {
      name: 'waiting after a crash: the last instance',
      s: status({ ...base, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, containerID: 'docker://old' } } }),
      want: 'old',
    },
    {
      name: 'previous',
      s: status({ ...base, containerID: 'docker://new', state: { running: {} }, lastState: { terminated: { exitCode: 1, containerID: 'docker://old' } } }),
      previous: true, want: 'old',
    },
    { name: 'previous without one', s: status({ ...base, containerID: 'docker://new', state: { running: {} } }), previous: true, want: /^previous terminated container "web" in pod "p" not found$/ },
    { name: 'ContainerCreating', s: status({ ...base, state: { waiting: { reason: 'ContainerCreating' } } }), want: /^container "web" in pod "p" is waiting to start: ContainerCreating$/ },
    { name: 'ErrImagePull', s: status({ ...base, state: { waiting: { reason: 'ErrImagePull' } } }), want: /is waiting to start: image can't be pulled$/ },
    { name: 'ImagePullBackOff', s: status({ ...base, state: { waiting: { reason: 'ImagePullBackOff' } } }), want: /is waiting to start: trying and failing to pull image$/ },
    { name: 'no status at all', s: {}, want: /^container "web" in pod "p" is not available$/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (typeof c.want === 'string') assert.equal(containerIdForLogs('p', c.s, 'web', c.previous ?? false), c.want);
      else assert.throws(() => containerIdForLogs('p', c.s, 'web', c.previous ?? false), (e: unknown) => e instanceof HttpError && e.code === 400 && (c.want as RegExp).test(e.message));
    });
  }
});

describe('GET /containerLogs over HTTP (fake runtime)', () => {
  const runtime = new FakeRuntime({ nodeName: 'n1' });
  let server: http.Server;
  let base: string;
  let pod: Pod;
  let status: PodStatus;

  before(async () => {
    const sb = (await runtime.runPodSandbox({ config: { metadata: { name: 'p', namespace: 'ns', uid: 'u1', attempt: 0 } } })).pod_sandbox_id;
    const id = (await runtime.createContainer({
      pod_sandbox_id: sb,
      config: { metadata: { name: 'web', attempt: 0 }, image: { image: 'local/busybox:1' }, command: ['sh', '-c', 'echo one; echo two; echo three'] },
    })).container_id;
    await runtime.startContainer({ container_id: id });
    await new Promise((r) => setTimeout(r, 50));
    pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'web' }, { name: 'side' }] } };
    status = {
      containerStatuses: [
        { name: 'web', image: 'i', imageID: '', ready: false, restartCount: 0, containerID: `fake://${id}`, state: { terminated: { exitCode: 0, containerID: `fake://${id}` } } },
        { name: 'side', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
      ],
    };
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const [, , ns, name, container] = url.pathname.split('/');
      void serveContainerLogs(req, res, {
        podByName: (n, p) => (n === 'ns' && p === 'p' ? pod : undefined), podStatus: () => status, runtime, clock: systemClock, logger: nullLogger(),
      }, { namespace: ns!, pod: name!, container: container! }, url.searchParams);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  async function get(path: string): Promise<{ code: number; body: string }> {
    const res = await fetch(`${base}${path}`);
    return { code: res.status, body: await res.text() };
  }

  const cases: Array<[string, number, string | RegExp]> = [
    ['/containerLogs/ns/p/web', 200, 'one\ntwo\nthree\n'],
    ['/containerLogs/ns/p/web?tailLines=1', 200, 'three\n'],
    ['/containerLogs/ns/p/web?limitBytes=5', 200, 'one\nt'],
    ['/containerLogs/ns/p/web?timestamps=true&tailLines=1', 200, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$/],
    ['/containerLogs/ns/p/side', 400, 'container "side" in pod "p" is waiting to start: ContainerCreating\n'],
    ['/containerLogs/ns/nope/web', 404, 'pod "nope" does not exist\n'],
    ['/containerLogs/ns/p/nope', 404, 'container "nope" not found in pod "p"\n'],
    ['/containerLogs/ns/p/web?tailLines=-2', 422, '{"message": "Invalid request."}\n'],
  ];
  for (const [path, code, body] of cases) {
    it(`${path} → ${code}`, async () => {
      const r = await get(path);
      assert.equal(r.code, code);
      if (typeof body === 'string') assert.equal(r.body, body); else assert.match(r.body, body);
    });
  }
});
