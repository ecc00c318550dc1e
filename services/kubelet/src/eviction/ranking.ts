/**
 * Which pod goes first (upstream helpers.go rank functions), and which pods are never
 * evicted (upstream kubelettypes.IsCriticalPod). Pure; the comparators mirror upstream's
 * multiSorter: the first comparator that tells two pods apart decides.
 *
 * - memory: pods whose working set exceeds their memory request first, then lower priority,
 *   then the larger working set above the request;
 * - disk (ephemeral-storage): pods whose local storage exceeds their ephemeral-storage
 *   request first, then lower priority, then the larger usage above the request;
 * - pids: lower priority, then more processes.
 * A pod without stats ranks before those with (upstream: "prioritize evicting the pod for
 * which no stats were found").
 */
import { parseQuantity, type Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

type ReadonlyPod = DeepReadonly<Pod>;

/** upstream SystemCriticalPriority (2 × 10⁹): system-cluster-critical and system-node-critical. */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;
const CONFIG_SOURCE = 'kubernetes.io/config.source';
const CONFIG_MIRROR = 'kubernetes.io/config.mirror';

/** upstream IsCriticalPod: a static pod, a mirror pod, or one of system-critical priority. */
export function isCriticalPod(pod: ReadonlyPod): boolean {
  const a = pod.metadata?.annotations ?? {};
  const source = a[CONFIG_SOURCE];
  if (source !== undefined && source !== 'api') return true;
  if (a[CONFIG_MIRROR] !== undefined) return true;
  return (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

/** upstream corev1helpers.PodPriority. */
export function podPriority(pod: ReadonlyPod): number {
  return pod.spec?.priority ?? 0;
}

/**
 * upstream v1resource.GetResourceRequestQuantity: the sum over app containers, at least the
 * largest init container's request, plus the pod overhead.
 */
export function podRequest(pod: ReadonlyPod, resource: string): number {
  const q = (v: string | undefined): number => (v === undefined ? 0 : parseQuantity(v));
  let total = 0;
  for (const c of pod.spec?.containers ?? []) total += q(c.resources?.requests?.[resource]);
  for (const c of pod.spec?.initContainers ?? []) total = Math.max(total, q(c.resources?.requests?.[resource]));
  total += q(pod.spec?.overhead?.[resource]);
  return total;
}

/** A comparator: < 0 when `a` goes before `b` (is evicted first). */
type Cmp = (a: ReadonlyPod, b: ReadonlyPod) => number;

/** upstream cmpBool: true before false. */
function cmpBool(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? -1 : 1;
}

function orderedBy(cmps: readonly Cmp[]): Cmp {
  return (a, b) => {
    for (const c of cmps) {
      const r = c(a, b);
      if (r !== 0) return r;
    }
    return 0;
  };
}

/** Lower priority goes first. */
const priority: Cmp = (a, b) => Math.sign(podPriority(a) - podPriority(b));

/**
 * The usage the rankers look at, per pod; undefined: no stats for that pod. Ranking only
 * reads, so one lookup table built per round serves every comparison.
 */
export type UsageOf = (pod: ReadonlyPod) => number | undefined;

function exceedsRequest(usage: UsageOf, resource: string): Cmp {
  return (a, b) => {
    const ua = usage(a);
    const ub = usage(b);
    if (ua === undefined || ub === undefined) return cmpBool(ua === undefined, ub === undefined);
    return cmpBool(ua > podRequest(a, resource), ub > podRequest(b, resource));
  };
}

function aboveRequest(usage: UsageOf, resource: string): Cmp {
  return (a, b) => {
    const ua = usage(a);
    const ub = usage(b);
    if (ua === undefined || ub === undefined) return cmpBool(ua === undefined, ub === undefined);
    // larger consumption above the request first
    return Math.sign((ub - podRequest(b, resource)) - (ua - podRequest(a, resource)));
  };
}

function sorted(pods: readonly ReadonlyPod[], cmp: Cmp): ReadonlyPod[] {
  // Array.prototype.sort is stable: equal pods keep their input order.
  return [...pods].sort(cmp);
}

/** upstream rankMemoryPressure; `usage`: the pod's memory working set. */
export function rankMemoryPressure(pods: readonly ReadonlyPod[], usage: UsageOf): ReadonlyPod[] {
  return sorted(pods, orderedBy([exceedsRequest(usage, 'memory'), priority, aboveRequest(usage, 'memory')]));
}

/** upstream rankDiskPressureFunc for ephemeral-storage; `usage`: the pod's local storage bytes. */
export function rankDiskPressure(pods: readonly ReadonlyPod[], usage: UsageOf): ReadonlyPod[] {
  return sorted(pods, orderedBy([exceedsRequest(usage, 'ephemeral-storage'), priority, aboveRequest(usage, 'ephemeral-storage')]));
}

/** upstream rankPIDPressure; `processes`: the pod's process count (undefined: unknown). */
export function rankPIDPressure(pods: readonly ReadonlyPod[], processes: UsageOf): ReadonlyPod[] {
  const byProcesses: Cmp = (a, b) => {
    const pa = processes(a);
    const pb = processes(b);
    if (pa === undefined || pb === undefined) return cmpBool(pa === undefined, pb === undefined);
    return Math.sign(pb - pa);
  };
  return sorted(pods, orderedBy([priority, byProcesses]));
}
