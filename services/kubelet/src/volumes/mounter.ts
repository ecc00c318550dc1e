/**
 * The kubelet's mounts (upstream k8s.io/mount-utils, the part memory-backed volumes need):
 * mount a tmpfs on a pod volume directory, unmount it, and tell whether a directory is a
 * mount point and of which medium.
 *
 * Contracts:
 * - `mountTmpfs(dir, options)`: `dir` exists; mounts a fresh tmpfs on it with the given
 *   options (e.g. `size=67108864`). Not idempotent by itself: the caller asks `mountPoint`
 *   first (as upstream's emptyDir setupTmpfs does). Rejects with the command and its output.
 * - `unmount(dir)`: unmounts the file system mounted on `dir`; rejects if that fails.
 * - `mountPoint(dir)`: undefined when `dir` is not a mount point (or does not exist), else
 *   whether the file system mounted there is a tmpfs (`medium: 'memory'`).
 *
 * `ExecMounter` runs the `mount`/`umount` binaries of the machine (util-linux or busybox:
 * the tskube image has both). Hand-written on purpose: the npm packages that wrap mount(2)
 * are native add-ons (a compiler in the image) and none is kept up; two commands and two
 * stat calls are all the kubelet needs. Mounting needs CAP_SYS_ADMIN: the kubelet runs as
 * root on the host, or in a container with CAP_SYS_ADMIN whose root dir is bound `rshared` so that
 * the host's Docker engine sees the mounts (compose.yaml, docs/kubelet.md).
 *
 * `FakeMounter` keeps mount points in memory (unit tests; it never touches the disk).
 */
import { execFile } from 'node:child_process';
import { stat, statfs } from 'node:fs/promises';
import { release } from 'node:os';
import { dirname, resolve } from 'node:path';

export interface MountPointInfo {
  /** `memory`: a tmpfs (upstream StorageMediumMemory); `other`: anything else. */
  medium: 'memory' | 'other';
}

export interface Mounter {
  mountTmpfs(dir: string, options: readonly string[]): Promise<void>;
  unmount(dir: string): Promise<void>;
  mountPoint(dir: string): Promise<MountPointInfo | undefined>;
}

/** statfs(2) f_type of tmpfs (linux/magic.h TMPFS_MAGIC). */
const TMPFS_MAGIC = 0x01021994;

/**
 * Whether tmpfs takes `noswap` (Linux ≥ 6.4; upstream adds it to memory-backed volumes
 * there so that their contents never reach swap). `kernelRelease` as os.release().
 */
export function tmpfsNoswapSupported(kernelRelease: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 6 || (major === 6 && minor >= 4);
}

interface ExecResult { code: number; output: string }

function run(cmd: string, args: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolvePromise) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (!err) { resolvePromise({ code: 0, output }); return; }
      const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolvePromise({ code, output: output || err.message });
    });
  });
}

export interface ExecMounterOptions {
  /** Binaries (default: `mount` and `umount` from PATH). */
  mountCommand?: string;
  umountCommand?: string;
  /** Per command (default 30 s). */
  timeoutMs?: number;
  /** Add `noswap` to tmpfs options (default: when the kernel supports it). */
  noswap?: boolean;
}

export class ExecMounter implements Mounter {
  private readonly noswap: boolean;

  constructor(private readonly o: ExecMounterOptions = {}) {
    this.noswap = o.noswap ?? tmpfsNoswapSupported(release());
  }

  async mountTmpfs(dir: string, options: readonly string[]): Promise<void> {
    const opts = [...options, ...(this.noswap && !options.includes('noswap') ? ['noswap'] : [])];
    const args = ['-t', 'tmpfs', ...(opts.length ? ['-o', opts.join(',')] : []), 'tmpfs', dir];
    const cmd = this.o.mountCommand ?? 'mount';
    const r = await run(cmd, args, this.o.timeoutMs ?? 30_000);
    // upstream mount-utils' wording
    if (r.code !== 0) throw new Error(`mount failed: exit status ${r.code}\nMounting command: ${cmd}\nMounting arguments: ${args.join(' ')}\nOutput: ${r.output}`);
  }

  async unmount(dir: string): Promise<void> {
    const cmd = this.o.umountCommand ?? 'umount';
    const r = await run(cmd, [dir], this.o.timeoutMs ?? 30_000);
    if (r.code !== 0) throw new Error(`unmount failed: exit status ${r.code}\nUnmounting arguments: ${dir}\nOutput: ${r.output}`);
  }

  /**
   * A mount point has another device than its parent (upstream IsLikelyNotMountPoint: a bind
   * mount of the same file system is not seen, which is fine for the tmpfs mounts the
   * kubelet makes); the medium comes from statfs(2).
   */
  async mountPoint(dir: string): Promise<MountPointInfo | undefined> {
    let self;
    try { self = await stat(dir); } catch { return undefined; }
    const parent = await stat(dirname(resolve(dir)));
    if (self.dev === parent.dev) return undefined;
    const fs = await statfs(dir);
    return { medium: fs.type === TMPFS_MAGIC ? 'memory' : 'other' };
  }
}

/** In-memory mounts for unit tests: records every call; `failMount` makes mounts fail. */
export class FakeMounter implements Mounter {
  readonly mounts = new Map<string, { options: readonly string[] }>();
  readonly calls: string[] = [];
  /** When set, mountTmpfs rejects with this message. */
  failMount: string | undefined;
  /** When set, unmount rejects with this message. */
  failUnmount: string | undefined;

  async mountTmpfs(dir: string, options: readonly string[]): Promise<void> {
    const d = resolve(dir);
    this.calls.push(`mount ${d} ${options.join(',')}`);
    if (this.failMount) throw new Error(this.failMount);
    this.mounts.set(d, { options: [...options] });
  }

  async unmount(dir: string): Promise<void> {
    const d = resolve(dir);
    this.calls.push(`unmount ${d}`);
    if (this.failUnmount) throw new Error(this.failUnmount);
    if (!this.mounts.delete(d)) throw new Error(`unmount failed: ${d}: not mounted`);
  }

  async mountPoint(dir: string): Promise<MountPointInfo | undefined> {
    return this.mounts.has(resolve(dir)) ? { medium: 'memory' } : undefined;
  }
}
