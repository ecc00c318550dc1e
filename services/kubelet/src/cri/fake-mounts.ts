/**
 * File reads of the fake runtime's processes (the fake shell's `cat FILE`): a container path
 * is resolved through the container's CRI mounts (the longest matching container_path wins)
 * to a file on the kubelet's host; anything outside a mount does not exist (the fake has no
 * image filesystem). Read-only: fake processes never write.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type * as m from './proto.js';

/** The file's bytes, or undefined when no mount covers `path` or the host file cannot be read. */
export async function readMountedFile(mounts: readonly m.Mount[], path: string): Promise<Buffer | undefined> {
  const p = posix.normalize(path);
  let best: m.Mount | undefined;
  for (const mt of mounts) {
    const cp = posix.normalize(mt.container_path).replace(/\/+$/, '') || '/';
    const covers = p === cp || p.startsWith(cp === '/' ? '/' : `${cp}/`);
    if (covers && (!best || cp.length > posix.normalize(best.container_path).length)) best = mt;
  }
  if (!best) return undefined;
  const rest = p.slice((posix.normalize(best.container_path).replace(/\/+$/, '') || '/').length);
  try {
    return await readFile(posix.join(best.host_path, rest));
  } catch {
    return undefined;
  }
}
