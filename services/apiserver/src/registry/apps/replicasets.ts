/** replicasets (+status, +scale). */
import {
  defaultReplicaSet, typed, validateReplicaSet, validateReplicaSetStatus, validateReplicaSetUpdate, type Mutable, type ReplicaSet,
} from '@tskube/api';
import { replicaSetTable } from '../../tables/tables.js';
import { keepSpec, keepStatus, type Strategy } from '../strategy.js';

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

/** The Scale subresource, shared with deployments and statefulsets (./scale.ts). */
export { ScaleRest } from './scale.js';
