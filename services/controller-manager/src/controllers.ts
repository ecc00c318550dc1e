/**
 * Every controller the controller-manager knows, by name. A new controller is one folder
 * with a `Controller` unit (controller.ts) and one line here.
 */
import type { Controller } from './controller.js';
import { garbageCollectorController } from './garbagecollector/garbage-collector.js';
import { namespaceController } from './namespace/namespace-controller.js';
import { nodeLifecycleController } from './nodelifecycle/node-lifecycle-controller.js';
import { replicaSetController } from './replicaset/replicaset-controller.js';
import { taintEvictionController } from './tainteviction/taint-eviction-controller.js';

export const ALL_CONTROLLERS: readonly Controller[] = [
  replicaSetController,
  nodeLifecycleController,
  taintEvictionController,
  garbageCollectorController,
  namespaceController,
];

/**
 * The controllers a TSKUBE_CONTROLLERS list selects (upstream --controllers): "*" enables
 * every controller, "name" enables one, "-name" disables one (names or aliases). Throws on
 * an unknown name.
 */
export function selectControllers(spec: readonly string[], all: readonly Controller[] = ALL_CONTROLLERS): Controller[] {
  const names = (c: Controller) => [c.name, ...(c.aliases ?? [])];
  const known = new Set(all.flatMap(names));
  for (const item of spec) {
    const n = item.startsWith('-') ? item.slice(1) : item;
    if (n !== '*' && !known.has(n)) {
      throw new Error(`TSKUBE_CONTROLLERS: unknown controller "${n}" (known: ${all.map((c) => c.name).join(', ')})`);
    }
  }
  const star = spec.includes('*');
  return all.filter((c) => {
    if (names(c).some((n) => spec.includes(`-${n}`))) return false;
    return star || names(c).some((n) => spec.includes(n));
  });
}
