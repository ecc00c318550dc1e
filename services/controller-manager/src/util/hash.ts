/**
 * The pod-template-hash of a Deployment's ReplicaSets (upstream controller.ComputeHash and
 * deploymentutil.EqualIgnoreHash). Pure functions.
 *
 * Upstream hashes the Go struct of the template with FNV-1a (32 bit) through a deep printer,
 * appends the collisionCount as 8 little-endian bytes when it is set, and renders the decimal
 * sum through rand.SafeEncodeString. The Go printer cannot be reproduced from JSON, so here
 * the input is the template's canonical JSON (keys sorted, empty maps/lists dropped); the
 * rest is the same, so the hash is stable for a template, changes with it and with the
 * collisionCount, and looks like upstream's (only the characters [4-9bcdf]).
 */
import type { PodTemplateSpec } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

/** Upstream apps.DefaultDeploymentUniqueLabelKey. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

type Template = PodTemplateSpec | DeepReadonly<PodTemplateSpec> | undefined;

/** Upstream rand.SafeEncodeString's alphabet: no vowels, no 0/1/3 (no words, no look-alikes). */
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * The value without null/undefined fields, empty objects and empty lists, object keys sorted:
 * upstream's semantic equality treats a nil and an empty map or slice alike, so both must
 * hash and compare the same.
 */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out = v.map(canonical).filter((x) => x !== undefined);
    return out.length ? out : undefined;
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = canonical((v as Record<string, unknown>)[k]);
      if (x !== undefined) out[k] = x;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v === null ? undefined : v;
}

/** FNV-1a, 32 bit, over `bytes` starting from `h` (hand-written: five lines, no library needed). */
function fnv1a32(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** Upstream rand.SafeEncodeString: each character mapped into the safe alphabet. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/**
 * The pod-template-hash for `template` (the Deployment's, without the hash label) and the
 * Deployment's status.collisionCount (undefined when never set). Deterministic.
 */
export function computeHash(template: Template, collisionCount?: number): string {
  let h = fnv1a32(new TextEncoder().encode(JSON.stringify(canonical(template) ?? {})));
  if (collisionCount !== undefined) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv1a32(b, h);
  }
  return safeEncodeString(String(h));
}

/** The template without the pod-template-hash label, canonicalised. */
function withoutHash(t: Template): unknown {
  if (!t) return undefined;
  const labels: Record<string, string> = { ...(t.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return canonical({ ...t, metadata: { ...t.metadata, labels } });
}

/**
 * Whether two templates are equal apart from the pod-template-hash label (upstream
 * EqualIgnoreHash; nil and empty maps/lists count as equal, as upstream's semantic equality).
 */
export function equalIgnoreHash(a: Template, b: Template): boolean {
  return JSON.stringify(withoutHash(a) ?? null) === JSON.stringify(withoutHash(b) ?? null);
}
