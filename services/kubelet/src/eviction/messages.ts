/**
 * Eviction wording, as upstream helpers.go writes it (every sentence ends with ". ", a
 * trailing space included, because upstream concatenates them):
 *
 *   The node was low on resource: memory. Threshold quantity: 100Mi, available: 81920Ki.
 *   Container hog was using 300Mi, request is 0, has larger consumption of memory.
 *
 * and the admission rejection "The node had condition: [DiskPressure]. " (Go's %v of the
 * condition list). Quantities print as upstream's Quantity does (quantity.ts).
 */
import { parseQuantity, type Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { canonicalQuantity, formatQuantity } from './quantity.js';
import { thresholdMetInfo, type Observations } from './signals.js';
import type { PodUsage } from './stats.js';
import type { PressureCondition, StarvedResource, Threshold } from './thresholds.js';

/** The pod's phase reason after an eviction or an admission rejection (upstream eviction.Reason). */
export const EVICTED_REASON = 'Evicted';

/** Bytes and inodes/pids print in upstream's formats (BinarySI vs DecimalSI). */
function amount(resource: StarvedResource, v: number): string {
  return formatQuantity(v, resource === 'memory' || resource === 'ephemeral-storage' ? 'BinarySI' : 'DecimalSI');
}

function thresholdText(t: Threshold, quantity: number): string {
  // a literal prints as parsed (canonical); a percentage as NewQuantity(n, BinarySI)
  return 'quantity' in t.value ? canonicalQuantity(t.value.text) : formatQuantity(quantity, 'BinarySI');
}

/**
 * upstream evictionMessage. `usage` is the pod's stats (undefined: none, then only the node
 * part is written). Containers are named in the order of their stats; a container counts when
 * its usage of `resource` exceeds its request. Only memory has per-container usage here
 * (the CRI subset has no per-container filesystem stats).
 */
export function evictionMessage(
  resource: StarvedResource, pod: DeepReadonly<Pod>, usage: PodUsage | undefined,
  thresholds: readonly Threshold[], obs: Observations,
): string {
  let msg = `The node was low on resource: ${resource}. `;
  const info = thresholdMetInfo(resource, thresholds, obs);
  if (info) msg += `Threshold quantity: ${thresholdText(info.threshold, info.quantity)}, available: ${amount(resource, info.available)}. `;
  if (!usage || resource !== 'memory') return msg;
  const specs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of usage.containers) {
    const spec = specs.find((s) => s.name === c.name);
    if (!spec) continue;
    const request = requestOf(spec.resources?.requests?.[resource]);
    if (c.memoryWorkingSetBytes > request.value) {
      msg += `Container ${c.name} was using ${formatQuantity(c.memoryWorkingSetBytes, 'BinarySI')}, request is ${request.text}, has larger consumption of ${resource}. `;
    }
  }
  return msg;
}

/** A request as upstream prints it, and its value; a malformed one (validation prevents it) counts as 0. */
function requestOf(q: string | undefined): { text: string; value: number } {
  if (q === undefined) return { text: '0', value: 0 };
  try {
    return { text: canonicalQuantity(q), value: parseQuantity(q) };
  } catch {
    return { text: q, value: 0 };
  }
}

/** upstream nodeConditionMessageFmt of an admission rejection: "The node had condition: [A B]. ". */
export function admissionMessage(conditions: readonly PressureCondition[]): string {
  return `The node had condition: [${conditions.join(' ')}]. `;
}

/** upstream rejectPod: the status message of a pod the kubelet refused to run. */
export function rejectedPodMessage(message: string): string {
  return `Pod was rejected: ${message}`;
}
