/**
 * What the configMap, secret, downwardAPI and projected volumes contain: pure functions from
 * the volume source and the objects it names to a {@link Payload} for the atomic writer
 * (upstream pkg/volume/{configmap,secret,downwardapi,projected} MakePayload / CollectData).
 *
 * Contracts: `items` select keys and give them paths (a missing key is an error unless the
 * source is optional, then skipped); without items every key becomes a file of its name
 * (ConfigMap: data and binaryData; Secret: data, base64-decoded). Modes: the item's `mode`,
 * else the source's `defaultMode`, else 0644 (upstream's 420 decimal). Errors are plain
 * `Error`s with upstream's messages.
 */
import type { ConfigMap, Pod, Secret } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { fieldRefValue, resourceFieldValue, type EnvContext } from '../pods/container-config.js';
import type { FileProjection } from './atomic-writer.js';

type ReadonlyPod = DeepReadonly<Pod>;
/** The core/v1 volume types, derived from Pod (@tskube/api re-exports only the top-level kinds). */
export type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];
type ConfigMapVolumeSource = NonNullable<Volume['configMap']>;
type SecretVolumeSource = NonNullable<Volume['secret']>;
type Projection = NonNullable<NonNullable<Volume['projected']>['sources']>[number];
type ConfigMapProjection = NonNullable<Projection['configMap']>;
type SecretProjection = NonNullable<Projection['secret']>;
type DownwardAPIVolumeFile = NonNullable<NonNullable<Volume['downwardAPI']>['items']>[number];
type KeyToPath = NonNullable<ConfigMapVolumeSource['items']>[number];

/** upstream's default file mode of these volumes (0644). */
export const DEFAULT_MODE = 0o644;

function file(data: string | Buffer, mode: number): FileProjection {
  return { data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data, mode };
}

function keyedPayload(
  entries: ReadonlyMap<string, Buffer>, items: readonly DeepReadonly<KeyToPath>[] | undefined, defaultMode: number,
  optional: boolean, missingKey: (key: string) => string,
): Map<string, FileProjection> {
  const out = new Map<string, FileProjection>();
  if (!items || items.length === 0) {
    for (const [k, v] of entries) out.set(k, file(v, defaultMode));
    return out;
  }
  for (const it of items) {
    const v = entries.get(it.key);
    if (v === undefined) {
      if (optional) continue;
      throw new Error(missingKey(it.key));
    }
    out.set(it.path, file(v, it.mode ?? defaultMode));
  }
  return out;
}

export function configMapEntries(cm: DeepReadonly<ConfigMap>): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) m.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}

export function secretEntries(s: DeepReadonly<Secret>): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}

/** A configMap volume (or projection). `cm` null: not found, an error unless optional. */
export function configMapPayload(
  src: DeepReadonly<ConfigMapVolumeSource> | DeepReadonly<ConfigMapProjection>, cm: DeepReadonly<ConfigMap> | null, defaultMode: number,
): Map<string, FileProjection> {
  if (!cm) {
    if (src.optional) return new Map();
    throw new Error(`configmap "${src.name ?? ''}" not found`);
  }
  return keyedPayload(configMapEntries(cm), src.items, defaultMode, src.optional ?? false,
    (k) => `configmap references non-existent config key: ${k}`);
}

/** A secret volume (or projection). `secret` null: not found, an error unless optional. */
export function secretPayload(
  name: string, src: DeepReadonly<SecretVolumeSource> | DeepReadonly<SecretProjection>, secret: DeepReadonly<Secret> | null, defaultMode: number,
): Map<string, FileProjection> {
  if (!secret) {
    if (src.optional) return new Map();
    throw new Error(`secret "${name}" not found`);
  }
  return keyedPayload(secretEntries(secret), src.items, defaultMode, src.optional ?? false,
    (k) => `references non-existent secret key: ${k}`);
}

/**
 * upstream fieldpath.FormatMap: `key="value"` lines sorted by key, no trailing newline.
 * Values are quoted like Go's %q (JSON string quoting; they differ only for non-printable
 * and non-ASCII characters, which Go escapes and JSON keeps).
 */
export function formatMap(m: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join('\n');
}

/** One downwardAPI item's content (fieldRef or resourceFieldRef; the latter names its container). */
export function downwardAPIValue(pod: ReadonlyPod, item: DeepReadonly<DownwardAPIVolumeFile>, ctx: EnvContext, allocatable: Readonly<Record<string, string>>): string {
  if (item.fieldRef) {
    const path = item.fieldRef.fieldPath;
    if (path === 'metadata.labels') return formatMap(pod.metadata?.labels);
    if (path === 'metadata.annotations') return formatMap(pod.metadata?.annotations);
    return fieldRefValue(pod, path, ctx);
  }
  if (item.resourceFieldRef) {
    const name = item.resourceFieldRef.containerName;
    const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === name);
    if (!c) throw new Error(`container "${name ?? ''}" not found in pod`);
    return resourceFieldValue(c, item.resourceFieldRef.resource, item.resourceFieldRef.divisor as string | undefined, allocatable);
  }
  return '';
}

export function downwardAPIPayload(
  pod: ReadonlyPod, items: readonly DeepReadonly<DownwardAPIVolumeFile>[] | undefined, defaultMode: number,
  ctx: EnvContext, allocatable: Readonly<Record<string, string>>,
): Map<string, FileProjection> {
  const out = new Map<string, FileProjection>();
  for (const it of items ?? []) out.set(it.path, file(downwardAPIValue(pod, it, ctx, allocatable), it.mode ?? defaultMode));
  return out;
}
