/** Every resource module, one list per API group. */
import type { ResourceModule } from './module.js';
import { CORE_MODULES } from './core/modules.js';
import { APPS_MODULES } from './apps/modules.js';
import { COORDINATION_MODULES } from './coordination/modules.js';
import { EVENTS_MODULES } from './events/modules.js';
import { AUTHENTICATION_MODULES } from './authentication/modules.js';
import { AUTHORIZATION_MODULES } from './authorization/modules.js';
import { AUTOSCALING_MODULES } from './autoscaling/modules.js';
import { BATCH_MODULES } from './batch/modules.js';
import { POLICY_MODULES } from './policy/modules.js';
import { RBAC_MODULES } from './rbac/modules.js';
import { SCHEDULING_MODULES } from './scheduling/modules.js';
import { DISCOVERY_MODULES } from './discovery/modules.js';
import { METRICS_MODULES } from './metrics/modules.js';

export const MODULES: readonly ResourceModule[] = [
  ...CORE_MODULES, ...APPS_MODULES, ...COORDINATION_MODULES, ...EVENTS_MODULES, ...AUTHENTICATION_MODULES,
  ...AUTHORIZATION_MODULES, ...AUTOSCALING_MODULES, ...BATCH_MODULES, ...POLICY_MODULES, ...RBAC_MODULES,
  ...SCHEDULING_MODULES, ...DISCOVERY_MODULES, ...METRICS_MODULES,
];
