/**
 * The API PodStatus of a pod from what the runtime holds, as upstream kubelet_pods.go
 * generateAPIPodStatus / getPhase / convertToAPIContainerStatuses and status/generate.go.
 * Pure: the same inputs give the same status, so the status manager can tell "changed" by
 * comparing with what it wrote last.
 *
 * - containerStatuses (sorted by name) and initContainerStatuses (spec order): the newest
 *   runtime instance gives `state`, the one before it `lastState`; a container without an
 *   instance waits with ContainerCreating (PodInitializing while init containers exist); a
 *   container that will be (re)started shows the last start failure recorded for it
 *   (ErrImagePull, CrashLoopBackOff, …) as its waiting reason.
 * - ready: running, started and passing its readiness probe (per the prober's view, when
 *   given; without a readiness probe a running container is ready); init containers: exited
 *   with 0, except sidecars (restartPolicy Always), which are probed like app containers.
 *   started: running and past its startup probe (if any).
 * - phase per getPhase; a terminal phase (here or already in the API) never goes back.
 * - conditions: those not owned by the kubelet are kept; then PodReadyToStartContainers,
 *   Initialized, Ready, ContainersReady, PodScheduled, with lastTransitionTime moving only
 *   when the condition's status changes.
 * - podIP(s) from the ready sandbox, kept from the old status once the pod is terminal (its
 *   sandbox is stopped by then); hostIP(s) the node's; startTime set once; qosClass.
 */
import type { ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from '@tskube/api';
import { podQOSClass, rfc3339 } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { clone } from '@tskube/client';
import { isRestartableInitContainer, podSandboxChanged, shouldContainerBeRestarted } from '../pods/actions.js';
import type { RuntimeContainer, RuntimePodStatus } from '../pods/runtime-state.js';

export interface WaitingReason {
  reason: string;
  message: string;
}

export interface GenerateInput {
  pod: DeepReadonly<Pod>;
  runtime: RuntimePodStatus;
  /** The status this kubelet generated last for the pod; else the API's. */
  oldStatus: DeepReadonly<PodStatus> | undefined;
  /** Last start failure per container name (the reason cache). */
  reasons?: ReadonlyMap<string, WaitingReason>;
  /** The pod is being (or has been) terminated: its containers will not run again. */
  podIsTerminal: boolean;
  hostIPs: readonly string[];
  /** Prefix of containerID, e.g. "docker" (CRI runtime_name). */
  runtimeName: string;
  now: number;
  /** Readiness probe result per container ID; undefined = no probe result (ready when running). */
  readiness?: (containerId: string) => boolean | undefined;
  /** The prober's view (takes precedence over `readiness`): started and ready of running app containers and sidecars. */
  probes?: ContainerProbeStatus;
  /**
   * Why the kubelet terminated a pod that was not deleted (node shutdown, eviction, admission
   * rejection): the phase becomes Failed (with `podIsTerminal`, unless already terminal) with
   * this reason and message, and the condition (DisruptionTarget) is added.
   */
  terminationReason?: { reason: string; message: string; condition?: PodCondition };
  /**
   * Something in the kubelet wants the pod failed (upstream PodSyncHandlers.ShouldEvict, e.g.
   * activeDeadlineSeconds): the phase becomes Failed with this reason and message, unless
   * the pod is already in a terminal phase.
   */
  evict?: { reason: string; message: string };
}

/**
 * What the prober says about a running app container or sidecar (upstream prober manager
 * UpdatePodStatus): started once its startup probe succeeded (or it has none); ready once
 * started and its readiness probe succeeded (or it has none).
 */
export interface ContainerProbeStatus {
  started(podUid: string, containerName: string, containerId: string): boolean;
  ready(podUid: string, containerName: string, containerId: string): boolean;
}

export const ContainerCreating = 'ContainerCreating';
export const PodInitializing = 'PodInitializing';

/** Conditions the kubelet owns (upstream kubetypes.PodConditionsByKubelet). */
const KUBELET_CONDITIONS = new Set(['PodScheduled', 'Ready', 'Initialized', 'ContainersReady', 'PodReadyToStartContainers']);

/** A container status whose state is always set (the generator never leaves it out). */
type Status = Omit<ContainerStatus, 'state'> & { state: ContainerState };

function isTerminalPhase(p: string | undefined): boolean {
  return p === 'Succeeded' || p === 'Failed';
}

function goList(names: readonly string[]): string {
  return `[${names.join(' ')}]`;
}

function convertInstance(cs: RuntimeContainer, old: DeepReadonly<ContainerStatus> | undefined, runtimeName: string): Status {
  const cid = `${runtimeName}://${cs.id}`;
  const st: Status = {
    name: cs.name, restartCount: cs.attempt, image: cs.image, imageID: cs.imageRef, containerID: cid,
    ready: false, started: false, state: {},
  };
  switch (cs.state) {
    case 'running':
      st.state = { running: { startedAt: rfc3339(new Date(cs.startedAt || cs.createdAt)) } };
      break;
    case 'created':
      st.state = { waiting: {} };
      break;
    case 'exited':
      st.state = {
        terminated: {
          exitCode: cs.exitCode,
          ...(cs.reason ? { reason: cs.reason } : {}),
          ...(cs.message ? { message: cs.message } : {}),
          startedAt: rfc3339(new Date(cs.startedAt || cs.createdAt)),
          finishedAt: rfc3339(new Date(cs.finishedAt || cs.startedAt || cs.createdAt)),
          containerID: cid,
        },
      };
      break;
    default:
      if (old?.state?.running) {
        st.state = { terminated: { reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', exitCode: 137 } };
        st.restartCount = (old.restartCount ?? 0) + 1;
      } else {
        st.state = { waiting: {} };
      }
  }
  return st;
}

function convertStatuses(
  input: GenerateInput,
  specs: readonly DeepReadonly<{ name: string; image?: string; restartPolicy?: string }>[],
  previous: readonly DeepReadonly<ContainerStatus>[] | undefined,
  isInit: boolean,
): Status[] {
  const { pod, runtime } = input;
  const hasInit = (pod.spec?.initContainers?.length ?? 0) > 0;
  const oldByName = new Map<string, DeepReadonly<ContainerStatus>>();
  for (const s of previous ?? []) oldByName.set(s.name, s);
  const defaultWaiting: ContainerState = { waiting: { reason: hasInit ? PodInitializing : ContainerCreating } };
  const statuses = new Map<string, Status>();
  for (const c of specs) {
    let st: Status = { name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: 0, started: false, state: clone(defaultWaiting) };
    const old = oldByName.get(c.name);
    if (old) {
      if (old.state?.terminated) st = { ...(clone(old) as ContainerStatus), state: clone(old.state) as ContainerState };
      else {
        st.restartCount = old.restartCount;
        if (old.lastState) st.lastState = clone(old.lastState) as ContainerState;
      }
    }
    statuses.set(c.name, st);
  }
  // A container that used to run but has no instance any more: it stopped, code unknown.
  for (const c of specs) {
    if (runtime.containers.some((x) => x.name === c.name)) continue;
    const old = oldByName.get(c.name);
    if (!old || old.state?.terminated || !old.state?.running) continue;
    const st = statuses.get(c.name)!;
    if (st.state.waiting?.reason !== defaultWaiting.waiting?.reason || st.lastState?.terminated) continue;
    st.lastState = {
      terminated: {
        reason: 'ContainerStatusUnknown',
        message: 'The container could not be located when the pod was deleted.  The container used to be Running',
        exitCode: 137,
      },
    };
    if (!pod.metadata?.deletionTimestamp) st.restartCount += 1;
  }
  const seen = new Map<string, number>();
  for (const cs of runtime.containers) {
    const target = statuses.get(cs.name);
    if (!target) continue;
    const n = seen.get(cs.name) ?? 0;
    if (n >= 2) continue;
    const converted = convertInstance(cs, oldByName.get(cs.name), input.runtimeName);
    if (n === 0) statuses.set(cs.name, converted);
    else target.lastState = converted.state;
    seen.set(cs.name, n + 1);
  }
  // Containers that will be (re)started show why they are not running yet.
  for (const c of input.podIsTerminal ? [] : specs) {
    if (isInit && c.restartPolicy !== 'Always') {
      const latest = runtime.containers.find((x) => x.name === c.name);
      if (latest && latest.state === 'exited' && latest.exitCode === 0) continue;
    }
    if (!shouldContainerBeRestarted(pod, runtime, c.name)) continue;
    const why = input.reasons?.get(c.name);
    if (!why) continue;
    const st = statuses.get(c.name)!;
    if (st.state.terminated) st.lastState = st.state;
    st.state = { waiting: { reason: why.reason, ...(why.message ? { message: why.message } : {}) } };
  }
  const sidecars = new Set(isInit ? specs.filter((c) => c.restartPolicy === 'Always').map((c) => c.name) : []);
  for (const st of statuses.values()) {
    const running = st.state.running !== undefined;
    st.started = running;
    // A sidecar is started once its startup probe succeeded and ready once its readiness
    // probe did (per the prober's view; without one, while it runs), as an app container.
    if (sidecars.has(st.name)) {
      if (running && st.containerID && input.probes) {
        const id = st.containerID.slice(st.containerID.indexOf('://') + 3);
        const uid = pod.metadata?.uid ?? '';
        st.started = input.probes.started(uid, st.name, id);
        st.ready = st.started && input.probes.ready(uid, st.name, id);
      } else st.ready = running;
    } else if (isInit) st.ready = st.state.terminated?.exitCode === 0;
    else if (running && st.containerID) {
      const id = st.containerID.slice(st.containerID.indexOf('://') + 3);
      if (input.probes) {
        const uid = pod.metadata?.uid ?? '';
        st.started = input.probes.started(uid, st.name, id);
        st.ready = st.started && input.probes.ready(uid, st.name, id);
      } else st.ready = input.readiness?.(id) ?? true;
    } else st.ready = false;
  }
  const out = [...statuses.values()];
  if (!isInit) out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

function hasAnyRegularContainerStarted(pod: DeepReadonly<Pod>, statuses: readonly Status[]): boolean {
  const names = new Set((pod.spec?.containers ?? []).map((c) => c.name));
  return statuses.some((s) => names.has(s.name) && (s.state.running !== undefined || s.state.terminated !== undefined
    || (s.state.waiting !== undefined && s.lastState?.terminated !== undefined)));
}

/**
 * upstream getPhase, with restartable init containers (sidecars): a running sidecar counts as
 * running (pending until started), an exited one is ignored, one waiting for its first start
 * keeps the pod Pending unless an app container already ran.
 */
export function podPhase(pod: DeepReadonly<Pod>, statuses: readonly Status[], podIsTerminal: boolean): string {
  const byName = new Map(statuses.map((s) => [s.name, s]));
  let pendingInit = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const s = byName.get(c.name);
    if (isRestartableInitContainer(c)) {
      if (!s) { unknown++; continue; }
      if (s.state.running) { if (!s.started) pendingSidecars++; running++; }
      else if (s.state.terminated) { /* an exited sidecar does not count */ }
      else if (s.state.waiting) { if (!s.lastState?.terminated) pendingSidecars++; }
      else { pendingSidecars++; unknown++; }
      continue;
    }
    if (!s) { pendingInit++; continue; }
    if (s.state.running) pendingInit++;
    else if (s.state.terminated) { if (s.state.terminated.exitCode !== 0) failedInit++; }
    else if (s.state.waiting) {
      if (s.lastState?.terminated) { if (s.lastState.terminated.exitCode !== 0) failedInit++; }
      else pendingInit++;
    } else pendingInit++;
  }
  for (const c of pod.spec?.containers ?? []) {
    const s = byName.get(c.name);
    if (!s) { unknown++; continue; }
    if (s.state.running) running++;
    else if (s.state.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.state.waiting) { if (s.lastState?.terminated) stopped++; else waiting++; }
    else unknown++;
  }
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  // Initialization still under way keeps the pod Pending, unless an app container already ran
  // (sidecars restarting after initialization do not send the pod back to Pending).
  if ((pendingInit + pendingSidecars > 0 && !hasAnyRegularContainerStarted(pod, statuses)) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function initializedCondition(pod: DeepReadonly<Pod>, all: readonly Status[], phase: string): PodCondition {
  const byName = new Map(all.map((s) => [s.name, s]));
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of pod.spec?.initContainers ?? []) {
    const s = byName.get(c.name);
    if (!s) { unknown.push(c.name); continue; }
    if (isRestartableInitContainer(c) ? !s.started : !s.ready) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  if (hasAnyRegularContainerStarted(pod, all)) return { type: 'Initialized', status: 'True' };
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length) msgs.push(`containers with incomplete status: ${goList(incomplete)}`);
  if (msgs.length) return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: msgs.join(', ') };
  return { type: 'Initialized', status: 'True' };
}

function containersReadyCondition(pod: DeepReadonly<Pod>, statuses: readonly Status[], phase: string): PodCondition {
  const byName = new Map(statuses.map((s) => [s.name, s]));
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []).filter(isRestartableInitContainer), ...(pod.spec?.containers ?? [])]) {
    const s = byName.get(c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  if ((phase === 'Succeeded' && unknown.length === 0) || phase === 'Failed') {
    return { type: 'ContainersReady', status: 'False', reason: phase === 'Failed' ? 'PodFailed' : 'PodCompleted' };
  }
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length) msgs.push(`containers with unready status: ${goList(unready)}`);
  if (msgs.length) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: msgs.join(', ') };
  return { type: 'ContainersReady', status: 'True' };
}

function readyCondition(pod: DeepReadonly<Pod>, conditions: readonly DeepReadonly<PodCondition>[], containersReady: PodCondition): PodCondition {
  if (containersReady.status !== 'True') {
    return { type: 'Ready', status: containersReady.status, ...(containersReady.reason ? { reason: containersReady.reason } : {}), ...(containersReady.message ? { message: containersReady.message } : {}) };
  }
  const msgs: string[] = [];
  for (const g of pod.spec?.readinessGates ?? []) {
    const c = conditions.find((x) => x.type === g.conditionType);
    if (!c) msgs.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== 'True') msgs.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  if (msgs.length) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: msgs.join(', ') };
  return { type: 'Ready', status: 'True' };
}

export function generatePodStatus(input: GenerateInput): PodStatus {
  const { pod, runtime, now } = input;
  const old = input.oldStatus ?? pod.status;
  const apiPhase = pod.status?.phase;
  const nowStr = rfc3339(new Date(now));

  const containerStatuses = convertStatuses(input, pod.spec?.containers ?? [], old?.containerStatuses, false);
  const initContainerStatuses = convertStatuses(input, pod.spec?.initContainers ?? [], old?.initContainerStatuses, true);
  // Ephemeral containers as app containers (sorted by name), but never ready and without
  // `started` (upstream's prober leaves them out); they count for neither phase nor conditions.
  const ephemeralContainerStatuses = convertStatuses(input, pod.spec?.ephemeralContainers ?? [], old?.ephemeralContainerStatuses, false);
  for (const st of ephemeralContainerStatuses) { st.ready = false; delete st.started; }
  const all = [...initContainerStatuses, ...containerStatuses];

  let phase = podPhase(pod, all, input.podIsTerminal);
  if (!isTerminalPhase(phase)) {
    if (isTerminalPhase(old?.phase)) phase = old!.phase!;
    else if (isTerminalPhase(apiPhase)) phase = apiPhase!;
  }
  if (isTerminalPhase(apiPhase) && phase !== apiPhase) phase = apiPhase!;
  // A pod the kubelet ends on its own (node shutdown, eviction, admission rejection) is
  // Failed whatever its containers did, as upstream's status function sets it; a terminal
  // phase reached before stays.
  if (input.terminationReason && input.podIsTerminal && !isTerminalPhase(old?.phase) && !isTerminalPhase(apiPhase)) phase = 'Failed';

  // Evicting wins over the computed phase, but not over a terminal phase reached otherwise.
  const otherwiseTerminal = (p: string | undefined, r: string | undefined): boolean => isTerminalPhase(p) && !(p === 'Failed' && r === input.evict?.reason);
  const evicted = input.evict !== undefined && !otherwiseTerminal(old?.phase, old?.reason) && !otherwiseTerminal(apiPhase, pod.status?.reason);
  if (evicted) phase = 'Failed';
  const status: PodStatus = { phase };
  if (evicted && input.evict) {
    status.reason = input.evict.reason;
    status.message = input.evict.message;
  } else if (input.terminationReason && isTerminalPhase(phase)) {
    status.reason = input.terminationReason.reason;
    status.message = input.terminationReason.message;
  } else if (old?.phase === phase) {
    const reason = old.reason || pod.status?.reason;
    const message = old.message || pod.status?.message;
    if (reason) status.reason = reason;
    if (message) status.message = message;
  }

  // Conditions: keep foreign ones, then the kubelet's in upstream order.
  const conditions: PodCondition[] = [];
  const extra = input.terminationReason?.condition;
  for (const c of pod.status?.conditions ?? []) {
    if (!KUBELET_CONDITIONS.has(c.type) && c.type !== extra?.type) conditions.push(clone(c) as PodCondition);
  }
  if (extra) {
    const prev = (old?.conditions ?? pod.status?.conditions ?? []).find((x) => x.type === extra.type);
    conditions.push({ ...extra, lastTransitionTime: prev && prev.status === extra.status && prev.lastTransitionTime ? prev.lastTransitionTime : nowStr });
  }
  const podReadyToStart: PodCondition = { type: 'PodReadyToStartContainers', status: podSandboxChanged(pod, runtime).changed ? 'False' : 'True' };
  const initialized = initializedCondition(pod, all, phase);
  const containersReady = containersReadyCondition(pod, all, phase);
  const ready = readyCondition(pod, conditions, containersReady);
  const scheduled: PodCondition = { type: 'PodScheduled', status: 'True' };
  const oldConditions = old?.conditions ?? [];
  for (const c of [podReadyToStart, initialized, ready, containersReady, scheduled]) {
    const prev = oldConditions.find((x) => x.type === c.type) ?? pod.status?.conditions?.find((x) => x.type === c.type);
    c.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : nowStr;
    conditions.push(c);
  }
  status.conditions = conditions;

  if (input.hostIPs.length) {
    status.hostIP = input.hostIPs[0];
    status.hostIPs = input.hostIPs.map((ip) => ({ ip }));
  }
  let ips = runtime.ips;
  if (ips.length === 0 && (input.podIsTerminal || isTerminalPhase(phase)) && old?.podIPs?.length) {
    ips = old.podIPs.map((p) => p.ip ?? '').filter(Boolean);
  }
  if (pod.spec?.hostNetwork && ips.length === 0) ips = [...input.hostIPs];
  if (ips.length) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  }
  status.startTime = old?.startTime ?? nowStr;
  if (initContainerStatuses.length) status.initContainerStatuses = initContainerStatuses;
  status.containerStatuses = containerStatuses;
  if (ephemeralContainerStatuses.length) status.ephemeralContainerStatuses = ephemeralContainerStatuses;
  status.qosClass = old?.qosClass ?? podQOSClass(clone(pod.spec) as Pod['spec']);
  return status;
}

/**
 * The status of a pod whose termination is complete (upstream status manager TerminatePod):
 * every container without a terminated state is reported terminated with an unknown code
 * (so a never-started container does not read as a success), and a non-terminal phase
 * becomes Failed, so the pod can be deleted. Returns a new object.
 */
export function terminatedPodStatus(status: PodStatus, now: number): PodStatus {
  const out = clone(status) as PodStatus;
  const unknown = (): ContainerState => ({
    terminated: { reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', exitCode: 137 },
  });
  for (const c of out.containerStatuses ?? []) {
    if (!c.state?.terminated) { c.state = unknown(); c.ready = false; c.started = false; }
  }
  const anyStarted = (out.containerStatuses ?? []).some((c) => c.containerID) || (out.initContainerStatuses ?? []).some((c) => c.state?.terminated);
  if (anyStarted) {
    for (const c of out.initContainerStatuses ?? []) {
      if (!c.state?.terminated && c.state?.running) { c.state = unknown(); c.started = false; }
    }
  }
  if (!isTerminalPhase(out.phase)) out.phase = 'Failed';
  for (const c of out.conditions ?? []) {
    if ((c.type === 'Ready' || c.type === 'ContainersReady') && c.status === 'True') {
      c.status = 'False';
      c.reason = out.phase === 'Failed' ? 'PodFailed' : 'PodCompleted';
      c.lastTransitionTime = rfc3339(new Date(now));
      delete c.message;
    }
  }
  return out;
}
