/**
 * Termination messages (upstream kuberuntime_container.go getTerminationMessage and
 * readLastStringFromContainerLogs).
 *
 * - Before a container is created the kubelet makes an empty file
 *   `<root>/pods/<uid>/containers/<name>/<8 hex>` (mode 0666, so any user can write it) and
 *   bind-mounts it read-write at the container's terminationMessagePath (default
 *   /dev/termination-log). The path and policy travel as annotations on the instance.
 * - Once the instance has exited: the last 4096 bytes of that file are its message. With
 *   policy FallbackToLogsOnError, a non-zero exit code and an empty (or missing) file, the
 *   message is taken from the container's logs instead: the last 80 lines, at most 2048
 *   bytes of them. A container that could not even start (ContainerCannotRun) has no logs.
 * - The runtime's own message (Docker's error) comes first, joined with ": ".
 * Messages of exited instances do not change: they are read once per instance and cached
 * per pod until `forget(uid)`.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open as openFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRuntime } from '../cri/index.js';
import { errorMessage } from '../format.js';
import { podDir } from '../volumes/paths.js';
import type { RuntimeContainer, RuntimePodStatus } from './runtime-state.js';

/** upstream kubecontainer.MaxContainerTerminationMessageLength. */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
/** upstream MaxContainerTerminationMessageLogLines / LogLength. */
export const FALLBACK_LOG_LINES = 80;
export const FALLBACK_LOG_BYTES = 2048;

/** Creates the (empty, world-writable) file to mount at the container's terminationMessagePath. */
export async function createTerminationLogFile(rootDir: string, uid: string, containerName: string): Promise<string> {
  if (!containerName || containerName.includes('/') || containerName.startsWith('.')) throw new Error(`invalid container name "${containerName}"`);
  const dir = join(podDir(rootDir, uid), 'containers', containerName);
  await mkdir(dir, { recursive: true });
  const file = join(dir, randomBytes(4).toString('hex'));
  await writeFile(file, '', { mode: 0o666 });
  await chmod(file, 0o666); // the umask may have narrowed it
  return file;
}

/** The last `max` bytes of a file; undefined when it does not exist. */
export async function readTail(path: string, max: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await openFile(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The last 80 lines of the container's logs, at most 2048 bytes (upstream readLastStringFromContainerLogs). */
export async function lastLogs(runtime: Pick<ContainerRuntime, 'readLogs'>, containerId: string): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of runtime.readLogs({ container_id: containerId, tail_lines: FALLBACK_LOG_LINES, limit_bytes: FALLBACK_LOG_BYTES })) {
      chunks.push(Buffer.from(c.data));
    }
  } catch (err) {
    return `Error on reading termination message from logs: ${errorMessage(err)}`;
  }
  return Buffer.concat(chunks).subarray(0, FALLBACK_LOG_BYTES).toString('utf8');
}

/**
 * The termination message of an exited instance: the file at its terminationMessagePath
 * mount, else (FallbackToLogsOnError, exit code ≠ 0, nothing in the file) its last logs.
 */
export async function terminationMessage(c: RuntimeContainer, runtime: Pick<ContainerRuntime, 'readLogs'>): Promise<string> {
  const fallbackToLogs = c.terminationMessagePolicy === 'FallbackToLogsOnError' && c.exitCode !== 0 && c.reason !== 'ContainerCannotRun';
  let message = '';
  let checkLogs = fallbackToLogs;
  if (c.terminationMessagePath && c.terminationMessageHostPath) {
    try {
      const data = await readTail(c.terminationMessageHostPath, MAX_TERMINATION_MESSAGE_BYTES);
      message = data ?? '';
      checkLogs = fallbackToLogs && message.length === 0;
    } catch (err) {
      return `Error on reading termination log ${c.terminationMessageHostPath}: ${errorMessage(err)}`;
    }
  }
  if (checkLogs) message = await lastLogs(runtime, c.id);
  return message;
}

/** Fills `message` of exited instances with their termination messages (cached per instance). */
export class TerminationMessages {
  private readonly byPod = new Map<string, Map<string, string>>();

  constructor(private readonly runtime: Pick<ContainerRuntime, 'readLogs'>) {}

  /** Mutates `rs`: every exited container's message gets its termination message appended. */
  async fill(rs: RuntimePodStatus): Promise<void> {
    let cache = this.byPod.get(rs.uid);
    for (const c of rs.containers) {
      if (c.state !== 'exited') continue;
      if (!c.terminationMessagePath && c.terminationMessagePolicy !== 'FallbackToLogsOnError') continue;
      if (!cache) this.byPod.set(rs.uid, (cache = new Map()));
      let msg = cache.get(c.id);
      if (msg === undefined) {
        msg = await terminationMessage(c, this.runtime);
        cache.set(c.id, msg);
      }
      if (msg) c.message = c.message ? `${c.message}: ${msg}` : msg;
    }
    if (cache) {
      const live = new Set(rs.containers.map((c) => c.id));
      for (const id of cache.keys()) if (!live.has(id)) cache.delete(id);
    }
  }

  forget(uid: string): void {
    this.byPod.delete(uid);
  }
}
