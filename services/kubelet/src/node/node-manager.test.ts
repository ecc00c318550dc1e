import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClient, createEventRecorder } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { ManualClock } from '../clock.js';
import { Code, CriError, FakeRuntime, type StatusRequest, type StatusResponse } from '../cri/index.js';
import { KubeletEvents } from '../events.js';
import { NodeManager, RUNTIME_DOWN_MESSAGE } from './node-manager.js';
import type { NodeFacts } from './node-status.js';

/** A fake runtime whose Status call can be made to fail, as a runtime process that is gone. */
class FlakyRuntime extends FakeRuntime {
  down = false;
  override async status(req: StatusRequest): Promise<StatusResponse> {
    if (this.down) throw new CriError(Code.UNAVAILABLE, 'No connection established');
    return super.status(req);
  }
}

const FACTS: NodeFacts = {
  nodeName: 'n1', nodeIP: '10.0.0.1', hostname: 'n1', kubeletPort: 10250, cpuCores: 2, memoryBytes: 4 << 30,
  ephemeralStorageBytes: 10 << 30, maxPods: 110,
  nodeInfo: { machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: '', architecture: 'amd64', containerRuntimeVersion: 'fake://0.1.0' },
};

function manager(runtime: FakeRuntime, clock: ManualClock, runtimeDownAfterMs?: number): NodeManager {
  const client = new FakeClient();
  const events = new KubeletEvents(createEventRecorder({ client, component: 'kubelet', host: 'n1', logger: nullLogger() }), 'n1');
  return new NodeManager({
    client, facts: FACTS, runtime, events, clock, logger: nullLogger(), statusIntervalMs: 10_000, heartbeatMs: 60_000, runtimeDownAfterMs,
  });
}

describe('NodeManager runtime health (upstream maxWaitForContainerRuntime)', () => {
  it('a runtime that never answered is down at once', async () => {
    const rt = new FlakyRuntime({ nodeName: 'n1', clusterName: 'c' });
    rt.down = true;
    assert.deepEqual(await manager(rt, new ManualClock()).runtimeHealth(), { ready: false, message: RUNTIME_DOWN_MESSAGE });
  });

  it('a short outage keeps Ready; past the threshold "container runtime is down"; recovery is Ready again', async () => {
    const rt = new FlakyRuntime({ nodeName: 'n1', clusterName: 'c' });
    const clock = new ManualClock();
    const nm = manager(rt, clock);
    assert.deepEqual(await nm.runtimeHealth(), { ready: true });
    rt.down = true;
    clock.advance(10_000);
    assert.deepEqual(await nm.runtimeHealth(), { ready: true }, '10 s without an answer: still within 30 s');
    clock.advance(19_999);
    assert.deepEqual(await nm.runtimeHealth(), { ready: true });
    clock.advance(1);
    assert.deepEqual(await nm.runtimeHealth(), { ready: false, message: RUNTIME_DOWN_MESSAGE }, '30 s: down');
    clock.advance(60_000);
    assert.deepEqual(await nm.runtimeHealth(), { ready: false, message: RUNTIME_DOWN_MESSAGE });
    rt.down = false;
    assert.deepEqual(await nm.runtimeHealth(), { ready: true });
  });

  it('the threshold is configurable', async () => {
    const rt = new FlakyRuntime({ nodeName: 'n1', clusterName: 'c' });
    const clock = new ManualClock();
    const nm = manager(rt, clock, 1000);
    await nm.runtimeHealth();
    rt.down = true;
    clock.advance(1000);
    assert.equal((await nm.runtimeHealth()).ready, false);
  });
});

describe('NodeManager status.images', () => {
  it('reports the runtime\'s images, re-listed after 30 s, and keeps the last list when listing fails', async () => {
    const rt = new FlakyRuntime({ nodeName: 'n1', clusterName: 'c' });
    const clock = new ManualClock();
    const nm = manager(rt, clock);
    await nm.register(new AbortController().signal);
    const names = () => (nm.status?.images ?? []).flatMap((i) => i.names ?? []);
    assert.ok(names().length > 0, 'the fake runtime\'s default images are reported');
    assert.ok(!names().includes('docker.io/library/extra:1'));
    await rt.pullImage({ image: { image: 'docker.io/library/extra:1', annotations: {}, user_specified_image: '', runtime_handler: '' }, auth: null, sandbox_config: null });
    await nm.updateStatus(true);
    assert.ok(!names().includes('docker.io/library/extra:1'), 'the list is reused within 30 s');
    clock.advance(30_000);
    await nm.updateStatus(true);
    assert.ok(names().includes('docker.io/library/extra:1'), 'pulled image listed');
    const before = names();
    rt.listImages = async () => { throw new CriError(Code.UNAVAILABLE, 'No connection established'); };
    clock.advance(30_000);
    await nm.updateStatus(true);
    assert.deepEqual(names(), before);
  });
});
