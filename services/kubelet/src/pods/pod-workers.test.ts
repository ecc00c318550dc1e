import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { effectiveGracePeriod, podsDifferSemantically, PodWorkers, type PodWorkerHandler } from './pod-workers.js';
import type { SyncResult, TerminatedOptions, TerminatingOptions } from './sync.js';

function pod(o: { uid?: string; image?: string; phase?: string; deleting?: boolean; grace?: number; rv?: string } = {}): Pod {
  return {
    metadata: {
      name: 'p', namespace: 'ns', uid: o.uid ?? 'u1', resourceVersion: o.rv ?? '1',
      ...(o.deleting ? { deletionTimestamp: '2024-05-01T10:00:00Z', deletionGracePeriodSeconds: o.grace ?? 30 } : {}),
    },
    spec: { containers: [{ name: 'c', image: o.image ?? 'a' }], terminationGracePeriodSeconds: 30 },
    status: { phase: o.phase ?? 'Pending' },
  };
}

class Recorder implements PodWorkerHandler {
  calls: string[] = [];
  active = 0;
  maxActive = 0;
  syncDelayMs = 0;
  terminal = false;
  async syncPod(p: DeepReadonly<Pod>): Promise<SyncResult> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.calls.push(`sync:${p.spec?.containers[0]?.image}`);
    await new Promise((r) => setTimeout(r, this.syncDelayMs));
    this.active--;
    return { terminal: this.terminal };
  }
  async syncTerminatingPod(_p: DeepReadonly<Pod>, o: TerminatingOptions): Promise<void> {
    this.calls.push(`terminating:${o.deleted}:${o.gracePeriodSeconds}`);
  }
  async syncTerminatedPod(p: DeepReadonly<Pod>, o: TerminatedOptions): Promise<boolean> {
    this.calls.push(`terminated:${o.deleted}`);
    return o.deleted || Boolean(p.metadata?.deletionTimestamp);
  }
}

function workers(h: PodWorkerHandler): PodWorkers {
  return new PodWorkers({ handler: h, logger: nullLogger(), resyncMs: 60_000, errorBackoffMs: 20 });
}

const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds (polling), so tests do not depend on how fast the machine is. */
async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await settle(2);
  }
}

describe('PodWorkers', () => {
  it('runs one step at a time per pod; updates during a step collapse into one more step with the latest pod', async () => {
    const h = new Recorder();
    h.syncDelayMs = 30;
    const w = workers(h);
    w.update(pod({ image: 'a' }));
    await until(() => h.active === 1);
    w.update(pod({ image: 'b', rv: '2' }));
    w.update(pod({ image: 'c', rv: '3' }));
    await until(() => h.calls.length === 2 && h.active === 0);
    await settle(60);
    assert.deepEqual(h.calls, ['sync:a', 'sync:c']);
    assert.equal(h.maxActive, 1);
    await w.stop();
  });

  it('status-only updates do not trigger a step, but the next step sees them', async () => {
    const h = new Recorder();
    const w = workers(h);
    w.update(pod());
    await until(() => h.calls.length === 1);
    w.update(pod({ phase: 'Running', rv: '2' }));
    await settle();
    assert.deepEqual(h.calls, ['sync:a']);
    w.wake('u1');
    await until(() => h.calls.length === 2);
    assert.deepEqual(h.calls, ['sync:a', 'sync:a']);
    await w.stop();
  });

  it('deletionTimestamp: terminate with the deletion grace period, then clean up and forget the pod', async () => {
    const h = new Recorder();
    const w = workers(h);
    w.update(pod());
    await until(() => h.calls.length === 1);
    w.update(pod({ deleting: true, grace: 7, rv: '2' }));
    await until(() => h.calls.length === 3 && !w.has('u1'));
    assert.deepEqual(h.calls, ['sync:a', 'terminating:false:7', 'terminated:false']);
    assert.equal(w.has('u1'), false);
  });

  it('a pod that finishes is terminated but kept (its containers stay) until deleted', async () => {
    const h = new Recorder();
    h.terminal = true;
    const w = workers(h);
    w.update(pod());
    await until(() => h.calls.length === 3 && w.state('u1') === 'terminated');
    assert.deepEqual(h.calls, ['sync:a', 'terminating:false:30', 'terminated:false']);
    assert.equal(w.state('u1'), 'terminated');
    w.update(pod({ rv: '2' }), { deleted: true });
    await until(() => !w.has('u1'));
    assert.deepEqual(h.calls.slice(3), ['terminated:true']);
    assert.equal(w.has('u1'), false);
  });

  it('a pod already terminal in the API is never synced (after a kubelet restart)', async () => {
    const h = new Recorder();
    const w = workers(h);
    w.update(pod({ phase: 'Succeeded' }));
    await until(() => h.calls.length === 2);
    assert.deepEqual(h.calls, ['terminating:false:30', 'terminated:false']);
    await w.stop();
  });

  it('terminate(): node shutdown caps the grace period and asks for removal', async () => {
    const h = new Recorder();
    const w = workers(h);
    w.update(pod());
    await until(() => h.calls.length === 1);
    w.terminate('u1', { gracePeriodSeconds: 5, removeContainers: true });
    assert.equal(await w.waitTerminated(['u1'], 1000), true);
    await until(() => h.calls.length >= 3);
    assert.deepEqual(h.calls.slice(0, 3), ['sync:a', 'terminating:false:5', 'terminated:false']);
    // a request that arrives mid-step leaves the worker dirty: the (idempotent) terminated step may run again
    assert.ok(h.calls.slice(3).every((c) => c === 'terminated:false'), h.calls.join(','));
    await w.stop();
  });

  it('a failed step is retried', async () => {
    let n = 0;
    const h = new Recorder();
    const failing: PodWorkerHandler = {
      syncPod: async (p) => { if (n++ === 0) throw new Error('boom'); return h.syncPod(p); },
      syncTerminatingPod: (p, o) => h.syncTerminatingPod(p, o),
      syncTerminatedPod: (p, o) => h.syncTerminatedPod(p, o),
    };
    const w = workers(failing);
    w.update(pod());
    await until(() => n === 2 && h.calls.length === 1);
    assert.deepEqual(h.calls, ['sync:a']);
    assert.equal(n, 2);
    await w.stop();
  });

  const graces: Array<[Pod, number]> = [
    [pod(), 30],
    [pod({ deleting: true, grace: 5 }), 5],
    [pod({ deleting: true, grace: 0 }), 30],
  ];
  for (const [p, want] of graces) {
    it(`effectiveGracePeriod → ${want}`, () => assert.equal(effectiveGracePeriod(p), want));
  }

  it('podsDifferSemantically ignores status and resourceVersion', () => {
    assert.equal(podsDifferSemantically(pod(), pod({ phase: 'Running', rv: '9' })), false);
    assert.equal(podsDifferSemantically(pod(), pod({ image: 'b' })), true);
    assert.equal(podsDifferSemantically(pod(), pod({ deleting: true })), true);
  });
});
