/**
 * poddisruptionbudgets (+status): strategy after upstream pkg/registry/policy/poddisruptionbudget.
 * policy/v1 specs are mutable; generation counts spec changes.
 */
import { typed, validatePodDisruptionBudget, validatePodDisruptionBudgetStatus, type PodDisruptionBudget } from '@tskube/api';
import { keepSpec, keepStatus, type Strategy, type TableConvertor } from '../strategy.js';
import { age } from '../../tables/duration.js';
import { AGE_COL, NAME_COL, col } from '../../tables/columns.js';
import { nameOf } from '../apps/tables.js';

export const pdbTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Min Available', 'string', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    AGE_COL,
  ],
  cells: (o, now) => {
    const p = typed<PodDisruptionBudget>(o);
    const s = (v: number | string | undefined) => (v === undefined ? 'N/A' : String(v));
    return [nameOf(o), s(p.spec?.minAvailable), s(p.spec?.maxUnavailable), p.status?.disruptionsAllowed ?? 0, age(o.metadata?.creationTimestamp, now)];
  },
};

export const pdbStrategy: Strategy = {
  prepareForCreate(o) { o.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 }; },
  prepareForUpdate: keepStatus,
  validate: (o) => validatePodDisruptionBudget(typed<PodDisruptionBudget>(o)),
  validateUpdate: (o) => validatePodDisruptionBudget(typed<PodDisruptionBudget>(o)),
  hasGeneration: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  table: pdbTable,
};

export const pdbStatusStrategy: Strategy = {
  ...pdbStrategy, prepareForUpdate: keepSpec, validateUpdate: (o) => validatePodDisruptionBudgetStatus(typed<PodDisruptionBudget>(o)),
};
