import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event, Pod } from '@tskube/api';
import { FakeClient, Resources, createEventRecorder, type DeepReadonly } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { ManualClock } from '../clock.js';
import { KubeletEvents } from '../events.js';
import { EvictionManager, type EvictOptions } from './manager.js';
import type { EvictionStats, EvictionStatsSource, LocalStorage } from './stats.js';
import { parseThresholdConfig, type EvictionConfig } from './thresholds.js';

const Mi = 2 ** 20;
const Gi = 2 ** 30;

function pod(name: string, o: { memoryRequest?: string; priority?: number; annotations?: Record<string, string> } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      priority: o.priority,
      containers: [{ name: 'main', image: 'i', resources: { requests: o.memoryRequest ? { memory: o.memoryRequest } : {} } }],
    },
  };
}

/** A stats source the test sets by hand; every observe() is a new reading (time from the clock). */
class FakeStats implements EvictionStatsSource {
  node: EvictionStats['node'] = {
    memory: { workingSetBytes: 4 * Gi, availableBytes: 4 * Gi },
    nodeFs: { capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 1e6, inodesFree: 9e5 },
    pids: { max: 4096, running: 200 },
  };
  pods: EvictionStats['pods'] = [];
  local = new Map<string, LocalStorage>();
  fail = false;
  observed = 0;
  constructor(private readonly clock: ManualClock) {}
  async observe(): Promise<EvictionStats> {
    if (this.fail) throw new Error('stats unavailable');
    this.observed++;
    return { time: this.clock.now(), node: structuredClone(this.node), pods: structuredClone(this.pods) };
  }
  async podLocalStorage(p: DeepReadonly<Pod>): Promise<LocalStorage | undefined> {
    return this.local.get(p.metadata?.uid ?? '');
  }
}

interface Harness {
  m: EvictionManager;
  stats: FakeStats;
  clock: ManualClock;
  active: Pod[];
  evicted: Array<{ pod: string; o: EvictOptions }>;
  signals: string[];
  reclaims: number;
  events(): Promise<Array<[string, string, string, string]>>;
}

function harness(config: Partial<EvictionConfig> & { hard?: string; soft?: string; softGracePeriod?: string; minimumReclaim?: string } = {}, onReclaim?: (h: Harness) => void): Harness {
  const client = new FakeClient();
  const clock = new ManualClock();
  const events = new KubeletEvents(createEventRecorder({ client, component: 'kubelet', host: 'n1', logger: nullLogger() }), 'n1');
  const stats = new FakeStats(clock);
  const h: Harness = {
    stats, clock, active: [], evicted: [], signals: [], reclaims: 0,
    m: undefined as unknown as EvictionManager,
    async events() {
      await events.flush();
      const list: Event[] = (await client.resource(Resources.events).list({ namespace: 'default' })).items;
      return list.map((e): [string, string, string, string] => [e.involvedObject.kind ?? '', e.type ?? '', e.reason ?? '', e.message ?? '']).sort();
    },
  };
  h.m = new EvictionManager({
    config: {
      thresholds: parseThresholdConfig({ hard: config.hard, soft: config.soft, softGracePeriod: config.softGracePeriod, minimumReclaim: config.minimumReclaim }),
      pressureTransitionPeriodMs: config.pressureTransitionPeriodMs ?? 60_000,
      maxPodGracePeriodSeconds: config.maxPodGracePeriodSeconds ?? 0,
      monitoringIntervalMs: 10_000,
    },
    stats, events, clock, logger: nullLogger(),
    activePods: () => h.active,
    terminator: {
      evict: async (p, o) => {
        h.evicted.push({ pod: p.metadata?.name ?? '', o });
        h.active = h.active.filter((x) => x.metadata?.uid !== p.metadata?.uid);
      },
    },
    allocatableMemoryBytes: () => 7 * Gi,
    reclaimDisk: async () => { h.reclaims++; onReclaim?.(h); },
    onEviction: (s) => h.signals.push(s),
  });
  return h;
}

describe('EvictionManager (fake stats, manual clock)', () => {
  it('no threshold crossed: no conditions, nobody evicted, everything admitted', async () => {
    const h = harness();
    h.active = [pod('a')];
    assert.equal(await h.m.synchronize(), undefined);
    assert.deepEqual(h.m.conditions(), []);
    assert.deepEqual(h.m.admit(pod('new')), { admit: true });
    assert.deepEqual(await h.events(), []);
  });

  it('memory below the hard threshold: MemoryPressure, one pod evicted per round as ranked, grace 0, upstream message and events', async () => {
    const h = harness();
    h.active = [pod('critical', { priority: 2_000_000_000 }), pod('modest', { memoryRequest: '500Mi' }), pod('hog'), pod('static', { annotations: { 'kubernetes.io/config.source': 'file' } })];
    h.stats.pods = [
      { uid: 'uid-critical', memoryWorkingSetBytes: 2 * Gi, containers: [{ name: 'main', memoryWorkingSetBytes: 2 * Gi }] },
      { uid: 'uid-modest', memoryWorkingSetBytes: 100 * Mi, containers: [{ name: 'main', memoryWorkingSetBytes: 100 * Mi }] },
      { uid: 'uid-hog', memoryWorkingSetBytes: 300 * Mi, containers: [{ name: 'main', memoryWorkingSetBytes: 300 * Mi }] },
      { uid: 'uid-static', memoryWorkingSetBytes: Gi, containers: [{ name: 'main', memoryWorkingSetBytes: Gi }] },
    ];
    h.stats.node.memory = { workingSetBytes: 8 * Gi, availableBytes: 80 * Mi };
    const evicted = await h.m.synchronize();
    assert.equal(evicted?.metadata?.name, 'hog', 'critical and static pods are skipped; hog exceeds its request (0)');
    assert.deepEqual(h.m.conditions(), ['MemoryPressure']);
    const msg = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi. Container main was using 300Mi, request is 0, has larger consumption of memory. ';
    assert.deepEqual(h.evicted, [{
      pod: 'hog',
      o: { gracePeriodSeconds: 0, reason: 'Evicted', message: msg, condition: { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: msg } },
    }]);
    assert.deepEqual(h.signals, ['memory.available']);
    assert.deepEqual(await h.events(), [
      ['Node', 'Warning', 'EvictionThresholdMet', 'Attempting to reclaim memory'],
      ['Pod', 'Warning', 'Evicted', msg],
    ]);
    assert.deepEqual(h.m.admit(pod('besteffort')), { admit: false, reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
    assert.deepEqual(h.m.admit(pod('burstable', { memoryRequest: '10Mi' })), { admit: true });

    h.clock.advance(10_000);
    assert.equal((await h.m.synchronize())?.metadata?.name, 'modest', 'still low: the next pod (under its request) goes');
    h.clock.advance(10_000);
    assert.equal(await h.m.synchronize(), undefined, 'only critical pods left');
    assert.deepEqual(h.evicted.map((e) => e.pod), ['hog', 'modest']);
  });

  it('the condition is held for the transition period after the signal cleared, then False', async () => {
    const h = harness({ pressureTransitionPeriodMs: 30_000 });
    h.stats.node.nodeFs = { capacityBytes: 100 * Gi, availableBytes: 5 * Gi, inodes: 1e6, inodesFree: 9e5 };
    await h.m.synchronize();
    assert.deepEqual(h.m.conditions(), ['DiskPressure']);
    assert.deepEqual(h.m.admit(pod('burstable', { memoryRequest: '10Mi' })), { admit: false, reason: 'Evicted', message: 'The node had condition: [DiskPressure]. ' });
    h.stats.node.nodeFs = { capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 1e6, inodesFree: 9e5 };
    h.clock.advance(10_000);
    await h.m.synchronize();
    assert.deepEqual(h.m.conditions(), ['DiskPressure'], 'cleared 0 s ago');
    h.clock.advance(19_999);
    await h.m.synchronize();
    assert.deepEqual(h.m.conditions(), ['DiskPressure'], '29.999 s after the last crossing');
    h.clock.advance(1);
    await h.m.synchronize();
    assert.deepEqual(h.m.conditions(), [], '30 s: False');
    assert.deepEqual(h.m.admit(pod('x')), { admit: true });
  });

  it('disk: dead containers are collected first; if that frees enough, nobody is evicted', async () => {
    const h = harness({}, (x) => { x.stats.node.nodeFs = { capacityBytes: 100 * Gi, availableBytes: 40 * Gi, inodes: 1e6, inodesFree: 9e5 }; });
    h.active = [pod('a')];
    h.stats.node.nodeFs = { capacityBytes: 100 * Gi, availableBytes: 5 * Gi, inodes: 1e6, inodesFree: 9e5 };
    assert.equal(await h.m.synchronize(), undefined);
    assert.equal(h.reclaims, 1);
    assert.deepEqual(h.evicted, []);
    assert.deepEqual(h.m.conditions(), ['DiskPressure'], 'the condition was raised all the same');
  });

  it('disk: the pod with the most local storage above its request goes; the message names the starved resource', async () => {
    const h = harness({ hard: 'nodefs.available<10Gi' });
    h.active = [pod('quiet'), pod('writer'), pod('small')];
    h.stats.local.set('uid-quiet', { bytes: 0, inodes: 1 });
    h.stats.local.set('uid-writer', { bytes: 3 * Gi, inodes: 3 });
    h.stats.local.set('uid-small', { bytes: 10 * Mi, inodes: 30 });
    h.stats.node.nodeFs = { capacityBytes: 100 * Gi, availableBytes: 9 * Gi, inodes: 1e6, inodesFree: 9e5 };
    assert.equal((await h.m.synchronize())?.metadata?.name, 'writer');
    assert.equal(h.reclaims, 1);
    assert.equal(h.evicted[0]?.o.message, 'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 9Gi. ');
    assert.deepEqual(h.signals, ['nodefs.available']);
  });

  it('inodes rank by inodes used', async () => {
    const h = harness({ hard: 'nodefs.inodesFree<1000' });
    h.active = [pod('bytes'), pod('files')];
    h.stats.local.set('uid-bytes', { bytes: 3 * Gi, inodes: 3 });
    h.stats.local.set('uid-files', { bytes: Mi, inodes: 50_000 });
    h.stats.node.nodeFs = { capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 1e6, inodesFree: 10 };
    assert.equal((await h.m.synchronize())?.metadata?.name, 'files');
    assert.match(h.evicted[0]!.o.message, /^The node was low on resource: inodes\. Threshold quantity: 1k, available: 10\. $/);
  });

  it('a soft threshold evicts only after its grace period, with at most evictionMaxPodGracePeriod', async () => {
    const h = harness({ hard: 'none', soft: 'memory.available<1Gi', softGracePeriod: 'memory.available=30s', maxPodGracePeriodSeconds: 5 });
    h.active = [pod('a')];
    h.stats.pods = [{ uid: 'uid-a', memoryWorkingSetBytes: Gi, containers: [] }];
    h.stats.node.memory = { workingSetBytes: 8 * Gi, availableBytes: 512 * Mi };
    assert.equal(await h.m.synchronize(), undefined);
    assert.deepEqual(h.m.conditions(), ['MemoryPressure'], 'the condition does not wait for the grace period');
    h.clock.advance(29_999);
    assert.equal(await h.m.synchronize(), undefined);
    h.clock.advance(1);
    assert.equal((await h.m.synchronize())?.metadata?.name, 'a');
    assert.equal(h.evicted[0]?.o.gracePeriodSeconds, 5);
  });

  it('minimum reclaim: once met, a threshold holds until available exceeds threshold + reclaim', async () => {
    const h = harness({ hard: 'memory.available<1Gi', minimumReclaim: 'memory.available=1Gi' });
    h.stats.node.memory = { workingSetBytes: 8 * Gi, availableBytes: 512 * Mi };
    assert.equal(await h.m.synchronize(), undefined, 'met, but no pod to evict');
    h.stats.node.memory = { workingSetBytes: 8 * Gi, availableBytes: 1.5 * Gi };
    h.active = [pod('a')];
    h.clock.advance(1000);
    assert.equal((await h.m.synchronize())?.metadata?.name, 'a', '1.5Gi is above 1Gi but below 1Gi + 1Gi: still reclaiming');
    h.stats.node.memory = { workingSetBytes: 8 * Gi, availableBytes: 3 * Gi };
    h.active = [pod('b')];
    h.clock.advance(1000);
    assert.equal(await h.m.synchronize(), undefined);
  });

  it('allocatableMemory.available: the pods together above allocatable evict although the node has memory', async () => {
    const h = harness({ hard: 'memory.available<100Mi' });
    h.active = [pod('big'), pod('small')];
    h.stats.pods = [
      { uid: 'uid-big', memoryWorkingSetBytes: 6.5 * Gi, containers: [] },
      { uid: 'uid-small', memoryWorkingSetBytes: 0.49 * Gi, containers: [] },
    ];
    assert.equal((await h.m.synchronize())?.metadata?.name, 'big');
    assert.deepEqual(h.signals, ['allocatableMemory.available']);
  });

  it('stale stats do not evict twice; a failed observation changes nothing', async () => {
    const h = harness();
    h.active = [pod('a'), pod('b')];
    h.stats.node.memory = { workingSetBytes: 8 * Gi, availableBytes: 10 * Mi };
    await h.m.synchronize();
    assert.equal(await h.m.synchronize(), undefined, 'same clock time: no newer reading');
    h.stats.fail = true;
    h.clock.advance(1000);
    assert.equal(await h.m.synchronize(), undefined);
    assert.deepEqual(h.m.conditions(), ['MemoryPressure']);
    assert.equal(h.evicted.length, 1);
  });

  it('run: the next round starts at once after an eviction, else after the monitoring interval', async () => {
    const h = harness();
    h.active = [pod('a'), pod('b')];
    h.stats.node.memory = { workingSetBytes: 8 * Gi, availableBytes: 10 * Mi };
    const ac = new AbortController();
    const waits: number[] = [];
    const m = new EvictionManager({
      config: { thresholds: parseThresholdConfig({}), pressureTransitionPeriodMs: 1000, maxPodGracePeriodSeconds: 0, monitoringIntervalMs: 10_000 },
      stats: h.stats, events: new KubeletEvents(createEventRecorder({ client: new FakeClient(), component: 'kubelet', logger: nullLogger() }), 'n1'),
      clock: h.clock, logger: nullLogger(), activePods: () => h.active,
      terminator: { evict: async (p) => { h.evicted.push({ pod: p.metadata?.name ?? '', o: undefined as unknown as EvictOptions }); h.active = h.active.filter((x) => x !== p); h.clock.advance(1); } },
      sleep: async (ms) => { waits.push(ms); h.clock.advance(ms); if (waits.length === 2) ac.abort(); },
    });
    await m.run(ac.signal);
    assert.deepEqual(h.evicted.map((e) => e.pod), ['a', 'b']);
    assert.deepEqual(waits, [10_000, 10_000], 'two evictions back to back, then two idle rounds');
    assert.equal(h.stats.observed, 4);
  });
});
