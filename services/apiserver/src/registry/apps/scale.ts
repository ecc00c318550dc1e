/**
 * The autoscaling/v1 `Scale` subresource of workloads with `spec.replicas` (deployments,
 * replicasets, statefulsets; upstream pkg/registry/apps/{deployment,replicaset,statefulset}/storage ScaleREST): GET reads
 * spec.replicas, status.replicas and the selector; PUT/PATCH change only spec.replicas (and
 * bump generation when it changes). A stale metadata.resourceVersion is a 409.
 */
import {
  apiVersionOf, conflict, field, invalid, labelSelectorString, typed, type KubeObject, type LabelSelector, type ResourceDef, type StoredObject,
} from '@tskube/api';
import { toParentManagedFields, toScaleManagedFields } from '../../fieldmanager/index.js';
import type { Getter, RequestContext, UpdatedObjectInfo, Updater } from '../rest.js';
import type { Store } from '../store.js';

export interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: StoredObject['metadata'];
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

/** The shape every scalable workload shares. */
interface Scalable {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
}

export interface ScaleOptions {
  /** The selector reported in status.selector (default: spec.selector). */
  selector?(obj: KubeObject): LabelSelector | undefined;
}

export class ScaleRest implements Getter, Updater {
  readonly kind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  constructor(readonly def: ResourceDef, private readonly store: Store, private readonly opts: ScaleOptions = {}) {}

  toScale(obj: StoredObject): Scale {
    const w = typed<Scalable>(obj);
    const m = obj.metadata;
    const selector = this.opts.selector ? this.opts.selector(obj) : w.spec?.selector;
    return {
      apiVersion: 'autoscaling/v1', kind: 'Scale',
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
      spec: { replicas: w.spec?.replicas ?? 0 },
      status: { replicas: w.status?.replicas ?? 0, selector: labelSelectorString(selector) },
    };
  }

  async get(ctx: RequestContext, name: string): Promise<KubeObject> {
    return this.toScale(await this.store.get(ctx, name)) as unknown as KubeObject;
  }

  async update(ctx: RequestContext, name: string, info: UpdatedObjectInfo): Promise<{ object: KubeObject; created: boolean }> {
    const out = await this.store.mutate(ctx, name, async (cur) => {
      // managedFields: the parent's owners of replicas travel to the Scale and back (fieldmanager/scale.ts)
      const mapping = { apiVersion: apiVersionOf(this.def) };
      const old = this.toScale(cur);
      const scaleFields = toScaleManagedFields(cur.metadata.managedFields, mapping);
      if (scaleFields) old.metadata.managedFields = scaleFields as StoredObject['metadata']['managedFields'];
      const scale = typed<Scale>(await info(old as unknown as StoredObject));
      const replicas = scale.spec?.replicas ?? 0;
      if (!Number.isInteger(replicas) || replicas < 0) {
        throw invalid({ group: 'autoscaling', kind: 'Scale' }, name, [field.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
      }
      const rv = scale.metadata?.resourceVersion;
      if (rv && rv !== cur.metadata.resourceVersion) throw conflict({ group: this.def.group, resource: this.def.plural }, name);
      const next = structuredClone(cur);
      const parentFields = toParentManagedFields(cur.metadata.managedFields, scale.metadata?.managedFields, mapping);
      if (parentFields) next.metadata.managedFields = parentFields as StoredObject['metadata']['managedFields'];
      else delete next.metadata.managedFields;
      const w = typed<Scalable>(next);
      w.spec ??= {};
      if (w.spec.replicas !== replicas) {
        w.spec.replicas = replicas;
        (next.metadata as { generation?: number }).generation = (cur.metadata.generation ?? 0) + 1;
      }
      return next;
    });
    return { object: this.toScale(out) as unknown as KubeObject, created: false };
  }
}
