/** The label selector of a workload object (spec.selector), as every pod-owning controller reads it. */
import { fromLabelSelector, type LabelSelector, type Selector } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

/** The selector of `obj`, or null when it has none or it is invalid (then it selects nothing). */
export function selectorOf(obj: DeepReadonly<{ spec?: { selector?: LabelSelector } }>): Selector | null {
  try {
    return fromLabelSelector(obj.spec?.selector as LabelSelector | undefined);
  } catch {
    return null;
  }
}
