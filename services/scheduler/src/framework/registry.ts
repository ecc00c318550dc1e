/**
 * The plugin registry and scheduling profiles (upstream plugins/registry.go and the default
 * KubeSchedulerConfiguration).
 *
 * A registry maps a plugin name to a factory; a profile lists which plugins a scheduler runs,
 * in order, with a weight for those that score. Which extension points a plugin takes part in
 * follows from the interfaces it implements (upstream "multiPoint").
 */
import type {
  Namespace, PodDisruptionBudget, ReplicaSet, ReplicationController, Service, StatefulSet,
} from '@tskube/api';
import type { Client, DeepReadonly, EventRecorder } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { PodNominator, Plugin, SharedLister } from './interface.js';
import type { Framework } from './framework.js';

/**
 * Read access to the informer caches plugins need besides pods and nodes (upstream
 * SharedInformerFactory listers). Everything is read-only; missing objects are undefined.
 */
export interface ClusterListers {
  namespace(name: string): DeepReadonly<Namespace> | undefined;
  namespaces(): readonly DeepReadonly<Namespace>[];
  services(namespace: string): readonly DeepReadonly<Service>[];
  replicationController(namespace: string, name: string): DeepReadonly<ReplicationController> | undefined;
  replicaSet(namespace: string, name: string): DeepReadonly<ReplicaSet> | undefined;
  statefulSet(namespace: string, name: string): DeepReadonly<StatefulSet> | undefined;
  podDisruptionBudgets(): readonly DeepReadonly<PodDisruptionBudget>[];
}

/** Listers over nothing (unit tests, or a scheduler started without those informers). */
export const EMPTY_LISTERS: ClusterListers = {
  namespace: () => undefined,
  namespaces: () => [],
  services: () => [],
  replicationController: () => undefined,
  replicaSet: () => undefined,
  statefulSet: () => undefined,
  podDisruptionBudgets: () => [],
};

/** What a plugin may use besides its arguments (upstream framework.Handle). */
export interface Handle {
  readonly client: Client;
  readonly logger: Logger;
  /** The framework running the plugin (for preemption's dry run of the filters). Available once built. */
  readonly framework: Framework;
  /** The current cycle's node snapshot. */
  readonly snapshot: SharedLister;
  readonly listers: ClusterListers;
  /** Pods nominated to nodes (the scheduling queue's nominator). */
  readonly nominator: PodNominator;
  /** Records events (upstream EventRecorder); undefined in tests that do not care. */
  readonly recorder?: EventRecorder;
  /**
   * Runs API work in the background (preemption's evictions); the scheduler waits for such
   * tasks on shutdown. The task must not throw (failures are logged by the runner).
   */
  background(what: string, task: () => Promise<void>): void;
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
 * The default profile: upstream's default plugin set (v1.32 getDefaultPlugins, multiPoint)
 * restricted to what tskube implements (no volume plugins, no SchedulingGates), in upstream
 * order with upstream weights: TaintToleration 3, NodeAffinity 2, PodTopologySpread 2,
 * InterPodAffinity 2, NodeResourcesFit 1, NodeResourcesBalancedAllocation 1, ImageLocality 1.
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
      { name: 'NodePorts' },
      { name: 'NodeResourcesFit', weight: 1 },
      { name: 'PodTopologySpread', weight: 2 },
      { name: 'InterPodAffinity', weight: 2 },
      { name: 'DefaultPreemption' },
      { name: 'NodeResourcesBalancedAllocation', weight: 1 },
      { name: 'ImageLocality', weight: 1 },
      { name: 'DefaultBinder' },
    ],
  };
}
