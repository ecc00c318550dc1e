/**
 * The plugin registry and scheduling profiles (upstream plugins/registry.go and the default
 * KubeSchedulerConfiguration).
 *
 * A registry maps a plugin name to a factory; a profile lists which plugins a scheduler runs,
 * in order, with a weight for those that score. Which extension points a plugin takes part in
 * follows from the interfaces it implements (upstream "multiPoint").
 */
import type { Client } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Plugin } from './interface.js';
import type { Framework } from './framework.js';

/** What a plugin may use besides its arguments (upstream framework.Handle). */
export interface Handle {
  readonly client: Client;
  readonly logger: Logger;
  /** The framework running the plugin (for preemption's dry run of the filters). Available once built. */
  readonly framework: Framework;
  /** Current time in ms (fake clocks in tests). */
  now(): number;
}

export type PluginFactory = (handle: Handle) => Plugin;

export class Registry {
  private readonly factories = new Map<string, PluginFactory>();

  constructor(entries: Readonly<Record<string, PluginFactory>> = {}) {
    for (const [name, f] of Object.entries(entries)) this.register(name, f);
  }

  /** Throws when `name` is already registered (names are unique, as upstream). */
  register(name: string, factory: PluginFactory): void {
    if (this.factories.has(name)) throw new Error(`a plugin named ${name} already exists`);
    this.factories.set(name, factory);
  }

  /** Throws naming the missing plugin (a misconfigured profile is a startup error). */
  get(name: string): PluginFactory {
    const f = this.factories.get(name);
    if (!f) throw new Error(`plugin "${name}" does not exist`);
    return f;
  }

  names(): string[] { return [...this.factories.keys()]; }
}

export interface PluginConfig {
  name: string;
  /** Score weight (default 1; ignored for plugins that do not score). */
  weight?: number;
}

export interface Profile {
  /** Pods whose spec.schedulerName equals this are scheduled by this profile. */
  schedulerName: string;
  /** Plugins in execution order. */
  plugins: readonly PluginConfig[];
  /** Percentage of nodes to score (0 = upstream's adaptive default). */
  percentageOfNodesToScore?: number;
}

/**
 * The default profile: upstream's default plugin set restricted to what tskube implements,
 * in upstream order with upstream weights (TaintToleration 3, NodeAffinity 2,
 * NodeResourcesFit 1, NodeResourcesBalancedAllocation 1).
 */
export function defaultProfile(schedulerName = 'default-scheduler'): Profile {
  return {
    schedulerName,
    plugins: [
      { name: 'PrioritySort' },
      { name: 'NodeUnschedulable' },
      { name: 'NodeName' },
      { name: 'TaintToleration', weight: 3 },
      { name: 'NodeAffinity', weight: 2 },
      { name: 'NodeResourcesFit', weight: 1 },
      { name: 'DefaultPreemption' },
      { name: 'NodeResourcesBalancedAllocation', weight: 1 },
      { name: 'DefaultBinder' },
    ],
  };
}
