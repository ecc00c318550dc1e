/**
 * The kubelet's prober (upstream prober/prober_manager.go): probe workers per pod, their
 * results, and the views the rest of the kubelet reads.
 *
 * - `addPod(pod)`: one worker per container and probe type the spec declares (regular
 *   containers and sidecars, i.e. init containers with restartPolicy Always); idempotent: existing workers are kept (probes cannot change), only the pod
 *   they read (deletionTimestamp) is refreshed. Called on every sync of a running pod.
 * - `stopLivenessAndStartup(pod)`: at the start of termination, so nothing is killed for a
 *   failing probe while the pod shuts down; readiness keeps running until `removePod`.
 * - `removePod(uid)`: stops every worker of the pod (after its containers are stopped).
 * - Views: `livenessFailed`/`startupFailed` (computePodActions kills and restarts),
 *   `startupSucceeded` (a sidecar with a startup probe lets the next container start);
 *   `started`/`ready` (the status generator): a running container is started when its
 *   startup probe succeeded or it has none; it is ready when started and its readiness probe
 *   succeeded, or it has none. Asking about a container not ready triggers its readiness
 *   worker at once (upstream UpdatePodStatus).
 * - `onChange(uid)` is called when a result changes what the pod's sync or status would
 *   show (a liveness/startup failure, started, ready), so the kubelet re-syncs that pod.
 */
import type { Pod, PodStatus } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import { isRestartableInitContainer, type ProbeView } from '../pods/actions.js';
import type { ContainerProbeStatus } from '../status/generate.js';
import { probeOf, type ProbeRunner } from './prober.js';
import { ResultsManager, type ProbeType, type Result, type ResultChange } from './results.js';
import { ProbeWorker } from './worker.js';

type ReadonlyPod = DeepReadonly<Pod>;

/** What the pod syncer needs from the prober. */
export interface PodProber extends ProbeView, ContainerProbeStatus {
  addPod(pod: ReadonlyPod): void;
  stopLivenessAndStartup(pod: ReadonlyPod): void;
  removePod(uid: string): void;
}

export interface ProbeManagerOptions {
  runner: ProbeRunner;
  podStatus(uid: string): DeepReadonly<PodStatus> | undefined;
  clock: Clock;
  logger: Logger;
  onChange?: (podUid: string) => void;
}

const TYPES: readonly ProbeType[] = ['startup', 'readiness', 'liveness'];

function key(uid: string, container: string, type: ProbeType): string {
  return `${uid}/${container}/${type}`;
}

/** Whether a result change alters what the pod's sync or status shows. */
function matters(type: ProbeType, previous: Result | undefined, result: Result): boolean {
  const success = (r: Result | undefined): boolean => r === 'Success';
  switch (type) {
    case 'liveness': return previous === 'Failure' || result === 'Failure';
    case 'startup': return success(previous) !== success(result) || result === 'Failure';
    default: return success(previous) !== success(result);
  }
}

export class ProbeManager implements PodProber {
  readonly liveness: ResultsManager;
  readonly readiness: ResultsManager;
  readonly startup: ResultsManager;
  private readonly workers = new Map<string, ProbeWorker>();
  private readonly runs = new Set<Promise<void>>();
  private readonly startedAt: number;
  private stopped = false;

  constructor(private readonly o: ProbeManagerOptions) {
    const notify = (type: ProbeType) => (c: ResultChange): void => {
      if (matters(type, c.previous, c.result)) o.onChange?.(c.podUid);
    };
    this.liveness = new ResultsManager('liveness', notify('liveness'));
    this.readiness = new ResultsManager('readiness', notify('readiness'));
    this.startup = new ResultsManager('startup', notify('startup'));
    this.startedAt = o.clock.now();
  }

  private results(type: ProbeType): ResultsManager {
    return type === 'liveness' ? this.liveness : type === 'readiness' ? this.readiness : this.startup;
  }

  addPod(pod: ReadonlyPod): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid ?? '';
    for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter(isRestartableInitContainer)]) {
      for (const type of TYPES) {
        if (!probeOf(c, type)) continue;
        const k = key(uid, c.name, type);
        const existing = this.workers.get(k);
        if (existing) { existing.pod = pod; continue; }
        const w = new ProbeWorker({
          podStatus: this.o.podStatus, runner: this.o.runner, results: this.results(type), clock: this.o.clock,
          logger: this.o.logger,
        }, type, pod, c);
        this.workers.set(k, w);
        const run = w.run(this.startedAt, () => { if (this.workers.get(k) === w) this.workers.delete(k); });
        this.runs.add(run);
        void run.finally(() => this.runs.delete(run));
      }
    }
  }

  stopLivenessAndStartup(pod: ReadonlyPod): void {
    const uid = pod.metadata?.uid ?? '';
    for (const [k, w] of this.workers) {
      if (k.startsWith(`${uid}/`) && (w.type === 'liveness' || w.type === 'startup')) w.stop();
    }
  }

  removePod(uid: string): void {
    for (const [k, w] of this.workers) if (k.startsWith(`${uid}/`)) w.stop();
  }

  /** Stops every worker; resolves when they have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.workers.values()) w.stop();
    await Promise.allSettled([...this.runs]);
  }

  /** The worker for a probe, if it runs (tests, triggers). */
  worker(uid: string, container: string, type: ProbeType): ProbeWorker | undefined {
    return this.workers.get(key(uid, container, type));
  }

  livenessFailed(containerId: string): boolean {
    return this.liveness.get(containerId) === 'Failure';
  }

  startupFailed(containerId: string): boolean {
    return this.startup.get(containerId) === 'Failure';
  }

  startupSucceeded(containerId: string): boolean {
    return this.startup.get(containerId) === 'Success';
  }

  started(podUid: string, name: string, containerId: string): boolean {
    const r = this.startup.get(containerId);
    if (r !== undefined) return r === 'Success';
    return !this.workers.has(key(podUid, name, 'startup'));
  }

  ready(podUid: string, name: string, containerId: string): boolean {
    if (this.readiness.get(containerId) === 'Success') return true;
    const w = this.workers.get(key(podUid, name, 'readiness'));
    if (!w) return true;
    // Upstream: probe again at once rather than report unready until the next period.
    w.trigger();
    return false;
  }
}
