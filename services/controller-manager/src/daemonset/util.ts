/**
 * DaemonSet helpers (upstream pkg/controller/daemon/util and the predicates of
 * daemon_controller.go). Pure; never modify their arguments.
 */
import {
  TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY, TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, findUntoleratedTaint,
  type DaemonSet, type Node, type Pod, type PodSpec, type Toleration,
} from '@tskube/api';
import { clone, type DeepReadonly } from '@tskube/client';
import { scaledValue } from '../util/int-or-percent.js';
import { requiredNodeAffinityMatches } from '@tskube/api';
import { POD_REVISION_LABEL } from '../history/history.js';

type Affinity = NonNullable<PodSpec['affinity']>;
type RoDS = DeepReadonly<DaemonSet>;
type RoNode = DeepReadonly<Node>;
type RoPod = DeepReadonly<Pod>;

/** Set by upstream's apiserver on DaemonSets (template generation); copied to pods as a label when present. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
/** Upstream extensions.DaemonSetTemplateGenerationKey. */
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/**
 * Adds the tolerations every daemon pod has (upstream AddOrUpdateDaemonPodTolerations):
 * not-ready and unreachable NoExecute without tolerationSeconds (daemon pods are never
 * evicted for node problems), disk-, memory-, pid-pressure and unschedulable NoSchedule, and
 * network-unavailable NoSchedule for hostNetwork pods. A toleration with the same key,
 * operator, value and effect is replaced. Mutates `spec` (the caller's copy).
 */
export function addDaemonPodTolerations(spec: PodSpec): void {
  const add = (key: string, effect: 'NoExecute' | 'NoSchedule') => {
    const t: Toleration = { key, operator: 'Exists', effect };
    const list = (spec.tolerations ??= []);
    const i = list.findIndex((o) => o.key === t.key && (o.operator ?? 'Equal') === t.operator && (o.value ?? '') === '' && o.effect === t.effect);
    if (i < 0) list.push(t);
    else list[i] = t;
  };
  add(TAINT_NOT_READY, 'NoExecute');
  add(TAINT_UNREACHABLE, 'NoExecute');
  add(TAINT_DISK_PRESSURE, 'NoSchedule');
  add(TAINT_MEMORY_PRESSURE, 'NoSchedule');
  add(TAINT_PID_PRESSURE, 'NoSchedule');
  add(TAINT_UNSCHEDULABLE, 'NoSchedule');
  if (spec.hostNetwork) add(TAINT_NETWORK_UNAVAILABLE, 'NoSchedule');
}

/** The DaemonSet's pod spec as it would run on `nodeName`, default tolerations added (upstream NewPod). */
function daemonPodSpec(ds: RoDS, nodeName: string): PodSpec {
  const spec = clone(ds.spec?.template?.spec ?? { containers: [] }) as PodSpec;
  spec.nodeName = nodeName;
  addDaemonPodTolerations(spec);
  return spec;
}

export interface NodeVerdict {
  /** A daemon pod should be created on the node. */
  shouldRun: boolean;
  /** A daemon pod already there may stay (it tolerates every NoExecute taint). */
  shouldContinueRunning: boolean;
}

/**
 * Whether `ds` wants a pod on `node` (upstream NodeShouldRunDaemonPod): the template's
 * nodeName (if set) is the node, nodeSelector and required node affinity match, and every
 * NoSchedule/NoExecute taint is tolerated. With an untolerated NoSchedule taint only, an
 * existing pod may continue running.
 */
export function nodeShouldRunDaemonPod(node: RoNode, ds: RoDS): NodeVerdict {
  const name = node.metadata?.name ?? '';
  const pinned = ds.spec?.template?.spec?.nodeName;
  if (pinned && pinned !== name) return { shouldRun: false, shouldContinueRunning: false };
  const spec = daemonPodSpec(ds, name);
  if (!requiredNodeAffinityMatches(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const blocking = findUntoleratedTaint(taints, spec.tolerations, (t) => t.effect === 'NoExecute' || t.effect === 'NoSchedule');
  if (!blocking) return { shouldRun: true, shouldContinueRunning: true };
  const evicting = findUntoleratedTaint(taints, spec.tolerations, (t) => t.effect === 'NoExecute');
  return { shouldRun: false, shouldContinueRunning: !evicting };
}

/**
 * `affinity` with its required node affinity replaced by `metadata.name In [nodeName]` as a
 * matchField, so the default scheduler can place the pod only there (upstream
 * ReplaceDaemonSetPodNodeNameNodeAffinity). Preferred terms and pod (anti-)affinity stay.
 */
export function replaceNodeNameAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const required = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
  const out: Affinity = affinity ? clone(affinity) : {};
  out.nodeAffinity = { ...(out.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: required };
  return out;
}

/**
 * The node a daemon pod is for (upstream GetTargetNodeName): spec.nodeName once bound,
 * otherwise the single `metadata.name In [x]` matchField of its required node affinity;
 * undefined when neither.
 */
export function targetNodeName(pod: RoPod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

/** The DaemonSet's template generation annotation, if set and numeric (upstream GetTemplateGeneration). */
export function templateGeneration(ds: RoDS): string | undefined {
  const v = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  return v !== undefined && /^\d+$/.test(v) ? v : undefined;
}

/** The pod runs the current template: its revision hash or template generation label matches (upstream IsPodUpdated). */
export function isPodUpdated(pod: RoPod, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  const hashMatches = hash.length > 0 && labels[POD_REVISION_LABEL] === hash;
  const generationMatches = generation !== undefined && labels[POD_TEMPLATE_GENERATION_LABEL] === generation;
  return hashMatches || generationMatches;
}

/** The RollingUpdate maxUnavailable against `desired` nodes, rounded up; 0 for OnDelete (upstream UnavailableCount). */
export function unavailableCount(ds: RoDS, desired: number): number {
  const s = ds.spec?.updateStrategy;
  if ((s?.type ?? 'RollingUpdate') !== 'RollingUpdate') return 0;
  return scaledValue(s?.rollingUpdate?.maxUnavailable, desired, true, 1);
}

/** The RollingUpdate maxSurge against `desired` nodes, rounded up; 0 for OnDelete (upstream SurgeCount). */
export function surgeCount(ds: RoDS, desired: number): number {
  const s = ds.spec?.updateStrategy;
  if ((s?.type ?? 'RollingUpdate') !== 'RollingUpdate') return 0;
  return scaledValue(s?.rollingUpdate?.maxSurge, desired, true, 0);
}

/** maxSurge is set to something other than 0 (upstream AllowsSurge). */
export function allowsSurge(ds: RoDS): boolean {
  const v = ds.spec?.updateStrategy?.rollingUpdate?.maxSurge;
  return (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && v !== undefined && v !== 0 && v !== '0%';
}

/** Bound pods first, then older first, then by name (upstream podByCreationTimestampAndPhase). */
export function byCreationAndBinding(a: RoPod, b: RoPod): number {
  const ab = !!a.spec?.nodeName;
  const bb = !!b.spec?.nodeName;
  if (ab !== bb) return ab ? -1 : 1;
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}
