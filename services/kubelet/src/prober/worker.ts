/**
 * One probe worker per (pod, container, probe type) (upstream prober/worker.go). Each
 * period it reads the pod status the kubelet generated last and, per `doProbe`:
 *
 * - no status yet, or the container has no ID yet: wait;
 * - pod Succeeded/Failed: stop;
 * - a new container ID: the old result is dropped and the initial value recorded (readiness
 *   Failure, liveness Success, startup Unknown), and a hold is lifted;
 * - on hold (after a liveness/startup failure, until the container is replaced): wait;
 * - container not running: Failure (stop if it terminated and will not be restarted:
 *   restartPolicy Never, unless it is a sidecar, which restarts whatever the policy);
 * - pod being deleted: liveness/startup record Success and stop (no kills while terminating);
 * - within initialDelaySeconds of the container's start: wait;
 * - startup probes run only until the container has started, the others only after;
 * - otherwise probe; an errored probe is discarded. A result is recorded only after
 *   successThreshold successes / failureThreshold failures in a row. A liveness or startup
 *   Failure puts the worker on hold.
 *
 * `run` probes every periodSeconds (the first time after a random part of the period if the
 * kubelet started less than a period ago, as upstream) until `stop` or doProbe says stop;
 * `trigger` runs the next probe at once. Only the worker writes its results.
 */
import type { Container, ContainerStatus, Pod, PodStatus } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import { errorMessage, podRef } from '../format.js';
import { probeOf, type Probe, type ProbeRunner } from './prober.js';
import type { ProbeType, Result, ResultsManager } from './results.js';

type ReadonlyPod = DeepReadonly<Pod>;

export interface ProbeWorkerDeps {
  /** The pod status the kubelet generated last (undefined: none yet). */
  podStatus(uid: string): DeepReadonly<PodStatus> | undefined;
  runner: ProbeRunner;
  /** The results of this worker's probe type. */
  results: ResultsManager;
  clock: Clock;
  logger: Logger;
}

/** Upstream defaults, for a probe that did not go through API defaulting. */
export function probeSettings(p: DeepReadonly<Probe> | undefined): { initialDelaySeconds: number; periodSeconds: number; successThreshold: number; failureThreshold: number } {
  const pos = (v: number | undefined, d: number): number => (v !== undefined && v > 0 ? v : d);
  return {
    initialDelaySeconds: p?.initialDelaySeconds ?? 0,
    periodSeconds: pos(p?.periodSeconds, 10),
    successThreshold: pos(p?.successThreshold, 1),
    failureThreshold: pos(p?.failureThreshold, 3),
  };
}

const INITIAL: Record<ProbeType, Result> = { readiness: 'Failure', liveness: 'Success', startup: 'Unknown' };

function stripRuntime(containerID: string): string {
  const i = containerID.indexOf('://');
  return i < 0 ? containerID : containerID.slice(i + 3);
}

export class ProbeWorker {
  /** The container instance being probed ("" until one is seen). */
  containerId = '';
  private lastResult: Result | undefined;
  private resultRun = 0;
  private onHold = false;
  private readonly settings: ReturnType<typeof probeSettings>;
  private readonly stopper = new AbortController();
  private wakeUp: (() => void) | undefined;
  private triggered = false;

  constructor(
    private readonly deps: ProbeWorkerDeps,
    readonly type: ProbeType,
    /** The pod as last given to the manager; the worker reads its deletionTimestamp. */
    public pod: ReadonlyPod,
    readonly container: DeepReadonly<Container>,
  ) {
    this.settings = probeSettings(probeOf(container, type));
  }

  /** The probed container is a sidecar (an init container with restartPolicy Always). */
  get sidecar(): boolean {
    return this.container.restartPolicy === 'Always' && (this.pod.spec?.initContainers ?? []).some((c) => c.name === this.container.name);
  }

  get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  get periodMs(): number {
    return this.settings.periodSeconds * 1000;
  }

  /** Probes once and records the result; resolves whether the worker should go on. */
  async doProbe(): Promise<boolean> {
    const uid = this.pod.metadata?.uid ?? '';
    const status = this.deps.podStatus(uid);
    if (!status) return true;
    if (status.phase === 'Failed' || status.phase === 'Succeeded') return false;
    const c = findStatus(status.containerStatuses, this.container.name) ?? findStatus(status.initContainerStatuses, this.container.name);
    if (!c) return true;
    const id = stripRuntime(c.containerID ?? '');
    if (id !== this.containerId) {
      if (this.containerId) this.deps.results.remove(this.containerId);
      this.containerId = id;
      this.deps.results.set(id, INITIAL[this.type], uid);
      this.onHold = false;
    }
    if (this.onHold) return true;
    const running = c.state?.running;
    if (!running) {
      this.deps.results.set(id, 'Failure', uid);
      return c.state?.terminated === undefined || this.pod.spec?.restartPolicy !== 'Never' || this.sidecar;
    }
    if (this.pod.metadata?.deletionTimestamp && (this.type === 'liveness' || this.type === 'startup')) {
      this.deps.results.set(id, 'Success', uid);
      return false;
    }
    const startedAt = running.startedAt ? Date.parse(running.startedAt) : NaN;
    if (Number.isFinite(startedAt) && Math.trunc((this.deps.clock.now() - startedAt) / 1000) < this.settings.initialDelaySeconds) return true;
    if (c.started === true) {
      if (this.type === 'startup') return true;
    } else if (this.type !== 'startup') {
      return true;
    }
    if (this.stopped) return false;
    const r = await this.deps.runner.probe(this.type, { pod: this.pod, container: this.container, containerId: id, podIP: status.podIP ?? '' });
    if (r.errored) return true;
    // Stopped while the probe ran (the pod is terminating): record nothing.
    if (this.stopped) return false;
    if (this.lastResult === r.result) this.resultRun++;
    else { this.lastResult = r.result; this.resultRun = 1; }
    if ((r.result === 'Failure' && this.resultRun < this.settings.failureThreshold)
      || (r.result === 'Success' && this.resultRun < this.settings.successThreshold)) return true;
    this.deps.results.set(id, r.result, uid);
    if ((this.type === 'liveness' || this.type === 'startup') && r.result === 'Failure') {
      this.onHold = true;
      this.resultRun = 0;
    }
    return true;
  }

  /**
   * Probes every period until stopped. `startedAt` is when the kubelet's prober started
   * (for the initial jitter). Resolves when the worker ends; calls `onExit` first.
   */
  async run(startedAt: number, onExit: () => void): Promise<void> {
    try {
      if (this.deps.clock.now() - startedAt < this.periodMs) await this.pause(Math.random() * this.periodMs);
      while (!this.stopped) {
        let go: boolean;
        try {
          go = await this.doProbe();
        } catch (err) {
          // Upstream keeps the worker alive after a crash in doProbe.
          this.deps.logger.warn('probe worker step failed', { pod: podRef(this.pod.metadata), container: this.container.name, probe: this.type, err: errorMessage(err) });
          go = true;
        }
        if (!go) break;
        await this.pause(this.periodMs);
      }
    } finally {
      if (this.containerId) this.deps.results.remove(this.containerId);
      onExit();
    }
  }

  /** Ends the worker after its current step. Idempotent. */
  stop(): void {
    this.stopper.abort();
    this.wakeUp?.();
  }

  /** Runs the next probe now rather than at the next period (non-blocking; coalesces). */
  trigger(): void {
    this.triggered = true;
    this.wakeUp?.();
  }

  private pause(ms: number): Promise<void> {
    if (this.triggered || this.stopped) { this.triggered = false; return Promise.resolve(); }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.triggered = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

function findStatus(list: readonly DeepReadonly<ContainerStatus>[] | undefined, name: string): DeepReadonly<ContainerStatus> | undefined {
  const s = list?.find((x) => x.name === name);
  return s && s.containerID ? s : undefined;
}
