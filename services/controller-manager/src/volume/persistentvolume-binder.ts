/**
 * The PersistentVolume binder (upstream pkg/controller/volume/persistentvolume pv_controller.go,
 * "persistentvolume-binder-controller"): binds claims to volumes and releases volumes whose
 * claim is gone.
 *
 * Keys: `claim:<ns>/<name>` and `volume:<name>` on one queue with one worker, so two claims
 * never race for the same volume; a volume this controller just wrote is remembered until the
 * informer catches up (upstream's assume cache). Every object is re-synced every 15 s (upstream
 * --pvclaimbinder-sync-period); in addition a volume that appears or changes re-queues the
 * claims still waiting, so a new PV binds at once rather than on the next resync.
 *
 * Claim without `pv.kubernetes.io/bind-completed` (syncUnboundClaim):
 * - no spec.volumeName: the best Available volume (below) is bound; none: a claim with a
 *   storage class gets Warning ProvisioningFailed (`storageclass.storage.k8s.io "<c>" not
 *   found`: tskube serves no StorageClasses, so nothing is provisioned), one without gets
 *   Normal FailedBinding "no persistent volumes available for this claim and no storage class
 *   is set" and stays Pending.
 * - spec.volumeName (pre-bound by the user): the named volume is bound if it is free and
 *   satisfies the claim (else Warning VolumeMismatch `Cannot bind to requested volume "<v>":
 *   <why>`), or if it already points at this claim; bound elsewhere: Warning FailedBinding
 *   `volume "<v>" already bound to a different claim.`; missing: stays Pending.
 * Claim with bind-completed (syncBoundClaim): Lost with Warning ClaimLost when its volume is
 * gone (or volumeName was cleared), ClaimMisbound when the volume is bound to another claim;
 * otherwise the binding is completed/confirmed (idempotent).
 *
 * Best volume (upstream FindMatchingVolume over access-mode groups): a volume pre-bound to the
 * claim (claimRef name/namespace, and uid if set) wins; otherwise among Available volumes
 * without claimRef or deletionTimestamp, with the same class (annotation
 * volume.beta.kubernetes.io/storage-class, else spec.storageClassName; unset and "" are the
 * same class, as without a default StorageClass upstream), the same volumeMode, labels matching
 * the claim's selector and capacity ≥ the request: first the group with the fewest access modes
 * that still holds all the claim's modes, and in it the smallest capacity.
 *
 * Binding (upstream bind): pv.spec.claimRef (kind, namespace, name, uid, apiVersion,
 * resourceVersion) and `pv.kubernetes.io/bound-by-controller: "yes"` unless the user pre-bound
 * it; pv.status.phase Bound; pvc.spec.volumeName, `pv.kubernetes.io/bind-completed: "yes"` and
 * bound-by-controller unless the user named the volume; pvc.status phase Bound, accessModes and
 * (when becoming Bound) capacity from the volume. Each write is skipped when nothing changes.
 *
 * Volume (syncVolume): no claimRef, or a claimRef without uid (pre-bound, waiting): Available.
 * claimRef to a claim that no longer exists (looked up in the cache, then live) or was
 * recreated (other uid): Released, then reclaimed: Retain keeps it; Delete deletes the PV
 * object (tskube has no volume plugins: nothing on disk is removed; a PV with
 * `pv.kubernetes.io/provisioned-by` is left to its external provisioner); Recycle fails the
 * volume (Warning VolumeFailedRecycle "No recycler plugin found for the volume!").
 * Claim bound to this volume: Bound. Claim bound elsewhere: the volume is unbound (claimRef
 * dropped if the controller set it, only its uid if the user pre-bound it) and Available.
 *
 * Left out: dynamic provisioning and StorageClasses (WaitForFirstConsumer, default class),
 * node affinity (the scheduler's volume binding), VolumeAttributesClasses, protection finalizers.
 */
import { fromLabelSelector, isApiError, matches, parseQuantity, rfc3339, type PersistentVolume, type PersistentVolumeClaim } from '@tskube/api';
import {
  Resources, WorkQueue, type DeepReadonly, type Informer, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
const COMPONENT = 'persistentvolume-controller';
const RESYNC_MS = 15_000;

type RoPV = DeepReadonly<PersistentVolume>;
type RoPVC = DeepReadonly<PersistentVolumeClaim>;

export interface PersistentVolumeBinderOptions extends ControllerOptions {
  /** Full resync period (default 15 s). */
  resyncMs?: number;
}

export function claimClass(c: RoPVC): string {
  return c.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS] ?? c.spec?.storageClassName ?? '';
}
export function volumeClass(v: RoPV): string {
  return v.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS] ?? v.spec?.storageClassName ?? '';
}
const storageOf = (q: Readonly<Record<string, string | number>> | undefined): number => {
  const s = q?.storage;
  return s === undefined ? 0 : parseQuantity(s);
};
const modeMismatch = (c: RoPVC, v: RoPV) => (c.spec?.volumeMode ?? 'Filesystem') !== (v.spec?.volumeMode ?? 'Filesystem');
/** upstream CheckAccessModes: the volume offers every mode the claim asks for. */
const accessModesOk = (c: RoPVC, v: RoPV) => (c.spec?.accessModes ?? []).every((m) => (v.spec?.accessModes ?? []).includes(m));
const hasAnn = (o: { metadata?: { annotations?: Readonly<Record<string, string>> } }, k: string) => o.metadata?.annotations?.[k] !== undefined;
const claimKey = (c: RoPVC) => `${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`;

/** upstream IsVolumeBoundToClaim: claimRef names the claim (and its uid, when the ref has one). */
export function isVolumeBoundToClaim(v: RoPV, c: RoPVC): boolean {
  const ref = v.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== c.metadata?.name || ref.namespace !== c.metadata?.namespace) return false;
  return !ref.uid || ref.uid === c.metadata?.uid;
}

/** See the file comment ("Best volume"). */
export function findBestMatch(claim: RoPVC, volumes: readonly RoPV[]): RoPV | undefined {
  const requested = storageOf(claim.spec?.resources?.requests);
  const cls = claimClass(claim);
  const selector = claim.spec?.selector ? fromLabelSelector(claim.spec.selector as Parameters<typeof fromLabelSelector>[0]) : null;
  const wanted = claim.spec?.accessModes ?? [];
  // access-mode groups holding every wanted mode, fewest modes first (upstream allPossibleMatchingAccessModes)
  const groups = new Map<string, RoPV[]>();
  for (const v of volumes) {
    const modes = [...new Set(v.spec?.accessModes ?? [])].sort();
    if (!wanted.every((m) => modes.includes(m))) continue;
    const k = modes.join(',');
    groups.set(k, [...(groups.get(k) ?? []), v]);
  }
  const ordered = [...groups.entries()].sort((a, b) => a[0].split(',').length - b[0].split(',').length || a[0].localeCompare(b[0]));
  for (const [, group] of ordered) {
    let best: RoPV | undefined;
    for (const v of [...group].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
      if (v.spec?.claimRef && !isVolumeBoundToClaim(v, claim)) continue;
      const size = storageOf(v.spec?.capacity);
      if (size < requested || modeMismatch(claim, v) || v.metadata?.deletionTimestamp) continue;
      if (isVolumeBoundToClaim(v, claim)) return v;
      if (v.status?.phase !== 'Available') continue;
      if (claim.spec?.selector && (!selector || !matches(selector, v.metadata?.labels ?? {}))) continue;
      if (volumeClass(v) !== cls) continue;
      if (!best || storageOf(best.spec?.capacity) > size) best = v;
    }
    if (best) return best;
  }
  return undefined;
}

/** Why a named volume cannot serve the claim (upstream checkVolumeSatisfyClaim), or undefined. */
export function volumeMismatch(v: RoPV, c: RoPVC): string | undefined {
  if (v.metadata?.deletionTimestamp) return `the volume is marked for deletion "${v.metadata.name ?? ''}"`;
  if (storageOf(v.spec?.capacity) < storageOf(c.spec?.resources?.requests)) return 'requested PV is too small';
  if (volumeClass(v) !== claimClass(c)) return 'storageClassName does not match';
  if (modeMismatch(c, v)) return 'incompatible volumeMode';
  if (!accessModesOk(c, v)) return 'incompatible accessMode';
  return undefined;
}

export class PersistentVolumeBinder {
  readonly queue: WorkQueue<string>;
  private readonly volumes: Informer<PersistentVolume>;
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly log: Logger;
  private readonly now: () => Date;
  /** Volumes written by this controller that the informer has not shown yet (upstream assume cache). */
  private readonly assumed = new Map<string, PersistentVolume>();

  constructor(private readonly o: PersistentVolumeBinderOptions) {
    this.log = o.logger;
    this.now = o.now ?? (() => new Date());
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'persistentvolume-binder' });
    this.volumes = o.informers.informer(Resources.persistentVolumes);
    this.claims = o.informers.informer(Resources.persistentVolumeClaims);
    const volumeChanged = (v: RoPV) => {
      this.forgetAssumed(v);
      this.queue.add(`volume:${v.metadata?.name ?? ''}`);
      this.enqueueWaitingClaims();
    };
    this.volumes.addEventHandler({
      onAdd: volumeChanged,
      onUpdate: (_old, v) => volumeChanged(v),
      onDelete: (v) => {
        this.assumed.delete(v.metadata?.name ?? '');
        const ref = v.spec?.claimRef;
        if (ref?.name) this.queue.add(`claim:${ref.namespace ?? ''}/${ref.name}`);
      },
    });
    this.claims.addEventHandler({
      onAdd: (c) => this.queue.add(`claim:${claimKey(c)}`),
      onUpdate: (_old, c) => this.queue.add(`claim:${claimKey(c)}`),
      onDelete: (c) => {
        const v = c.spec?.volumeName;
        if (v) this.queue.add(`volume:${v}`);
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    const timer = setInterval(() => {
      for (const v of this.volumes.lister.list()) this.queue.add(`volume:${v.metadata?.name ?? ''}`);
      for (const c of this.claims.lister.list()) this.queue.add(`claim:${claimKey(c)}`);
    }, this.o.resyncMs ?? RESYNC_MS);
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    return runWorkers({
      name: 'persistentvolume-binder-controller', queue: this.queue, workers: 1, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  /** `claim:<ns>/<name>` or `volume:<name>`; idempotent; throws (retried) on a failed write. */
  async reconcile(key: string): Promise<ReconcileResult> {
    if (key.startsWith('volume:')) {
      const v = this.volume(key.slice('volume:'.length));
      if (v) await this.syncVolume(v);
      return;
    }
    const [ns, name] = key.slice('claim:'.length).split('/') as [string, string];
    const c = this.claims.lister.getByName(ns, name);
    if (!c) return;
    if (hasAnn(c, ANN_BIND_COMPLETED)) await this.syncBoundClaim(c);
    else await this.syncUnboundClaim(c);
  }

  // ---- the volume cache -----------------------------------------------------------------

  private volume(name: string): RoPV | undefined {
    return this.assumed.get(name) ?? this.volumes.lister.getByName(undefined, name);
  }

  private allVolumes(): RoPV[] {
    return this.volumes.lister.list().map((v) => this.assumed.get(v.metadata?.name ?? '') ?? v);
  }

  private assume(v: PersistentVolume): void {
    this.assumed.set(v.metadata?.name ?? '', v);
  }

  /** Drops an assumed volume once the informer holds that version or a later one. */
  private forgetAssumed(v: RoPV): void {
    const name = v.metadata?.name ?? '';
    const mine = this.assumed.get(name);
    if (!mine) return;
    const a = Number(mine.metadata?.resourceVersion);
    const b = Number(v.metadata?.resourceVersion);
    if (!Number.isFinite(a) || !Number.isFinite(b) || b >= a) this.assumed.delete(name);
  }

  private enqueueWaitingClaims(): void {
    for (const c of this.claims.lister.list()) {
      if (!hasAnn(c, ANN_BIND_COMPLETED)) this.queue.add(`claim:${claimKey(c)}`);
    }
  }

  // ---- claims ---------------------------------------------------------------------------

  private async syncUnboundClaim(c: RoPVC): Promise<void> {
    const wantVolume = c.spec?.volumeName;
    if (!wantVolume) {
      const v = findBestMatch(c, this.allVolumes());
      if (v) return this.bind(v, c);
      const cls = claimClass(c);
      if (cls) {
        this.o.recorder.event(c, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${cls}" not found`);
        return;
      }
      this.o.recorder.event(c, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      await this.updateClaimStatus(c, 'Pending', undefined);
      return;
    }
    const v = this.volume(wantVolume);
    if (!v) {
      await this.updateClaimStatus(c, 'Pending', undefined);
      return;
    }
    if (!v.spec?.claimRef) {
      const why = volumeMismatch(v, c);
      if (why) {
        this.o.recorder.event(c, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${wantVolume}": ${why}`);
        await this.updateClaimStatus(c, 'Pending', undefined);
        return;
      }
      return this.bind(v, c);
    }
    if (isVolumeBoundToClaim(v, c)) return this.bind(v, c);
    if (!hasAnn(c, ANN_BOUND_BY_CONTROLLER)) {
      this.o.recorder.event(c, 'Warning', 'FailedBinding', `volume "${wantVolume}" already bound to a different claim.`);
      await this.updateClaimStatus(c, 'Pending', undefined);
      return;
    }
    throw new Error(`invalid binding of claim "${claimKey(c)}" to volume "${wantVolume}": volume already claimed by "${v.spec.claimRef.namespace ?? ''}/${v.spec.claimRef.name ?? ''}"`);
  }

  private async syncBoundClaim(c: RoPVC): Promise<void> {
    const name = c.spec?.volumeName;
    if (!name) {
      await this.claimLost(c, 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return;
    }
    const v = this.volume(name);
    if (!v) {
      await this.claimLost(c, 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return;
    }
    if (!v.spec?.claimRef || v.spec.claimRef.uid === c.metadata?.uid) return this.bind(v, c);
    await this.claimLost(c, 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  private async claimLost(c: RoPVC, reason: string, message: string): Promise<void> {
    if (c.status?.phase !== 'Lost') this.o.recorder.event(c, 'Warning', reason, message);
    await this.updateClaimStatus(c, 'Lost', undefined);
  }

  // ---- binding --------------------------------------------------------------------------

  /** upstream bind: volume spec, volume phase, claim spec, claim status; each only when it changes. */
  private async bind(volume: RoPV, claim: RoPVC): Promise<void> {
    const v = await this.bindVolumeToClaim(volume, claim);
    const bound = await this.updateVolumePhase(v, 'Bound', undefined);
    const c = await this.bindClaimToVolume(claim, bound);
    await this.updateClaimStatus(c, 'Bound', bound);
    this.log.info('bound claim to volume', { claim: claimKey(claim), volume: volume.metadata?.name });
  }

  private async bindVolumeToClaim(volume: RoPV, claim: RoPVC): Promise<RoPV> {
    const setByController = !isVolumeBoundToClaim(volume, claim);
    const ref = volume.spec?.claimRef;
    const next = structuredClone(volume) as PersistentVolume;
    let dirty = false;
    if (!ref || ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace || ref.uid !== claim.metadata?.uid) {
      next.spec = {
        ...next.spec,
        claimRef: {
          kind: 'PersistentVolumeClaim', namespace: claim.metadata?.namespace, name: claim.metadata?.name,
          uid: claim.metadata?.uid, apiVersion: 'v1', resourceVersion: claim.metadata?.resourceVersion,
        },
      };
      dirty = true;
    }
    if (setByController && !hasAnn(next, ANN_BOUND_BY_CONTROLLER)) {
      next.metadata = { ...next.metadata, annotations: { ...next.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' } };
      dirty = true;
    }
    if (!dirty) return volume;
    const out = await this.o.client.resource(Resources.persistentVolumes).update(next);
    this.assume(out);
    return out;
  }

  private async bindClaimToVolume(claim: RoPVC, volume: RoPV): Promise<RoPVC> {
    const name = volume.metadata?.name ?? '';
    const setByController = claim.spec?.volumeName !== name;
    const next = structuredClone(claim) as PersistentVolumeClaim;
    const ann = { ...next.metadata?.annotations };
    let dirty = false;
    if (next.spec?.volumeName !== name) {
      next.spec = { ...next.spec, volumeName: name };
      dirty = true;
    }
    if (setByController && ann[ANN_BOUND_BY_CONTROLLER] === undefined) { ann[ANN_BOUND_BY_CONTROLLER] = 'yes'; dirty = true; }
    if (ann[ANN_BIND_COMPLETED] === undefined) { ann[ANN_BIND_COMPLETED] = 'yes'; dirty = true; }
    if (!dirty) return claim;
    next.metadata = { ...next.metadata, annotations: ann };
    return this.o.client.resource(Resources.persistentVolumeClaims).update(next);
  }

  /** upstream updateClaimStatus: phase, accessModes/capacity from the volume (reset without one). */
  private async updateClaimStatus(claim: RoPVC, phase: string, volume: RoPV | undefined): Promise<RoPVC> {
    const next = structuredClone(claim) as PersistentVolumeClaim;
    const status = { ...next.status };
    let dirty = false;
    if (status.phase !== phase) { status.phase = phase; dirty = true; }
    if (!volume) {
      if (status.accessModes) { delete status.accessModes; dirty = true; }
      if (status.capacity) { delete status.capacity; dirty = true; }
    } else {
      const modes = volume.spec?.accessModes ? [...volume.spec.accessModes] : undefined;
      if (JSON.stringify(status.accessModes) !== JSON.stringify(modes)) {
        if (modes) status.accessModes = modes; else delete status.accessModes;
        dirty = true;
      }
      // capacity only when becoming Bound: a deliberate difference is not clobbered (as upstream)
      if (claim.status?.phase !== phase && volume.spec?.capacity?.storage !== undefined) {
        const have = claim.status?.capacity?.storage;
        if (have === undefined || parseQuantity(have) !== parseQuantity(volume.spec.capacity.storage)) {
          status.capacity = { ...volume.spec.capacity } as Record<string, string>;
          dirty = true;
        }
      }
    }
    if (!dirty) return claim;
    return this.o.client.resource(Resources.persistentVolumeClaims).updateStatus({ ...next, status });
  }

  /** upstream updateVolumePhase: phase and message; lastPhaseTransitionTime when the phase changes. */
  private async updateVolumePhase(volume: RoPV, phase: string, message: string | undefined): Promise<RoPV> {
    if (volume.status?.phase === phase && volume.status?.message === message) return volume;
    const next = structuredClone(volume) as PersistentVolume;
    const status = { ...next.status };
    if (status.phase !== phase) status.lastPhaseTransitionTime = rfc3339(this.now());
    status.phase = phase;
    if (message) status.message = message; else delete status.message;
    const out = await this.o.client.resource(Resources.persistentVolumes).updateStatus({ ...next, status });
    this.assume(out);
    return out;
  }

  // ---- volumes --------------------------------------------------------------------------

  private async syncVolume(v: RoPV): Promise<void> {
    const ref = v.spec?.claimRef;
    if (!ref || !ref.uid) {
      await this.updateVolumePhase(v, 'Available', undefined);
      return;
    }
    let claim = await this.findClaim(ref.namespace ?? '', ref.name ?? '');
    if (claim && claim.metadata?.uid !== ref.uid) claim = undefined; // deleted and recreated
    if (!claim) {
      const released = v.status?.phase === 'Released' || v.status?.phase === 'Failed' ? v : await this.updateVolumePhase(v, 'Released', undefined);
      await this.reclaim(released);
      return;
    }
    if (!claim.spec?.volumeName) {
      // bound by the controller but the claim not yet (or pre-bound by the user): the claim's sync finishes it
      if (hasAnn(v, ANN_BOUND_BY_CONTROLLER)) this.queue.add(`claim:${claimKey(claim)}`);
      return;
    }
    if (claim.spec.volumeName === v.metadata?.name) {
      await this.updateVolumePhase(v, 'Bound', undefined);
      return;
    }
    // the claim is bound to another volume: unbind this one
    const next = structuredClone(v) as PersistentVolume;
    if (hasAnn(v, ANN_BOUND_BY_CONTROLLER)) {
      delete next.spec!.claimRef;
      const ann = { ...next.metadata?.annotations };
      delete ann[ANN_BOUND_BY_CONTROLLER];
      next.metadata = { ...next.metadata, annotations: ann };
    } else {
      next.spec = { ...next.spec, claimRef: { ...next.spec?.claimRef, uid: '' } };
    }
    const out = await this.o.client.resource(Resources.persistentVolumes).update(next);
    this.assume(out);
    await this.updateVolumePhase(out, 'Available', undefined);
  }

  /** The claim from the cache, else read live (the cache may not have seen a new claim yet). */
  private async findClaim(namespace: string, name: string): Promise<RoPVC | undefined> {
    const cached = this.claims.lister.getByName(namespace, name);
    if (cached) return cached;
    try {
      return await this.o.client.resource(Resources.persistentVolumeClaims).get(namespace, name);
    } catch (e) {
      if (isApiError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  private async reclaim(v: RoPV): Promise<void> {
    const name = v.metadata?.name ?? '';
    switch (v.spec?.persistentVolumeReclaimPolicy ?? 'Retain') {
      case 'Retain':
        return;
      case 'Delete': {
        if (v.status?.phase !== 'Released' || hasAnn(v, ANN_PROVISIONED_BY)) return;
        try {
          await this.o.client.resource(Resources.persistentVolumes).delete(name, { preconditions: { uid: v.metadata?.uid ?? '' } });
          this.assumed.delete(name);
          this.log.info('deleted released volume', { volume: name });
        } catch (e) {
          if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
        }
        return;
      }
      case 'Recycle':
        if (v.status?.phase === 'Failed') return;
        this.o.recorder.event(v, 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
        await this.updateVolumePhase(v, 'Failed', 'No recycler plugin found for the volume!');
        return;
      default:
        this.o.recorder.event(v, 'Warning', 'VolumeUnknownReclaimPolicy', 'Volume has unrecognized PersistentVolumeReclaimPolicy');
        await this.updateVolumePhase(v, 'Failed', 'Volume has unrecognized PersistentVolumeReclaimPolicy');
    }
  }
}

/** The unit the controller-manager runs (events as upstream's "persistentvolume-controller"). */
export const persistentVolumeBinderController: Controller = {
  name: 'persistentvolume-binder-controller',
  aliases: ['persistentvolume-binder'],
  async start(ctx) {
    const c = new PersistentVolumeBinder({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder(COMPONENT),
      queue: ctx.newQueue('persistentvolume-binder'), metrics: ctx.metrics, now: ctx.now,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
