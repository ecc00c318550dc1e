/** replicasets (+status, +scale). */
import {
  conflict, defaultReplicaSet, field, invalid, labelSelectorString, typed, validateReplicaSet, validateReplicaSetStatus,
  validateReplicaSetUpdate, type KubeObject, type Mutable, type ReplicaSet, type ResourceDef, type StoredObject,
} from '@tskube/api';
import { replicaSetTable } from '../../tables/tables.js';
import { keepSpec, keepStatus, type Strategy } from '../strategy.js';
import type { Getter, RequestContext, UpdatedObjectInfo, Updater } from '../rest.js';
import type { Store } from '../store.js';

export const replicaSetStrategy: Strategy = {
  applyDefaults: (o) => defaultReplicaSet(typed<ReplicaSet>(o)),
  prepareForCreate(o) { typed<Mutable<ReplicaSet>>(o).status = { replicas: 0 }; },
  prepareForUpdate: keepStatus,
  validate: (o) => validateReplicaSet(typed<ReplicaSet>(o)),
  validateUpdate: (o, old) => validateReplicaSetUpdate(typed<ReplicaSet>(o), typed<ReplicaSet>(old)),
  hasGeneration: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  selectableFields: (o) => ({ 'status.replicas': String(typed<ReplicaSet>(o).status?.replicas ?? 0) }),
  table: replicaSetTable,
};

export const replicaSetStatusStrategy: Strategy = {
  ...replicaSetStrategy,
  applyDefaults: undefined,
  prepareForUpdate: keepSpec,
  validateUpdate: (o) => validateReplicaSetStatus(typed<ReplicaSet>(o)),
};

interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: StoredObject['metadata'];
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

/** autoscaling/v1 Scale view of a workload's replicas (GET/PUT/PATCH …/scale). */
export class ScaleRest implements Getter, Updater {
  readonly kind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  constructor(readonly def: ResourceDef, private readonly store: Store) {}

  private toScale(obj: StoredObject): Scale {
    const rs = typed<ReplicaSet>(obj);
    const m = obj.metadata;
    return {
      apiVersion: 'autoscaling/v1', kind: 'Scale',
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
      spec: { replicas: rs.spec?.replicas ?? 0 },
      status: { replicas: rs.status?.replicas ?? 0, selector: labelSelectorString(rs.spec?.selector) },
    };
  }

  async get(ctx: RequestContext, name: string): Promise<KubeObject> {
    return this.toScale(await this.store.get(ctx, name)) as unknown as KubeObject;
  }

  async update(ctx: RequestContext, name: string, info: UpdatedObjectInfo): Promise<{ object: KubeObject; created: boolean }> {
    const out = await this.store.mutate(ctx, name, async (cur) => {
      const scale = typed<Scale>(await info(this.toScale(cur) as unknown as StoredObject));
      const replicas = scale.spec?.replicas ?? 0;
      if (!Number.isInteger(replicas) || replicas < 0) {
        throw invalid({ group: 'autoscaling', kind: 'Scale' }, name, [field.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
      }
      const rv = scale.metadata?.resourceVersion;
      if (rv && rv !== cur.metadata.resourceVersion) throw conflict({ group: this.def.group, resource: this.def.plural }, name);
      const rs = typed<Mutable<ReplicaSet>>(structuredClone(cur));
      if (rs.spec!.replicas !== replicas) {
        rs.spec!.replicas = replicas;
        (rs.metadata as { generation?: number }).generation = (cur.metadata.generation ?? 0) + 1;
      }
      return rs as unknown as KubeObject;
    });
    return { object: this.toScale(out) as unknown as KubeObject, created: false };
  }
}
