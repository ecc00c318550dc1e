/**
 * The mount table of this process (/proc/self/mountinfo, proc(5)), for tests of the kubelet's
 * memory-backed volumes: which mounts lie under a directory, unmounting what a test's kubelet
 * left behind (so its temporary root can be removed), and the propagation of the mount that
 * holds a path (compose binds the kubelet root `rshared`, which Docker allows only on a shared
 * mount).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  /** Per-mount and super-block options, e.g. ['rw', 'relatime', 'size=32768k']. */
  options: string[];
  /** Optional fields: 'shared:N', 'master:N', 'propagate_from:N', 'unbindable'. */
  optional: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function readMountInfo(file = '/proc/self/mountinfo'): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0) continue;
    out.push({
      mountPoint: unescape(f[4]!),
      fsType: f[dash + 1] ?? '',
      options: [...(f[5] ?? '').split(','), ...(f[dash + 3] ?? '').split(',')].filter(Boolean),
      optional: f.slice(6, dash),
    });
  }
  return out;
}

function realDir(dir: string): string {
  let d = resolve(dir);
  const rest: string[] = [];
  while (!existsSync(d) && dirname(d) !== d) { rest.unshift(d.slice(dirname(d).length + 1)); d = dirname(d); }
  return resolve(realpathSync(d), ...rest);
}

/** Mounts at `dir` or below it, deepest first. */
export function mountsUnder(dir: string): MountEntry[] {
  const d = realDir(dir);
  return readMountInfo()
    .filter((m) => m.mountPoint === d || m.mountPoint.startsWith(`${d}/`))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length);
}

/** Unmounts everything at or below `dir` (what a stopped kubelet left mounted). */
export function unmountAllUnder(dir: string): void {
  for (const m of mountsUnder(dir)) execFileSync('umount', [m.mountPoint]);
}

/** Unmounts what is left under a test's kubelet root, then removes the directory. */
export function removeKubeletDir(dir: string): void {
  unmountAllUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The mount that holds `path` (the longest mount point above it; the path need not exist)
 * and its propagation: 'shared' when it has a shared peer group, else 'slave' or 'private'.
 */
export function propagationOf(path: string): { mountPoint: string; propagation: 'shared' | 'slave' | 'private' } {
  const p = realDir(path);
  let best: MountEntry | undefined;
  for (const m of readMountInfo()) {
    const covers = m.mountPoint === '/' || p === m.mountPoint || p.startsWith(`${m.mountPoint}/`);
    // Later entries are mounted on top of earlier ones at the same point.
    if (covers && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  if (!best) throw new Error(`no mount holds ${path}`);
  const propagation = best.optional.some((o) => o.startsWith('shared:')) ? 'shared'
    : best.optional.some((o) => o.startsWith('master:')) ? 'slave' : 'private';
  return { mountPoint: best.mountPoint, propagation };
}
