/**
 * configmaps, secrets, serviceaccounts, endpoints, limitranges, resourcequotas (+status),
 * persistentvolumes (+status), persistentvolumeclaims (+status): strategies over the generic
 * store (upstream pkg/registry/core/<kind>/strategy.go).
 */
import {
  defaultEndpoints, defaultLimitRange, defaultPersistentVolume, defaultPersistentVolumeClaim, defaultSecret, rfc3339, typed,
  validateConfigMap, validateConfigMapUpdate, validateEndpoints, validateLimitRange, validatePersistentVolume,
  validatePersistentVolumeClaim, validatePersistentVolumeClaimStatus, validatePersistentVolumeClaimUpdate,
  validatePersistentVolumeStatus, validatePersistentVolumeUpdate, validateResourceQuota, validateResourceQuotaStatus,
  validateResourceQuotaUpdate, validateSecret, validateSecretUpdate, validateServiceAccount,
  type ConfigMap, type Endpoints, type KubeObject, type LimitRange, type PersistentVolume, type PersistentVolumeClaim,
  type ResourceQuota, type Secret, type ServiceAccount,
} from '@tskube/api';
import { keepSpec, keepStatus, plainStrategy, type Strategy } from '../strategy.js';
import {
  configMapTable, endpointsTable, limitRangeTable, persistentVolumeClaimTable, persistentVolumeTable, resourceQuotaTable,
  secretTable, serviceAccountTable,
} from './tables.js';

type WithStatus = { status?: Record<string, unknown> };
const status = (o: KubeObject) => o as unknown as WithStatus;

export const configMapStrategy: Strategy = {
  ...plainStrategy,
  validate: (o) => validateConfigMap(typed<ConfigMap>(o)),
  validateUpdate: (o, old) => validateConfigMapUpdate(typed<ConfigMap>(o), typed<ConfigMap>(old)),
  table: configMapTable,
};

export const secretStrategy: Strategy = {
  ...plainStrategy,
  applyDefaults: (o) => defaultSecret(typed<Secret>(o)),
  validate: (o) => validateSecret(typed<Secret>(o)),
  validateUpdate: (o, old) => validateSecretUpdate(typed<Secret>(o), typed<Secret>(old)),
  selectableFields: (o) => ({ type: typed<Secret>(o).type ?? '' }),
  table: secretTable,
};

export const serviceAccountStrategy: Strategy = {
  ...plainStrategy,
  validate: (o) => validateServiceAccount(typed<ServiceAccount>(o)),
  validateUpdate: (o) => validateServiceAccount(typed<ServiceAccount>(o)),
  table: serviceAccountTable,
};

export const endpointsStrategy: Strategy = {
  ...plainStrategy,
  applyDefaults: (o) => defaultEndpoints(typed<Endpoints>(o)),
  validate: (o) => validateEndpoints(typed<Endpoints>(o)),
  validateUpdate: (o) => validateEndpoints(typed<Endpoints>(o)),
  allowCreateOnUpdate: true,
  table: endpointsTable,
};

export const limitRangeStrategy: Strategy = {
  ...plainStrategy,
  applyDefaults: (o) => defaultLimitRange(typed<LimitRange>(o)),
  validate: (o) => validateLimitRange(typed<LimitRange>(o)),
  validateUpdate: (o) => validateLimitRange(typed<LimitRange>(o)),
  allowCreateOnUpdate: true,
  table: limitRangeTable,
};

export const resourceQuotaStrategy: Strategy = {
  prepareForCreate(o) { status(o).status = {}; },
  prepareForUpdate: keepStatus,
  validate: (o) => validateResourceQuota(typed<ResourceQuota>(o)),
  validateUpdate: (o, old) => validateResourceQuotaUpdate(typed<ResourceQuota>(o), typed<ResourceQuota>(old)),
  hasGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  table: resourceQuotaTable,
};

export const resourceQuotaStatusStrategy: Strategy = {
  ...resourceQuotaStrategy,
  prepareForUpdate: keepSpec,
  validateUpdate: (o) => validateResourceQuotaStatus(typed<ResourceQuota>(o)),
};

/** upstream: a new PV is Pending since now; a phase change through /status moves lastPhaseTransitionTime. */
export const persistentVolumeStrategy: Strategy = {
  applyDefaults: (o) => defaultPersistentVolume(typed<PersistentVolume>(o)),
  prepareForCreate(o) { status(o).status = { phase: 'Pending', lastPhaseTransitionTime: rfc3339() }; },
  prepareForUpdate: keepStatus,
  validate: (o) => validatePersistentVolume(typed<PersistentVolume>(o)),
  validateUpdate: (o, old) => validatePersistentVolumeUpdate(typed<PersistentVolume>(o), typed<PersistentVolume>(old)),
  hasGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  selectableFields: (o) => ({ name: o.metadata?.name ?? '' }),
  table: persistentVolumeTable,
};

export const persistentVolumeStatusStrategy: Strategy = {
  ...persistentVolumeStrategy,
  applyDefaults: undefined,
  prepareForUpdate(o, old) {
    keepSpec(o, old);
    const next = status(o).status ?? {};
    const prev = status(old).status ?? {};
    if (next.phase !== prev.phase) next.lastPhaseTransitionTime = rfc3339();
  },
  validateUpdate: (o) => validatePersistentVolumeStatus(typed<PersistentVolume>(o)),
};

export const persistentVolumeClaimStrategy: Strategy = {
  applyDefaults: (o) => defaultPersistentVolumeClaim(typed<PersistentVolumeClaim>(o)),
  prepareForCreate(o) { status(o).status = { phase: 'Pending' }; },
  prepareForUpdate: keepStatus,
  validate: (o) => validatePersistentVolumeClaim(typed<PersistentVolumeClaim>(o)),
  validateUpdate: (o, old) => validatePersistentVolumeClaimUpdate(typed<PersistentVolumeClaim>(o), typed<PersistentVolumeClaim>(old)),
  hasGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  selectableFields: (o) => ({ name: o.metadata?.name ?? '' }),
  table: persistentVolumeClaimTable,
};

export const persistentVolumeClaimStatusStrategy: Strategy = {
  ...persistentVolumeClaimStrategy,
  applyDefaults: undefined,
  prepareForUpdate: keepSpec,
  validateUpdate: (o) => validatePersistentVolumeClaimStatus(typed<PersistentVolumeClaim>(o)),
};
