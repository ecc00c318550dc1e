/** replicationcontrollers (+status, +scale via autoscaling/v1 Scale). */
import {
  defaultReplicationController, typed, validateReplicationController, validateReplicationControllerStatus,
  type KubeObject, type LabelSelector, type ReplicationController,
} from '@tskube/api';
import { keepSpec, keepStatus, type Strategy } from '../strategy.js';
import { replicationControllerTable } from './tables.js';

const rc = (o: KubeObject) => typed<ReplicationController>(o);

export const replicationControllerStrategy: Strategy = {
  applyDefaults: (o) => defaultReplicationController(rc(o)),
  prepareForCreate(o) { (o as { status?: unknown }).status = { replicas: 0 }; },
  prepareForUpdate: keepStatus,
  validate: (o) => validateReplicationController(rc(o)),
  validateUpdate: (o) => validateReplicationController(rc(o)),
  hasGeneration: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  selectableFields: (o) => ({ 'status.replicas': String(rc(o).status?.replicas ?? 0) }),
  table: replicationControllerTable,
};

export const replicationControllerStatusStrategy: Strategy = {
  ...replicationControllerStrategy,
  applyDefaults: undefined,
  prepareForUpdate: keepSpec,
  validateUpdate: (o) => validateReplicationControllerStatus(rc(o)),
};

/** The Scale subresource reports an RC's map selector as a label selector ("app=web"). */
export function replicationControllerSelector(o: KubeObject): LabelSelector {
  return { matchLabels: { ...(rc(o).spec?.selector ?? {}) } };
}
