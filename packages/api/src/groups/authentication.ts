/** authentication.k8s.io/v1. */
import type { ResourceDef } from '../resource-def.js';

export const AUTHENTICATION: readonly ResourceDef[] = [
];
