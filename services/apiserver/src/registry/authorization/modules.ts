/** Resource modules of this group (see ../module.ts). */
import type { ResourceModule } from '../module.js';

export const AUTHORIZATION_MODULES: ResourceModule[] = [
];
