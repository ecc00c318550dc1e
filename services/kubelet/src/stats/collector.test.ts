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
