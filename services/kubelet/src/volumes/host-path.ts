/**
 * hostPath volume type checks (upstream pkg/volume/hostpath checkType): before a hostPath
 * volume is used, its `type` is checked against the path as the kubelet sees it, creating
 * it for the *OrCreate types. Errors carry upstream's wording, reported as
 * `MountVolume.SetUp failed for volume "x" : hostPath type check failed: /p is not a directory`.
 *
 * Note: in compose the kubelet runs in a container, so these checks see the kubelet
 * container's filesystem, not the Docker host's; only paths the two share (the kubelet root)
 * check and create meaningfully. An empty type does no check (Docker creates a missing
 * source directory itself), as upstream's unset type.
 */
import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';

export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

export const HOST_PATH_TYPES: readonly HostPathType[] = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

export class HostPathTypeError extends Error {
  override readonly name = 'HostPathTypeError';
}

async function statOrUndefined(p: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try { return await stat(p); } catch { return undefined; }
}

/** Checks (and for *OrCreate creates) `path` per `type`; resolves when it fits, throws HostPathTypeError otherwise. */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  const t = (type ?? '') as HostPathType;
  if (!HOST_PATH_TYPES.includes(t)) throw new HostPathTypeError(`hostPath type check failed: unsupported type "${type}"`);
  const fail = (what: string): never => { throw new HostPathTypeError(`hostPath type check failed: ${path} is not ${what}`); };
  switch (t) {
    case '': return;
    case 'DirectoryOrCreate': {
      if (!(await statOrUndefined(path))) await mkdir(path, { recursive: true, mode: 0o755 });
      if (!(await statOrUndefined(path))?.isDirectory()) fail('a directory');
      return;
    }
    case 'Directory':
      if (!(await statOrUndefined(path))?.isDirectory()) fail('a directory');
      return;
    case 'FileOrCreate': {
      if (!(await statOrUndefined(path))) {
        try {
          const fh = await open(path, constants.O_CREAT | constants.O_WRONLY, 0o644);
          await fh.close();
        } catch (err) {
          throw new HostPathTypeError(`hostPath type check failed: ${path} could not be created: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (!(await statOrUndefined(path))?.isFile()) fail('a file');
      return;
    }
    case 'File':
      if (!(await statOrUndefined(path))?.isFile()) fail('a file');
      return;
    case 'Socket':
      if (!(await statOrUndefined(path))?.isSocket()) fail('a socket file');
      return;
    case 'CharDevice':
      if (!(await statOrUndefined(path))?.isCharacterDevice()) fail('a character device');
      return;
    case 'BlockDevice':
      if (!(await statOrUndefined(path))?.isBlockDevice()) fail('a block device');
      return;
  }
}

