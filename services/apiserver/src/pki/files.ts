import { chmod, chown, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The uid/gid every file the pki writes is given (the owner of the data directory). */
export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

export async function ownerOf(path: string): Promise<FileOwner> {
  const s = await stat(path);
  return { uid: s.uid, gid: s.gid };
}

/**
 * chown only when we are root: an unprivileged process already owns what it creates, and
 * could not give it away anyway.
 */
async function applyOwner(path: string, owner: FileOwner | undefined): Promise<void> {
  if (owner === undefined || process.geteuid?.() !== 0) return;
  await chown(path, owner.uid, owner.gid);
}

/** mkdir -p, then the given mode and owner on the leaf directory. Idempotent. */
export async function ensureDir(path: string, mode: number, owner?: FileOwner): Promise<void> {
  await mkdir(path, { recursive: true, mode });
  await applyOwner(path, owner);
}

/**
 * Writes `data` to `path` so that a concurrent reader sees either the old file or the whole
 * new one, never a part: write a temporary file in the same directory with the final mode
 * and owner, fsync it, then rename it over `path`. The temporary file is removed on failure.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { mode: number; owner?: FileOwner },
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', opts.mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, opts.mode); // the umask may have narrowed the mode given to open
    await applyOwner(tmp, opts.owner);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
