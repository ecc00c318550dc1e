/** batch/v1. */
import { RW, row, sub, type ResourceDef } from '../resource-def.js';

export const BATCH: readonly ResourceDef[] = [
  row({
    group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: ['all'],
    schemaPackage: 'batch', subresources: [sub('status', { group: 'batch', version: 'v1', kind: 'CronJob' }, RW)],
  }),
  row({
    group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, categories: ['all'],
    schemaPackage: 'batch', subresources: [sub('status', { group: 'batch', version: 'v1', kind: 'Job' }, RW)],
  }),
];
