import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEmptyDockerStats, usageFromDockerStats } from './docker-stats.js';

const READ = '2025-01-02T03:04:05.123456789Z';
const READ_NS = Date.parse('2025-01-02T03:04:05Z') * 1e6 + 123456789;

test('usageFromDockerStats: working set = usage − inactive file, per cgroup version', () => {
  const cases = [
    {
      name: 'cgroup v1 (total_* figures win)',
      raw: { read: READ, cpu_stats: { cpu_usage: { total_usage: 5_000_000_000 } },
        memory_stats: { usage: 10_000_000, stats: { total_inactive_file: 3_000_000, inactive_file: 1, total_rss: 6_000_000, total_pgfault: 7, total_pgmajfault: 1 } } },
      want: { timestamp: READ_NS, cpuCoreNanoSeconds: 5_000_000_000, workingSetBytes: 7_000_000, usageBytes: 10_000_000, rssBytes: 6_000_000, pageFaults: 7, majorPageFaults: 1 },
    },
    {
      name: 'cgroup v2',
      raw: { read: READ, cpu_stats: { cpu_usage: { total_usage: 42 } },
        memory_stats: { usage: 8192, stats: { inactive_file: 4096, anon: 2048, pgfault: 3, pgmajfault: 0 } } },
      want: { timestamp: READ_NS, cpuCoreNanoSeconds: 42, workingSetBytes: 4096, usageBytes: 8192, rssBytes: 2048, pageFaults: 3, majorPageFaults: 0 },
    },
    {
      name: 'inactive file above usage floors at 0',
      raw: { read: READ, cpu_stats: { cpu_usage: { total_usage: 1 } }, memory_stats: { usage: 100, stats: { inactive_file: 500 } } },
      want: { timestamp: READ_NS, cpuCoreNanoSeconds: 1, workingSetBytes: 0, usageBytes: 100 },
    },
    {
      name: 'a stopped container (empty figures, zero read time)',
      raw: { read: '0001-01-01T00:00:00Z', cpu_stats: {}, memory_stats: {} },
      want: { timestamp: 99, cpuCoreNanoSeconds: 0, workingSetBytes: 0, usageBytes: 0 },
    },
  ];
  for (const c of cases) assert.deepEqual(usageFromDockerStats(c.raw, 99), c.want, c.name);
});

test('isEmptyDockerStats: Docker\'s frame for a container it could not read is no reading', () => {
  const cases: [unknown, boolean][] = [
    [{ read: READ, cpu_stats: { cpu_usage: { total_usage: 5 } } }, false],
    [{ read: '0001-01-01T00:00:00Z', cpu_stats: { cpu_usage: { total_usage: 0 } }, memory_stats: {} }, true],
    [{ name: '/x', id: 'abc' }, true],
    ['', true],
  ];
  for (const [raw, want] of cases) assert.equal(isEmptyDockerStats(raw), want, JSON.stringify(raw));
});
