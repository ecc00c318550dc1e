/**
 * Lease-based leader election (client-go tools/leaderelection with a coordination.k8s.io/v1
 * Lease lock).
 *
 * A candidate tries every retryPeriod (with jitter) to take the Lease: it may when the Lease
 * is absent, released (no holder), already its own, or when the record has not changed for
 * `leaseDurationSeconds` as measured on the candidate's own clock since it first saw that
 * record (so clock skew between hosts does not matter). Writes are compare-and-swap on
 * resourceVersion, so two candidates can never both succeed.
 *
 * Once leading, `onStartedLeading(signal)` runs and the leader renews every retryPeriod. If
 * it cannot renew for renewDeadline, or sees another holder, it stops leading: the signal
 * passed to onStartedLeading aborts and `onStoppedLeading()` is called. `run` then resolves;
 * a process normally exits at that point (a restarted one becomes a candidate again).
 */
import type { Lease } from '@tskube/api';
import { isApiError, microTime } from '@tskube/api';
import type { Logger } from '@tskube/log';
import { jitter, sleep } from './backoff.js';
import type { Client } from './client.js';
import { Resources } from './types.js';

export interface LeaderElectionOptions {
  client: Client;
  /** The Lease's namespace and name, e.g. kube-system / kube-scheduler. */
  namespace: string;
  name: string;
  /** Unique per candidate, e.g. `${hostname}_${uuid}`. */
  identity: string;
  /** How long a lease is valid without renewal; 15 s. Stored in whole seconds (at least 1). */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying renewal before giving up; 10 s. */
  renewDeadlineMs?: number;
  /** Time between attempts; 2 s. */
  retryPeriodMs?: number;
  /** Called when this candidate becomes leader. `signal` aborts when leadership ends. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once after leadership ends (only if onStartedLeading was called). */
  onStoppedLeading?: () => void;
  /** Called when the observed leader changes (including to this candidate). */
  onNewLeader?: (identity: string) => void;
  /** On `run`'s signal aborting while leading, clear the holder so a successor need not wait. */
  releaseOnCancel?: boolean;
  logger: Logger;
  /** Clock (ms). */
  now?: () => number;
}

const JITTER = 1.2;

export class LeaderElector {
  private observedSpec = '';
  private observedAt = 0;
  private observedHolder = '';
  private observedLease: Lease | undefined;
  private leading = false;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.log = opts.logger.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.now = opts.now ?? Date.now;
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (this.leaseMs <= this.renewMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewMs <= this.retryMs * JITTER) throw new Error('renewDeadline must be greater than retryPeriod*1.2');
  }

  /** True while this candidate holds the lease. */
  isLeader(): boolean { return this.leading; }

  /** The holder last observed ("" when none). */
  getLeader(): string { return this.observedHolder; }

  /** Campaigns, leads, and resolves when leadership is lost or `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.acquire(signal))) return;
    const leadership = new AbortController();
    this.leading = true;
    this.log.info('became leader');
    let callback: Promise<void> = Promise.resolve();
    try {
      callback = Promise.resolve()
        .then(() => this.opts.onStartedLeading(leadership.signal))
        .catch((e: unknown) => { this.log.error('onStartedLeading failed', { err: e }); });
      await this.renew(signal);
    } finally {
      this.leading = false;
      leadership.abort();
      if (signal.aborted && this.opts.releaseOnCancel) await this.release();
      this.log.info('stopped leading');
      try { this.opts.onStoppedLeading?.(); } catch (e) { this.log.error('onStoppedLeading failed', { err: e }); }
      void callback;
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(signal)) return true;
      await sleep(jitter(this.retryMs, JITTER), signal);
    }
    return false;
  }

  /** Renews every retryPeriod; returns when renewal failed for renewDeadline, another holder appeared, or signal aborted. */
  private async renew(signal: AbortSignal): Promise<void> {
    let lastRenew = this.now();
    while (!signal.aborted) {
      await sleep(this.retryMs, signal);
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew(signal)) {
        lastRenew = this.now();
        continue;
      }
      if (this.observedHolder && this.observedHolder !== this.opts.identity) {
        this.log.info('lease taken by another holder', { holder: this.observedHolder });
        return;
      }
      if (this.now() - lastRenew >= this.renewMs) {
        this.log.warn('failed to renew lease within the renew deadline', { renewDeadlineMs: this.renewMs });
        return;
      }
    }
  }

  private observe(lease: Lease): void {
    const spec = JSON.stringify(lease.spec ?? {});
    if (spec !== this.observedSpec) {
      this.observedSpec = spec;
      this.observedAt = this.now();
    }
    this.observedLease = lease;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      if (holder) {
        try { this.opts.onNewLeader?.(holder); } catch (e) { this.log.error('onNewLeader failed', { err: e }); }
      }
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const leases = this.opts.client.resource(Resources.leases);
    const nowMs = this.now();
    const stamp = microTime(new Date(nowMs));
    const durationSeconds = Math.max(1, Math.ceil(this.leaseMs / 1000));
    const timeoutMs = Math.max(1, Math.min(this.renewMs, this.retryMs * 2));
    let current: Lease;
    try {
      current = await leases.get(this.opts.namespace, this.opts.name, { signal, timeoutMs });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) {
        if (!signal.aborted) this.log.warn('error retrieving lease', { err: e });
        return false;
      }
      try {
        const created = await leases.create(this.opts.namespace, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: {
            holderIdentity: this.opts.identity, leaseDurationSeconds: durationSeconds,
            acquireTime: stamp, renewTime: stamp, leaseTransitions: 0,
          },
        }, { signal, timeoutMs });
        this.observe(created);
        return true;
      } catch (ce) {
        if (!isApiError(ce, 'AlreadyExists') && !signal.aborted) this.log.warn('error creating lease', { err: ce });
        return false;
      }
    }
    this.observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const isMine = holder === this.opts.identity;
    const validForMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder && !isMine && this.observedAt + validForMs > this.now()) return false;

    const next: Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: stamp,
        acquireTime: isMine ? spec.acquireTime ?? stamp : stamp,
        leaseTransitions: isMine ? spec.leaseTransitions ?? 0 : (spec.leaseTransitions ?? 0) + (holder ? 1 : 0),
      },
    };
    try {
      const updated = await leases.update(next, { signal, timeoutMs });
      this.observe(updated);
      return true;
    } catch (e) {
      if (!isApiError(e, 'Conflict') && !signal.aborted) this.log.warn('error updating lease', { err: e });
      return false;
    }
  }

  /** Clears the holder (best effort), so another candidate can take over at once. */
  private async release(): Promise<void> {
    const lease = this.observedLease;
    if (!lease || lease.spec?.holderIdentity !== this.opts.identity) return;
    const stamp = microTime(new Date(this.now()));
    try {
      const updated = await this.opts.client.resource(Resources.leases).update({
        ...lease,
        spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: stamp, acquireTime: stamp },
      }, { timeoutMs: this.retryMs });
      this.observe(updated);
    } catch (e) {
      this.log.warn('failed to release lease', { err: e });
    }
  }
}

/** Convenience: `new LeaderElector(opts).run(signal)`. */
export function runLeaderElection(opts: LeaderElectionOptions, signal: AbortSignal): Promise<void> {
  return new LeaderElector(opts).run(signal);
}
