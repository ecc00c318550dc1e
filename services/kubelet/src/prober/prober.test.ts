import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Container, Pod } from '@tskube/api';
import type { EventRecorder } from '@tskube/client';
import { FakeBackend, FakeRuntime, type FakeBehaviour } from '../cri/index.js';
import { KubeletEvents } from '../events.js';
import { expandStatic, Prober, type Probe } from './prober.js';
import type { ProbeType } from './results.js';

interface Recorded { type: string; reason: string; message: string; fieldPath?: string }

function recorder(out: Recorded[]): EventRecorder {
  return {
    event: (_obj, type, reason, message, opts) => { out.push({ type, reason, message, ...(opts?.fieldPath ? { fieldPath: opts.fieldPath } : {}) }); },
    flush: async () => {},
  };
}

/** Exec behaviour: `check ok` exits 0, `check bad` prints and exits 1, `sleep` hangs, `boom` is not a command. */
const execBehaviour: FakeBehaviour = async (ctx) => {
  const [cmd, arg] = ctx.argv;
  if (cmd === 'check' && arg === 'ok') { ctx.stdout('fine\n'); return 0; }
  if (cmd === 'check') { ctx.stdout('out '); ctx.stderr(`cat: can't open '${arg}': No such file or directory\n`); return 1; }
  if (cmd === 'hang') return new Promise<number>((r) => { const t = setTimeout(() => r(0), 5000); ctx.signal.addEventListener('abort', () => { clearTimeout(t); r(137); }); });
  return 0;
};

describe('Prober', () => {
  const events: Recorded[] = [];
  const backend = new FakeBackend({ execBehaviour });
  const runtime = new FakeRuntime({ backend, nodeName: 'n', clusterName: 'unit' });
  let containerId = '';
  let server: http.Server;
  let port = 0;
  const prober = new Prober({ runtime, events: new KubeletEvents(recorder(events), 'n') });
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [] } };

  before(async () => {
    const { pod_sandbox_id } = await runtime.runPodSandbox({ config: { metadata: { name: 'p', namespace: 'ns', uid: 'u1', attempt: 0 } } });
    containerId = (await runtime.createContainer({
      pod_sandbox_id, config: { metadata: { name: 'web', attempt: 0 }, image: { image: 'local/busybox:1' }, command: ['sleep', '3600'] },
    })).container_id;
    await runtime.startContainer({ container_id: containerId });
    server = http.createServer((req, res) => {
      if (req.url === '/away') { res.writeHead(302, { Location: `http://localhost:${port}/` }); res.end('bye'); return; }
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await runtime.removeContainer({ container_id: containerId });
    await new Promise((r) => server.close(r));
  });

  async function run(type: ProbeType, probe: Probe, c: Partial<Container> = {}) {
    events.length = 0;
    const container: Container = { name: 'web', image: 'img', [`${type}Probe`]: probe, ...c };
    return prober.probe(type, { pod, container, containerId, podIP: '127.0.0.1' });
  }

  const cases: Array<{ what: string; type: ProbeType; probe: () => Probe; result: string; errored?: boolean; events: Array<[string, string]> }> = [
    { what: 'exec exit 0', type: 'liveness', probe: () => ({ exec: { command: ['check', 'ok'] } }), result: 'Success', events: [] },
    {
      what: 'exec exit 1 (stdout then stderr in the message)', type: 'liveness', probe: () => ({ exec: { command: ['check', '/tmp/healthy'] } }), result: 'Failure',
      events: [['Unhealthy', "Liveness probe failed: out cat: can't open '/tmp/healthy': No such file or directory\n"]],
    },
    {
      what: 'exec timeout', type: 'readiness', probe: () => ({ exec: { command: ['hang'] }, timeoutSeconds: 1 }), result: 'Failure',
      events: [['Unhealthy', 'Readiness probe failed: command "hang" timed out']],
    },
    { what: 'httpGet 200', type: 'startup', probe: () => ({ httpGet: { port, path: '/' } }), result: 'Success', events: [] },
    {
      what: 'httpGet redirect to another host', type: 'readiness', probe: () => ({ httpGet: { port, path: '/away' } }), result: 'Success',
      events: [['ProbeWarning', 'Readiness probe warning: Probe terminated redirects, Response body: bye']],
    },
    { what: 'tcpSocket open', type: 'liveness', probe: () => ({ tcpSocket: { port } }), result: 'Success', events: [] },
    {
      what: 'a port name the container lacks errors (after 3 tries)', type: 'startup', probe: () => ({ httpGet: { port: 'metrics', path: '/' } }), result: 'Failure', errored: true,
      events: [['Unhealthy', 'Startup probe errored and resulted in unknown state: strconv.Atoi: parsing "metrics": invalid syntax']],
    },
  ];
  for (const c of cases) {
    it(`${c.what} → ${c.result}`, async () => {
      const r = await run(c.type, c.probe());
      assert.deepEqual(r, { result: c.result, errored: c.errored ?? false });
      assert.deepEqual(events.map((e) => [e.reason, e.message]), c.events);
      for (const e of events) {
        assert.equal(e.type, 'Warning');
        assert.equal(e.fieldPath, 'spec.containers{web}');
      }
    });
  }

  it('a container without that probe is a success', async () => {
    assert.deepEqual(await prober.probe('liveness', { pod, container: { name: 'web', image: 'i' }, containerId, podIP: '' }), { result: 'Success', errored: false });
  });

  it('exec in a container that is not running errors with the runtime error', async () => {
    events.length = 0;
    const r = await prober.probe('liveness', { pod, container: { name: 'web', image: 'i', livenessProbe: { exec: { command: ['true'] } } }, containerId: 'missing', podIP: '' });
    assert.deepEqual(r, { result: 'Failure', errored: true });
    assert.match(events[0]?.message ?? '', /^Liveness probe errored and resulted in unknown state: rpc error: code = NotFound desc = /);
  });

  it('expands $(VAR) in exec commands from literal env values only', () => {
    assert.deepEqual(expandStatic(['echo', '$(A)', '$(B)', '$(C)'], {
      name: 'c', env: [{ name: 'A', value: 'x' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
    }), ['echo', 'x', '', '$(C)']);
  });
});
