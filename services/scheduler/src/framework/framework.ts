/**
 * The framework: instantiates a profile's plugins from the registry and runs each extension
 * point over them (upstream framework/runtime/framework.go).
 *
 * Contracts:
 * - Plugins run in profile order. A plugin that throws gets an `Error` status naming it; the
 *   exception never escapes into the scheduling loop.
 * - Every non-success status returned carries the plugin that produced it.
 * - Score results are checked to lie in [MIN_NODE_SCORE, MAX_NODE_SCORE] after normalisation,
 *   then multiplied by the plugin's weight.
 */
import type { Client, EventRecorder } from '@tskube/client';
import type { Logger } from '@tskube/log';
import {
  CycleState, MAX_NODE_SCORE, MIN_NODE_SCORE, isBind, isEnqueueExtensions, isFilter, isPostFilter, isPreFilter,
  isPreScore, isQueueSort, isReserve, isScore,
  type BindPlugin, type ClusterEventWithHint, type FilterPlugin, type NodeScore, type NodeToStatusReader, type Plugin,
  type PostFilterOutput, type PostFilterPlugin, type PreFilterOutput, type PreFilterPlugin, type PreFilterResult, type PreScorePlugin,
  type PodNominator, type QueueSortPlugin, type ReservePlugin, type ScorePlugin, type SharedLister,
} from './interface.js';
import type { NodeInfo, PodInfo } from './node-info.js';
import { EMPTY_LISTERS, type ClusterListers, type Handle, type Profile, type Registry } from './registry.js';
import { Code, Status, orSuccess } from './status.js';
import { podPriority, type ReadonlyPod } from './types.js';

export interface FrameworkOptions {
  registry: Registry;
  profile: Profile;
  client: Client;
  logger: Logger;
  now?: () => number;
  /** The node snapshot each cycle works on (default: empty; tests pass their own). */
  snapshot?: SharedLister;
  listers?: ClusterListers;
  recorder?: EventRecorder;
}

const NO_NODES: SharedLister = { list: () => [], get: () => undefined, havePodsWithAffinityList: () => [], havePodsWithRequiredAntiAffinityList: () => [] };
const NO_NOMINATIONS: PodNominator = { nominatedPodsForNode: () => [], nominatedNode: () => undefined };

export interface PreFilterRun {
  /** The intersection of the plugins' node sets; undefined = all nodes. */
  result?: PreFilterResult;
  status: Status;
  /** Plugins that narrowed the node set. */
  pluginsWithNodes: string[];
}

export interface NodePluginScores {
  name: string;
  totalScore: number;
  scores: { plugin: string; score: number }[];
}

/** Go's %v of a []string: "[A B]". */
function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

export class Framework {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number;
  private readonly plugins: Plugin[] = [];
  private readonly queueSort: QueueSortPlugin | undefined;
  private readonly preFilters: PreFilterPlugin[];
  private readonly filters: FilterPlugin[];
  private readonly postFilters: PostFilterPlugin[];
  private readonly preScores: PreScorePlugin[];
  private readonly scores: { plugin: ScorePlugin; weight: number }[] = [];
  private readonly reserves: ReservePlugin[];
  private readonly binders: BindPlugin[];
  private readonly log: Logger;
  private nominator: PodNominator = NO_NOMINATIONS;
  private readonly tasks = new Set<Promise<void>>();

  constructor(opts: FrameworkOptions) {
    this.profileName = opts.profile.schedulerName;
    this.percentageOfNodesToScore = opts.profile.percentageOfNodesToScore ?? 0;
    this.log = opts.logger;
    const now = opts.now ?? Date.now;
    const fwk = this;
    const handle: Handle = {
      client: opts.client, logger: opts.logger, framework: this, now,
      snapshot: opts.snapshot ?? NO_NODES,
      listers: opts.listers ?? EMPTY_LISTERS,
      get nominator() { return fwk.nominator; },
      ...(opts.recorder ? { recorder: opts.recorder } : {}),
      background: (what, task) => this.background(what, task),
    };
    const seen = new Set<string>();
    for (const cfg of opts.profile.plugins) {
      if (seen.has(cfg.name)) throw new Error(`plugin "${cfg.name}" is listed twice in profile ${opts.profile.schedulerName}`);
      seen.add(cfg.name);
      const p = opts.registry.get(cfg.name)(handle);
      this.plugins.push(p);
      if (isScore(p)) {
        const weight = cfg.weight ?? 1;
        if (!Number.isInteger(weight) || weight < 1) throw new Error(`plugin "${cfg.name}" has invalid weight ${weight}`);
        this.scores.push({ plugin: p, weight });
      }
    }
    const sorts = this.plugins.filter(isQueueSort);
    if (sorts.length > 1) throw new Error(`only one QueueSort plugin can be enabled, got ${sorts.map((p) => p.name).join(', ')}`);
    this.queueSort = sorts[0];
    this.preFilters = this.plugins.filter(isPreFilter);
    this.filters = this.plugins.filter(isFilter);
    this.postFilters = this.plugins.filter(isPostFilter);
    this.preScores = this.plugins.filter(isPreScore);
    this.reserves = this.plugins.filter(isReserve);
    this.binders = this.plugins.filter(isBind);
    if (this.binders.length === 0) throw new Error(`profile ${opts.profile.schedulerName} has no Bind plugin`);
  }

  /** Where nominated pods come from (the scheduling queue); set once while wiring. */
  setPodNominator(n: PodNominator): void { this.nominator = n; }
  get podNominator(): PodNominator { return this.nominator; }

  /** See Handle.background. */
  background(what: string, task: () => Promise<void>): void {
    const p: Promise<void> = task()
      .catch((e: unknown) => { this.log.error('background task failed', { task: what, err: e }); })
      .finally(() => { this.tasks.delete(p); });
    this.tasks.add(p);
  }

  /** Resolves when the background tasks started so far (and any they started) have finished. */
  async drain(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  /** The queue order (PrioritySort's `less`), or FIFO by timestamp without a QueueSort plugin. */
  get queueSortPlugin(): QueueSortPlugin | undefined { return this.queueSort; }

  hasFilterPlugins(): boolean { return this.filters.length > 0; }
  hasPostFilterPlugins(): boolean { return this.postFilters.length > 0; }
  hasScorePlugins(): boolean { return this.scores.length > 0; }

  /** The cluster events each plugin that can reject pods listens to, by plugin name. */
  eventsToRegister(): Map<string, readonly ClusterEventWithHint[]> {
    const m = new Map<string, readonly ClusterEventWithHint[]>();
    for (const p of this.plugins) if (isEnqueueExtensions(p)) m.set(p.name, p.eventsToRegister());
    return m;
  }

  private guard<T>(plugin: string, what: string, f: () => T, onError: (s: Status) => T): T {
    try {
      return f();
    } catch (e) {
      this.log.error('plugin failed', { plugin, extensionPoint: what, err: e });
      return onError(Status.fromError(e).withPlugin(plugin));
    }
  }

  /**
   * Runs every PreFilter. An UnschedulableAndUnresolvable answer stops at once; an
   * Unschedulable one is kept while the others still run (preemption may need their state).
   * Skip marks the plugin's Filter as not needed. Node sets from several plugins intersect;
   * an empty intersection rejects the pod.
   */
  runPreFilterPlugins(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): PreFilterRun {
    let result: PreFilterResult | undefined;
    let returnStatus = Status.success();
    const pluginsWithNodes: string[] = [];
    for (const pl of this.preFilters) {
      const out = this.guard<PreFilterOutput | undefined>(pl.name, 'PreFilter', () => pl.preFilter(state, pod, nodes), (status) => ({ status }));
      const s = orSuccess(out?.status).withPlugin(pl.name);
      if (s.isSkip()) {
        state.skipFilterPlugins.add(pl.name);
        continue;
      }
      if (!s.isSuccess()) {
        if (s.code === Code.UnschedulableAndUnresolvable) return { status: s, pluginsWithNodes };
        if (s.code === Code.Unschedulable) {
          returnStatus = s;
          continue;
        }
        return { status: Status.fromError(new Error(`running PreFilter plugin "${pl.name}": ${s.message}`)).withPlugin(pl.name), pluginsWithNodes };
      }
      const names = out?.result?.nodeNames;
      if (names) {
        pluginsWithNodes.push(pl.name);
        const prev = result?.nodeNames;
        result = { nodeNames: prev ? new Set([...prev].filter((n) => names.has(n))) : new Set(names) };
        if (result.nodeNames!.size === 0) {
          const msg = pluginsWithNodes.length === 1
            ? `node(s) didn't satisfy plugin ${pluginsWithNodes[0]}`
            : `node(s) didn't satisfy plugin(s) ${goList(pluginsWithNodes)} simultaneously`;
          return { result, status: Status.unresolvable(msg), pluginsWithNodes };
        }
      }
    }
    return { result, status: returnStatus, pluginsWithNodes };
  }

  /** Filters one node: the first plugin that does not answer success decides (with its name). */
  runFilterPlugins(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status {
    for (const pl of this.filters) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      const s = this.guard(pl.name, 'Filter', () => orSuccess(pl.filter(state, pod, nodeInfo)), (st) => st);
      if (!s.isSuccess()) {
        if (!s.isRejected()) return Status.fromError(new Error(`running "${pl.name}" filter plugin: ${s.message}`)).withPlugin(pl.name);
        return s.withPlugin(pl.name);
      }
    }
    return Status.success();
  }

  /** Tells the PreFilter plugins (with extensions) that `podInfo` was added to `nodeInfo` in a dry run. */
  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: ReadonlyPod, podInfo: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilters) {
      if (!pl.addPod || state.skipFilterPlugins.has(pl.name)) continue;
      const s = this.guard(pl.name, 'PreFilterExtensionAddPod', () => orSuccess(pl.addPod!(state, podToSchedule, podInfo, nodeInfo)), (st) => st);
      if (!s.isSuccess()) return Status.fromError(new Error(`running AddPod on PreFilter plugin "${pl.name}": ${s.message}`)).withPlugin(pl.name);
    }
    return Status.success();
  }

  /** Tells the PreFilter plugins (with extensions) that `podInfo` was removed from `nodeInfo` in a dry run. */
  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: ReadonlyPod, podInfo: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilters) {
      if (!pl.removePod || state.skipFilterPlugins.has(pl.name)) continue;
      const s = this.guard(pl.name, 'PreFilterExtensionRemovePod', () => orSuccess(pl.removePod!(state, podToSchedule, podInfo, nodeInfo)), (st) => st);
      if (!s.isSuccess()) return Status.fromError(new Error(`running RemovePod on PreFilter plugin "${pl.name}": ${s.message}`)).withPlugin(pl.name);
    }
    return Status.success();
  }

  /**
   * Filters one node as if the pods nominated to it with at least the pod's priority were
   * already there (upstream RunFilterPluginsWithNominatedPods): first with them (their
   * resources are reserved), then, if that passed, once more without them (filters such as
   * inter-pod affinity may only pass without them).
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status {
    const added = this.addGENominatedPods(state, pod, nodeInfo);
    if ('error' in added) return added.error;
    const s = this.runFilterPlugins(added.state, pod, added.nodeInfo);
    if (!added.podsAdded || !s.isSuccess()) return s;
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  private addGENominatedPods(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo):
    { podsAdded: boolean; state: CycleState; nodeInfo: NodeInfo } | { error: Status } {
    const nominated = nodeInfo.node ? this.nominator.nominatedPodsForNode(nodeInfo.name) : [];
    if (nominated.length === 0) return { podsAdded: false, state, nodeInfo };
    const prio = podPriority(pod);
    const uid = pod.metadata?.uid;
    let out: { state: CycleState; nodeInfo: NodeInfo } | undefined;
    for (const pi of nominated) {
      if (podPriority(pi.pod) < prio || (uid && pi.pod.metadata?.uid === uid)) continue;
      out ??= { state: state.clone(), nodeInfo: nodeInfo.clone() };
      out.nodeInfo.addPod(pi);
      const s = this.runPreFilterExtensionAddPod(out.state, pod, pi, out.nodeInfo);
      if (!s.isSuccess()) return { error: s };
    }
    return out ? { podsAdded: true, ...out } : { podsAdded: false, state, nodeInfo };
  }

  /**
   * Runs PostFilter plugins until one succeeds (it made the pod schedulable later) or one
   * fails with an Error. Otherwise the rejection messages are joined for the FitError.
   */
  runPostFilterPlugins(state: CycleState, pod: ReadonlyPod, filtered: NodeToStatusReader, nodes: readonly NodeInfo[]): PostFilterOutput {
    const reasons: string[] = [];
    let nominated: string | undefined;
    for (const pl of this.postFilters) {
      const out = this.guard<PostFilterOutput>(pl.name, 'PostFilter', () => pl.postFilter(state, pod, filtered, nodes), (status) => ({ status }));
      const s = out.status.withPlugin(pl.name);
      if (s.isSuccess()) return { status: s, nominatedNodeName: out.nominatedNodeName };
      if (!s.isRejected()) return { status: s };
      reasons.push(...s.reasons);
      if (out.nominatedNodeName !== undefined) nominated = out.nominatedNodeName;
    }
    return { status: Status.unschedulable(...reasons), nominatedNodeName: nominated };
  }

  runPreScorePlugins(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): Status {
    for (const pl of this.preScores) {
      const s = this.guard(pl.name, 'PreScore', () => orSuccess(pl.preScore(state, pod, nodes)), (st) => st);
      if (s.isSkip()) {
        state.skipScorePlugins.add(pl.name);
        continue;
      }
      if (!s.isSuccess()) return Status.fromError(new Error(`running PreScore plugin "${pl.name}": ${s.message}`)).withPlugin(pl.name);
    }
    return Status.success();
  }

  /** Scores every node with every (not skipped) Score plugin, normalises, weighs and sums. */
  runScorePlugins(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): { scores: NodePluginScores[]; status: Status } {
    const all: NodePluginScores[] = nodes.map((n) => ({ name: n.name, totalScore: 0, scores: [] }));
    for (const { plugin: pl, weight } of this.scores) {
      if (state.skipScorePlugins.has(pl.name)) continue;
      const list: NodeScore[] = [];
      for (const n of nodes) {
        const r = this.guard<{ score: number; status?: Status }>(pl.name, 'Score', () => pl.score(state, pod, n), (status) => ({ score: 0, status }));
        const s = orSuccess(r.status);
        if (!s.isSuccess()) return { scores: [], status: Status.fromError(new Error(`plugin "${pl.name}" failed with: ${s.message}`)).withPlugin(pl.name) };
        list.push({ name: n.name, score: r.score });
      }
      if (pl.normalizeScore) {
        const s = this.guard(pl.name, 'NormalizeScore', () => orSuccess(pl.normalizeScore!(state, pod, list)), (st) => st);
        if (!s.isSuccess()) return { scores: [], status: Status.fromError(new Error(`plugin "${pl.name}" failed with: ${s.message}`)).withPlugin(pl.name) };
      }
      for (let i = 0; i < list.length; i++) {
        const v = list[i]!.score;
        if (!(v >= MIN_NODE_SCORE && v <= MAX_NODE_SCORE)) {
          return {
            scores: [],
            status: Status.fromError(new Error(`plugin "${pl.name}" returns an invalid score ${v}, it should in the range of [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}] after normalizing`)).withPlugin(pl.name),
          };
        }
        const weighted = v * weight;
        all[i]!.scores.push({ plugin: pl.name, score: weighted });
        all[i]!.totalScore += weighted;
      }
    }
    return { scores: all, status: Status.success() };
  }

  /** Reserve in order; on the first failure the caller must run `runReservePluginsUnreserve`. */
  runReservePluginsReserve(state: CycleState, pod: ReadonlyPod, nodeName: string): Status {
    for (const pl of this.reserves) {
      const s = this.guard(pl.name, 'Reserve', () => orSuccess(pl.reserve(state, pod, nodeName)), (st) => st);
      if (!s.isSuccess()) {
        if (s.isRejected()) return s.withPlugin(pl.name);
        return Status.fromError(new Error(`running Reserve plugin "${pl.name}": ${s.message}`)).withPlugin(pl.name);
      }
    }
    return Status.success();
  }

  /** Unreserve in reverse order; never fails. */
  runReservePluginsUnreserve(state: CycleState, pod: ReadonlyPod, nodeName: string): void {
    for (const pl of [...this.reserves].reverse()) {
      this.guard(pl.name, 'Unreserve', () => pl.unreserve(state, pod, nodeName), () => undefined);
    }
  }

  /** The first binder that does not Skip binds; its status is the result. */
  async runBindPlugins(state: CycleState, pod: ReadonlyPod, nodeName: string, signal?: AbortSignal): Promise<Status> {
    for (const pl of this.binders) {
      let s: Status;
      try {
        s = orSuccess(await pl.bind(state, pod, nodeName, signal));
      } catch (e) {
        s = Status.fromError(e);
      }
      if (s.isSkip()) continue;
      return s.withPlugin(pl.name);
    }
    return Status.skip();
  }
}
