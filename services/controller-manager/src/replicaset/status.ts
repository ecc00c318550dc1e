/** ReplicaSet status arithmetic (upstream replica_set_utils.go). Pure functions. */
import { jsonEqual, matches, rfc3339, type Pod, type ReplicaSet, type ReplicaSetStatus } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { clone } from '@tskube/client';
import { isPodAvailable, isPodReady } from '../util/pods.js';
import { errorMessage } from '../util/errors.js';

type ReplicaSetCondition = NonNullable<ReplicaSetStatus['conditions']>[number];

/**
 * The status `rs` should have given its claimed, active `pods` and the outcome of the last
 * create/delete round (`manageError`): replica counts, and the ReplicaFailure condition
 * (reason FailedCreate or FailedDelete) while creating or deleting fails. observedGeneration
 * is set when the status is written (see `statusChanged`).
 */
export function calculateStatus(rs: DeepReadonly<ReplicaSet>, pods: readonly DeepReadonly<Pod>[], manageError: unknown, now: Date): ReplicaSetStatus {
  const status: ReplicaSetStatus = rs.status ? clone(rs.status) : { replicas: 0 };
  const templateLabels = Object.entries(rs.spec?.template?.metadata?.labels ?? {}).map(([key, v]) => ({ key, op: '=' as const, values: [v] }));
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    if (matches(templateLabels, p.metadata?.labels)) fullyLabeled++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, now)) available++;
    }
  }
  const failure = status.conditions?.find((c) => c.type === 'ReplicaFailure');
  if (manageError !== undefined && !failure) {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    const cond: ReplicaSetCondition = {
      type: 'ReplicaFailure', status: 'True', lastTransitionTime: rfc3339(now), reason, message: errorMessage(manageError),
    };
    status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure'), cond];
  } else if (manageError === undefined && failure) {
    status.conditions = status.conditions!.filter((c) => c.type !== 'ReplicaFailure');
    if (!status.conditions.length) delete status.conditions;
  }
  status.replicas = pods.length;
  status.fullyLabeledReplicas = fullyLabeled;
  status.readyReplicas = ready;
  status.availableReplicas = available;
  return status;
}

/** Whether writing `next` would change anything (upstream compares counts, conditions and observedGeneration). */
export function statusChanged(rs: DeepReadonly<ReplicaSet>, next: ReplicaSetStatus): boolean {
  const cur = rs.status;
  return (cur?.replicas ?? 0) !== (next.replicas ?? 0)
    || (cur?.fullyLabeledReplicas ?? 0) !== (next.fullyLabeledReplicas ?? 0)
    || (cur?.readyReplicas ?? 0) !== (next.readyReplicas ?? 0)
    || (cur?.availableReplicas ?? 0) !== (next.availableReplicas ?? 0)
    || (rs.metadata?.generation ?? 0) !== (cur?.observedGeneration ?? 0)
    || !jsonEqual(cur?.conditions ?? [], next.conditions ?? []);
}
