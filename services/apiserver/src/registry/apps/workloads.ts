/**
 * deployments, statefulsets, daemonsets (+status; deployments and statefulsets +scale) and
 * controllerrevisions: strategies after upstream pkg/registry/apps/<kind>/strategy.go. The main
 * resource never writes status and /status never writes spec; generation counts spec changes.
 */
import {
  defaultDaemonSet, defaultDeployment, defaultStatefulSet, typed, validateControllerRevision, validateControllerRevisionUpdate,
  validateDaemonSet, validateDaemonSetStatus, validateDaemonSetUpdate, validateDeployment, validateDeploymentStatus,
  validateDeploymentUpdate, validateStatefulSet, validateStatefulSetStatus, validateStatefulSetUpdate,
  type ControllerRevision, type DaemonSet, type Deployment, type KubeObject, type StatefulSet,
} from '@tskube/api';
import { keepSpec, keepStatus, plainStrategy, type Strategy } from '../strategy.js';
import { controllerRevisionTable, daemonSetTable, deploymentTable, statefulSetTable } from './tables.js';

/** Status as a freshly created object has it (upstream: the zero status, with its required fields). */
function resetStatus(status: Record<string, unknown>): (o: KubeObject) => void {
  return (o) => { o.status = structuredClone(status); };
}

/** The status strategy of a workload: spec and system metadata kept, only status validated. */
function statusStrategyOf(main: Strategy, validate: (o: KubeObject, old: KubeObject) => ReturnType<Strategy['validate']>): Strategy {
  return { ...main, applyDefaults: undefined, prepareForUpdate: keepSpec, validateUpdate: validate };
}

export const deploymentStrategy: Strategy = {
  applyDefaults: (o) => defaultDeployment(typed<Deployment>(o)),
  prepareForCreate: resetStatus({}),
  prepareForUpdate: keepStatus,
  validate: (o) => validateDeployment(typed<Deployment>(o)),
  validateUpdate: (o, old) => validateDeploymentUpdate(typed<Deployment>(o), typed<Deployment>(old)),
  hasGeneration: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  table: deploymentTable,
};
export const deploymentStatusStrategy = statusStrategyOf(deploymentStrategy, (o, old) => validateDeploymentStatus(typed<Deployment>(o), typed<Deployment>(old)));

export const statefulSetStrategy: Strategy = {
  applyDefaults: (o) => defaultStatefulSet(typed<StatefulSet>(o)),
  prepareForCreate: resetStatus({ replicas: 0, availableReplicas: 0 }),
  prepareForUpdate: keepStatus,
  validate: (o) => validateStatefulSet(typed<StatefulSet>(o)),
  validateUpdate: (o, old) => validateStatefulSetUpdate(typed<StatefulSet>(o), typed<StatefulSet>(old)),
  hasGeneration: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  table: statefulSetTable,
};
export const statefulSetStatusStrategy = statusStrategyOf(statefulSetStrategy, (o, old) => validateStatefulSetStatus(typed<StatefulSet>(o), typed<StatefulSet>(old)));

export const daemonSetStrategy: Strategy = {
  applyDefaults: (o) => defaultDaemonSet(typed<DaemonSet>(o)),
  prepareForCreate: resetStatus({ currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }),
  prepareForUpdate: keepStatus,
  validate: (o) => validateDaemonSet(typed<DaemonSet>(o)),
  validateUpdate: (o, old) => validateDaemonSetUpdate(typed<DaemonSet>(o), typed<DaemonSet>(old)),
  hasGeneration: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  table: daemonSetTable,
};
export const daemonSetStatusStrategy = statusStrategyOf(daemonSetStrategy, (o, old) => validateDaemonSetStatus(typed<DaemonSet>(o), typed<DaemonSet>(old)));

export const controllerRevisionStrategy: Strategy = {
  ...plainStrategy,
  applyDefaults: (o) => { (o as { revision?: number }).revision ??= 0; },
  validate: (o) => validateControllerRevision(typed<ControllerRevision>(o)),
  validateUpdate: (o, old) => validateControllerRevisionUpdate(typed<ControllerRevision>(o), typed<ControllerRevision>(old)),
  table: controllerRevisionTable,
};
