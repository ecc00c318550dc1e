/** batch/v1. */
import type { ResourceDef } from '../resource-def.js';

export const BATCH: readonly ResourceDef[] = [
];
