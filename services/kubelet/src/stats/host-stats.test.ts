import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMeminfo, parseProcStat, readHostUsage } from './host-stats.js';

const STAT = `cpu  100 20 30 5000 40 5 6 7 8 9
cpu0 50 10 15 2500 20 2 3 3 4 4
intr 123
btime 1700000000
`;
const MEMINFO = `MemTotal:        8000000 kB
MemFree:         2000000 kB
MemAvailable:    5000000 kB
Inactive(file):  1000000 kB
`;

test('parseProcStat: busy ticks (user+nice+system+irq+softirq+steal) × 10 ms; boot time', () => {
  assert.deepEqual(parseProcStat(STAT), { cpuCoreNanoSeconds: (100 + 20 + 30 + 5 + 6 + 7) * 10_000_000, bootTimeMs: 1_700_000_000_000 });
  assert.equal(parseProcStat('intr 1\n'), undefined);
});

test('parseMeminfo: usage = total − free; working set = usage − inactive file', () => {
  assert.deepEqual(parseMeminfo(MEMINFO), {
    memoryTotalBytes: 8_000_000 * 1024, usageBytes: 6_000_000 * 1024, workingSetBytes: 5_000_000 * 1024, availableBytes: 3_000_000 * 1024,
  });
  assert.equal(parseMeminfo('MemFree: 1 kB\n'), undefined);
});

test('readHostUsage: undefined when /proc is unreadable; figures otherwise', () => {
  assert.equal(readHostUsage(1, () => { throw new Error('ENOENT'); }), undefined);
  const u = readHostUsage(5, (p) => (p === '/proc/stat' ? STAT : MEMINFO));
  assert.equal(u?.timestamp, 5);
  assert.equal(u?.workingSetBytes, 5_000_000 * 1024);
});
