/**
 * Probe results per container ID (upstream prober/results/results_manager.go): one manager
 * per probe type. The probe workers are the only writers; the pod syncer (kill on a liveness
 * or startup failure) and the status generator (ready, started) read.
 *
 * `set` reports whether the stored value changed, and `onChange` is called (synchronously)
 * for every change, with the pod UID, so the kubelet can re-sync that pod.
 */
export type ProbeType = 'liveness' | 'readiness' | 'startup';

/** A recorded result (upstream results.Result). */
export type Result = 'Success' | 'Failure' | 'Unknown';

/** What a probe handler reports (upstream probe.Result). */
export type ProbeOutcome = 'success' | 'warning' | 'failure' | 'unknown';

/** Upstream probeType.String(): how events name the probe ("Liveness probe failed: …"). */
export function probeTypeName(t: ProbeType): string {
  return t === 'liveness' ? 'Liveness' : t === 'readiness' ? 'Readiness' : 'Startup';
}

export interface ResultChange {
  containerId: string;
  podUid: string;
  previous: Result | undefined;
  result: Result;
}

export class ResultsManager {
  private readonly results = new Map<string, Result>();

  constructor(readonly type: ProbeType, private readonly onChange?: (c: ResultChange) => void) {}

  get(containerId: string): Result | undefined {
    return this.results.get(containerId);
  }

  /** Stores a result; true (and `onChange`) when it differs from the stored one. */
  set(containerId: string, result: Result, podUid: string): boolean {
    const previous = this.results.get(containerId);
    if (previous === result) return false;
    this.results.set(containerId, result);
    this.onChange?.({ containerId, podUid, previous, result });
    return true;
  }

  remove(containerId: string): void {
    this.results.delete(containerId);
  }

  get size(): number {
    return this.results.size;
  }
}
