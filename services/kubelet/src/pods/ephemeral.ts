/**
 * Ephemeral containers (`kubectl debug`), as upstream kuberuntime: pure helpers the pod
 * actions, the syncer and the status generator call.
 *
 * - An ephemeral container is started once: when the pod's sandbox is up and the runtime holds
 *   no instance of that name (upstream computePodActions: "Ephemeral Containers are never
 *   restarted"). It may start before initialization is complete, and is started before the
 *   init and app containers of the same sync. It never starts for a pod being deleted, a
 *   pod whose sandbox must be (re)created or a pod being killed.
 * - With targetContainerName it joins the PID namespace of that container's running instance
 *   (CRI NamespaceOption pid=TARGET, target_id), unless the pod shares the host's or the pod's
 *   PID namespace anyway (upstream: only over pid=CONTAINER). No running target: the start
 *   fails with CreateContainerConfigError "unable to find target container <name>" and is
 *   tried again on the next sync.
 * - It does not count for the pod's phase or readiness; its status (ephemeralContainerStatuses)
 *   is never ready and has no `started`.
 */
import type { Container, Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type * as m from '../cri/index.js';
import type { ContainerToStart } from './actions.js';
import { ContainerConfigError } from './container-config.js';
import { latestContainer, type RuntimePodStatus } from './runtime-state.js';

type ReadonlyPod = DeepReadonly<Pod>;
type EphemeralContainer = NonNullable<NonNullable<Pod['spec']>['ephemeralContainers']>[number];

/** The ephemeral containers to start: those the runtime holds no instance of, in spec order. */
export function ephemeralContainersToStart(pod: ReadonlyPod, rs: RuntimePodStatus): ContainerToStart[] {
  const out: ContainerToStart[] = [];
  (pod.spec?.ephemeralContainers ?? []).forEach((c, index) => {
    if (!latestContainer(rs, c.name)) out.push({ kind: 'ephemeral', index, name: c.name, attempt: 0 });
  });
  return out;
}

/** The names of a pod's ephemeral containers. */
export function ephemeralNames(pod: ReadonlyPod): Set<string> {
  return new Set((pod.spec?.ephemeralContainers ?? []).map((c) => c.name));
}

/**
 * An ephemeral container's spec as a Container (upstream converts EphemeralContainerCommon the
 * same way): the fields it may not set are absent by validation; targetContainerName is dropped.
 */
export function ephemeralContainerSpec(pod: ReadonlyPod, index: number): DeepReadonly<Container> | undefined {
  const ec = pod.spec?.ephemeralContainers?.[index];
  if (!ec) return undefined;
  const { targetContainerName: _target, ...common } = ec as DeepReadonly<EphemeralContainer>;
  return common as DeepReadonly<Container>;
}

/**
 * upstream startSpec.getTargetID: the running instance of the container an ephemeral container
 * targets, or undefined without a target; throws ContainerConfigError when it is not running.
 */
export function ephemeralTargetId(pod: ReadonlyPod, index: number, rs: RuntimePodStatus): string | undefined {
  const target = pod.spec?.ephemeralContainers?.[index]?.targetContainerName;
  if (!target) return undefined;
  const st = latestContainer(rs, target);
  if (!st || st.state !== 'running') throw new ContainerConfigError(`unable to find target container ${target}`);
  return st.id;
}

/**
 * Puts a container config into the PID namespace of `targetId` (upstream
 * generateLinuxContainerConfig: only when its PID namespace would be its own). Returns the
 * config (changed in place).
 */
export function withTargetPidNamespace(config: m.ContainerConfig, targetId: string | undefined): m.ContainerConfig {
  const ns = config.linux?.security_context?.namespace_options;
  if (targetId && ns && (ns.pid ?? 'CONTAINER') === 'CONTAINER') {
    ns.pid = 'TARGET';
    ns.target_id = targetId;
  }
  return config;
}
