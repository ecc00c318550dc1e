import { typed, validateLease, type Lease } from '@tskube/api';
import { leaseTable } from '../../tables/tables.js';
import { plainStrategy, type Strategy } from '../strategy.js';

export const leaseStrategy: Strategy = {
  ...plainStrategy,
  validate: (o) => validateLease(typed<Lease>(o)),
  validateUpdate: (o) => validateLease(typed<Lease>(o)),
  table: leaseTable,
};
