/** autoscaling/v2 and autoscaling/v1 (v2 is preferred and stored). */
import type { ResourceDef } from '../resource-def.js';

export const AUTOSCALING: readonly ResourceDef[] = [
];
