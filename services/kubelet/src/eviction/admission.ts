/**
 * Pod admission under node pressure (upstream eviction manager Admit). Pure:
 * - no pressure condition, or a critical pod (static, mirror, system-critical priority): admit;
 * - MemoryPressure alone: admit pods that are not BestEffort, and BestEffort pods that
 *   tolerate the node.kubernetes.io/memory-pressure:NoSchedule taint;
 * - anything else (DiskPressure, PIDPressure, or MemoryPressure with another): reject,
 *   reason `Evicted`, message "The node had condition: [DiskPressure]. ".
 */
import { TAINT_MEMORY_PRESSURE, podQOSClass, tolerationsTolerateTaint, type Pod } from '@tskube/api';
import { clone, type DeepReadonly } from '@tskube/client';
import { EVICTED_REASON, admissionMessage } from './messages.js';
import { isCriticalPod } from './ranking.js';
import type { PressureCondition } from './thresholds.js';

export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string };

export function admitPod(pod: DeepReadonly<Pod>, conditions: readonly PressureCondition[]): AdmitResult {
  if (conditions.length === 0 || isCriticalPod(pod)) return { admit: true };
  if (conditions.length === 1 && conditions[0] === 'MemoryPressure') {
    if (podQOSClass(clone(pod.spec) as Pod['spec']) !== 'BestEffort') return { admit: true };
    if (tolerationsTolerateTaint(pod.spec?.tolerations, { key: TAINT_MEMORY_PRESSURE, effect: 'NoSchedule' })) return { admit: true };
  }
  return { admit: false, reason: EVICTED_REASON, message: admissionMessage(conditions) };
}
