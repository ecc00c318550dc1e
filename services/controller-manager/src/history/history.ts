/**
 * ControllerRevision history shared by the DaemonSet and StatefulSet controllers (upstream
 * pkg/controller/history plus the getPatch/ApplyRevision/truncate helpers both controllers
 * carry).
 *
 * - A revision's `data` is the patch upstream stores: `{"spec":{"template":{…,"$patch":"replace"}}}`,
 *   the owner's pod template marked for wholesale replacement. Here it is built and compared
 *   in canonical form (object keys sorted at every level, as Go's map marshalling does), so a
 *   revision read back from the apiserver compares equal to a freshly built one.
 * - Names are `<owner>-<hash>` (the owner name cut to 223 characters). The revision hash
 *   (`controller.kubernetes.io/hash` label) is FNV-1 32 over the canonical data plus the
 *   decimal collisionCount, rendered with rand.SafeEncodeString, as upstream
 *   HashControllerRevision. (The DaemonSet names its revisions with the pod-template hash
 *   instead, as upstream; see daemonset/.)
 * - `ControllerHistory` lists the revisions an owner may use (selector-matching, owned by it
 *   or orphaned), adopts orphans, creates with collision handling, renumbers and deletes.
 *   Everything else here is pure.
 */
import { isApiError, matches, type ControllerRevision, type Selector } from '@tskube/api';
import { Resources, clone, type Client, type DeepReadonly, type Informer } from '@tskube/client';
import { safeEncodeString } from '../util/hash.js';
import { controllerOf, newControllerRef } from '../util/owners.js';

export type RoRevision = DeepReadonly<ControllerRevision>;

/** Upstream history.ControllerRevisionHashLabel (on revisions). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** Upstream apps.ControllerRevisionHashLabelKey: on DaemonSet and StatefulSet pods. */
export const POD_REVISION_LABEL = 'controller-revision-hash';

interface Owner {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string };
}

/** JSON with object keys sorted at every level (Go's encoding of map[string]interface{}). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/**
 * The revision data for a pod template (upstream getPatch of StatefulSet and DaemonSet): the
 * template with `$patch: replace`, under spec.template, keys sorted.
 */
export function templatePatch(template: unknown): Record<string, unknown> {
  const t = template !== null && typeof template === 'object' ? { ...(template as Record<string, unknown>) } : {};
  t.$patch = 'replace';
  return JSON.parse(canonicalJson({ spec: { template: t } })) as Record<string, unknown>;
}

/** The pod template a revision's data restores (upstream ApplyRevision); undefined if it holds none. */
export function templateOfRevision<T>(rev: RoRevision): T | undefined {
  const data = rev.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const t = data?.spec?.template;
  if (!t || typeof t !== 'object') return undefined;
  const out = clone(t) as Record<string, unknown>;
  delete out.$patch;
  return out as T;
}

/** Whether a stored revision holds exactly `data` (upstream bytes.Equal on Data.Raw). */
export function sameData(rev: RoRevision, data: unknown): boolean {
  return canonicalJson(rev.data ?? null) === canonicalJson(data ?? null);
}

/** `<prefix>-<hash>` with the prefix cut to 223 characters (upstream ControllerRevisionName). */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** FNV-1 (not 1a), 32 bit (hand-written: a loop; upstream hash/fnv New32). */
function fnv1_32(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = (Math.imul(h, 0x01000193) ^ b) >>> 0;
  return h >>> 0;
}

/** Upstream HashControllerRevision: FNV-1 over the data, then the decimal probe (collisionCount). */
export function hashRevisionData(data: unknown, probe?: number): string {
  const enc = new TextEncoder();
  let h = fnv1_32(enc.encode(canonicalJson(data ?? null)));
  if (probe !== undefined) h = fnv1_32(enc.encode(String(probe)), h);
  return safeEncodeString(String(h));
}

/**
 * A revision (not yet stored) owned by `parent` (upstream NewControllerRevision): labels are
 * the template's plus the hash label, a controller reference, `data`, `revision`; named
 * `<parent>-<hash of data and collisionCount>`.
 */
export function newControllerRevision(
  parent: Owner, gvk: { apiVersion: string; kind: string }, templateLabels: Readonly<Record<string, string>> | undefined,
  data: unknown, revision: number, collisionCount: number | undefined,
): ControllerRevision {
  const hash = hashRevisionData(data, collisionCount);
  return {
    apiVersion: 'apps/v1', kind: 'ControllerRevision',
    metadata: {
      name: revisionName(parent.metadata?.name ?? '', hash),
      namespace: parent.metadata?.namespace,
      labels: { ...(templateLabels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [newControllerRef(parent, gvk)],
    },
    data: clone(data) as ControllerRevision['data'],
    revision,
  };
}

/** Sorted by revision, then creation time, then name (upstream SortControllerRevisions); a new array. */
export function sortRevisions<R extends RoRevision>(revs: readonly R[]): R[] {
  return [...revs].sort((a, b) => {
    if (a.revision !== b.revision) return a.revision - b.revision;
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/**
 * Same data (upstream EqualRevision; its hash-label short cut only applies to numeric labels,
 * which SafeEncodeString output practically never is, so the data decides).
 */
export function equalRevision(a: RoRevision, b: RoRevision): boolean {
  return sameData(a, b.data);
}

/** The revisions equal to `needle`, in their order (upstream FindEqualRevisions). */
export function findEqualRevisions<R extends RoRevision>(revs: readonly R[], needle: RoRevision): R[] {
  return revs.filter((r) => equalRevision(r, needle));
}

/** One more than the highest revision number, 1 for none (upstream nextRevision / maxRevision+1). */
export function nextRevision(revs: readonly RoRevision[]): number {
  return revs.reduce((m, r) => Math.max(m, r.revision), 0) + 1;
}

/**
 * The revisions to delete to keep at most `limit` non-live ones: non-live revisions (not
 * named in `live`), oldest first (upstream StatefulSet truncateHistory; `revs` sorted).
 */
export function revisionsToPrune<R extends RoRevision>(revs: readonly R[], live: ReadonlySet<string>, limit: number): R[] {
  const history = revs.filter((r) => !live.has(r.metadata?.name ?? ''));
  return history.length <= limit ? [] : history.slice(0, history.length - limit);
}

/**
 * Reads and writes an owner's ControllerRevisions. Reads come from the shared informer
 * (callers must have waited for it to sync); writes go through the client.
 */
export class ControllerHistory {
  constructor(private readonly client: Client, private readonly informer: Informer<ControllerRevision>) {}

  /**
   * Revisions in the owner's namespace matching `selector` that the owner controls or that no
   * one controls (upstream ListControllerRevisions). An empty selector matches nothing.
   */
  list(owner: Owner, selector: Selector): RoRevision[] {
    if (selector.length === 0) return [];
    return this.informer.lister.listNamespace(owner.metadata?.namespace ?? '').filter((r) => {
      if (!matches(selector, r.metadata?.labels)) return false;
      const ref = controllerOf(r);
      return !ref || ref.uid === owner.metadata?.uid;
    });
  }

  /** Revisions whose controller reference points at `owner`, whatever their labels. */
  owned(owner: Owner): RoRevision[] {
    return this.informer.lister.listNamespace(owner.metadata?.namespace ?? '')
      .filter((r) => controllerOf(r)?.uid === owner.metadata?.uid);
  }

  /**
   * Stores `rev` under `<owner>-<hash>` (upstream CreateControllerRevision): when that name is
   * taken by a revision with the same data, that one is returned; when it holds other data,
   * `collision.count` is incremented and the next name is tried. `collision.count` is the
   * caller's collisionCount (written back to its status by the caller).
   */
  async create(owner: Owner, rev: ControllerRevision, collision: { count: number }): Promise<RoRevision> {
    const crs = this.client.resource(Resources.controllerRevisions);
    const ns = owner.metadata?.namespace ?? '';
    for (let attempt = 0; attempt < 100; attempt++) {
      const hash = hashRevisionData(rev.data, collision.count);
      const candidate: ControllerRevision = {
        ...clone(rev),
        metadata: {
          ...clone(rev.metadata ?? {}), namespace: ns, name: revisionName(owner.metadata?.name ?? '', hash),
          labels: { ...(rev.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
        },
      };
      try {
        return await crs.create(ns, candidate);
      } catch (e) {
        if (!isApiError(e, 'AlreadyExists')) throw e;
        const existing = await crs.get(ns, candidate.metadata!.name!);
        if (sameData(existing, candidate.data)) return existing;
        collision.count++;
      }
    }
    throw new Error(`too many name collisions creating a ControllerRevision for ${ns}/${owner.metadata?.name ?? ''}`);
  }

  /** Sets the revision number (upstream UpdateControllerRevision; retries conflicts from a fresh read). */
  async renumber(rev: RoRevision, revision: number): Promise<RoRevision> {
    const crs = this.client.resource(Resources.controllerRevisions);
    let cur: RoRevision = rev;
    for (let attempt = 0; ; attempt++) {
      if (cur.revision === revision) return cur;
      try {
        return await crs.update({ ...clone(cur), revision });
      } catch (e) {
        if (!isApiError(e, 'Conflict') || attempt >= 4) throw e;
        cur = await crs.get(cur.metadata?.namespace ?? '', cur.metadata?.name ?? '');
      }
    }
  }

  /** Deletes `rev`; one already gone counts as deleted. */
  async delete(rev: RoRevision): Promise<void> {
    try {
      await this.client.resource(Resources.controllerRevisions).delete(rev.metadata?.namespace ?? '', rev.metadata?.name ?? '');
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }

  /**
   * Adds a controller reference to `owner` to an orphaned revision (upstream
   * AdoptControllerRevision); a compare-and-swap on uid and resourceVersion. Throws if the
   * revision already has a controller.
   */
  async adopt(owner: Owner, gvk: { apiVersion: string; kind: string }, rev: RoRevision): Promise<RoRevision> {
    const ref = controllerOf(rev);
    if (ref) throw new Error(`attempt to adopt revision owned by ${ref.kind}/${ref.name}`);
    const refs = [...clone(rev.metadata?.ownerReferences ?? []), newControllerRef(owner, gvk)];
    return this.client.resource(Resources.controllerRevisions).patch(rev.metadata?.namespace ?? '', rev.metadata?.name ?? '', {
      metadata: { uid: rev.metadata?.uid, resourceVersion: rev.metadata?.resourceVersion, ownerReferences: refs },
    }, 'merge');
  }
}
