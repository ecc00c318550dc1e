/**
 * Atomic writer for projected volume contents (upstream pkg/volume/util/atomic_writer.go;
 * written from its documented layout, not its code). A target directory holds:
 *
 *   ..2025_01_31_12_00_00.123456789/   the current payload (timestamped, random suffix)
 *   ..data -> ..2025_01_31_12_00_00.123456789
 *   key    -> ..data/key                one symlink per top-level payload path
 *
 * An update writes a new timestamped directory, points a `..data_tmp` symlink at it and
 * renames that over `..data` (rename(2) is atomic), so a reader sees either the old or the
 * new payload in full, never a mix; then adds/removes the top-level symlinks and deletes the
 * old directory. Hand-written: no npm package implements this layout, and the kubelet's
 * configMap/secret/downwardAPI/projected volumes must be readable by the same clients as
 * upstream's (which follow `..data`).
 *
 * Contracts: paths are relative, without `..` elements and not starting with `..`
 * ({@link validatePayloadPath}); an unchanged payload (same paths, bytes and modes) changes
 * nothing and returns false; not safe against concurrent writers of the same directory
 * (the kubelet's per-pod worker serialises them).
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** File mode bits (e.g. 0o644). */
  mode: number;
}

/** Relative path → content. */
export type Payload = ReadonlyMap<string, FileProjection>;

export const DATA_DIR = '..data';
const DATA_DIR_TMP = '..data_tmp';

/** Throws on a path the writer refuses (upstream validatePath). */
export function validatePayloadPath(p: string): void {
  if (p === '') throw new Error('invalid path: must not be empty');
  if (p.length > 4096) throw new Error(`invalid path: must be less than or equal to 4096 characters`);
  if (posix.isAbsolute(p)) throw new Error(`invalid path: must be relative path: ${p}`);
  const parts = p.split('/');
  if (parts.includes('..')) throw new Error(`invalid path: must not contain '..': ${p}`);
  if (p.startsWith('..')) throw new Error(`invalid path: must not start with '..': ${p}`);
}

function cleanPath(p: string): string {
  return posix.normalize(p).replace(/\/+$/, '');
}

function timestampName(now: Date): string {
  const d = now.toISOString(); // 2025-01-31T12:00:00.123Z
  return `..${d.slice(0, 4)}_${d.slice(5, 7)}_${d.slice(8, 10)}_${d.slice(11, 13)}_${d.slice(14, 16)}_${d.slice(17, 19)}.${randomBytes(5).toString('hex')}`;
}

async function exists(p: string): Promise<boolean> {
  try { await lstat(p); return true; } catch { return false; }
}

/** Regular files under `dir`, relative paths → { data, mode }. */
async function readTree(dir: string, rel = ''): Promise<Map<string, FileProjection>> {
  const out = new Map<string, FileProjection>();
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of await readTree(dir, r)) out.set(k, v);
    else if (e.isFile()) {
      const full = join(dir, r);
      out.set(r, { data: await readFile(full), mode: (await stat(full)).mode & 0o7777 });
    }
  }
  return out;
}

function samePayload(a: ReadonlyMap<string, FileProjection>, b: ReadonlyMap<string, FileProjection>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.mode !== v.mode || !w.data.equals(v.data)) return false;
  }
  return true;
}

function topLevel(paths: Iterable<string>): Set<string> {
  return new Set([...paths].map((p) => p.split('/')[0]!));
}

/**
 * Makes `targetDir` hold exactly `payload` (see the module doc). Returns true if anything
 * was written. `now` names the timestamped directory.
 */
export async function writeAtomic(targetDir: string, payload: Payload, now: Date = new Date()): Promise<boolean> {
  const clean = new Map<string, FileProjection>();
  for (const [p, f] of payload) {
    validatePayloadPath(p);
    clean.set(cleanPath(p), f);
  }
  await mkdir(targetDir, { recursive: true, mode: 0o755 });
  const dataLink = join(targetDir, DATA_DIR);
  let oldTs: string | undefined;
  try { oldTs = await readlink(dataLink); } catch { oldTs = undefined; }
  const oldFiles = oldTs ? await readTree(join(targetDir, oldTs)).catch(() => new Map<string, FileProjection>()) : new Map<string, FileProjection>();
  const wanted = topLevel(clean.keys());

  if (oldTs && samePayload(clean, oldFiles)) {
    await createVisible(targetDir, wanted);
    return false;
  }

  const tsName = timestampName(now);
  const tsDir = join(targetDir, tsName);
  await mkdir(tsDir, { mode: 0o755 });
  await chmod(tsDir, 0o755);
  for (const [p, f] of clean) {
    const full = join(tsDir, p);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, f.data, { mode: f.mode });
    await chmod(full, f.mode);
  }
  const tmpLink = join(targetDir, DATA_DIR_TMP);
  await rm(tmpLink, { force: true });
  await symlink(tsName, tmpLink);
  await rename(tmpLink, dataLink);

  await createVisible(targetDir, wanted);
  for (const name of topLevel(oldFiles.keys())) {
    if (!wanted.has(name)) await rm(join(targetDir, name), { force: true });
  }
  if (oldTs && oldTs !== tsName) await rm(join(targetDir, oldTs), { recursive: true, force: true });
  return true;
}

/** One `name -> ..data/name` symlink per top-level payload entry (kept if present). */
async function createVisible(targetDir: string, names: ReadonlySet<string>): Promise<void> {
  for (const name of names) {
    const p = join(targetDir, name);
    if (await exists(p)) continue;
    await symlink(posix.join(DATA_DIR, name), p);
  }
}
