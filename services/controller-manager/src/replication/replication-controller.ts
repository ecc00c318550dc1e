/**
 * The ReplicationController controller (upstream pkg/controller/replication, the
 * "replication manager"): the ReplicaSet controller (../replicaset) run over
 * ReplicationControllers, exactly as upstream does it, by viewing each ReplicationController
 * as a ReplicaSet whose selector is `matchLabels: spec.selector`, and writing the computed
 * status back to the ReplicationController's /status.
 *
 * So everything the ReplicaSet controller does holds here: expectations, claim (adopt and
 * release pods by selector), slow-start creates with generateName `<rc>-`, victim ranking,
 * status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
 * observedGeneration, the ReplicaFailure condition) and the events SuccessfulCreate,
 * FailedCreate, SuccessfulDelete, FailedDelete, recorded on the ReplicationController by the
 * "replication-controller" component. Pods get a controller reference
 * `v1/ReplicationController`. Queue "replicationmanager"; 5 workers (--concurrent-rc-syncs).
 */
import type { ReplicaSet, ReplicationController } from '@tskube/api';
import { Resources, type ApiObject, type DeepReadonly } from '@tskube/client';
import type { Controller } from '../controller.js';
import { ReplicaSetController, type ReplicaSetKind } from '../replicaset/replicaset-controller.js';

type RoRC = DeepReadonly<ReplicationController>;
type RoRS = DeepReadonly<ReplicaSet>;

/** One view per cached object: the informer's objects are immutable, so a view never goes stale. */
const views = new WeakMap<object, RoRS>();

/** The ReplicaSet view of a ReplicationController (upstream convertRCtoRS); keeps apiVersion v1 and kind ReplicationController. */
export function rcAsReplicaSet(obj: DeepReadonly<ApiObject>): RoRS {
  const hit = views.get(obj);
  if (hit) return hit;
  const rc = obj as RoRC;
  // kubernetes-types pins ReplicaSet's apiVersion/kind literals; the view deliberately keeps the RC's.
  const view = {
    apiVersion: rc.apiVersion ?? 'v1', kind: rc.kind ?? 'ReplicationController',
    ...(rc.metadata ? { metadata: rc.metadata } : {}),
    spec: {
      ...(rc.spec?.replicas !== undefined ? { replicas: rc.spec.replicas } : {}),
      ...(rc.spec?.minReadySeconds !== undefined ? { minReadySeconds: rc.spec.minReadySeconds } : {}),
      selector: rc.spec?.selector ? { matchLabels: rc.spec.selector } : {},
      ...(rc.spec?.template ? { template: rc.spec.template } : {}),
    },
    ...(rc.status ? { status: rc.status } : {}),
  } as unknown as RoRS;
  views.set(obj, view);
  return view;
}

/** The ReplicationController a ReplicaSet view stands for (upstream convertRStoRC). */
export function replicaSetAsRC(rs: ReplicaSet): ReplicationController {
  return {
    apiVersion: 'v1', kind: 'ReplicationController',
    ...(rs.metadata ? { metadata: rs.metadata } : {}),
    spec: {
      ...(rs.spec?.replicas !== undefined ? { replicas: rs.spec.replicas } : {}),
      ...(rs.spec?.minReadySeconds !== undefined ? { minReadySeconds: rs.spec.minReadySeconds } : {}),
      ...(rs.spec?.selector?.matchLabels ? { selector: rs.spec.selector.matchLabels } : {}),
      ...(rs.spec?.template ? { template: rs.spec.template } : {}),
    },
    ...(rs.status ? { status: rs.status } : {}),
  };
}

export const REPLICATION_CONTROLLER_KIND: ReplicaSetKind = {
  controllerName: 'replicationcontroller-controller',
  resource: Resources.replicationControllers,
  gvk: { apiVersion: 'v1', kind: 'ReplicationController' },
  toReplicaSet: rcAsReplicaSet,
  fromReplicaSet: replicaSetAsRC,
};

/** The unit the controller-manager runs. */
export const replicationControllerController: Controller = {
  name: 'replicationcontroller-controller',
  aliases: ['replicationcontroller'],
  async start(ctx) {
    const c = new ReplicaSetController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('replication-controller'),
      queue: ctx.newQueue('replicationmanager'), metrics: ctx.metrics, now: ctx.now, kind: REPLICATION_CONTROLLER_KIND,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
