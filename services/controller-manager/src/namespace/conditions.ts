/**
 * The status conditions the namespace controller keeps on a terminating namespace
 * (upstream pkg/controller/namespace/deletion/status_condition_utils.go): one condition per
 * type, True with the problem while there is one, False with the "ok" wording otherwise.
 */
import type { Namespace } from '@tskube/api';

export type NamespaceCondition = NonNullable<NonNullable<Namespace['status']>['conditions']>[number];

export const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;

const OK: Readonly<Record<(typeof CONDITION_TYPES)[number], { reason: string; message: string }>> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
};

/** What one deletion pass found. */
export interface DeletionOutcome {
  /** Messages of the resources whose content could not be deleted. */
  errors: string[];
  /** "pods." / "replicasets.apps" → instances left. */
  remaining: ReadonlyMap<string, number>;
  /** finalizer → instances still carrying it. */
  finalizers: ReadonlyMap<string, number>;
}

/** The failing conditions for `o` (upstream ProcessContentTotals + makeDeleteContentCondition). */
export function failingConditions(o: DeletionOutcome, now: string): NamespaceCondition[] {
  const out: NamespaceCondition[] = [];
  if (o.errors.length) {
    const msgs = [...o.errors].sort();
    out.push({
      type: 'NamespaceDeletionContentFailure', status: 'True', lastTransitionTime: now, reason: 'ContentDeletionFailed',
      message: `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}`,
    });
  }
  const left = [...o.remaining].filter(([, n]) => n > 0).map(([r, n]) => `${r} has ${n} resource instances`).sort();
  if (left.length) {
    out.push({
      type: 'NamespaceContentRemaining', status: 'True', lastTransitionTime: now, reason: 'SomeResourcesRemain',
      message: `Some resources are remaining: ${left.join(', ')}`,
    });
  }
  const fins = [...o.finalizers].filter(([, n]) => n > 0).map(([f, n]) => `${f} in ${n} resource instances`).sort();
  if (fins.length) {
    out.push({
      type: 'NamespaceFinalizersRemaining', status: 'True', lastTransitionTime: now, reason: 'SomeFinalizerRemain',
      message: `Some finalizers are remaining: ${fins.join(', ')}`,
    });
  }
  return out;
}

/**
 * `current` with every controller-owned condition set from `failing` (or its ok variant);
 * lastTransitionTime moves only when a status flips. Undefined when nothing changed.
 */
export function updateConditions(current: readonly NamespaceCondition[] | undefined, failing: readonly NamespaceCondition[], now: string): NamespaceCondition[] | undefined {
  const next = (current ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of CONDITION_TYPES) {
    const want = failing.find((c) => c.type === type) ?? { type, status: 'False', lastTransitionTime: now, ...OK[type] };
    const old = next.find((c) => c.type === type);
    if (!old) {
      next.push(want);
      changed = true;
    } else if (old.status !== want.status || old.reason !== want.reason || old.message !== want.message) {
      if (old.status !== want.status) old.lastTransitionTime = now;
      old.status = want.status;
      old.reason = want.reason;
      old.message = want.message;
      changed = true;
    }
  }
  return changed ? next : undefined;
}
