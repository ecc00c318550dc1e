import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event, Node, Pod } from '@tskube/api';
import { createEventRecorder } from './events.js';
import { FakeClient } from './fake.js';
import { captureLogger } from './test-logger.js';
import { Resources } from './types.js';

function setup(start = Date.parse('2024-05-01T10:00:00.123Z')) {
  const fake = new FakeClient();
  let now = start;
  const log = captureLogger();
  const rec = createEventRecorder({ client: fake, component: 'default-scheduler', host: 'node-1', logger: log, now: () => new Date(now) });
  return { fake, rec, log, advance: (ms: number) => { now += ms; } };
}

const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'prod', uid: 'u-1', resourceVersion: '42' },
};

async function events(fake: FakeClient, ns = 'prod'): Promise<Event[]> {
  return (await fake.resource(Resources.events).list({ namespace: ns })).items;
}

describe('event recorder', () => {
  it('creates a core/v1 Event in the background with upstream fields', async () => {
    const { fake, rec } = setup();
    rec.event(pod, 'Normal', 'Scheduled', 'Successfully assigned prod/web to node-1');
    assert.equal(fake.actions.length, 0, 'nothing written synchronously');
    await rec.flush();
    const [ev, ...rest] = await events(fake);
    assert.equal(rest.length, 0);
    assert.match(ev!.metadata!.name!, /^web\.[0-9a-f]{16}$/);
    assert.equal(ev!.metadata?.namespace, 'prod');
    assert.deepEqual(ev!.involvedObject, { apiVersion: 'v1', kind: 'Pod', name: 'web', namespace: 'prod', uid: 'u-1', resourceVersion: '42' });
    assert.equal(ev!.type, 'Normal');
    assert.equal(ev!.reason, 'Scheduled');
    assert.equal(ev!.message, 'Successfully assigned prod/web to node-1');
    assert.deepEqual(ev!.source, { component: 'default-scheduler', host: 'node-1' });
    assert.equal(ev!.reportingComponent, 'default-scheduler');
    assert.equal(ev!.reportingInstance, 'node-1');
    assert.equal(ev!.firstTimestamp, '2024-05-01T10:00:00Z');
    assert.equal(ev!.lastTimestamp, '2024-05-01T10:00:00Z');
    assert.equal(ev!.count, 1);
    const nanosHex = ev!.metadata!.name!.split('.')[1]!;
    assert.equal(BigInt(`0x${nanosHex}`), BigInt(Date.parse('2024-05-01T10:00:00.123Z')) * 1_000_000n);
  });

  it('records involvedObject.fieldPath and aggregates per field path', async () => {
    const { fake, rec } = setup();
    rec.event(pod, 'Normal', 'Pulled', 'same', { fieldPath: 'spec.containers{a}' });
    rec.event(pod, 'Normal', 'Pulled', 'same', { fieldPath: 'spec.containers{b}' });
    rec.event(pod, 'Normal', 'Pulled', 'same', { fieldPath: 'spec.containers{a}' });
    await rec.flush();
    const evs = await events(fake);
    assert.deepEqual(evs.map((e) => [e.involvedObject.fieldPath, e.count]).sort(), [['spec.containers{a}', 2], ['spec.containers{b}', 1]]);
  });

  it('writes a burst with several requests in flight, one per aggregation key', async () => {
    const fake = new FakeClient();
    const events = fake.resource(Resources.events);
    let inFlight = 0;
    let peak = 0;
    const perKey = new Map<string, number>();
    const slow = async <T>(key: string, f: () => Promise<T>): Promise<T> => {
      inFlight++; peak = Math.max(peak, inFlight);
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      assert.equal(perKey.get(key), 1, `two writes for ${key} at once`);
      try { await new Promise((r) => setTimeout(r, 5)); return await f(); } finally { inFlight--; perKey.set(key, perKey.get(key)! - 1); }
    };
    const client = {
      resource: () => ({
        create: (ns: string, ev: Event) => slow(ev.involvedObject.name ?? '', () => events.create(ns, ev)),
        patch: (ns: string, name: string, body: object, type: 'merge') => slow(name.split('.')[0]!, () => events.patch(ns, name, body, type)),
      }),
    } as unknown as FakeClient;
    const rec = createEventRecorder({ client, component: 'default-scheduler', logger: captureLogger(), writers: 4 });
    for (let i = 0; i < 20; i++) rec.event({ ...pod, metadata: { ...pod.metadata, name: `p${i % 10}`, uid: `u${i % 10}` } }, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    await rec.flush();
    assert.equal(peak, 4, 'four writes in flight');
    const evs = (await events.list({ namespace: 'prod' })).items;
    assert.deepEqual(evs.map((e) => [e.involvedObject.name, e.count]).sort(), Array.from({ length: 10 }, (_, i) => [`p${i}`, 2]));
  });

  it('puts events of cluster-scoped objects in "default"', async () => {
    const { fake, rec } = setup();
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'n-u' } };
    rec.event(node, 'Warning', 'NodeNotReady', 'Node n1 status is now: NodeNotReady');
    await rec.flush();
    const [ev] = await events(fake, 'default');
    assert.equal(ev!.involvedObject.name, 'n1');
    assert.equal(ev!.involvedObject.namespace, undefined);
    assert.equal(ev!.type, 'Warning');
  });

  it('aggregates repeats within 10 minutes by patching count and lastTimestamp', async () => {
    const { fake, rec, advance } = setup();
    rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    advance(60_000);
    rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    advance(60_000);
    rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    rec.event(pod, 'Warning', 'FailedScheduling', '0/2 nodes are available');
    await rec.flush();
    const evs = await events(fake);
    assert.equal(evs.length, 2);
    const agg = evs.find((e) => e.message === '0/3 nodes are available')!;
    assert.equal(agg.count, 3);
    assert.equal(agg.firstTimestamp, '2024-05-01T10:00:00Z');
    assert.equal(agg.lastTimestamp, '2024-05-01T10:02:00Z');
    const patches = fake.actions.filter((a) => a.resource === 'events' && a.verb === 'patch');
    assert.equal(patches.length, 2);
    assert.equal(patches[0]!.patchType, 'merge');
    assert.deepEqual(patches[1]!.body, { count: 3, lastTimestamp: '2024-05-01T10:02:00Z' });
  });

  it('starts a new event after the window, or when the aggregated one is gone', async () => {
    const { fake, rec, advance } = setup();
    rec.event(pod, 'Normal', 'Pulled', 'image pulled');
    advance(11 * 60_000);
    rec.event(pod, 'Normal', 'Pulled', 'image pulled');
    await rec.flush();
    let evs = await events(fake);
    assert.equal(evs.length, 2);
    assert.ok(evs.every((e) => e.count === 1));
    for (const e of evs) await fake.resource(Resources.events).delete('prod', e.metadata!.name!);
    advance(1000);
    rec.event(pod, 'Normal', 'Pulled', 'image pulled');
    await rec.flush();
    evs = await events(fake);
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.count, 1);
  });

  it('never throws at the caller; a failed write is logged once and later events still go out', async () => {
    const { fake, rec, log } = setup();
    let fail = true;
    fake.addReactor((a) => { if (fail && a.resource === 'events') throw new Error('apiserver down'); });
    rec.event(pod, 'Normal', 'A', 'first');
    rec.event({ metadata: {} }, 'Normal', 'B', 'object without a name');
    await rec.flush();
    const warns = log.lines.filter((l) => l.level === 'warn');
    assert.deepEqual(warns.map((l) => l.msg), ['event dropped: object has no name', 'event write failed']);
    assert.equal(warns[1]!.fields.reason, 'A');
    fail = false;
    rec.event(pod, 'Normal', 'C', 'after recovery');
    await rec.flush();
    assert.deepEqual((await events(fake)).map((e) => e.reason), ['C']);
  });
});
