/** Resource modules of this group (see ../module.ts). */
import type { ResourceModule } from '../module.js';

export const AUTHENTICATION_MODULES: ResourceModule[] = [
];
