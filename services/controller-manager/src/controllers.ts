/**
 * Every controller the controller-manager knows, by name. A new controller is one folder
 * with a `Controller` unit (controller.ts) and one line here.
 */
import type { Controller } from './controller.js';
import { cronJobController } from './cronjob/cronjob-controller.js';
import { daemonSetController } from './daemonset/daemonset-controller.js';
import { deploymentController } from './deployment/deployment-controller.js';
import { garbageCollectorController } from './garbagecollector/garbage-collector.js';
import { jobController } from './job/job-controller.js';
import { namespaceController } from './namespace/namespace-controller.js';
import { nodeLifecycleController } from './nodelifecycle/node-lifecycle-controller.js';
import { replicaSetController } from './replicaset/replicaset-controller.js';
import { taintEvictionController } from './tainteviction/taint-eviction-controller.js';
import { endpointsController } from './endpoints/endpoints-controller.js';
import { endpointSliceController } from './endpointslice/endpointslice-controller.js';
import { serviceAccountController } from './serviceaccount/serviceaccounts-controller.js';
import { statefulSetController } from './statefulset/statefulset-controller.js';
import { replicationControllerController } from './replication/replication-controller.js';
import { ttlAfterFinishedController } from './ttlafterfinished/ttl-after-finished-controller.js';
import { rootCACertPublisherController } from './rootcacertpublisher/root-ca-cert-publisher.js';
import { persistentVolumeBinderController } from './volume/persistentvolume-binder.js';
import { horizontalPodAutoscalerController } from './podautoscaler/horizontal-controller.js';

export const ALL_CONTROLLERS: readonly Controller[] = [
  replicaSetController,
  deploymentController,
  nodeLifecycleController,
  taintEvictionController,
  garbageCollectorController,
  namespaceController,
  endpointsController,
  endpointSliceController,
  serviceAccountController,
  replicationControllerController,
  jobController,
  cronJobController,
  daemonSetController,
  statefulSetController,
  ttlAfterFinishedController,
  rootCACertPublisherController,
  persistentVolumeBinderController,
  horizontalPodAutoscalerController,
];

/**
 * The controllers a TSKUBE_CONTROLLERS list selects (upstream --controllers): "*" enables
 * every controller, "name" enables one, "-name" disables one (names or aliases). Throws on
 * an unknown name.
 */
export function selectControllers(spec: readonly string[], all: readonly Controller[] = ALL_CONTROLLERS): Controller[] {
  const names = (c: Controller) => [c.name, ...(c.aliases ?? [])];
  const known = new Set(all.flatMap(names));
  for (const item of spec) {
    const n = item.startsWith('-') ? item.slice(1) : item;
    if (n !== '*' && !known.has(n)) {
      throw new Error(`TSKUBE_CONTROLLERS: unknown controller "${n}" (known: ${all.map((c) => c.name).join(', ')})`);
    }
  }
  const star = spec.includes('*');
  return all.filter((c) => {
    if (names(c).some((n) => spec.includes(`-${n}`))) return false;
    return star || names(c).some((n) => spec.includes(n));
  });
}
