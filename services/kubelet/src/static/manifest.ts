/**
 * Static pod manifests (upstream pkg/kubelet/config/file.go and common.go): one Pod per
 * file, YAML or JSON, turned into the pod the kubelet runs, plus the mirror pod it shows in
 * the apiserver (pkg/kubelet/pod/mirror_client.go). Pure functions.
 *
 * `staticPodFromManifest` applies upstream's applyDefaults:
 * - UID (when the manifest has none): md5 hex of the manifest pod (canonical JSON, keys
 *   sorted) followed by `host:<node>` and `file:<path>` — stable across kubelet restarts, so
 *   the running containers are adopted; any edit of the file gives a new UID (the pod is
 *   replaced, as upstream);
 * - name `<name>-<lowercased node name>`, namespace `default` when empty,
 *   spec.nodeName = the node;
 * - annotations `kubernetes.io/config.hash` = UID, `kubernetes.io/config.source` = `file`,
 *   `kubernetes.io/config.seen` = when the kubelet read it;
 * - a toleration `{operator: Exists, effect: NoExecute}` (static pods are not evicted for
 *   node problems); API defaulting (restartPolicy, grace period, pull policy, …);
 * - status phase Pending.
 * A manifest that is not a single v1 Pod with a name and at least one container, or fails
 * pod validation, is refused with a message naming the file.
 *
 * `mirrorPodFor`: the static pod with annotation `kubernetes.io/config.mirror` = its hash
 * and an ownerReference to the Node; no uid, resourceVersion or status (the apiserver
 * assigns them).
 */
import { createHash } from 'node:crypto';
import { defaultPod, rfc3339, validatePod, type Pod, type Toleration } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { parse as parseYaml } from 'yaml';

export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const FILE_SOURCE = 'file';

export class ManifestError extends Error {}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one manifest file's text (JSON is YAML). Throws ManifestError. */
export function parseManifest(text: string, file: string): Pod {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ManifestError(`${file}: couldn't parse as pod: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(doc)) throw new ManifestError(`${file}: couldn't parse as pod: not an object`);
  if (doc.kind !== 'Pod' || (doc.apiVersion !== 'v1' && doc.apiVersion !== undefined)) {
    throw new ManifestError(`${file}: couldn't parse as pod: kind ${String(doc.kind)}, apiVersion ${String(doc.apiVersion)} (want a v1 Pod)`);
  }
  const pod = doc as Pod;
  if (!pod.metadata?.name) throw new ManifestError(`${file}: invalid pod: metadata.name: Required value`);
  if (!pod.spec?.containers?.length) throw new ManifestError(`${file}: invalid pod: spec.containers: Required value`);
  return pod;
}

/** The static pod UID of a manifest pod (see the module doc). */
export function staticPodUid(manifest: DeepReadonly<Pod>, nodeName: string, file: string): string {
  const h = createHash('md5');
  h.update(JSON.stringify(canonical(manifest)));
  h.update(`host:${nodeName}`);
  h.update(`file:${file}`);
  return h.digest('hex');
}

/** `<name>-<node>` (upstream generatePodName). */
export function staticPodName(name: string, nodeName: string): string {
  return `${name}-${nodeName.toLowerCase()}`;
}

/** The pod the kubelet runs for a manifest (upstream applyDefaults; see the module doc). */
export function staticPodFromManifest(manifest: DeepReadonly<Pod>, o: { nodeName: string; file: string; now: number }): Pod {
  const copy = structuredClone(manifest) as Pod;
  const uid = copy.metadata?.uid || staticPodUid(manifest, o.nodeName, o.file);
  const spec = copy.spec!;
  spec.nodeName = o.nodeName;
  if (!(spec.tolerations ?? []).some((t) => t.operator === 'Exists' && t.effect === 'NoExecute' && !t.key)) {
    const tol: Toleration = { operator: 'Exists', effect: 'NoExecute' };
    spec.tolerations = [...(spec.tolerations ?? []), tol];
  }
  const { status: _status, ...rest } = copy;
  const pod: Pod = {
    ...rest,
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      ...copy.metadata,
      uid,
      name: staticPodName(copy.metadata?.name ?? '', o.nodeName),
      namespace: copy.metadata?.namespace || 'default',
      annotations: {
        ...copy.metadata?.annotations,
        [CONFIG_HASH_ANNOTATION]: uid,
        [CONFIG_SOURCE_ANNOTATION]: FILE_SOURCE,
        [CONFIG_SEEN_ANNOTATION]: rfc3339(new Date(o.now)),
      },
    },
    spec,
  };
  defaultPod(pod);
  const errs = validatePod(pod);
  if (errs.length) {
    throw new ManifestError(`${o.file}: invalid pod: ${errs.map((e) => `${e.field}: ${e.detail ?? e.type}`).join('; ')}`);
  }
  return { ...pod, status: { phase: 'Pending' } };
}

export function isStaticPod(pod: DeepReadonly<Pod>): boolean {
  return pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION] === FILE_SOURCE && Boolean(pod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION]);
}

export function isMirrorPod(pod: DeepReadonly<Pod>): boolean {
  return pod.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;
}

/** Whether `mirror` is the mirror pod of `staticPod` (same full name, mirror annotation = its hash). */
export function isMirrorPodOf(mirror: DeepReadonly<Pod>, staticPod: DeepReadonly<Pod>): boolean {
  return mirror.metadata?.name === staticPod.metadata?.name && mirror.metadata?.namespace === staticPod.metadata?.namespace
    && mirror.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] === staticPod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
}

/** The mirror pod to create for a static pod (upstream CreateMirrorPod). */
export function mirrorPodFor(staticPod: DeepReadonly<Pod>, node: { name: string; uid: string }): Pod {
  const copy = structuredClone(staticPod) as Pod;
  const { uid: _uid, resourceVersion: _rv, creationTimestamp: _ct, ...meta } = copy.metadata ?? {};
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      ...meta,
      annotations: { ...meta.annotations, [CONFIG_MIRROR_ANNOTATION]: staticPod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] ?? '' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid }],
    },
    spec: copy.spec,
  };
}
