import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nullLogger } from '@tskube/log';
import { ManualClock } from '../clock.js';
import type * as m from '../cri/proto.js';
import { cpuRate, StatsCollector } from './collector.js';
import type { HostUsage } from './host-stats.js';

test('cpuRate: Δcpu/Δt in nano cores; none without a usable previous reading', () => {
  const cases: [Parameters<typeof cpuRate>[0], Parameters<typeof cpuRate>[1], number | undefined][] = [
    [{ timestamp: 0, cpuCoreNanoSeconds: 0 }, { timestamp: 1e9, cpuCoreNanoSeconds: 5e8 }, 5e8], // half a core
    [{ timestamp: 1e9, cpuCoreNanoSeconds: 1e9 }, { timestamp: 3e9, cpuCoreNanoSeconds: 5e9 }, 2e9], // two cores
    [undefined, { timestamp: 1e9, cpuCoreNanoSeconds: 1 }, undefined],
    [{ timestamp: 2e9, cpuCoreNanoSeconds: 0 }, { timestamp: 2e9, cpuCoreNanoSeconds: 9 }, undefined], // no time passed
    [{ timestamp: 1e9, cpuCoreNanoSeconds: 9 }, { timestamp: 2e9, cpuCoreNanoSeconds: 1 }, undefined], // counter went back
  ];
  for (const [prev, cur, want] of cases) assert.equal(cpuRate(prev, cur), want);
});

/** A runtime whose one pod's one container burns `rate` cores; CPU time follows the clock. */
function fakeRuntime(clock: ManualClock, rate: number): { runtime: { listPodSandboxStats(): Promise<m.ListPodSandboxStatsResponse> }; calls: () => number } {
  let calls = 0;
  const start = clock.now();
  const u64 = (value: number): m.UInt64Value => ({ value });
  return {
    calls: () => calls,
    runtime: {
      async listPodSandboxStats() {
        calls++;
        const t = clock.now() * 1e6;
        const cpu: m.CpuUsage = { timestamp: t, usage_core_nano_seconds: u64((clock.now() - start) * 1e6 * rate), usage_nano_cores: null };
        const memory: m.MemoryUsage = {
          timestamp: t, working_set_bytes: u64(4096), usage_bytes: u64(8192), available_bytes: null, rss_bytes: null, page_faults: null, major_page_faults: null,
        };
        const container: m.ContainerStats = { attributes: { id: 'c1', metadata: { name: 'main', attempt: 0 }, labels: {}, annotations: {} }, cpu, memory };
        return {
          stats: [{
            attributes: { id: 's1', metadata: { name: 'web', namespace: 'default', uid: 'u1', attempt: 0 }, labels: {}, annotations: {} },
            linux: { cpu, memory, containers: [container] },
          }],
        };
      },
    },
  };
}

test('StatsCollector: the first request samples twice a window apart; later ones reuse or resample', async () => {
  const clock = new ManualClock();
  const rt = fakeRuntime(clock, 0.25);
  const sleeps: number[] = [];
  const host = (ns: number): HostUsage => ({
    timestamp: ns, cpuCoreNanoSeconds: ns * 2 - 1e18, memoryTotalBytes: 100, usageBytes: 60, workingSetBytes: 50, availableBytes: 50, bootTimeMs: 42,
  });
  const c = new StatsCollector({
    runtime: rt.runtime, clock, logger: nullLogger(), readHost: host,
    sleep: async (ms) => { sleeps.push(ms); clock.advance(ms); },
  });
  const first = await c.latest();
  assert.deepEqual(sleeps, [1000], 'waited one window for the second sample');
  assert.equal(rt.calls(), 2);
  assert.equal(first.pods[0]?.containers[0]?.usage.nanoCores, 250_000_000, 'a quarter core');
  assert.equal(first.pods[0]?.usage.nanoCores, 250_000_000);
  assert.equal(first.node.usage.nanoCores, 2e9, 'host: two cores busy');
  assert.equal(first.node.bootTimeMs, 42);

  clock.advance(500);
  assert.equal(await c.latest(), first, 'younger than the window: the same sample');
  assert.equal(rt.calls(), 2);

  clock.advance(9500);
  const [a, b] = await Promise.all([c.latest(), c.latest()]);
  assert.equal(a, b, 'concurrent requests share one sampling');
  assert.equal(rt.calls(), 3, 'one new sample, no extra wait: every object had a previous reading');
  assert.deepEqual(sleeps, [1000]);
  assert.equal(a.pods[0]?.containers[0]?.usage.nanoCores, 250_000_000);
  assert.equal(a.pods[0]?.containers[0]?.usage.workingSetBytes, 4096);
});

test("StatsCollector: nodeStats 'pods' sums the pods", async () => {
  const clock = new ManualClock();
  const rt = fakeRuntime(clock, 1);
  const c = new StatsCollector({
    runtime: rt.runtime, clock, logger: nullLogger(), nodeStats: 'pods',
    readHost: () => { throw new Error('must not read the host'); },
    sleep: async (ms) => { clock.advance(ms); },
  });
  const s = await c.latest();
  assert.equal(s.node.usage.nanoCores, 1e9);
  assert.equal(s.node.usage.workingSetBytes, 4096);
  assert.equal(s.node.usage.usageBytes, 8192);
});

/**
 * A runtime whose pods' containers each burn `rate` cores, and whose listPodSandboxStats costs
 * `costMs` of clock time with readings taken at the end (as Docker's stats, which wait for the
 * engine's next one-second stats round). `present(id)` decides which containers a call reads.
 */
function slowRuntime(clock: ManualClock, o: { costMs: number; rate: number; pods: string[]; present?: (id: string, call: number) => boolean; freezeAt?: number }) {
  let calls = 0;
  const start = clock.now();
  const u64 = (value: number): m.UInt64Value => ({ value });
  const usage = (t: number, cpu: number): { cpu: m.CpuUsage; memory: m.MemoryUsage } => ({
    cpu: { timestamp: t, usage_core_nano_seconds: u64(cpu), usage_nano_cores: null },
    memory: { timestamp: t, working_set_bytes: u64(4096), usage_bytes: u64(8192), available_bytes: null, rss_bytes: null, page_faults: null, major_page_faults: null },
  });
  return {
    calls: () => calls,
    runtime: {
      async listPodSandboxStats(): Promise<m.ListPodSandboxStatsResponse> {
        calls++;
        clock.advance(o.costMs);
        // freezeAt: from that call on, the runtime serves the reading of the call before (a cached reading).
        const at = o.freezeAt !== undefined && calls >= o.freezeAt ? clock.now() - o.costMs - 1000 : clock.now();
        const t = at * 1e6;
        const cpu = (at - start) * 1e6 * o.rate;
        return {
          stats: o.pods.map((name) => {
            const containers = [`${name}-c`].filter((id) => o.present?.(id, calls) ?? true)
              .map((id): m.ContainerStats => ({ attributes: { id, metadata: { name: 'main', attempt: 0 }, labels: {}, annotations: {} }, ...usage(t, cpu) }));
            return {
              attributes: { id: `${name}-s`, metadata: { name, namespace: 'default', uid: `${name}-u`, attempt: 0 }, labels: {}, annotations: {} },
              linux: { ...usage(t, cpu * containers.length), containers },
            };
          }),
        };
      },
    },
  };
}

test('StatsCollector: a slow runtime is not waited for on top (first request ≈ two samples, not two samples plus a window)', async () => {
  const cases = [
    { name: 'Docker-like: 1 s per sample', costMs: 1000, wantSleeps: [] as number[], wantElapsed: 2000 },
    { name: '300 ms per sample', costMs: 300, wantSleeps: [700], wantElapsed: 1300 },
    { name: 'instant runtime', costMs: 0, wantSleeps: [1000], wantElapsed: 1000 },
  ];
  for (const c of cases) {
    const clock = new ManualClock();
    const rt = slowRuntime(clock, { costMs: c.costMs, rate: 0.1, pods: ['a', 'b'] });
    const sleeps: number[] = [];
    const col = new StatsCollector({
      runtime: rt.runtime, clock, logger: nullLogger(), nodeStats: 'pods', sleep: async (ms) => { sleeps.push(ms); clock.advance(ms); },
    });
    const t0 = clock.now();
    const s = await col.latest();
    assert.equal(clock.now() - t0, c.wantElapsed, `${c.name}: elapsed`);
    assert.deepEqual(sleeps, c.wantSleeps, `${c.name}: sleeps`);
    assert.equal(rt.calls(), 2, c.name);
    for (const p of s.pods) assert.equal(p.containers[0]?.usage.nanoCores, 100_000_000, `${c.name}: ${p.name} has its rate`);
  }
});

test('StatsCollector: a container missing from one sample keeps its previous reading (no two-sample path next time)', async () => {
  const clock = new ManualClock();
  // b's container cannot be read in the third call (e.g. Docker's empty frame).
  const rt = slowRuntime(clock, { costMs: 1000, rate: 0.2, pods: ['a', 'b'], present: (id, call) => !(id === 'b-c' && call === 3) });
  const col = new StatsCollector({ runtime: rt.runtime, clock, logger: nullLogger(), nodeStats: 'pods', sleep: async (ms) => { clock.advance(ms); } });
  await col.latest(); // calls 1 and 2
  clock.advance(10_000);
  const third = await col.latest();
  assert.equal(rt.calls(), 3);
  assert.deepEqual(third.pods.map((p) => p.containers.length), [1, 0], 'b-c not read this time');
  clock.advance(10_000);
  const fourth = await col.latest();
  assert.equal(rt.calls(), 4, 'one sample: b-c still had its reading from call 2');
  const b = fourth.pods.find((p) => p.name === 'b');
  assert.equal(b?.containers[0]?.usage.nanoCores, 200_000_000, 'rate over the two windows since call 2');
  assert.equal(b?.usage.nanoCores, 200_000_000, "the pod's own sum jumped back up: the sum of its containers' rates");
});

test('StatsCollector: the same reading served again keeps the rate computed for it', async () => {
  const clock = new ManualClock();
  const rt = slowRuntime(clock, { costMs: 0, rate: 0.5, pods: ['a'], freezeAt: 4 });
  const col = new StatsCollector({ runtime: rt.runtime, clock, logger: nullLogger(), nodeStats: 'pods', sleep: async (ms) => { clock.advance(ms); } });
  await col.latest(); // calls 1, 2
  clock.advance(1000);
  const third = await col.latest(); // call 3: a fresh reading
  assert.equal(third.pods[0]?.containers[0]?.usage.nanoCores, 500_000_000);
  clock.advance(1000);
  const fourth = await col.latest(); // call 4 serves call 3's reading again
  assert.equal(fourth.pods[0]?.containers[0]?.usage.timestamp, third.pods[0]?.containers[0]?.usage.timestamp, 'same reading');
  assert.equal(fourth.pods[0]?.containers[0]?.usage.nanoCores, 500_000_000, 'its rate, not none');
  assert.equal(rt.calls(), 4, 'and no second sample for it');
});

test('StatsCollector: the host is read (and stamped) after the runtime answered', async () => {
  const clock = new ManualClock();
  const rt = slowRuntime(clock, { costMs: 1000, rate: 0.1, pods: ['a'] });
  const stamps: number[] = [];
  const col = new StatsCollector({
    runtime: rt.runtime, clock, logger: nullLogger(), sleep: async (ms) => { clock.advance(ms); },
    readHost: (ns) => { stamps.push(ns); return { timestamp: ns, cpuCoreNanoSeconds: ns / 2, memoryTotalBytes: 100, usageBytes: 60, workingSetBytes: 50, availableBytes: 50 }; },
  });
  const t0 = clock.now();
  const s = await col.latest();
  assert.deepEqual(stamps, [(t0 + 1000) * 1e6, (t0 + 2000) * 1e6]);
  assert.equal(s.node.usage.nanoCores, 500_000_000, 'half a core busy, exactly');
});

test("StatsCollector: nodeStats 'pods': a pod going away gives the node the sum of the pods' rates, without a second sample", async () => {
  const clock = new ManualClock();
  const pods = ['a', 'b'];
  const rt = slowRuntime(clock, { costMs: 1000, rate: 0.1, pods });
  const col = new StatsCollector({ runtime: rt.runtime, clock, logger: nullLogger(), nodeStats: 'pods', sleep: async (ms) => { clock.advance(ms); } });
  assert.equal((await col.latest()).node.usage.nanoCores, 200_000_000);
  pods.pop();
  clock.advance(10_000);
  const s = await col.latest();
  assert.equal(rt.calls(), 3, 'one sample');
  assert.equal(s.node.usage.nanoCores, 100_000_000, "a's rate (the summed counter dropped by b's total)");
});
