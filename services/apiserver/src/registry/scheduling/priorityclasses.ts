/**
 * priorityclasses: strategy after upstream pkg/registry/scheduling/priorityclass, plus what
 * upstream's Priority admission plugin enforces on writes (at most one globalDefault class), and
 * the bootstrap of the system classes (system-node-critical, system-cluster-critical).
 */
import {
  ApiError, SYSTEM_PRIORITY_CLASSES, defaultPriorityClass, groupResourceString, isApiError, typed, validatePriorityClass,
  validatePriorityClassUpdate, type KubeObject, type PriorityClass,
} from '@tskube/api';
import { plainStrategy, type Strategy, type TableConvertor } from '../strategy.js';
import type { RequestContext, UpdatedObjectInfo, UpdateOptions } from '../rest.js';
import type { Store } from '../store.js';
import { age } from '../../tables/duration.js';
import { AGE_COL, NAME_COL, col } from '../../tables/columns.js';
import { nameOf } from '../apps/tables.js';

export const priorityClassTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Value', 'integer', 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.'),
    col('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.'),
    AGE_COL,
    col('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.', { priority: 1 }),
  ],
  cells: (o, now) => {
    const pc = typed<PriorityClass>(o);
    return [nameOf(o), pc.value ?? 0, pc.globalDefault ?? false, age(o.metadata?.creationTimestamp, now), pc.preemptionPolicy ?? ''];
  },
};

export const priorityClassStrategy: Strategy = {
  ...plainStrategy,
  applyDefaults: (o) => defaultPriorityClass(typed<PriorityClass>(o)),
  validate: (o) => validatePriorityClass(typed<PriorityClass>(o)),
  validateUpdate: (o, old) => validatePriorityClassUpdate(typed<PriorityClass>(o), typed<PriorityClass>(old)),
  table: priorityClassTable,
};

/**
 * The priorityclasses endpoint: the generic store, refusing a second globalDefault class with
 * upstream's 403 (`PriorityClass <x> is already marked as default. Only one default can exist`).
 * The check reads before writing, so two concurrent writers can still both win (as upstream's
 * admission plugin, which reads an informer cache).
 */
export function priorityClassRest(store: Store, system: RequestContext): Store {
  const forbidden = (name: string, existing: string) => new ApiError(403, 'Forbidden',
    `${groupResourceString({ group: 'scheduling.k8s.io', resource: 'priorityclasses' })} "${name}" is forbidden: PriorityClass ${existing} is already marked as default. Only one default can exist`,
    { name, group: 'scheduling.k8s.io', kind: 'priorityclasses' });
  const otherDefault = async (name: string): Promise<string | undefined> => {
    const list = await store.list(system, {});
    return list.items.find((p) => typed<PriorityClass>(p).globalDefault === true && p.metadata?.name !== name)?.metadata?.name;
  };
  return Object.assign(Object.create(store) as Store, {
    async create(ctx: RequestContext, obj: KubeObject) {
      if (typed<PriorityClass>(obj).globalDefault === true) {
        const other = await otherDefault(obj.metadata?.name ?? '');
        if (other) throw forbidden(obj.metadata?.name ?? '', other);
      }
      return store.create(ctx, obj);
    },
    async update(ctx: RequestContext, name: string, info: UpdatedObjectInfo, opts?: UpdateOptions) {
      return store.update(ctx, name, async (cur) => {
        const next = await info(cur);
        if (typed<PriorityClass>(next).globalDefault === true && typed<PriorityClass>(cur ?? {}).globalDefault !== true) {
          const other = await otherDefault(name);
          if (other) throw forbidden(name, other);
        }
        return next;
      }, opts);
    },
  });
}

/** Creates the system priority classes when missing (idempotent; upstream's scheduling post-start hook). */
export async function bootstrapPriorityClasses(store: Store, system: RequestContext): Promise<void> {
  await Promise.all(SYSTEM_PRIORITY_CLASSES.map(async (pc) => {
    try {
      await store.create(system, structuredClone(pc) as unknown as KubeObject);
    } catch (e) {
      if (!isApiError(e, 'AlreadyExists')) throw e;
    }
  }));
}
