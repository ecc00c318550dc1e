/**
 * StatefulSet identity, storage and pod predicates (upstream
 * pkg/controller/statefulset/stateful_set_utils.go). Pure; never modify their arguments
 * except where a function says it fills in a pod the caller owns.
 */
import type { OwnerReference, PersistentVolumeClaim, Pod, PodSpec, StatefulSet } from '@tskube/api';
import { clone, type DeepReadonly } from '@tskube/client';
import { POD_REVISION_LABEL } from '../history/history.js';
import { newControllerRef } from '../util/owners.js';
import { isPodAvailable, isPodReady } from '../util/pods.js';

type RoSet = DeepReadonly<StatefulSet> | StatefulSet;
type RoPod = DeepReadonly<Pod> | Pod;
type RoPVC = DeepReadonly<PersistentVolumeClaim>;
type Volume = NonNullable<PodSpec['volumes']>[number];

/** Upstream apps.StatefulSetPodNameLabel. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Upstream apps.PodIndexLabel (beta since 1.28, on by default). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export const STS_GVK = { apiVersion: 'apps/v1', kind: 'StatefulSet' };
const POD_GVK = { apiVersion: 'v1', kind: 'Pod' };

/** `<parent>-<ordinal>` of a pod name; ordinal -1 when the name has none (upstream getParentNameAndOrdinal). */
export function parentAndOrdinal(podName: string | undefined): { parent: string; ordinal: number } {
  const m = /^(.*)-([0-9]+)$/.exec(podName ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1]!, ordinal: Number.isSafeInteger(n) && n <= 2147483647 ? n : -1 };
}

export function ordinalOf(pod: RoPod): number {
  return parentAndOrdinal(pod.metadata?.name).ordinal;
}

/** spec.ordinals.start, else 0. */
export function startOrdinal(set: RoSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function replicasOf(set: RoSet): number {
  return set.spec?.replicas ?? 1;
}

/** The last ordinal in range (inclusive). */
export function endOrdinal(set: RoSet): number {
  return startOrdinal(set) + replicasOf(set) - 1;
}

export function inOrdinalRange(pod: RoPod, set: RoSet): boolean {
  const o = ordinalOf(pod);
  return o >= startOrdinal(set) && o <= endOrdinal(set);
}

export function podName(set: RoSet, ordinal: number): string {
  return `${set.metadata?.name ?? ''}-${ordinal}`;
}

/** `<claim>-<set>-<ordinal>` (upstream getPersistentVolumeClaimName). */
export function claimName(set: RoSet, claimTemplateName: string, ordinal: number): string {
  return `${claimTemplateName}-${set.metadata?.name ?? ''}-${ordinal}`;
}

/** The pod's name says it belongs to the set (upstream isMemberOf). */
export function isMemberOf(set: RoSet, pod: RoPod): boolean {
  return parentAndOrdinal(pod.metadata?.name).parent === (set.metadata?.name ?? '');
}

/** Name, namespace and pod-name label fit the set (upstream identityMatches). */
export function identityMatches(set: RoSet, pod: RoPod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod.metadata?.name);
  return ordinal >= 0 && parent === set.metadata?.name && pod.metadata?.name === podName(set, ordinal)
    && pod.metadata?.namespace === set.metadata?.namespace && pod.metadata?.labels?.[POD_NAME_LABEL] === pod.metadata?.name;
}

/** Every claim template is mounted from this pod's claim (upstream storageMatches). */
export function storageMatches(set: RoSet, pod: RoPod): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  return (set.spec?.volumeClaimTemplates ?? []).every((t) => {
    const v = volumes.get(t.metadata?.name ?? '');
    return v?.persistentVolumeClaim?.claimName === claimName(set, t.metadata?.name ?? '', ordinal);
  });
}

/** The retention policy, Retain/Retain when unset. */
export function retentionPolicy(set: RoSet): { whenDeleted: string; whenScaled: string } {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: p?.whenDeleted ?? 'Retain', whenScaled: p?.whenScaled ?? 'Retain' };
}

/**
 * The owner references a claim of `pod` should carry under the set's retention policy
 * (upstream updateClaimOwnerRefForSetAndPod): the set as controller when whenDeleted=Delete
 * (while the pod is in range, if whenScaled=Delete too), the pod as controller when
 * whenScaled=Delete and the pod is scaled away. Other owners are kept. A claim controlled by
 * something else is left without references to the set or pod.
 */
export function claimOwnerRefs(refs: readonly DeepReadonly<OwnerReference>[] | undefined, set: RoSet, pod: RoPod): OwnerReference[] {
  const setUid = set.metadata?.uid ?? '';
  const podUid = pod.metadata?.uid ?? '';
  const isSet = (r: DeepReadonly<OwnerReference>) => r.kind === 'StatefulSet' && r.apiVersion === 'apps/v1' && r.name === set.metadata?.name;
  const isPod = (r: DeepReadonly<OwnerReference>) => r.kind === 'Pod' && r.apiVersion === 'v1' && r.name === pod.metadata?.name;
  const { whenDeleted, whenScaled } = retentionPolicy(set);
  const retainAll = whenDeleted !== 'Delete' && whenScaled !== 'Delete';
  const unexpected = !retainAll && (refs ?? []).some((r) => (isSet(r) ? r.uid !== setUid : isPod(r) ? r.uid !== podUid : r.controller === true));
  const out = clone((refs ?? []).filter((r) => !isSet(r) && !isPod(r))) as OwnerReference[];
  if (unexpected) return out;
  const scaledDown = !inOrdinalRange(pod, set);
  if (whenScaled === 'Delete' && scaledDown && podUid) out.push(newControllerRef(pod, POD_GVK));
  else if (whenDeleted === 'Delete' && !(whenScaled === 'Delete' && scaledDown)) out.push(newControllerRef(set, STS_GVK));
  return out;
}

/** The claims a pod of the set needs, by template name (upstream getPersistentVolumeClaims); template order. */
export function claimsFor(set: RoSet, pod: RoPod): { template: string; claim: PersistentVolumeClaim }[] {
  const ordinal = ordinalOf(pod);
  const selectorLabels = set.spec?.selector?.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).map((t) => {
    const { status: _status, ...rest } = clone(t) as PersistentVolumeClaim;
    const claim: PersistentVolumeClaim = rest;
    const template = t.metadata?.name ?? '';
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    claim.metadata = {
      ...(claim.metadata ?? {}), name: claimName(set, template, ordinal), namespace: set.metadata?.namespace,
      labels: { ...(claim.metadata?.labels ?? {}), ...selectorLabels },
    };
    return { template, claim };
  });
}

/**
 * Mounts each claim template's claim (replacing a same-named volume), other volumes kept
 * after them (upstream updateStorage). Fills in `pod` (the caller's copy).
 */
export function updateStorage(set: RoSet, pod: Pod): void {
  const claims = claimsFor(set, pod);
  const names = new Set(claims.map((c) => c.template));
  const volumes: Volume[] = claims.map((c) => ({ name: c.template, persistentVolumeClaim: { claimName: c.claim.metadata!.name! } }));
  for (const v of pod.spec?.volumes ?? []) if (!names.has(v.name)) volumes.push(v);
  pod.spec ??= { containers: [] };
  if (volumes.length) pod.spec.volumes = volumes;
}

/** Name, namespace, pod-name and pod-index labels (upstream updateIdentity). Fills in `pod`. */
export function updateIdentity(set: RoSet, pod: Pod): void {
  const ordinal = ordinalOf(pod);
  pod.metadata ??= {};
  pod.metadata.name = podName(set, ordinal);
  pod.metadata.namespace = set.metadata?.namespace;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: pod.metadata.name, [POD_INDEX_LABEL]: String(ordinal) };
}

/**
 * A new pod for `ordinal` from the set's template (upstream newStatefulSetPod): the
 * template's labels, annotations, finalizers and spec, generateName `<set>-`, a controller
 * reference, its identity, hostname = pod name, subdomain = serviceName, its claims mounted.
 */
export function newStatefulSetPod(set: RoSet, ordinal: number): Pod {
  const t = set.spec?.template;
  const pod: Pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: podName(set, ordinal),
      generateName: `${set.metadata?.name ?? ''}-`,
      labels: clone(t?.metadata?.labels ?? {}) as Record<string, string>,
      ...(t?.metadata?.annotations ? { annotations: clone(t.metadata.annotations) as Record<string, string> } : {}),
      ...(t?.metadata?.finalizers ? { finalizers: [...t.metadata.finalizers] } : {}),
      ownerReferences: [newControllerRef(set, STS_GVK)],
    },
    spec: clone(t?.spec ?? { containers: [] }) as Pod['spec'],
  };
  updateIdentity(set, pod);
  pod.spec!.hostname = pod.metadata!.name;
  if (set.spec?.serviceName) pod.spec!.subdomain = set.spec.serviceName;
  updateStorage(set, pod);
  return pod;
}

export function podRevision(pod: RoPod): string {
  return pod.metadata?.labels?.[POD_REVISION_LABEL] ?? '';
}

export function setPodRevision(pod: Pod, revision: string): void {
  pod.metadata ??= {};
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_REVISION_LABEL]: revision };
}

/** Phase Running and Ready (upstream isRunningAndReady). */
export function isRunningAndReady(pod: RoPod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}

/** Ready for minReadySeconds (upstream isRunningAndAvailable = IsPodAvailable). */
export function isRunningAndAvailable(pod: RoPod, minReadySeconds: number, now: Date): boolean {
  return isPodAvailable(pod, minReadySeconds, now);
}

export function isTerminating(pod: RoPod): boolean {
  return !!pod.metadata?.deletionTimestamp;
}

export function isHealthy(pod: RoPod): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}

export function hasOwnerRef(obj: { readonly metadata?: { readonly ownerReferences?: readonly DeepReadonly<OwnerReference>[] } }, uid: string | undefined): boolean {
  return !!uid && (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);
}

/** Whether a claim's owner references already fit the retention policy (upstream isClaimOwnerUpToDate, simplified). */
export function claimOwnerUpToDate(claim: RoPVC, set: RoSet, pod: RoPod): boolean {
  const want = claimOwnerRefs(claim.metadata?.ownerReferences, set, pod);
  const have = claim.metadata?.ownerReferences ?? [];
  const key = (r: DeepReadonly<OwnerReference>) => `${r.uid}/${r.controller === true}`;
  return want.map(key).sort().join(',') === have.map(key).sort().join(',');
}
