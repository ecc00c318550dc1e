/**
 * The eviction stats of a real node (upstream: the Summary API's node figures and the CRI
 * stats of the pods):
 *
 * - memory: /proc/meminfo, working set = MemTotal − MemFree − Inactive(file) and
 *   available = MemTotal − working set, the way cadvisor computes the root cgroup's
 *   (stats/host-stats.ts). Not namespaced: a kubelet in a container reads the Docker host's
 *   figures (the same approximation as /stats/summary; docs/kubelet.md).
 * - nodefs: statfs of the kubelet root directory (bytes: blocks × bsize, available: bavail ×
 *   bsize; inodes: files / ffree).
 * - imagefs: not observed. The image store is the Docker engine's data root, which the
 *   kubelet (and the runtime service, in a container) cannot see, and the CRI subset has no
 *   ImageFsInfo; imagefs thresholds therefore never fire.
 * - pid: min(kernel.pid_max, kernel.threads-max) and the task count of /proc/loadavg
 *   (upstream pidlimit.Stats reads the same limits and counts tasks with sysinfo).
 * - pods: one CRI ListPodSandboxStats (working set of each pod and its containers; the
 *   newest sandbox per pod UID).
 * - local storage of a pod (on demand): the disk usage (allocated blocks, like `du`) of its
 *   emptyDir volumes not backed by memory and its configMap volumes under the root
 *   (upstream's local volumes). Container writable layers and logs are not measured: the
 *   CRI subset carries no filesystem stats.
 */
import { lstat, readdir, readFile, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { Clock } from '../clock.js';
import type { RuntimeService } from '../cri/runtime.js';
import { parseMeminfo } from '../stats/host-stats.js';
import { Plugin, podVolumeDir } from '../volumes/paths.js';
import type { EvictionStats, EvictionStatsSource, FsStats, LocalStorage, PodUsage } from './stats.js';

export interface HostStatsSourceOptions {
  runtime: Pick<RuntimeService, 'listPodSandboxStats'>;
  /** The kubelet root directory (nodefs, and where pod volumes live); undefined: nodefs is "/". */
  rootDir?: string;
  clock: Clock;
  /** Reads a /proc file (tests). */
  readText?: (path: string) => Promise<string>;
  /** statfs of a path (tests). */
  statFs?: (path: string) => Promise<FsStats>;
}

async function realStatFs(path: string): Promise<FsStats> {
  // the root directory may not be made yet: its nearest existing ancestor is the same filesystem
  let p = path;
  for (;;) {
    try {
      await stat(p);
      break;
    } catch (err) {
      if (p === dirname(p)) throw err;
      p = dirname(p);
    }
  }
  const s = await statfs(p);
  return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, inodes: s.files, inodesFree: s.ffree };
}

/** Total tasks from the text of /proc/loadavg ("0.10 0.20 0.30 2/345 6789"); undefined if malformed. */
export function parseLoadavgTasks(text: string): number | undefined {
  const m = /^\S+\s+\S+\s+\S+\s+\d+\/(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Allocated bytes and inodes under `path` (files, directories, symlinks themselves; never followed). */
export async function diskUsage(path: string): Promise<LocalStorage> {
  let total = 0;
  let inodes = 0;
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await lstat(p);
    } catch {
      return; // vanished meanwhile
    }
    total += st.blocks * 512;
    inodes++;
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(p);
    } catch {
      return;
    }
    for (const n of names) await walk(join(p, n));
  };
  await walk(path);
  return { bytes: total, inodes };
}

export class HostStatsSource implements EvictionStatsSource {
  private readonly readText: (path: string) => Promise<string>;
  private readonly statFs: (path: string) => Promise<FsStats>;

  constructor(private readonly o: HostStatsSourceOptions) {
    this.readText = o.readText ?? ((p) => readFile(p, 'utf8'));
    this.statFs = o.statFs ?? realStatFs;
  }

  private async optional<T>(f: () => Promise<T | undefined>): Promise<T | undefined> {
    try {
      return await f();
    } catch {
      return undefined;
    }
  }

  async observe(): Promise<EvictionStats> {
    const [pods, memory, nodeFs, pids] = await Promise.all([
      this.pods(),
      this.optional(async () => {
        const m = parseMeminfo(await this.readText('/proc/meminfo'));
        return m ? { workingSetBytes: m.workingSetBytes, availableBytes: m.availableBytes } : undefined;
      }),
      this.optional(() => this.statFs(this.o.rootDir ?? '/')),
      this.optional(() => this.pids()),
    ]);
    return {
      time: this.o.clock.now(),
      node: { ...(memory ? { memory } : {}), ...(nodeFs ? { nodeFs } : {}), ...(pids ? { pids } : {}) },
      pods,
    };
  }

  private async pids(): Promise<{ max: number; running: number } | undefined> {
    const limits: number[] = [];
    for (const f of ['/proc/sys/kernel/pid_max', '/proc/sys/kernel/threads-max']) {
      const n = Number((await this.optional(() => this.readText(f)))?.trim());
      if (Number.isInteger(n) && n > 0) limits.push(n);
    }
    const running = parseLoadavgTasks(await this.readText('/proc/loadavg'));
    if (limits.length === 0 || running === undefined) return undefined;
    return { max: Math.min(...limits), running };
  }

  private async pods(): Promise<PodUsage[]> {
    const { stats } = await this.o.runtime.listPodSandboxStats({});
    // the list is oldest first: the newest sandbox of a UID wins
    const byUid = new Map<string, PodUsage>();
    for (const s of stats) {
      const uid = s.attributes?.metadata?.uid;
      if (!uid) continue;
      const containers = (s.linux?.containers ?? []).map((c) => ({
        name: c.attributes?.metadata?.name ?? '',
        memoryWorkingSetBytes: c.memory?.working_set_bytes?.value ?? 0,
      }));
      const sandbox = s.linux?.memory?.working_set_bytes?.value;
      byUid.set(uid, {
        uid, containers,
        memoryWorkingSetBytes: sandbox ?? containers.reduce((n, c) => n + c.memoryWorkingSetBytes, 0),
      });
    }
    return [...byUid.values()];
  }

  async podLocalStorage(pod: DeepReadonly<Pod>): Promise<LocalStorage | undefined> {
    const root = this.o.rootDir;
    const uid = pod.metadata?.uid;
    if (!root || !uid) return undefined;
    const total: LocalStorage = { bytes: 0, inodes: 0 };
    for (const v of pod.spec?.volumes ?? []) {
      let dir: string | undefined;
      if (v.emptyDir && v.emptyDir.medium !== 'Memory') dir = podVolumeDir(root, uid, Plugin.emptyDir, v.name);
      else if (v.configMap) dir = podVolumeDir(root, uid, Plugin.configMap, v.name);
      if (!dir) continue;
      const u = await diskUsage(dir);
      total.bytes += u.bytes;
      total.inodes += u.inodes;
    }
    return total;
  }
}
