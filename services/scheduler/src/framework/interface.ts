/**
 * Plugin interfaces, after upstream pkg/scheduler/framework/interface.go. A plugin is a small
 * named unit implementing one or more extension points; the framework runs them in the
 * profile's order:
 *
 *   PreFilter → Filter (per node) → [PostFilter, when no node fits]
 *   → PreScore → Score (per feasible node) → NormalizeScore → × weight
 *   → Reserve (after the pod is assumed) → Bind (asynchronously)
 *
 * Contracts every plugin keeps:
 * - Pods, nodes and NodeInfos handed in are read-only; per-cycle data goes into CycleState.
 * - Filter/Score are synchronous and pure over (state, pod, nodeInfo): they may run for many
 *   nodes and again in a preemption dry run.
 * - "Does not fit" is a returned Status (see status.ts), never an exception.
 */
import type { NodeInfo, PodInfo } from './node-info.js';
import type { Status } from './status.js';
import type { ReadonlyNode, ReadonlyPod } from './types.js';

export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

/** A typed key into CycleState: `const K = stateKey<Foo>('PreFilterFoo')`. */
export interface StateKey<T> {
  readonly name: string;
  /** Type-level marker only. */
  readonly __type?: T;
}

export function stateKey<T>(name: string): StateKey<T> {
  return { name };
}

/** State a plugin changes after PreFilter (through PreFilterExtensions) must clone itself. */
export interface StateData {
  clone(): StateData;
}

function isStateData(v: unknown): v is StateData {
  return typeof v === 'object' && v !== null && typeof (v as Partial<StateData>).clone === 'function';
}

/**
 * Data plugins pass from one extension point to a later one within a single scheduling cycle
 * (upstream CycleState). `clone()` copies values that implement StateData (their own
 * `clone()`), and shares every other value, which must then be treated as immutable.
 */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Filter plugins whose PreFilter returned Skip in this cycle. */
  readonly skipFilterPlugins = new Set<string>();
  /** Score plugins whose PreScore returned Skip in this cycle. */
  readonly skipScorePlugins = new Set<string>();

  write<T>(key: StateKey<T>, value: T): void { this.data.set(key.name, value); }
  read<T>(key: StateKey<T>): T | undefined { return this.data.get(key.name) as T | undefined; }

  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, isStateData(v) ? v.clone() : v);
    for (const p of this.skipFilterPlugins) c.skipFilterPlugins.add(p);
    for (const p of this.skipScorePlugins) c.skipScorePlugins.add(p);
    return c;
  }
}

export interface Plugin {
  /** Unique in the registry, upstream spelling ("NodeResourcesFit"). */
  readonly name: string;
}

/** What the queue knows of a waiting pod, as QueueSort sees it. */
export interface QueuedPodView {
  readonly pod: ReadonlyPod;
  /** When the pod was last added to the queue (ms). */
  readonly timestamp: number;
}

/** Orders the active queue; exactly one per profile (upstream QueueSortPlugin). */
export interface QueueSortPlugin extends Plugin {
  /** True when `a` should be scheduled before `b`. */
  less(a: QueuedPodView, b: QueuedPodView): boolean;
}

/** PreFilter may narrow the candidate nodes to a set of names (upstream PreFilterResult). */
export interface PreFilterResult {
  /** undefined = all nodes. */
  readonly nodeNames?: ReadonlySet<string>;
}

export interface PreFilterOutput {
  result?: PreFilterResult;
  /** undefined = success; Skip = this plugin's Filter is not needed for this pod. */
  status?: Status;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): PreFilterOutput | undefined;
  /**
   * PreFilterExtensions (optional): keep the PreFilter state right when a dry run adds a pod to
   * (nominated pods) or removes one from (preemption victims) `nodeInfo`, which already
   * reflects the change. Called on a cloned CycleState.
   */
  addPod?(state: CycleState, podToSchedule: ReadonlyPod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status | undefined;
  removePod?(state: CycleState, podToSchedule: ReadonlyPod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status | undefined;
}

/**
 * The node snapshot of the current cycle (upstream SharedLister.NodeInfos()): every node with
 * a Node object. Plugins use it when they need nodes beyond the ones handed to them (spreading
 * and affinity count pods on all nodes). Read-only.
 */
export interface SharedLister {
  list(): readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Nodes with at least one pod that has pod (anti-)affinity. */
  havePodsWithAffinityList(): readonly NodeInfo[];
  /** Nodes with at least one pod that has required pod anti-affinity. */
  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[];
}

/** Pods nominated to nodes by preemption (upstream PodNominator). */
export interface PodNominator {
  /** The pods nominated to `nodeName` (their latest versions), in no particular order. */
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
  /** The node `pod` is nominated to (in memory, possibly ahead of its status), if any. */
  nominatedNode(pod: ReadonlyPod): string | undefined;
}

export interface FilterPlugin extends Plugin {
  /** Whether `pod` fits `nodeInfo`; undefined = fits. */
  filter(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status | undefined;
}

/** Read access to the Filter outcome of every node (upstream NodeToStatusReader). */
export interface NodeToStatusReader {
  /** The status of a node that was filtered (explicit) or the absent-nodes status otherwise. */
  get(nodeName: string): Status;
  /** Nodes (from `all`) whose status has `code`. */
  nodesForStatusCode(all: readonly NodeInfo[], code: Status['code']): NodeInfo[];
}

export interface PostFilterOutput {
  /**
   * A node the pod is expected to fit once preemption finished (upstream NominatingInfo with
   * ModeOverride); '' clears an earlier nomination; undefined leaves it alone.
   */
  nominatedNodeName?: string;
  status: Status;
}

/** Runs only when no node fits (upstream: DefaultPreemption). */
export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: ReadonlyPod, filtered: NodeToStatusReader, nodes: readonly NodeInfo[]): PostFilterOutput;
}

export interface PreScorePlugin extends Plugin {
  /** Skip = this plugin's Score is not needed for this pod. */
  preScore(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): Status | undefined;
}

export interface NodeScore {
  readonly name: string;
  score: number;
}

export interface ScorePlugin extends Plugin {
  /** A score for one feasible node; in [0, MAX_NODE_SCORE] after normalisation. */
  score(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): { score: number; status?: Status };
  /** Rescales all scores in place to [0, MAX_NODE_SCORE] (upstream ScoreExtensions.NormalizeScore). */
  normalizeScore?(state: CycleState, pod: ReadonlyPod, scores: NodeScore[]): Status | undefined;
}

/** Runs after the pod is assumed on a node; `unreserve` undoes it when a later step fails. Must be idempotent. */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: ReadonlyPod, nodeName: string): Status | undefined;
  unreserve(state: CycleState, pod: ReadonlyPod, nodeName: string): void;
}

/** Binds the pod to the node through the API. Skip = not mine, try the next binder. */
export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: ReadonlyPod, nodeName: string, signal?: AbortSignal): Promise<Status | undefined>;
}

// ---- cluster events (queueing) ----

/** What changed (upstream framework.ActionType); flags combine with `|`. */
export const ActionType = {
  Add: 1,
  Delete: 1 << 1,
  UpdateNodeAllocatable: 1 << 2,
  UpdateNodeLabel: 1 << 3,
  UpdateNodeTaint: 1 << 4,
  UpdateNodeCondition: 1 << 5,
  UpdateNodeAnnotation: 1 << 6,
  /** Any update of a pod (assigned pods only here). */
  UpdatePod: 1 << 7,
} as const;
export const ALL_ACTIONS = (1 << 8) - 1;

export type EventResource = 'Node' | 'AssignedPod' | '*';

export interface ClusterEvent {
  readonly resource: EventResource;
  /** A bitmask of ActionType. */
  readonly actionType: number;
  /** For logs and metrics, e.g. "NodeAdd". */
  readonly label: string;
}

export type QueueingHint = 'Queue' | 'QueueSkip';

/**
 * Decides whether a change may make `pod` (which this plugin rejected) schedulable. `oldObj`
 * is undefined for adds, `newObj` for deletes. Throwing counts as Queue.
 */
export type QueueingHintFn<T> = (pod: ReadonlyPod, oldObj: T | undefined, newObj: T | undefined) => QueueingHint;

/** A registration for events of one resource with a bitmask of ActionType, and an optional hint. */
export type ClusterEventWithHint =
  | { readonly resource: 'Node'; readonly actionType: number; readonly hint?: QueueingHintFn<ReadonlyNode> }
  | { readonly resource: 'AssignedPod'; readonly actionType: number; readonly hint?: QueueingHintFn<ReadonlyPod> };

/** A Node event registration: `nodeEvent(ActionType.Add | ActionType.UpdateNodeTaint, hint)`. */
export function nodeEvent(actionType: number, hint?: QueueingHintFn<ReadonlyNode>): ClusterEventWithHint {
  return { resource: 'Node', actionType, hint };
}

/** An assigned-pod event registration: `assignedPodEvent(ActionType.Delete, hint)`. */
export function assignedPodEvent(actionType: number, hint?: QueueingHintFn<ReadonlyPod>): ClusterEventWithHint {
  return { resource: 'AssignedPod', actionType, hint };
}

/** Plugins that can reject pods say which cluster events might change their mind (upstream EnqueueExtensions). */
export interface EnqueueExtensions extends Plugin {
  eventsToRegister(): readonly ClusterEventWithHint[];
}

export function isQueueSort(p: Plugin): p is QueueSortPlugin { return typeof (p as Partial<QueueSortPlugin>).less === 'function'; }
export function isPreFilter(p: Plugin): p is PreFilterPlugin { return typeof (p as Partial<PreFilterPlugin>).preFilter === 'function'; }
export function isFilter(p: Plugin): p is FilterPlugin { return typeof (p as Partial<FilterPlugin>).filter === 'function'; }
export function isPostFilter(p: Plugin): p is PostFilterPlugin { return typeof (p as Partial<PostFilterPlugin>).postFilter === 'function'; }
export function isPreScore(p: Plugin): p is PreScorePlugin { return typeof (p as Partial<PreScorePlugin>).preScore === 'function'; }
export function isScore(p: Plugin): p is ScorePlugin { return typeof (p as Partial<ScorePlugin>).score === 'function'; }
export function isReserve(p: Plugin): p is ReservePlugin { return typeof (p as Partial<ReservePlugin>).reserve === 'function'; }
export function isBind(p: Plugin): p is BindPlugin { return typeof (p as Partial<BindPlugin>).bind === 'function'; }
export function isEnqueueExtensions(p: Plugin): p is EnqueueExtensions { return typeof (p as Partial<EnqueueExtensions>).eventsToRegister === 'function'; }

/**
 * Scales scores to [0, maxScore] relative to the highest one; `reverse` flips them so that the
 * lowest raw score wins (upstream helper.DefaultNormalizeScore).
 */
export function defaultNormalizeScore(maxScore: number, reverse: boolean, scores: NodeScore[]): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = maxScore;
    return;
  }
  for (const s of scores) {
    let v = Math.trunc((maxScore * s.score) / max);
    if (reverse) v = maxScore - v;
    s.score = v;
  }
}
