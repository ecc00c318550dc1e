/**
 * The kubelet's view of what the container runtime holds for a pod (upstream
 * kubecontainer.PodStatus): its sandboxes and containers, found by the pod-UID label every
 * tskube runtime puts on them. This is all `computePodActions` and the status generator
 * read, so both stay pure and testable without a runtime.
 *
 * Times are milliseconds since the epoch (the CRI's nanoseconds divided by 1e6); 0 = never.
 */
import {
  isCriError, Code, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID,
  type ContainerRuntime, type ContainerState as CriContainerState,
} from '../cri/index.js';

export type ContainerRunState = 'created' | 'running' | 'exited' | 'unknown';

/** Annotation holding the hash of the container spec the instance was created from. */
export const ANNOTATION_CONTAINER_HASH = 'io.kubernetes.container.hash';
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANNOTATION_TERMINATION_GRACE = 'io.kubernetes.pod.terminationGracePeriod';
export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

export interface RuntimeContainer {
  id: string;
  /** The pod spec container name. */
  name: string;
  /** CRI attempt; tskube uses it as the restart count. */
  attempt: number;
  state: ContainerRunState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** "Completed", "Error", "OOMKilled", "ContainerCannotRun" or "" (not exited). */
  reason: string;
  message: string;
  /** Image as requested (e.g. "local/busybox:1"). */
  image: string;
  /** Image ID the container runs. */
  imageRef: string;
  /** Spec hash annotation ("" when the container was made without one). */
  hash: string;
  sandboxId: string;
  /** terminationMessagePath and terminationMessagePolicy from the instance's annotations ("" if absent). */
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
  /** Host path of the mount at terminationMessagePath, if the instance has one. */
  terminationMessageHostPath?: string;
}

export interface RuntimeSandbox {
  id: string;
  attempt: number;
  ready: boolean;
  createdAt: number;
  /** Pod IP while ready, else "". */
  ip: string;
  /** The sandbox shares the node's network namespace. */
  hostNetwork: boolean;
}

export interface RuntimePodStatus {
  uid: string;
  name: string;
  namespace: string;
  /** Newest first. */
  sandboxes: RuntimeSandbox[];
  /** IPs of the newest sandbox when it is ready, else []. */
  ips: string[];
  /** Newest first. */
  containers: RuntimeContainer[];
}

export function emptyRuntimePod(uid: string, name = '', namespace = ''): RuntimePodStatus {
  return { uid, name, namespace, sandboxes: [], ips: [], containers: [] };
}

/** The newest instance of the named container, if the runtime has one. */
export function latestContainer(rs: RuntimePodStatus, name: string): RuntimeContainer | undefined {
  return rs.containers.find((c) => c.name === name);
}

export function nsToMs(ns: number): number {
  return ns > 0 ? Math.floor(ns / 1e6) : 0;
}

function runState(s: CriContainerState): ContainerRunState {
  switch (s) {
    case 'CONTAINER_CREATED': return 'created';
    case 'CONTAINER_RUNNING': return 'running';
    case 'CONTAINER_EXITED': return 'exited';
    default: return 'unknown';
  }
}

function newestFirst<T extends { createdAt: number; id: string }>(a: T, b: T): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * Reads one pod's sandboxes and containers from the runtime. Objects that vanish between
 * the list and the status call are skipped (as upstream GetPodStatus does).
 */
export async function readRuntimePod(runtime: ContainerRuntime, uid: string, name = '', namespace = ''): Promise<RuntimePodStatus> {
  const selector = { [LABEL_POD_UID]: uid };
  const [sbList, ctList] = await Promise.all([
    runtime.listPodSandbox({ filter: { label_selector: selector } }),
    runtime.listContainers({ filter: { label_selector: selector } }),
  ]);
  const sandboxes: RuntimeSandbox[] = sbList.items.map((s) => ({
    id: s.id,
    attempt: s.metadata?.attempt ?? 0,
    ready: s.state === 'SANDBOX_READY',
    createdAt: nsToMs(s.created_at),
    ip: '',
    hostNetwork: false,
  })).sort(newestFirst);
  const newest = sandboxes[0];
  if (newest) {
    try {
      const st = (await runtime.podSandboxStatus({ pod_sandbox_id: newest.id })).status;
      if (st) {
        newest.ready = st.state === 'SANDBOX_READY';
        newest.ip = newest.ready ? st.network?.ip ?? '' : '';
        newest.hostNetwork = st.linux?.namespaces?.options?.network === 'NODE';
      }
    } catch (err) {
      if (!isCriError(err, Code.NOT_FOUND)) throw err;
      sandboxes.shift();
    }
  }
  const statuses = await Promise.all(ctList.containers.map(async (c) => {
    try {
      return { c, st: (await runtime.containerStatus({ container_id: c.id })).status };
    } catch (err) {
      if (isCriError(err, Code.NOT_FOUND)) return undefined;
      throw err;
    }
  }));
  const containers: RuntimeContainer[] = [];
  for (const x of statuses) {
    if (!x?.st) continue;
    const { c, st } = x;
    const tmPath = st.annotations[ANNOTATION_TERMINATION_MESSAGE_PATH] ?? '';
    containers.push({
      id: st.id,
      name: st.metadata?.name || st.labels[LABEL_CONTAINER_NAME] || '',
      attempt: st.metadata?.attempt ?? 0,
      state: runState(st.state),
      createdAt: nsToMs(st.created_at),
      startedAt: nsToMs(st.started_at),
      finishedAt: nsToMs(st.finished_at),
      exitCode: st.exit_code,
      reason: st.reason,
      message: st.message,
      image: st.image?.user_specified_image || st.image?.image || '',
      imageRef: st.image_ref || st.image_id,
      hash: st.annotations[ANNOTATION_CONTAINER_HASH] ?? c.annotations[ANNOTATION_CONTAINER_HASH] ?? '',
      sandboxId: c.pod_sandbox_id,
      terminationMessagePath: tmPath,
      terminationMessagePolicy: st.annotations[ANNOTATION_TERMINATION_MESSAGE_POLICY] ?? '',
      terminationMessageHostPath: (tmPath && (st.mounts ?? []).find((mt) => mt.container_path === tmPath)?.host_path) || '',
    });
  }
  containers.sort(newestFirst);
  const first = sbList.items[0] ?? ctList.containers[0];
  const labels = first?.labels ?? {};
  return {
    uid,
    name: name || labels[LABEL_POD_NAME] || '',
    namespace: namespace || labels[LABEL_POD_NAMESPACE] || '',
    sandboxes,
    ips: sandboxes[0]?.ready && sandboxes[0].ip ? [sandboxes[0].ip] : [],
    containers,
  };
}
