/**
 * The pod lifecycle steps a pod worker runs (upstream kubelet.go SyncPod /
 * SyncTerminatingPod / SyncTerminatedPod and kuberuntime_manager.go SyncPod), each reading
 * the runtime state, acting through the CRI and writing the status through the status
 * manager. Contracts:
 *
 * - `syncPod`: status first (from the runtime state before acting), then, unless the pod is
 *   finished, computePodActions and apply them in upstream order: kill the pod or unwanted
 *   containers, create the sandbox, start the next init container or the app containers
 *   (image → config → create → start → postStart hook, each failure recorded as the
 *   container's waiting reason with a Warning event; a failed postStart hook kills the
 *   container: PostStartHookError). If anything changed, the status is written again.
 *   Returns `terminal` once the phase is Succeeded/Failed, else when to sync again at the
 *   latest. A running pod is (re)registered with the prober on every sync.
 * - Every stop of a running container runs its preStop hook first, within the grace period
 *   (see killContainer).
 * - `syncTerminatingPod`: stops liveness/startup probes, stops every container (grace period
 *   as given, at least 2 s) and the sandboxes, stops the remaining probes, then (unless the
 *   pod is gone from the API) writes its final, terminal status.
 * - `syncTerminatedPod`: for a pod being deleted (or gone, or on node shutdown) removes its
 *   containers and sandboxes; for a deleted pod also deletes the API object (grace 0, UID
 *   precondition). Returns true when the pod is finished with; a pod that merely completed
 *   (or was evicted) keeps its exited containers (for `kubectl logs`) until it is deleted,
 *   but its volumes are removed at once.
 * All steps are idempotent: a retry after a failure redoes only what is left.
 */
import type { Container, Pod, PodCondition } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import type { ContainerRuntime } from '../cri/index.js';
import { Reason, type KubeletEvents } from '../events.js';
import { errorMessage, goDuration, podFullName, podRef } from '../format.js';
import type { PodProber } from '../prober/manager.js';
import { generatePodStatus, terminatedPodStatus, type WaitingReason } from '../status/generate.js';
import type { StatusManager } from '../status/status-manager.js';
import { backoffKey, computePodActions, type ContainerKind, type ContainerToStart, type KillReason, type PodActions, type ProbeView } from './actions.js';
import type { Backoff } from './backoff.js';
import { ContainerConfigError, containerConfig, containerHash, sandboxConfig } from './container-config.js';
import { fetchEnvObjects } from './env-sources.js';
import type { ObjectSource } from '../volumes/object-cache.js';
import type { PodVolumes } from '../volumes/volume-manager.js';
import type { ImageManager } from './images.js';
import { HookRunner, type LifecycleHandler } from './lifecycle.js';
import { DEFAULT_TERMINATION_MESSAGE_PATH, readRuntimePod, type RuntimeContainer, type RuntimePodStatus } from './runtime-state.js';
import { createTerminationLogFile, TerminationMessages } from './termination-message.js';
import { isRestartableInitContainer } from './actions.js';
import { ephemeralContainerSpec, ephemeralNames, ephemeralTargetId, withTargetPidNamespace } from './ephemeral.js';
import { unitValue, isValidQuantity, podQOSClass, rfc3339 } from '@tskube/api';
import { clone } from '@tskube/client';

type ReadonlyPod = DeepReadonly<Pod>;

/** Upstream minimumGracePeriodInSeconds: containers always get this long to stop. */
export const MIN_GRACE_SECONDS = 2;

/**
 * The grace period of a container the kubelet stops on its own (upstream
 * setTerminationGracePeriod): the pod's deletionGracePeriodSeconds; else, for a liveness or
 * startup probe failure, that probe's terminationGracePeriodSeconds; else the pod's
 * terminationGracePeriodSeconds (30 if unset).
 */
export function containerKillGrace(pod: ReadonlyPod, spec: DeepReadonly<Container> | undefined, reason?: string): number {
  const deletion = pod.metadata?.deletionGracePeriodSeconds;
  if (deletion !== undefined && deletion !== null) return deletion;
  const probeGrace = reason === 'LivenessProbe' ? spec?.livenessProbe?.terminationGracePeriodSeconds
    : reason === 'StartupProbe' ? spec?.startupProbe?.terminationGracePeriodSeconds : undefined;
  if (probeGrace !== undefined && probeGrace !== null) return probeGrace;
  return pod.spec?.terminationGracePeriodSeconds ?? 30;
}

export interface SyncResult {
  /** The pod reached Succeeded/Failed: it must be terminated, not synced again. */
  terminal: boolean;
  /** Sync again after this long at the latest (backoffs, failed starts). */
  requeueAfterMs?: number;
}

export interface TerminatingOptions {
  /** The pod is gone from the API: no status can be written. */
  deleted: boolean;
  gracePeriodSeconds: number;
  /** Set when the kubelet terminates a pod nobody deleted (node shutdown). */
  reason?: { reason: string; message: string; condition?: PodCondition };
  /** Do not apply the 2 s minimum (node shutdown under a deadline). */
  exactGrace?: boolean;
  /**
   * The pod was refused at admission (eviction manager) and never ran: its final status is
   * upstream rejectPod's, phase Failed with `reason` and nothing else (no container statuses),
   * so `kubectl get pods` shows the reason.
   */
  rejected?: boolean;
}

export interface TerminatedOptions {
  deleted: boolean;
  /** Remove the containers even though the pod stays in the API (node shutdown). */
  removeContainers?: boolean;
}

/** What the syncer needs to know about its node. */
export interface NodeView {
  name: string;
  /** The node's IPs (hostIP of pods). */
  hostIPs(): string[];
  /** Node allocatable, for resourceFieldRef limits left unset. */
  allocatable(): Readonly<Record<string, string>>;
  /** Node capacity (memory: a Burstable container's oom_score_adj); allocatable when absent. */
  capacity?(): Readonly<Record<string, string>>;
}

/** upstream active_deadline.go: the reason and message of a pod failed for activeDeadlineSeconds. */
export const DEADLINE_EXCEEDED = { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' } as const;

export interface PodSyncerOptions {
  runtime: ContainerRuntime;
  /** CRI runtime_name, the containerID prefix ("docker"). */
  runtimeName: () => string;
  statusManager: StatusManager;
  images: ImageManager;
  events: KubeletEvents;
  clock: Clock;
  logger: Logger;
  node: NodeView;
  /** Crash-loop backoff (10 s doubling to 5 min). */
  backoff: Backoff;
  /** Requeue delay after a failed start (upstream: 10 s). */
  syncErrorBackoffMs: number;
  probes?: ProbeView;
  /** Readiness results per container ID, when probes exist. */
  readiness?: (containerId: string) => boolean | undefined;
  /**
   * The prober (prober/manager.ts): pods are added on every sync, liveness/startup probes
   * stopped when termination starts, all probes after; its results drive kills (instead of
   * `probes`) and started/ready (instead of `readiness`).
   */
  prober?: PodProber;
  /** Called once per pod, the first time it is Running. */
  onPodRunning?: (uid: string, firstSeenAt: number) => void;
  /** ConfigMaps/Secrets for env sources; without it, such references fail (CreateContainerConfigError). */
  objects?: ObjectSource;
  /**
   * Volumes (volumes/volume-manager.ts): set up on every sync before anything starts (a pod
   * whose volumes never mounted stays ContainerCreating), mounted into containers, removed
   * with the pod. Without it volumes are ignored (simulated nodes).
   */
  volumes?: PodVolumes;
  /**
   * Kubelet root directory (the same path for the engine): termination-message files are
   * created under `<root>/pods/<uid>/containers/` and bind-mounted at terminationMessagePath.
   * Without it no file is mounted (FallbackToLogsOnError still reads the logs).
   */
  rootDir?: string;
}

interface StartOutcome {
  started: boolean;
  requeueAfterMs?: number;
}

export class PodSyncer {
  private readonly reasons = new Map<string, Map<string, WaitingReason>>();
  private readonly firstSeen = new Map<string, number>();
  private readonly running = new Set<string>();
  private readonly log: Logger;
  private readonly hooks: HookRunner;
  private readonly messages: TerminationMessages;

  constructor(private readonly o: PodSyncerOptions) {
    this.log = o.logger.child({ subsystem: 'pods' });
    this.hooks = new HookRunner(o.runtime);
    this.messages = new TerminationMessages(o.runtime);
  }

  /** The waiting reasons recorded for a pod's containers (read-only view). */
  reasonsOf(uid: string): ReadonlyMap<string, WaitingReason> {
    return this.reasons.get(uid) ?? new Map();
  }

  private reasonMap(uid: string): Map<string, WaitingReason> {
    let r = this.reasons.get(uid);
    if (!r) this.reasons.set(uid, (r = new Map()));
    return r;
  }

  private async read(pod: ReadonlyPod): Promise<RuntimePodStatus> {
    const rs = await readRuntimePod(this.o.runtime, pod.metadata?.uid ?? '', pod.metadata?.name ?? '', pod.metadata?.namespace ?? '');
    await this.messages.fill(rs);
    return rs;
  }

  /**
   * upstream activeDeadlineHandler: when the pod has activeDeadlineSeconds and has been active
   * (since status.startTime) that long, the eviction to apply; else when the deadline falls.
   */
  private deadline(pod: ReadonlyPod): { exceeded: boolean; inMs?: number } {
    const ads = pod.spec?.activeDeadlineSeconds;
    if (ads === undefined || ads === null) return { exceeded: false };
    const start = this.o.statusManager.get(pod.metadata?.uid ?? '')?.startTime ?? pod.status?.startTime;
    if (!start) return { exceeded: false, inMs: ads * 1000 };
    const left = Date.parse(start) + ads * 1000 - this.o.clock.now();
    return left <= 0 ? { exceeded: true } : { exceeded: false, inMs: left };
  }

  private generate(pod: ReadonlyPod, rs: RuntimePodStatus, podIsTerminal: boolean, reason?: TerminatingOptions['reason']) {
    const uid = pod.metadata?.uid ?? '';
    return generatePodStatus({
      pod, runtime: rs, oldStatus: this.o.statusManager.get(uid), reasons: this.reasonsOf(uid), podIsTerminal,
      hostIPs: this.o.node.hostIPs(), runtimeName: this.o.runtimeName(), now: this.o.clock.now(),
      readiness: this.o.readiness, probes: this.o.prober, terminationReason: reason,
      ...(this.deadline(pod).exceeded ? { evict: { ...DEADLINE_EXCEEDED } } : {}),
    });
  }

  async syncPod(pod: ReadonlyPod): Promise<SyncResult> {
    const uid = pod.metadata?.uid ?? '';
    if (!this.firstSeen.has(uid)) this.firstSeen.set(uid, this.o.clock.now());
    const rs = await this.read(pod);
    const status = this.generate(pod, rs, false);
    await this.o.statusManager.setPodStatus(pod, status);
    this.noteRunning(uid, status.phase);
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return { terminal: true };
    this.o.prober?.addPod(pod);
    if (this.o.volumes && !(await this.o.volumes.mountPod(pod))) return { terminal: false, requeueAfterMs: this.o.syncErrorBackoffMs };

    const actions = computePodActions(pod, rs, {
      now: this.o.clock.now(), backoff: this.o.backoff, hash: containerHash, probes: this.o.probes ?? this.o.prober,
    });
    const applied = await this.apply(pod, rs, actions);
    // Anything attempted may have changed the runtime or a container's waiting reason.
    const attempted = actions.killPod || actions.createSandbox || actions.containersToKill.length > 0 || actions.containersToStart.length > 0;
    if (applied.changed || attempted) {
      const after = await this.read(pod);
      const next = this.generate(pod, after, false);
      await this.o.statusManager.setPodStatus(pod, next);
      this.noteRunning(uid, next.phase);
      await this.prune(after);
    }
    // Sync again when the active deadline falls.
    const dl = this.deadline(pod).inMs;
    const requeue = dl === undefined ? applied.requeueAfterMs : Math.min(applied.requeueAfterMs ?? dl, dl + 50);
    return { terminal: false, requeueAfterMs: requeue };
  }

  private noteRunning(uid: string, phase: string | undefined): void {
    if (phase !== 'Running' || this.running.has(uid)) return;
    this.running.add(uid);
    this.o.onPodRunning?.(uid, this.firstSeen.get(uid) ?? this.o.clock.now());
  }

  private async apply(pod: ReadonlyPod, rs: RuntimePodStatus, actions: PodActions): Promise<{ changed: boolean; requeueAfterMs?: number }> {
    let changed = false;
    let requeue: number | undefined;
    const later = (ms: number): void => { requeue = requeue === undefined ? ms : Math.min(requeue, ms); };

    if (actions.createSandbox && actions.sandboxId) {
      this.o.events.pod(pod, 'Normal', Reason.SandboxChanged, 'Pod sandbox changed, it will be killed and re-created.');
    }
    if (actions.killPod) {
      changed = (await this.killPodContainers(pod, rs, undefined, false)) || changed;
      if (actions.createSandbox) {
        // Start over from the first init container: drop the old init instances.
        const inits = new Set((pod.spec?.initContainers ?? []).map((c) => c.name));
        for (const c of rs.containers) if (inits.has(c.name)) await this.o.runtime.removeContainer({ container_id: c.id });
      }
    } else {
      for (const k of actions.containersToKill) {
        const inst = rs.containers.find((c) => c.id === k.id);
        await this.killContainer(pod, { kind: k.kind, name: k.name, id: k.id, running: inst?.state === 'running' }, {
          message: k.message, reason: k.reason, podIPs: rs.ips,
        });
        if (inst?.state === 'running') changed = true;
      }
    }

    let sandboxId = actions.sandboxId;
    let ips = rs.ips;
    const sbConfig = sandboxConfig(pod, actions.attempt);
    if (actions.createSandbox) {
      try {
        sandboxId = (await this.o.runtime.runPodSandbox({ config: sbConfig })).pod_sandbox_id;
        changed = true;
        const st = (await this.o.runtime.podSandboxStatus({ pod_sandbox_id: sandboxId })).status;
        ips = st?.network?.ip ? [st.network.ip] : [];
      } catch (err) {
        this.o.events.pod(pod, 'Warning', Reason.FailedCreatePodSandBox, `Failed to create pod sandbox: ${errorMessage(err)}`);
        this.log.warn('creating pod sandbox failed', { pod: podRef(pod.metadata), err: errorMessage(err) });
        return { changed, requeueAfterMs: this.o.syncErrorBackoffMs };
      }
    }
    if (!sandboxId) return { changed, requeueAfterMs: requeue };

    for (const start of actions.containersToStart) {
      const r = await this.startContainer(pod, start, sandboxId, sbConfig, ips, rs);
      if (r.started) changed = true;
      if (r.requeueAfterMs !== undefined) later(r.requeueAfterMs);
      // A regular init container that did not start blocks the rest; a sidecar does not.
      if (start.kind === 'init' && !r.started && !isRestartableInitContainer(pod.spec?.initContainers?.[start.index])) break;
    }
    return { changed, requeueAfterMs: requeue };
  }

  private async startContainer(
    pod: ReadonlyPod, start: ContainerToStart, sandboxId: string,
    sbConfig: ReturnType<typeof sandboxConfig>, ips: readonly string[], rs: RuntimePodStatus,
  ): Promise<StartOutcome> {
    const uid = pod.metadata?.uid ?? '';
    const spec = start.kind === 'init' ? pod.spec?.initContainers?.[start.index]
      : start.kind === 'ephemeral' ? ephemeralContainerSpec(pod, start.index) : pod.spec?.containers?.[start.index];
    if (!spec) return { started: false };
    const reasons = this.reasonMap(uid);
    const ev = (type: 'Normal' | 'Warning', reason: string, msg: string): void => this.o.events.container(pod, start.kind, spec.name, type, reason, msg);
    const fail = (reason: string, message: string, eventMessage = message): StartOutcome => {
      reasons.set(spec.name, { reason, message });
      ev('Warning', Reason.Failed, `Error: ${eventMessage}`);
      return { started: false, requeueAfterMs: this.o.syncErrorBackoffMs };
    };
    const now = this.o.clock.now();
    const key = backoffKey(uid, spec.name);
    if (start.backOff) {
      ev('Warning', Reason.BackOff, `Back-off restarting failed container ${spec.name} in pod ${podFullName(pod.metadata)}`);
      reasons.set(spec.name, {
        reason: 'CrashLoopBackOff',
        message: `back-off ${goDuration(start.backOff.delayMs)} restarting failed container=${spec.name} pod=${podFullName(pod.metadata)}`,
      });
      return { started: false, requeueAfterMs: Math.max(100, start.backOff.untilMs - now) };
    }
    if (start.previous) this.o.backoff.next(key, start.previous.finishedAt, now);

    const img = await this.o.images.ensureImage(pod, spec, start.kind);
    if (!img.ok) return fail(img.reason, img.message, img.reason);

    const hostIPs = this.o.node.hostIPs();
    let config;
    try {
      // an ephemeral container with a target joins the PID namespace of its running instance
      const targetId = start.kind === 'ephemeral' ? ephemeralTargetId(pod, start.index, rs) : undefined;
      const objects = this.o.objects ? await fetchEnvObjects(pod, spec, this.o.objects) : undefined;
      const mounts = this.o.volumes ? await this.o.volumes.mountsFor(pod, spec) : [];
      const tmPath = spec.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
      if (this.o.rootDir && tmPath && !mounts.some((mt) => mt.container_path === tmPath)) {
        const host = await createTerminationLogFile(this.o.rootDir, uid, spec.name);
        mounts.push({ container_path: tmPath, host_path: host, readonly: false });
      }
      const mem = (this.o.node.capacity?.() ?? this.o.node.allocatable()).memory;
      config = containerConfig(pod, spec, {
        kind: start.kind, attempt: start.attempt, allocatable: this.o.node.allocatable(), objects, mounts,
        imageUser: img.user, memoryCapacity: mem !== undefined && isValidQuantity(mem) ? unitValue(mem) : 0,
        onInvalidNames: (msg) => this.o.events.pod(pod, 'Warning', Reason.InvalidEnvironmentVariableNames, msg),
        env: { nodeName: this.o.node.name, hostIP: hostIPs[0] ?? '', podIP: ips[0] ?? '', podIPs: [...ips] },
      });
      withTargetPidNamespace(config, targetId);
    } catch (err) {
      if (err instanceof ContainerConfigError) return fail('CreateContainerConfigError', err.message);
      throw err;
    }
    let id: string;
    try {
      id = (await this.o.runtime.createContainer({ pod_sandbox_id: sandboxId, config, sandbox_config: sbConfig })).container_id;
    } catch (err) {
      return fail('CreateContainerError', errorMessage(err));
    }
    ev('Normal', Reason.Created, `Created container: ${spec.name}`);
    try {
      await this.o.runtime.startContainer({ container_id: id });
    } catch (err) {
      return fail('RunContainerError', `failed to start container "${id}": ${errorMessage(err)}`);
    }
    ev('Normal', Reason.Started, `Started container ${spec.name}`);
    const postStart = spec.lifecycle?.postStart;
    if (postStart) {
      // Blocks this pod's sync until the hook is done, as upstream (the container shows
      // ContainerCreating meanwhile). A failure kills the container, which restarts per policy.
      const hook = await this.hooks.run({ pod, container: spec, containerId: id, podIPs: ips }, postStart);
      if (!hook.ok) {
        this.log.warn('postStart hook failed', { pod: podRef(pod.metadata), container: spec.name, err: hook.message });
        // The message stays out of the event (it may carry secrets), as upstream.
        ev('Warning', Reason.FailedPostStartHook, 'PostStartHook failed');
        await this.killContainer(pod, { kind: start.kind, name: spec.name, id, running: true }, {
          message: 'FailedPostStartHook', reason: 'FailedPostStartHook', podIPs: ips,
        });
        reasons.set(spec.name, { reason: 'PostStartHookError', message: hook.message });
        return { started: true, requeueAfterMs: this.o.syncErrorBackoffMs };
      }
    }
    reasons.delete(spec.name);
    return { started: true };
  }

  /**
   * Stops one container as upstream killContainer: a Killing event; the grace period is
   * `opts.graceSeconds` if given, else {@link containerKillGrace}; a running container's
   * preStop hook runs first, bounded by the grace period, and what it used is taken off;
   * then the runtime stops it with the rest (at least 2 s unless `exact`) between SIGTERM and
   * SIGKILL. A failed hook gives a FailedPreStopHook event and the stop goes on.
   */
  private async killContainer(
    pod: ReadonlyPod, c: { kind: ContainerKind; name: string; id: string; running: boolean },
    opts: { graceSeconds?: number; exact?: boolean; message?: string; reason?: KillReason | 'FailedPostStartHook'; podIPs: readonly string[] },
  ): Promise<void> {
    this.o.events.container(pod, c.kind, c.name, 'Normal', Reason.Killing, opts.message ?? `Stopping container ${c.name}`);
    const spec = (c.kind === 'init' ? pod.spec?.initContainers : pod.spec?.containers)?.find((x) => x.name === c.name);
    let grace = opts.graceSeconds ?? containerKillGrace(pod, spec, opts.reason);
    const preStop = spec?.lifecycle?.preStop;
    if (spec && preStop && grace > 0 && c.running) {
      const started = performance.now();
      await this.runPreStop(pod, spec, c, preStop, grace, opts.podIPs);
      grace -= Math.floor((performance.now() - started) / 1000);
    }
    const timeout = opts.exact ? Math.max(0, Math.floor(grace)) : Math.max(MIN_GRACE_SECONDS, Math.floor(grace));
    await this.o.runtime.stopContainer({ container_id: c.id, timeout });
  }

  /** upstream executePreStopHook: waits for the hook at most `graceSeconds`. */
  private async runPreStop(
    pod: ReadonlyPod, spec: DeepReadonly<Container>, c: { kind: ContainerKind; name: string; id: string },
    hook: DeepReadonly<LifecycleHandler>, graceSeconds: number, podIPs: readonly string[],
  ): Promise<void> {
    const ac = new AbortController();
    const run = this.hooks.run({ pod, container: spec, containerId: c.id, podIPs }, hook, ac.signal).then((r) => {
      if (r.ok) return;
      this.log.warn('preStop hook failed', { pod: podRef(pod.metadata), container: c.name, err: r.message });
      this.o.events.container(pod, c.kind, c.name, 'Warning', Reason.FailedPreStopHook, 'PreStopHook failed');
    });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceSeconds * 1000); });
    const timedOut = await Promise.race([run.then(() => false), expired]);
    clearTimeout(timer);
    if (timedOut) {
      ac.abort();
      this.log.info('preStop hook not completed in grace period', { pod: podRef(pod.metadata), container: c.name, graceSeconds });
    }
  }

  /**
   * Stops the running containers (in parallel) and then the sandboxes. True if anything was
   * running. `graceSeconds` overrides every container's own grace period (termination).
   */
  private async killPodContainers(pod: ReadonlyPod, rs: RuntimePodStatus, graceSeconds: number | undefined, exact: boolean): Promise<boolean> {
    const initSpecs = pod.spec?.initContainers ?? [];
    const inits = new Set(initSpecs.map((c) => c.name));
    const ephemeral = ephemeralNames(pod);
    const sidecarOrder = initSpecs.filter(isRestartableInitContainer).map((c) => c.name);
    const live = rs.containers.filter((c) => c.state === 'running' || c.state === 'unknown');
    const began = performance.now();
    const kill = (c: RuntimeContainer, sidecar = false): Promise<void> => {
      let grace = graceSeconds;
      if (sidecar) {
        // Sidecars get what is left of the grace period after the app containers stopped.
        const spec = initSpecs.find((x) => x.name === c.name);
        const base = graceSeconds ?? containerKillGrace(pod, spec);
        grace = Math.max(0, base - Math.floor((performance.now() - began) / 1000));
      }
      return this.killContainer(pod, { kind: inits.has(c.name) ? 'init' : ephemeral.has(c.name) ? 'ephemeral' : 'regular', name: c.name, id: c.id, running: c.state === 'running' }, {
        ...(grace !== undefined ? { graceSeconds: grace } : {}), exact, podIPs: rs.ips,
      });
    };
    // App (and regular init) containers first, in parallel; then the sidecars, the last
    // started first, so they serve the app until it is gone (upstream 1.29+ ordering).
    const first = live.filter((c) => !sidecarOrder.includes(c.name));
    const results = await Promise.allSettled(first.map((c) => kill(c)));
    for (const name of [...sidecarOrder].reverse()) {
      for (const c of live.filter((x) => x.name === name)) results.push(...await Promise.allSettled([kill(c, true)]));
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.o.events.pod(pod, 'Warning', Reason.FailedKillPod, `error killing pod: ${errorMessage(failed.reason)}`);
      throw failed.reason;
    }
    const ready = rs.sandboxes.filter((s) => s.ready);
    for (const s of ready) await this.o.runtime.stopPodSandbox({ pod_sandbox_id: s.id });
    return live.length > 0 || ready.length > 0;
  }

  async syncTerminatingPod(pod: ReadonlyPod, opts: TerminatingOptions): Promise<void> {
    if (opts.rejected && opts.reason) {
      if (opts.deleted) return;
      const old = this.o.statusManager.get(pod.metadata?.uid ?? '') ?? pod.status;
      await this.o.statusManager.setPodStatus(pod, {
        phase: 'Failed', reason: opts.reason.reason, message: opts.reason.message,
        qosClass: podQOSClass(clone(pod.spec) as Pod['spec']), startTime: old?.startTime ?? rfc3339(new Date(this.o.clock.now())),
      });
      return;
    }
    // No kills for failing liveness/startup probes while the pod shuts down (upstream).
    this.o.prober?.stopLivenessAndStartup(pod);
    const rs = await this.read(pod);
    await this.killPodContainers(pod, rs, opts.gracePeriodSeconds, opts.exactGrace ?? false);
    this.o.prober?.removePod(pod.metadata?.uid ?? '');
    if (opts.deleted) return;
    const after = await this.read(pod);
    const status = terminatedPodStatus(this.generate(pod, after, true, opts.reason), this.o.clock.now());
    await this.o.statusManager.setPodStatus(pod, status);
  }

  async syncTerminatedPod(pod: ReadonlyPod, opts: TerminatedOptions): Promise<boolean> {
    const deleting = opts.deleted || Boolean(pod.metadata?.deletionTimestamp);
    if (!deleting && !opts.removeContainers) {
      // A finished pod keeps its exited containers (logs) but not its volumes: upstream's
      // volume manager tears down the volumes of terminated pods (an emptyDir is deleted),
      // which is what gives back the disk of a pod evicted for disk pressure.
      await this.o.volumes?.teardownVolumes(pod.metadata?.uid ?? '');
      return false;
    }
    await this.removePod(pod.metadata?.uid ?? '');
    if (!deleting) return false;
    if (!opts.deleted) await this.o.statusManager.deletePod(pod);
    this.forget(pod.metadata?.uid ?? '');
    return true;
  }

  /** Removes every sandbox and container of a pod UID. Idempotent. */
  async removePod(uid: string): Promise<void> {
    const rs = await readRuntimePod(this.o.runtime, uid);
    for (const c of rs.containers) await this.o.runtime.removeContainer({ container_id: c.id });
    for (const s of rs.sandboxes) await this.o.runtime.removePodSandbox({ pod_sandbox_id: s.id });
    await this.o.volumes?.cleanupPod(uid);
  }

  /**
   * Container garbage collection within a pod: per container name, keep the newest instance
   * and the one before it (`kubectl logs --previous`); remove older exited instances.
   */
  private async prune(rs: RuntimePodStatus): Promise<void> {
    const seen = new Map<string, number>();
    const old: RuntimeContainer[] = [];
    for (const c of rs.containers) {
      const n = (seen.get(c.name) ?? 0) + 1;
      seen.set(c.name, n);
      if (n > 2 && c.state === 'exited') old.push(c);
    }
    for (const c of old) await this.o.runtime.removeContainer({ container_id: c.id });
  }

  /** Drops everything kept per pod (it is gone). */
  forget(uid: string): void {
    this.o.prober?.removePod(uid);
    this.reasons.delete(uid);
    this.firstSeen.delete(uid);
    this.running.delete(uid);
    this.o.backoff.forgetPrefix(`${uid}/`);
    this.o.images.forgetPod(uid);
    this.messages.forget(uid);
    this.o.statusManager.forget(uid);
  }
}
