/** Formatting helpers that reproduce the wording of upstream kubelet messages. */
import type { ObjectMeta } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

/**
 * A duration as Go's time.Duration prints it ("10s", "2m40s", "5m0s", "1.5s", "523ms"),
 * because upstream messages embed it ("back-off 20s restarting failed container=…").
 * Millisecond precision; fractions are trimmed of trailing zeros.
 */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${trimFraction(abs.toFixed(3))}ms`;
  const totalSeconds = abs / 1000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds - h * 3600) / 60);
  const s = totalSeconds - h * 3600 - m * 60;
  let out = sign;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  return `${out}${trimFraction(s.toFixed(3))}s`;
}

function trimFraction(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Upstream format.Pod: "name_namespace(uid)". */
export function podFullName(meta: DeepReadonly<ObjectMeta> | undefined): string {
  return `${meta?.name ?? ''}_${meta?.namespace ?? ''}(${meta?.uid ?? ''})`;
}

/** `namespace/name`, for log fields. */
export function podRef(meta: DeepReadonly<ObjectMeta> | undefined): string {
  return `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}

/** Go's %q for the plain strings kubelet messages quote (image names, container names). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** The message of an unknown thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
