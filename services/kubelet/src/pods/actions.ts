/**
 * What the kubelet must do to bring a pod's runtime state to its spec: a pure function of
 * the pod, what the runtime holds, and the crash-loop backoff state, as upstream
 * kuberuntime_manager.go's computePodActions. A separate step (sync.ts) applies the result
 * through the CRI; nothing here talks to the runtime or the apiserver.
 *
 * Rules (upstream semantics):
 * - Sandbox: (re)create when there is none, when more than one is ready, when the newest is
 *   not ready, or when it has no IP (non-host-network pods). Re-creating kills everything
 *   first and starts over from the first init container — unless the pod must not restart
 *   (restartPolicy Never, or OnFailure with every container succeeded) and containers have
 *   already run: then the pod is only killed.
 * - Init containers run one at a time, in order; a failed one is retried per restartPolicy
 *   (Never: the pod is killed and ends Failed). Sidecars (init containers with
 *   restartPolicy Always, upstream 1.29+) start in that order too, but the next init
 *   container starts once the sidecar runs (and its startupProbe, if any, succeeded: a
 *   failed startup probe restarts it); after initialization a sidecar that exited,
 *   vanished, is in an unknown state, changed spec or failed its liveness probe is
 *   (re)started whatever the pod's restartPolicy (crash-loop backoff applies to exits); when
 *   no app container is left to run the pod is killed and sidecars are not restarted.
 * - App containers start when they never ran, are created-but-not-started or in an unknown
 *   state, or exited and the restartPolicy says so (Always; OnFailure with exit code ≠ 0).
 *   A running container whose spec hash changed is killed and restarted whatever the policy;
 *   so is one whose liveness or startup probe failed (when the policy allows restarts).
 * - A restart of a container that exited is held back while it is in crash-loop backoff
 *   (10 s doubling to 5 min, counted from when the last instance finished; reset after a
 *   run of 10 min): the entry carries `backOff` and the apply step reports CrashLoopBackOff.
 * - Nothing to keep running and nothing to start: kill the pod (stop the sandbox).
 * - A pod being deleted (deletionTimestamp) never (re)starts containers.
 * - Ephemeral containers (ephemeral.ts) without an instance start first, once the sandbox is
 *   up, even before initialization is complete; they are never restarted.
 */
import type { Container, Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { BackoffView } from './backoff.js';
import { latestContainer, type RuntimeContainer, type RuntimePodStatus } from './runtime-state.js';
import { ephemeralContainersToStart } from './ephemeral.js';

export type ContainerKind = 'init' | 'regular' | 'ephemeral';

export interface ContainerToStart {
  kind: ContainerKind;
  /** Index in spec.initContainers, spec.containers or spec.ephemeralContainers. */
  index: number;
  name: string;
  /** CRI attempt of the new instance: the restart count it will report. */
  attempt: number;
  /** The exited instance this one replaces (its finish time drives the crash-loop backoff). */
  previous?: { id: string; finishedAt: number; exitCode: number };
  /** Set when the restart must wait: the backoff delay and when it ends. */
  backOff?: { delayMs: number; untilMs: number };
}

export type KillReason = 'Unknown' | 'DefinitionChanged' | 'LivenessProbe' | 'StartupProbe';

export interface ContainerToKill {
  id: string;
  name: string;
  kind: ContainerKind;
  reason: KillReason;
  /** Event message (upstream wording), e.g. "Container web definition changed, will be restarted". */
  message: string;
}

export interface PodActions {
  /** Stop every container and the sandbox(es) before anything else. */
  killPod: boolean;
  createSandbox: boolean;
  /** The current (newest) sandbox, if any: containers start in it unless createSandbox. */
  sandboxId: string | undefined;
  /** CRI attempt of the sandbox to create (or of the current one). */
  attempt: number;
  /** Running (or unknown-state) containers to stop; empty when killPod. */
  containersToKill: ContainerToKill[];
  /** Containers to create and start, in order (ephemeral ones first; at most one init container). */
  containersToStart: ContainerToStart[];
}

/** Probe results of container instances (prober/manager.ts; tests give their own). */
export interface ProbeView {
  livenessFailed?(containerId: string): boolean;
  startupFailed?(containerId: string): boolean;
  /**
   * Whether the startup probe of the instance has succeeded (false while it has no result
   * yet, is Unknown or failed). Asked only for sidecars that declare a startupProbe: the next
   * init container (and so the app) waits for it. A view without it treats such sidecars as
   * started once they run.
   */
  startupSucceeded?(containerId: string): boolean;
}

export interface ActionContext {
  now: number;
  backoff: BackoffView;
  /** Spec hash of a container (containerHash); compared with the instance's annotation. */
  hash: (c: DeepReadonly<Container>) => string;
  probes?: ProbeView;
}

type ReadonlyPod = DeepReadonly<Pod>;

/** The crash-loop backoff key of a pod's container. */
export function backoffKey(uid: string, containerName: string): string {
  return `${uid}/${containerName}`;
}

/** upstream shouldRestartOnFailure: the policy allows restarting failed containers. */
export function shouldRestartOnFailure(pod: ReadonlyPod): boolean {
  return (pod.spec?.restartPolicy ?? 'Always') !== 'Never';
}

/** upstream ShouldContainerBeRestarted. */
export function shouldContainerBeRestarted(pod: ReadonlyPod, rs: RuntimePodStatus, name: string): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const c = latestContainer(rs, name);
  if (!c) return true;
  if (c.state === 'running') return false;
  if (c.state === 'unknown' || c.state === 'created') return true;
  // A sidecar restarts whatever the pod's policy.
  if (isRestartableInitContainer(pod.spec?.initContainers?.find((x) => x.name === name))) return true;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Never') return false;
  if (policy === 'OnFailure' && c.exitCode === 0) return false;
  return true;
}

function containerSucceeded(rs: RuntimePodStatus, name: string): boolean {
  const c = latestContainer(rs, name);
  return c !== undefined && c.state === 'exited' && c.exitCode === 0;
}

/** upstream PodSandboxChanged: [changed, attempt of the sandbox to use, current sandbox id]. */
export function podSandboxChanged(pod: ReadonlyPod, rs: RuntimePodStatus): { changed: boolean; attempt: number; sandboxId: string | undefined } {
  const newest = rs.sandboxes[0];
  if (!newest) return { changed: true, attempt: 0, sandboxId: undefined };
  const ready = rs.sandboxes.filter((s) => s.ready).length;
  const next = { changed: true, attempt: newest.attempt + 1, sandboxId: newest.id };
  if (ready > 1 || !newest.ready) return next;
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (newest.hostNetwork !== hostNetwork) return { ...next, sandboxId: undefined };
  if (!hostNetwork && !newest.ip) return next;
  return { changed: false, attempt: newest.attempt, sandboxId: newest.id };
}

/**
 * A sidecar: an init container with restartPolicy Always (upstream IsRestartableInitContainer).
 * It starts in order with the other init containers, but the next one starts as soon as it
 * runs; it is restarted whenever it exits while the pod runs, and stopped after the app
 * containers.
 */
export function isRestartableInitContainer(c: DeepReadonly<Container> | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

interface InitActions {
  /** Every regular init container finished and every sidecar started (or an app container ran). */
  initialized: boolean;
  killPod: boolean;
  /** Indexes in spec.initContainers to start, in spec order. */
  start: number[];
  kill: ContainerToKill[];
}

/**
 * upstream computeInitContainerActions (SidecarContainers semantics, 1.29+). Walks the init
 * containers from the last one back, since completed ones may have been removed: the newest
 * one with an instance tells how far initialization got. After that point only sidecars
 * matter: a sidecar without an instance, exited, created or in an unknown state is
 * (re)started, a running one whose spec changed or whose liveness probe failed is killed
 * and restarted. Before it: a running sidecar lets the next init container start (with a
 * startupProbe: once that probe succeeded; a failed one restarts it); an exited
 * regular init container lets the next one start when it succeeded, and is retried (or,
 * with restartPolicy Never, fails the pod) when it failed.
 */
function computeInitActions(pod: ReadonlyPod, rs: RuntimePodStatus, ctx: ActionContext): InitActions {
  const inits = pod.spec?.initContainers ?? [];
  const out: InitActions = { initialized: false, killPod: false, start: [], kill: [] };
  if (inits.length === 0) return { ...out, initialized: true };
  // An app container that was created or runs means initialization happened before (its
  // init containers may be gone since).
  let initialized = (pod.spec?.containers ?? []).some((c) => {
    const st = latestContainer(rs, c.name);
    return st?.state === 'created' || st?.state === 'running';
  });
  let reached = initialized;
  const restartOnFailure = shouldRestartOnFailure(pod);
  const killFor = (st: RuntimeContainer, reason: KillReason, message: string): void => {
    out.kill.push({ id: st.id, name: st.name, kind: 'init', reason, message });
  };
  for (let i = inits.length - 1; i >= 0; i--) {
    const spec = inits[i]!;
    const sidecar = isRestartableInitContainer(spec);
    const st = latestContainer(rs, spec.name);
    if (!st) {
      if (reached && sidecar) out.start.push(i);
      continue;
    }
    if (reached && !sidecar) continue;
    switch (st.state) {
      case 'created':
        out.start.push(i);
        break;
      case 'running':
        if (!sidecar) break; // a regular init container: wait for it
        // A sidecar with a startup probe counts as started only once the probe succeeded;
        // until then nothing after it starts. A failed startup probe restarts it (whatever
        // the pod's restartPolicy).
        if (spec.startupProbe && ctx.probes?.startupSucceeded && !ctx.probes.startupSucceeded(st.id)) {
          if (ctx.probes.startupFailed?.(st.id)) {
            killFor(st, 'StartupProbe', `Init container ${spec.name} failed startup probe`);
            out.start.push(i);
          }
          break;
        }
        if (i === inits.length - 1) initialized = true;
        else if (!reached) out.start.push(i + 1);
        if (st.hash && st.hash !== ctx.hash(spec)) {
          killFor(st, 'DefinitionChanged', `Init container ${spec.name} definition changed`);
          out.start.push(i);
        } else if (ctx.probes?.livenessFailed?.(st.id)) {
          killFor(st, 'LivenessProbe', `Init container ${spec.name} failed liveness probe`);
          out.start.push(i);
        }
        break;
      case 'exited':
        if (sidecar) out.start.push(i);
        else if (st.exitCode !== 0) {
          if (!restartOnFailure) return { ...out, killPod: true, start: [] };
          out.start.push(i);
        } else if (i === inits.length - 1) initialized = true;
        else out.start.push(i + 1);
        break;
      default: // unknown
        if (!sidecar && !restartOnFailure) return { ...out, killPod: true, start: [] };
        killFor(st, 'Unknown', `Init container is in "${st.state}" state, try killing it before restart`);
        out.start.push(i);
    }
    reached = true;
  }
  if (!reached) out.start.push(0);
  out.start.reverse();
  out.initialized = initialized;
  return out;
}

function startEntry(pod: ReadonlyPod, rs: RuntimePodStatus, kind: ContainerKind, index: number, ctx: ActionContext): ContainerToStart {
  const spec = kind === 'init' ? pod.spec?.initContainers?.[index] : pod.spec?.containers?.[index];
  const name = spec?.name ?? '';
  const latest = latestContainer(rs, name);
  const entry: ContainerToStart = { kind, index, name, attempt: latest ? latest.attempt + 1 : 0 };
  if (latest && latest.state === 'exited') {
    entry.previous = { id: latest.id, finishedAt: latest.finishedAt, exitCode: latest.exitCode };
    const key = backoffKey(pod.metadata?.uid ?? '', name);
    if (ctx.backoff.isInBackOffSince(key, latest.finishedAt, ctx.now)) {
      const delayMs = ctx.backoff.get(key);
      entry.backOff = { delayMs, untilMs: latest.finishedAt + delayMs };
    }
  }
  return entry;
}

export function computePodActions(pod: ReadonlyPod, rs: RuntimePodStatus, ctx: ActionContext): PodActions {
  const sb = podSandboxChanged(pod, rs);
  const actions: PodActions = {
    killPod: sb.changed,
    createSandbox: sb.changed,
    sandboxId: sb.sandboxId,
    attempt: sb.attempt,
    containersToKill: [],
    containersToStart: [],
  };
  const containers = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  const deleting = pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null;

  if (sb.changed) {
    // The pod must not run again: all its containers are done.
    if (deleting || (!shouldRestartOnFailure(pod) && sb.attempt !== 0 && rs.containers.length > 0)) {
      actions.createSandbox = false;
      return actions;
    }
    const toStart: number[] = [];
    containers.forEach((c, i) => {
      if (pod.spec?.restartPolicy === 'OnFailure' && containerSucceeded(rs, c.name)) return;
      toStart.push(i);
    });
    if (toStart.length === 0 && containers.some((c) => latestContainer(rs, c.name) !== undefined)) {
      actions.createSandbox = false;
      return actions;
    }
    if (inits.length > 0) {
      actions.containersToStart = [startEntry(pod, rs, 'init', 0, ctx)];
      return actions;
    }
    actions.containersToStart = toStart.map((i) => startEntry(pod, rs, 'regular', i, ctx));
    return actions;
  }

  const init = computeInitActions(pod, rs, ctx);
  if (deleting && !init.initialized) {
    actions.killPod = true;
    return actions;
  }
  if (init.killPod) {
    actions.killPod = true;
    return actions;
  }
  actions.containersToKill.push(...init.kill);
  // Ephemeral containers start even before initialization is complete (never restarted).
  if (!deleting) actions.containersToStart.push(...ephemeralContainersToStart(pod, rs));
  const killed = new Set(init.kill.map((k) => k.name));
  for (const i of deleting ? [] : init.start) {
    const name = inits[i]?.name ?? '';
    const st = latestContainer(rs, name);
    // A running sidecar being replaced restarts at once (no crash-loop backoff).
    actions.containersToStart.push(st?.state === 'running' && killed.has(name)
      ? { kind: 'init', index: i, name, attempt: st.attempt + 1 }
      : startEntry(pod, rs, 'init', i, ctx));
  }
  if (!init.initialized) return actions;

  let keep = 0;
  containers.forEach((spec, idx) => {
    const st = latestContainer(rs, spec.name);
    if (!st || st.state !== 'running') {
      if (shouldContainerBeRestarted(pod, rs, spec.name)) {
        actions.containersToStart.push(startEntry(pod, rs, 'regular', idx, ctx));
        if (st && st.state === 'unknown') {
          actions.containersToKill.push({
            id: st.id, name: st.name, kind: 'regular', reason: 'Unknown',
            message: `Container is in "${st.state}" state, try killing it before restart`,
          });
        }
      }
      return;
    }
    let restart = shouldRestartOnFailure(pod);
    let reason: KillReason;
    let message: string;
    if (st.hash && st.hash !== ctx.hash(spec)) {
      reason = 'DefinitionChanged';
      message = `Container ${spec.name} definition changed`;
      restart = true;
    } else if (ctx.probes?.livenessFailed?.(st.id)) {
      reason = 'LivenessProbe';
      message = `Container ${spec.name} failed liveness probe`;
    } else if (ctx.probes?.startupFailed?.(st.id)) {
      reason = 'StartupProbe';
      message = `Container ${spec.name} failed startup probe`;
    } else {
      keep++;
      return;
    }
    if (deleting) restart = false;
    if (restart) {
      message = `${message}, will be restarted`;
      // The running instance is replaced at once: no crash-loop backoff applies.
      actions.containersToStart.push({ kind: 'regular', index: idx, name: spec.name, attempt: st.attempt + 1 });
    }
    actions.containersToKill.push({ id: st.id, name: st.name, kind: 'regular', reason, message });
  });

  if (keep === 0 && !actions.containersToStart.some((c) => c.kind === 'regular')) {
    // Nothing of the app is left to run: sidecars must not keep the pod alive.
    actions.killPod = true;
    actions.containersToStart = [];
  }
  return actions;
}
