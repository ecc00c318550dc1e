/** policy/v1. */
import type { ResourceDef } from '../resource-def.js';

export const POLICY: readonly ResourceDef[] = [
];
