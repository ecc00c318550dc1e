/**
 * The kubelet's events, with upstream reasons (pkg/kubelet/events) and messages. Container
 * events carry involvedObject.fieldPath `spec.containers{name}` (or initContainers), as
 * `kubectl describe pod` groups them by it. Recording never blocks and never throws.
 */
import type { Node, ObjectMeta, Pod } from '@tskube/api';
import type { DeepReadonly, EventRecorder, EventType } from '@tskube/client';
import type { ContainerKind } from './pods/actions.js';
import { containerFieldPath } from './pods/container-config.js';

export const Reason = {
  Created: 'Created',
  Started: 'Started',
  Failed: 'Failed',
  Killing: 'Killing',
  Unhealthy: 'Unhealthy',
  ProbeWarning: 'ProbeWarning',
  FailedPostStartHook: 'FailedPostStartHook',
  FailedPreStopHook: 'FailedPreStopHook',
  BackOff: 'BackOff',
  Pulling: 'Pulling',
  Pulled: 'Pulled',
  ErrImageNeverPull: 'ErrImageNeverPull',
  InspectFailed: 'InspectFailed',
  SandboxChanged: 'SandboxChanged',
  FailedCreatePodSandBox: 'FailedCreatePodSandBox',
  FailedKillPod: 'FailedKillPod',
  Starting: 'Starting',
  NodeReady: 'NodeReady',
  NodeNotReady: 'NodeNotReady',
  NodeHasSufficientMemory: 'NodeHasSufficientMemory',
  NodeHasNoDiskPressure: 'NodeHasNoDiskPressure',
  NodeHasSufficientPID: 'NodeHasSufficientPID',
  NodeHasInsufficientMemory: 'NodeHasInsufficientMemory',
  NodeHasDiskPressure: 'NodeHasDiskPressure',
  NodeHasInsufficientPID: 'NodeHasInsufficientPID',
  EvictionThresholdMet: 'EvictionThresholdMet',
  Evicted: 'Evicted',
  Shutdown: 'Shutdown',
  FailedMount: 'FailedMount',
  InvalidEnvironmentVariableNames: 'InvalidEnvironmentVariableNames',
  FailedToRetrieveImagePullSecret: 'FailedToRetrieveImagePullSecret',
} as const;

type PodLike = DeepReadonly<Pod> | { metadata?: DeepReadonly<ObjectMeta> };

function podRef(pod: PodLike): Pod {
  const md = pod.metadata;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: md?.name, namespace: md?.namespace, uid: md?.uid, resourceVersion: md?.resourceVersion },
  };
}

/** Pod and container events of one kubelet. */
export class KubeletEvents {
  constructor(private readonly recorder: EventRecorder, private readonly nodeName: string) {}

  pod(pod: PodLike, type: EventType, reason: string, message: string): void {
    this.recorder.event(podRef(pod), type, reason, message);
  }

  container(pod: PodLike, kind: ContainerKind, name: string, type: EventType, reason: string, message: string): void {
    this.recorder.event(podRef(pod), type, reason, message, { fieldPath: containerFieldPath(kind, name) });
  }

  /** Node events: upstream references the node by name with uid = name, in "default". */
  node(type: EventType, reason: string, message: string): void {
    const ref: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: this.nodeName, uid: this.nodeName } };
    this.recorder.event(ref, type, reason, message);
  }

  flush(): Promise<void> {
    return this.recorder.flush();
  }
}
