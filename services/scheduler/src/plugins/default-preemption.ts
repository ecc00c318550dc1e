/**
 * DefaultPreemption (upstream plugins/defaultpreemption + framework/preemption): when no node
 * fits, evict lower-priority pods from one node so that the pod fits there, and nominate it.
 *
 * 1. Eligibility: `preemptionPolicy: Never` is not eligible (`not eligible due to
 *    preemptionPolicy=Never.`); nor is a pod whose nominated node still has a lower-priority pod
 *    terminating because of an earlier preemption (`not eligible due to a terminating pod on the
 *    nominated node.`), unless the filters found that node UnschedulableAndUnresolvable.
 * 2. Candidates: only nodes the filters rejected as Unschedulable (not ...AndUnresolvable), in
 *    a rotating order from a random offset, until max(10 % of them, 100) candidates are found
 *    (at least one without PDB violations). Per node, on a copy (upstream SelectVictimsOnNode):
 *    remove every pod with lower priority (none: `No preemption victims found for incoming
 *    pod`); if the pod still does not fit (filters run with nominated pods, PreFilter state
 *    updated through PreFilterExtensions), the node keeps that status; otherwise reprieve victims
 *    one by one, most important first (priority, then earlier start), first those whose eviction
 *    would violate a PodDisruptionBudget (matching selector in the namespace, counting down
 *    status.disruptionsAllowed; pods in disruptedPods do not count), then the others, keeping
 *    each pod that still leaves room. What is left are the victims.
 * 3. Node choice (upstream pickOneNodeForPreemption), each step only among the ties of the
 *    previous one: fewest PDB violations; lowest highest-victim priority; smallest sum of
 *    victim priorities; fewest victims; latest start of the highest-priority victims; first.
 * 4. Preparation (in the background, the scheduling loop goes on): for each victim, the
 *    DisruptionTarget condition (reason PreemptionByScheduler) through pods/status, deletion
 *    (default grace period), a Normal `Preempted` event "Preempted by pod <uid> on node <node>";
 *    lower-priority pods nominated to that node lose their nomination (status patched).
 * 5. Result: the node is returned as the pod's nominated node (Success: the FailedScheduling
 *    message then has no `preemption:` part, as upstream). The pod waits in the queue; the
 *    victims' deletion (an AssignedPodDelete event) retries it.
 *
 * When nothing helps the message counts the per-node reasons: `preemption: 0/3 nodes are
 * available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for
 * scheduling.`, and any earlier nomination is cleared.
 *
 * Left out (as in upstream's default configuration or for simplicity): extenders, async
 * preemption, waiting (Permit) pods, evaluating victims across several nodes.
 */
import { isApiError, matches, rfc3339, type PodDisruptionBudget } from '@tskube/api';
import { Resources, type DeepReadonly } from '@tskube/client';
import { Names } from './names.js';
import { Code, Status } from '../framework/status.js';
import { NodeToStatus, fitErrorMessage } from '../framework/fit-error.js';
import type { CycleState, NodeToStatusReader, PostFilterOutput, PostFilterPlugin } from '../framework/interface.js';
import { podKey, type NodeInfo, type PodInfo } from '../framework/node-info.js';
import { selectorOf } from '../framework/pod-terms.js';
import type { Handle } from '../framework/registry.js';
import { moreImportantPod, podPriority, podRef, podStartTime, type ReadonlyPod } from '../framework/types.js';

export const MSG_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const MSG_NO_VICTIMS = 'No preemption victims found for incoming pod';
export const MSG_POLICY_NEVER = 'not eligible due to preemptionPolicy=Never.';
export const MSG_TERMINATING_ON_NOMINATED = 'not eligible due to a terminating pod on the nominated node.';
export const REASON_PREEMPTION_BY_SCHEDULER = 'PreemptionByScheduler';

/** Upstream DefaultPreemptionArgs defaults. */
export const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
export const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

/** How long a victim counts as "being preempted" before the informer shows its deletion. */
const PREEMPTING_MEMORY_MS = 2 * 60_000;

type ReadonlyPDB = DeepReadonly<PodDisruptionBudget>;

export interface Candidate {
  nodeName: string;
  /** Most important first. */
  victims: ReadonlyPod[];
  numPDBViolations: number;
}

/** Whether the pod is being deleted after a preemption (upstream podTerminatingByPreemption). */
export function podTerminatingByPreemption(p: ReadonlyPod): boolean {
  if (!p.metadata?.deletionTimestamp) return false;
  const c = p.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
  return c?.status === 'True' && c.reason === REASON_PREEMPTION_BY_SCHEDULER;
}

/** Splits pods into those whose eviction would violate a PDB and the others (upstream filterPodsWithPDBViolation). */
export function filterPodsWithPDBViolation(pods: readonly PodInfo[], pdbs: readonly ReadonlyPDB[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => {
    try {
      return selectorOf(p.spec?.selector);
    } catch {
      return null;
    }
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const labels = pi.pod.metadata?.labels ?? {};
    let violated = false;
    // A pod without labels matches no PDB.
    if (Object.keys(labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        const sel = selectors[i];
        // A PDB with a missing or empty selector matches nothing.
        if (pdb.metadata?.namespace !== pi.pod.metadata?.namespace || !sel || sel.length === 0 || !matches(sel, labels)) return;
        // Already counted by the disruption controller.
        if (pdb.status?.disruptedPods && Object.prototype.hasOwnProperty.call(pdb.status.disruptedPods, pi.pod.metadata?.name ?? '')) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/** The start time of the earliest-started victim among those of the highest priority (upstream GetEarliestPodStartTime). */
function earliestStartOfHighestPriority(victims: readonly ReadonlyPod[], now: number): number {
  let maxPrio = podPriority(victims[0]!);
  let earliest = podStartTime(victims[0]!, now);
  for (const v of victims) {
    const p = podPriority(v);
    if (p === maxPrio) earliest = Math.min(earliest, podStartTime(v, now));
    else if (p > maxPrio) {
      maxPrio = p;
      earliest = podStartTime(v, now);
    }
  }
  return earliest;
}

/** Upstream pickOneNodeForPreemption with its default score functions, applied in order to the ties. */
export function pickOneNodeForPreemption(candidates: readonly Candidate[], now: number = Date.now()): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const I32 = 2 ** 31;
  const scoreFuncs: ((c: Candidate) => number)[] = [
    (c) => -c.numPDBViolations,
    (c) => -podPriority(c.victims[0]!),
    (c) => -c.victims.reduce((s, v) => s + podPriority(v) + I32, 0),
    (c) => -c.victims.length,
    (c) => earliestStartOfHighestPriority(c.victims, now),
  ];
  let all = [...candidates];
  for (const f of scoreFuncs) {
    let best = -Infinity;
    let selected: Candidate[] = [];
    for (const c of all) {
      const s = f(c);
      if (s > best) {
        best = s;
        selected = [];
      }
      if (s === best) selected.push(c);
    }
    if (selected.length === 1) return selected[0];
    all = selected;
  }
  return all[0];
}

/** How many candidates to look for, and where to start (upstream GetOffsetAndNumCandidates). */
export function numCandidates(numNodes: number): number {
  let n = Math.trunc((numNodes * MIN_CANDIDATE_NODES_PERCENTAGE) / 100);
  if (n < MIN_CANDIDATE_NODES_ABSOLUTE) n = MIN_CANDIDATE_NODES_ABSOLUTE;
  return Math.min(n, numNodes);
}

export interface DefaultPreemptionOptions {
  /** Uniform random in [0, 1) for the candidate offset (tests pass a fixed one). */
  random?: () => number;
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = Names.DefaultPreemption;
  /** Victims this scheduler is evicting: uid → until when to remember it (ms). */
  private readonly preempting = new Map<string, number>();
  private readonly random: () => number;

  constructor(private readonly handle: Handle, opts: DefaultPreemptionOptions = {}) {
    this.random = opts.random ?? Math.random;
  }

  postFilter(state: CycleState, pod: ReadonlyPod, filtered: NodeToStatusReader, nodes: readonly NodeInfo[]): PostFilterOutput {
    const notEligible = this.notEligibleReason(pod, filtered);
    if (notEligible) return { status: Status.unschedulable(`preemption: ${notEligible}`) };
    const hadNomination = Boolean(pod.status?.nominatedNodeName || this.handle.nominator.nominatedNode(pod));
    const clear = hadNomination ? { nominatedNodeName: '' } : {};

    const { candidates, statuses } = this.findCandidates(state, pod, filtered, nodes);
    if (candidates.length === 0) {
      const msg = fitErrorMessage(nodes.length, { nodeToStatus: statuses, preFilterMsg: '', postFilterMsg: '' });
      return { ...clear, status: Status.unschedulable(`preemption: ${msg}`) };
    }
    const best = pickOneNodeForPreemption(candidates, this.handle.now())!;
    this.prepareCandidate(best, pod);
    this.handle.logger.info('preempting', { pod: podRef(pod), node: best.nodeName, victims: best.victims.map(podRef), pdbViolations: best.numPDBViolations });
    return { nominatedNodeName: best.nodeName, status: Status.success() };
  }

  /** Upstream PodEligibleToPreemptOthers: the reason it is not eligible, or undefined. */
  private notEligibleReason(pod: ReadonlyPod, filtered: NodeToStatusReader): string | undefined {
    if (pod.spec?.preemptionPolicy === 'Never') return MSG_POLICY_NEVER;
    const nominated = pod.status?.nominatedNodeName || this.handle.nominator.nominatedNode(pod);
    if (!nominated) return undefined;
    if (filtered.get(nominated).code === Code.UnschedulableAndUnresolvable) return undefined;
    const ni = this.handle.snapshot.get(nominated);
    if (!ni) return undefined;
    const prio = podPriority(pod);
    const now = this.handle.now();
    for (const [victim, until] of this.preempting) if (until < now) this.preempting.delete(victim);
    for (const p of ni.podInfosIter()) {
      if (podPriority(p.pod) >= prio) continue;
      if (podTerminatingByPreemption(p.pod) || this.preempting.has(p.pod.metadata?.uid ?? '')) return MSG_TERMINATING_ON_NOMINATED;
    }
    return undefined;
  }

  /** Upstream findCandidates + DryRunPreemption. */
  findCandidates(state: CycleState, pod: ReadonlyPod, filtered: NodeToStatusReader, nodes: readonly NodeInfo[]): { candidates: Candidate[]; statuses: NodeToStatus } {
    const statuses = new NodeToStatus();
    statuses.absentNodesStatus = Status.unresolvable(MSG_NOT_HELPFUL);
    const potential = filtered.nodesForStatusCode(nodes, Code.Unschedulable);
    if (potential.length === 0) return { candidates: [], statuses };
    const pdbs = this.handle.listers.podDisruptionBudgets();
    const want = numCandidates(potential.length);
    const offset = Math.floor(this.random() * potential.length);
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    for (let i = 0; i < potential.length; i++) {
      if (nonViolating.length > 0 && nonViolating.length + violating.length >= want) break;
      const ni = potential[(offset + i) % potential.length]!;
      const r = this.selectVictimsOnNode(state.clone(), pod, ni.clone(), pdbs);
      if (r.status.isSuccess() && r.victims.length > 0) {
        const c: Candidate = { nodeName: ni.name, victims: r.victims, numPDBViolations: r.numPDBViolations };
        (c.numPDBViolations === 0 ? nonViolating : violating).push(c);
        continue;
      }
      statuses.set(ni.name, r.status.isSuccess() ? Status.fromError(new Error(`expected at least one victim pod on node "${ni.name}"`)) : r.status);
    }
    return { candidates: [...nonViolating, ...violating], statuses };
  }

  /**
   * Upstream SelectVictimsOnNode, on a cloned `nodeInfo` and `state`: the fewest
   * lower-priority pods (most important reprieved first, PDB-violating ones before the others)
   * whose removal lets `pod` fit.
   */
  selectVictimsOnNode(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo, pdbs: readonly ReadonlyPDB[]): { victims: ReadonlyPod[]; numPDBViolations: number; status: Status } {
    const fwk = this.handle.framework;
    const prio = podPriority(pod);
    const remove = (pi: PodInfo): Status => {
      nodeInfo.removePod(podKey(pi.pod));
      return fwk.runPreFilterExtensionRemovePod(state, pod, pi, nodeInfo);
    };
    const add = (pi: PodInfo): Status => {
      nodeInfo.addPod(pi);
      return fwk.runPreFilterExtensionAddPod(state, pod, pi, nodeInfo);
    };
    const potential = nodeInfo.pods.filter((pi) => podPriority(pi.pod) < prio);
    for (const pi of potential) {
      const s = remove(pi);
      if (!s.isSuccess()) return { victims: [], numPDBViolations: 0, status: s };
    }
    if (potential.length === 0) return { victims: [], numPDBViolations: 0, status: Status.unresolvable(MSG_NO_VICTIMS) };
    const fits = fwk.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
    if (!fits.isSuccess()) return { victims: [], numPDBViolations: 0, status: fits };
    const now = this.handle.now();
    const byImportance = (a: PodInfo, b: PodInfo) => (moreImportantPod(a.pod, b.pod, now) ? -1 : moreImportantPod(b.pod, a.pod, now) ? 1 : 0);
    potential.sort(byImportance);
    const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbs);
    const victims: PodInfo[] = [];
    let numPDBViolations = 0;
    const reprieve = (pi: PodInfo): { fits: boolean; error?: Status } => {
      let s = add(pi);
      if (!s.isSuccess()) return { fits: false, error: s };
      if (fwk.runFilterPluginsWithNominatedPods(state, pod, nodeInfo).isSuccess()) return { fits: true };
      s = remove(pi);
      if (!s.isSuccess()) return { fits: false, error: s };
      victims.push(pi);
      return { fits: false };
    };
    for (const pi of violating) {
      const r = reprieve(pi);
      if (r.error) return { victims: [], numPDBViolations: 0, status: r.error };
      if (!r.fits) numPDBViolations++;
    }
    for (const pi of nonViolating) {
      const r = reprieve(pi);
      if (r.error) return { victims: [], numPDBViolations: 0, status: r.error };
    }
    if (violating.length > 0 && nonViolating.length > 0) victims.sort(byImportance);
    return { victims: victims.map((v) => v.pod), numPDBViolations, status: Status.success() };
  }

  /** Upstream prepareCandidate, in the background: mark, delete and report each victim; drop lower nominations. */
  private prepareCandidate(c: Candidate, preemptor: ReadonlyPod): void {
    const now = this.handle.now();
    for (const v of c.victims) if (v.metadata?.uid) this.preempting.set(v.metadata.uid, now + PREEMPTING_MEMORY_MS);
    const pods = this.handle.client.resource(Resources.pods);
    const schedulerName = preemptor.spec?.schedulerName ?? this.handle.framework.profileName;
    const log = this.handle.logger;
    const prio = podPriority(preemptor);
    const lowerNominated = this.handle.nominator.nominatedPodsForNode(c.nodeName)
      .filter((pi) => podPriority(pi.pod) < prio && pi.pod.metadata?.uid !== preemptor.metadata?.uid)
      .map((pi) => pi.pod);
    this.handle.background('preemption', async () => {
      await Promise.all(c.victims.map(async (v) => {
        const ns = v.metadata?.namespace ?? '';
        const name = v.metadata?.name ?? '';
        try {
          const cond = {
            type: 'DisruptionTarget', status: 'True', reason: REASON_PREEMPTION_BY_SCHEDULER,
            message: `${schedulerName}: preempting to accommodate a higher priority pod`,
            lastTransitionTime: rfc3339(new Date(this.handle.now())),
          };
          const existing = v.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
          if (existing?.status !== 'True' || existing.reason !== REASON_PREEMPTION_BY_SCHEDULER) {
            await pods.patchStatus(ns, name, { status: { conditions: [cond] } }, 'strategic');
          }
          await pods.delete(ns, name, v.metadata?.uid ? { preconditions: { uid: v.metadata.uid } } : undefined);
          this.handle.recorder?.event(v, 'Normal', 'Preempted', `Preempted by pod ${preemptor.metadata?.uid ?? ''} on node ${c.nodeName}`);
        } catch (e) {
          if (isApiError(e, 'NotFound') || isApiError(e, 'Conflict')) return; // already gone (or replaced)
          log.warn('preemption of victim failed', { victim: `${ns}/${name}`, preemptor: podRef(preemptor), err: e });
        }
      }));
      await Promise.all(lowerNominated.map(async (p) => {
        try {
          await pods.patchStatus(p.metadata?.namespace ?? '', p.metadata?.name ?? '', { status: { nominatedNodeName: null } }, 'merge');
        } catch (e) {
          if (!isApiError(e, 'NotFound')) log.warn('clearing nominated node failed', { pod: podRef(p), err: e });
        }
      }));
    });
  }
}
