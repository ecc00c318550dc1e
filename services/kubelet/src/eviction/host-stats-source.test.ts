import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { ManualClock } from '../clock.js';
import type * as m from '../cri/proto.js';
import { HostStatsSource, diskUsage, parseLoadavgTasks } from './host-stats-source.js';

const MEMINFO = 'MemTotal:       16000000 kB\nMemFree:         2000000 kB\nInactive(file):  3000000 kB\n';
const u64 = (value: number): m.UInt64Value => ({ value });

function sandboxStats(uid: string, id: string, containers: Array<[string, number]>, sandboxWs?: number): m.PodSandboxStats {
  return {
    attributes: { id, metadata: { name: `p-${uid}`, namespace: 'default', uid, attempt: 0 }, labels: {}, annotations: {} },
    linux: {
      cpu: null,
      memory: sandboxWs === undefined ? null : { timestamp: 1, working_set_bytes: u64(sandboxWs), available_bytes: null, usage_bytes: null, rss_bytes: null, page_faults: null, major_page_faults: null },
      containers: containers.map(([name, ws]) => ({
        attributes: { id: `${id}-${name}`, metadata: { name, attempt: 0 }, labels: {}, annotations: {} },
        cpu: null,
        memory: { timestamp: 1, working_set_bytes: u64(ws), available_bytes: null, usage_bytes: null, rss_bytes: null, page_faults: null, major_page_faults: null },
      })),
    },
  } as m.PodSandboxStats;
}

describe('HostStatsSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tskube-eviction-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads meminfo, statfs of the root, the pid limits and the CRI stats (newest sandbox per pod)', async () => {
    const files: Record<string, string> = {
      '/proc/meminfo': MEMINFO, '/proc/sys/kernel/pid_max': '4194304\n', '/proc/sys/kernel/threads-max': '126000\n',
      '/proc/loadavg': '0.52 0.40 0.33 3/1234 98765\n',
    };
    const statted: string[] = [];
    const src = new HostStatsSource({
      rootDir: '/var/lib/kubelet', clock: new ManualClock(5000),
      readText: async (p) => { const t = files[p]; if (t === undefined) throw new Error(`ENOENT ${p}`); return t; },
      statFs: async (p) => { statted.push(p); return { capacityBytes: 100, availableBytes: 40, inodes: 10, inodesFree: 4 }; },
      runtime: {
        listPodSandboxStats: async () => ({
          stats: [
            sandboxStats('a', 'old', [['main', 1]]),
            sandboxStats('a', 'new', [['main', 300], ['side', 50]]),
            sandboxStats('b', 'sb', [['main', 7]], 9),
          ],
        }),
      },
    });
    const s = await src.observe();
    assert.equal(s.time, 5000);
    assert.deepEqual(s.node, {
      memory: { workingSetBytes: (16000000 - 2000000 - 3000000) * 1024, availableBytes: 5000000 * 1024 },
      nodeFs: { capacityBytes: 100, availableBytes: 40, inodes: 10, inodesFree: 4 },
      pids: { max: 126000, running: 1234 },
    });
    assert.deepEqual(statted, ['/var/lib/kubelet']);
    assert.deepEqual(s.pods, [
      { uid: 'a', memoryWorkingSetBytes: 350, containers: [{ name: 'main', memoryWorkingSetBytes: 300 }, { name: 'side', memoryWorkingSetBytes: 50 }] },
      { uid: 'b', memoryWorkingSetBytes: 9, containers: [{ name: 'main', memoryWorkingSetBytes: 7 }] },
    ]);
  });

  it('unreadable node figures are left out; a runtime failure rejects', async () => {
    const src = new HostStatsSource({
      clock: new ManualClock(), readText: async () => { throw new Error('nope'); }, statFs: async () => { throw new Error('nope'); },
      runtime: { listPodSandboxStats: async () => ({ stats: [] }) },
    });
    assert.deepEqual((await src.observe()).node, {});
    const broken = new HostStatsSource({ clock: new ManualClock(), runtime: { listPodSandboxStats: async () => { throw new Error('runtime down'); } } });
    await assert.rejects(broken.observe(), /runtime down/);
  });

  it('the real statfs of a root directory that does not exist yet falls back to its parent', async () => {
    const src = new HostStatsSource({ rootDir: join(dir, 'not', 'yet'), clock: new ManualClock(), runtime: { listPodSandboxStats: async () => ({ stats: [] }) } });
    const fs = (await src.observe()).node.nodeFs;
    assert.ok(fs && fs.capacityBytes > 0 && fs.availableBytes > 0 && fs.availableBytes <= fs.capacityBytes, JSON.stringify(fs));
  });

  it('local storage: disk emptyDirs and configMaps of the pod, not memory-backed emptyDirs nor secrets; symlinks not followed', async () => {
    const uid = 'uid-1';
    const vol = (plugin: string, name: string): string => {
      const p = join(dir, 'pods', uid, 'volumes', plugin, name);
      mkdirSync(p, { recursive: true });
      return p;
    };
    writeFileSync(join(vol('kubernetes.io~empty-dir', 'scratch'), 'big'), Buffer.alloc(256 * 1024, 1));
    writeFileSync(join(vol('kubernetes.io~empty-dir', 'ram'), 'big'), Buffer.alloc(512 * 1024, 1));
    writeFileSync(join(vol('kubernetes.io~configmap', 'cfg'), 'k'), 'v');
    writeFileSync(join(vol('kubernetes.io~secret', 'sec'), 'big'), Buffer.alloc(512 * 1024, 1));
    symlinkSync('/usr', join(dir, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'scratch', 'link'));
    const pod: Pod = {
      metadata: { uid },
      spec: {
        containers: [],
        volumes: [
          { name: 'scratch', emptyDir: {} }, { name: 'ram', emptyDir: { medium: 'Memory' } },
          { name: 'cfg', configMap: { name: 'c' } }, { name: 'sec', secret: { secretName: 's' } },
        ],
      },
    };
    const src = new HostStatsSource({ rootDir: dir, clock: new ManualClock(), runtime: { listPodSandboxStats: async () => ({ stats: [] }) } });
    const u = await src.podLocalStorage(pod);
    const scratch = await diskUsage(join(dir, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'scratch'));
    const cfg = await diskUsage(join(dir, 'pods', uid, 'volumes', 'kubernetes.io~configmap', 'cfg'));
    assert.ok(scratch.bytes >= 256 * 1024 && scratch.bytes < 400 * 1024, `scratch ${scratch.bytes}`);
    assert.equal(scratch.inodes, 3, 'dir, file, symlink');
    assert.deepEqual(u, { bytes: scratch.bytes + cfg.bytes, inodes: scratch.inodes + cfg.inodes });
    assert.equal(await new HostStatsSource({ clock: new ManualClock(), runtime: { listPodSandboxStats: async () => ({ stats: [] }) } }).podLocalStorage(pod), undefined, 'no root');
  });

  it('loadavg task count', () => {
    assert.equal(parseLoadavgTasks('0.00 0.01 0.05 1/123 4567'), 123);
    assert.equal(parseLoadavgTasks('garbage'), undefined);
  });
});
