/**
 * Priority (upstream plugin/pkg/admission/priority): resolves a pod's priorityClassName into
 * spec.priority and spec.preemptionPolicy on create.
 *
 * - With a priorityClassName: the class's value and preemptionPolicy; a class that does not
 *   exist is a 403 `pods "<name>" is forbidden: no PriorityClass with name <x> was found`.
 * - Without one: the globalDefault class (the lowest value if a race left several), whose name
 *   is written into the pod; with none, priority 0 and PreemptLowerPriority.
 * - A priority (or preemptionPolicy) in the pod that differs from the resolved one is a 403
 *   (`the integer value of priority (<p>) must not be provided in pod spec; priority admission
 *   controller computed <q> from the given PriorityClass name`).
 * - Update: a pod that lost spec.priority / preemptionPolicy keeps the old values (validation
 *   forbids changing them).
 *
 * Deviation: pod defaulting (packages/api kinds/pod.ts) runs before admission and already sets
 * priority 0 (when no class is named) and preemptionPolicy PreemptLowerPriority, so those two
 * values are taken as "not provided" and replaced by the resolved ones rather than refused.
 * Subresources and other resources are left alone.
 */
import { forbidden, isApiError, typed, type Pod, type PriorityClass } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { AdmissionAttributes, MutatingPlugin } from './admission.js';
import { systemContext, type ApiRegistry } from '../registry/index.js';

/** Upstream scheduling.DefaultPriorityWhenNoDefaultClassExists. */
export const DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS = 0;
const DEFAULT_PREEMPTION_POLICY = 'PreemptLowerPriority';

export interface PriorityClassSource {
  get(name: string): Promise<PriorityClass | null>;
  list(): Promise<PriorityClass[]>;
}

export class Priority implements MutatingPlugin {
  readonly name = 'Priority';
  constructor(private readonly classes: PriorityClassSource) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.subresource || a.resource.group !== '' || a.resource.kind !== 'Pod' || !a.object) return;
    const pod = typed<Pod>(a.object);
    if (!pod.spec) return;
    if (a.operation === 'UPDATE') {
      const old = a.oldObject ? typed<Pod>(a.oldObject) : undefined;
      if (pod.spec.priority === undefined && old?.spec?.priority !== undefined) pod.spec.priority = old.spec.priority;
      if (pod.spec.preemptionPolicy === undefined && old?.spec?.preemptionPolicy !== undefined) pod.spec.preemptionPolicy = old.spec.preemptionPolicy;
      return;
    }
    if (a.operation !== 'CREATE') return;
    const podName = pod.metadata?.name || pod.metadata?.generateName || a.name || 'Unknown';
    const refuse = (msg: string) => forbidden(`pods "${podName}" is forbidden: ${msg}`);
    let priority: number;
    let policy: string | undefined;
    const named = pod.spec.priorityClassName;
    if (!named) {
      const dflt = (await this.classes.list()).filter((c) => c.globalDefault === true)
        .reduce<PriorityClass | undefined>((best, c) => (best === undefined || c.value < best.value ? c : best), undefined);
      if (dflt) {
        pod.spec.priorityClassName = dflt.metadata?.name;
        priority = dflt.value;
        policy = dflt.preemptionPolicy;
      } else {
        priority = DEFAULT_PRIORITY_WHEN_NO_DEFAULT_CLASS_EXISTS;
        policy = DEFAULT_PREEMPTION_POLICY;
      }
      // Defaulting already wrote priority 0 for a pod without a class name: not the user's value.
      if (pod.spec.priority === 0) delete pod.spec.priority;
    } else {
      const pc = await this.classes.get(named);
      if (!pc) throw refuse(`no PriorityClass with name ${named} was found`);
      priority = pc.value;
      policy = pc.preemptionPolicy;
    }
    if (pod.spec.priority !== undefined && pod.spec.priority !== priority) {
      throw refuse(`the integer value of priority (${pod.spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
    }
    pod.spec.priority = priority;
    if (policy !== undefined) {
      const given = pod.spec.preemptionPolicy;
      // PreemptLowerPriority may be the defaulted value: only another explicit value is refused.
      if (given !== undefined && given !== policy && given !== DEFAULT_PREEMPTION_POLICY) {
        throw refuse(`the string value of PreemptionPolicy (${given}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
      }
      pod.spec.preemptionPolicy = policy;
    }
  }
}

/** PriorityClasses read through the registry (the watch cache first, as namespaceGetter does). */
export function priorityClassSource(registry: () => ApiRegistry, logger: Logger): PriorityClassSource {
  const sys = systemContext(logger);
  const store = () => registry().store('PriorityClass', 'scheduling.k8s.io');
  return {
    async get(name) {
      try {
        return typed<PriorityClass>(await store().get(sys, name, { resourceVersion: '0' }));
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
      try {
        return typed<PriorityClass>(await store().get(sys, name));
      } catch (e) {
        if (isApiError(e, 'NotFound')) return null;
        throw e;
      }
    },
    async list() {
      const l = await store().list(sys, { resourceVersion: '0' });
      return l.items.map((o) => typed<PriorityClass>(o));
    },
  };
}
