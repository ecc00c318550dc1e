/**
 * CRI rules every runtime implementation applies the same way: request validation, filter
 * matching, ID prefix resolution, ordering, exit reasons and timestamp formats. Keeping them
 * here is what lets the Docker runtime and the fake agree on the conformance suite.
 */
import { invalidArgument } from './errors.js';
import type * as m from './proto.js';

/** True when every pair of `selector` is present in `labels` (CRI label_selector: AND of equalities). */
export function matchesLabels(selector: m.StringMap | undefined | null, labels: m.StringMap): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

export function matchesSandboxFilter(f: m.PodSandboxFilter | undefined | null, s: m.PodSandbox): boolean {
  if (!f) return true;
  if (f.id && !s.id.startsWith(f.id)) return false;
  if (f.state && f.state.state !== s.state) return false;
  return matchesLabels(f.label_selector, s.labels);
}

export function matchesContainerFilter(f: m.ContainerFilter | undefined | null, c: m.Container): boolean {
  if (!f) return true;
  if (f.id && !c.id.startsWith(f.id)) return false;
  if (f.pod_sandbox_id && !c.pod_sandbox_id.startsWith(f.pod_sandbox_id)) return false;
  if (f.state && f.state.state !== c.state) return false;
  return matchesLabels(f.label_selector, c.labels);
}

/** Oldest first; ties broken by ID so the order is stable. */
export function byCreation(a: { created_at: number; id: string }, b: { created_at: number; id: string }): number {
  return a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The one ID in `ids` equal to `idOrPrefix`, else the only one starting with it; undefined
 * when none or several match (an ambiguous prefix is treated as not found).
 */
export function resolveId(ids: Iterable<string>, idOrPrefix: string): string | undefined {
  if (!idOrPrefix) return undefined;
  let found: string | undefined;
  for (const id of ids) {
    if (id === idOrPrefix) return id;
    if (id.startsWith(idOrPrefix)) {
      if (found !== undefined) return undefined;
      found = id;
    }
  }
  return found;
}

/** ContainerStatus.reason of an exited container. */
export function exitReason(exitCode: number, oomKilled: boolean): string {
  if (oomKilled) return 'OOMKilled';
  return exitCode === 0 ? 'Completed' : 'Error';
}

/** Current Unix time in nanoseconds (millisecond resolution). */
export function nowNanos(): number {
  return Date.now() * 1e6;
}

/**
 * Unix nanoseconds that strictly increase across calls (by at least 1 µs), so objects
 * created within one millisecond still order by creation time.
 */
export class CreationClock {
  private last = 0;
  now(): number {
    this.last = Math.max(nowNanos(), this.last + 1000);
    return this.last;
  }
}

/** RFC 3339 UTC with 9 fractional digits, as Docker prints log timestamps. */
export function rfc3339Nano(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  // Sub-millisecond digits; float rounding at ~1e18 can push them a little out of range.
  const sub = Math.min(999_999, Math.max(0, Math.round(ns - ms * 1e6)));
  const frac = String(sub).padStart(6, '0');
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  return `${iso.slice(0, 23)}${frac}Z`;
}

/**
 * Parses an RFC 3339 timestamp with up to 9 fractional digits into Unix nanoseconds.
 * Go's zero time ("0001-01-01T00:00:00Z", Docker's "never") and empty strings give 0.
 */
export function parseRfc3339Nano(s: string | undefined): number {
  if (!s || s.startsWith('0001-01-01')) return 0;
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!match) return 0;
  const [, base, frac = '', zone] = match;
  const secondsMs = Date.parse(`${base}${zone}`);
  if (Number.isNaN(secondsMs)) return 0;
  return secondsMs * 1e6 + Number(frac.padEnd(9, '0'));
}

const DNS_LABELISH = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function requireName(value: string | undefined, field: string): void {
  if (!value) throw invalidArgument(`${field} is required`);
  // Names end up in Docker container names: keep them to what Docker accepts.
  if (!DNS_LABELISH.test(value)) throw invalidArgument(`${field} "${value}" contains characters a container name cannot hold`);
}

/** Throws INVALID_ARGUMENT unless the sandbox config names a pod. */
export function validateSandboxConfig(config: m.PodSandboxConfig | undefined | null): asserts config is m.PodSandboxConfig {
  if (!config) throw invalidArgument('config is required');
  const md = config.metadata;
  if (!md) throw invalidArgument('config.metadata is required');
  requireName(md.name, 'config.metadata.name');
  requireName(md.namespace, 'config.metadata.namespace');
  requireName(md.uid, 'config.metadata.uid');
}

/** Throws INVALID_ARGUMENT unless the container config names the container and the image. */
export function validateContainerConfig(config: m.ContainerConfig | undefined | null): asserts config is m.ContainerConfig {
  if (!config) throw invalidArgument('config is required');
  if (!config.metadata) throw invalidArgument('config.metadata is required');
  requireName(config.metadata.name, 'config.metadata.name');
  if (!config.image?.image) throw invalidArgument('config.image.image is required');
  const ns = config.linux?.security_context?.namespace_options;
  if (ns?.pid === 'TARGET' && !ns.target_id) throw invalidArgument('config.linux.security_context.namespace_options.target_id is required for a TARGET PID namespace');
  if (ns?.network === 'TARGET' || ns?.ipc === 'TARGET') throw invalidArgument('only the PID namespace may target another container');
}

export function requireId(id: string | undefined, field: string): string {
  if (!id) throw invalidArgument(`${field} is required`);
  return id;
}

/** Upper bound on ExecSync output per stream, as upstream runtimes cap it. */
export const EXEC_OUTPUT_LIMIT = 16 * 1024 * 1024;

/**
 * Applies ReadLogs' tail/since filtering to a list of timestamped lines (used by runtimes
 * that keep lines in memory). Returns the selected lines in order.
 */
export function selectLogLines<T extends { time: number }>(lines: readonly T[], req: m.ReadLogsRequest): T[] {
  let out = lines.slice();
  if (req.since_time_unix_nano && req.since_time_unix_nano > 0) {
    const since = req.since_time_unix_nano;
    out = out.filter((l) => l.time >= since);
  }
  const tail = req.tail_lines;
  if (tail !== undefined && tail !== null && tail >= 0) out = tail === 0 ? [] : out.slice(-tail);
  return out;
}
