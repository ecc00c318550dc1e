/** @tskube/kubelet: the kubelet (kubelet.ts wiring) and its CRI layer (cri/). */
export * from './cri/index.js';
export { buildKubelet, DEFAULT_TIMING, type Kubelet, type KubeletDeps, type KubeletEndpoints, type KubeletSettings, type KubeletTiming } from './kubelet.js';
export { loadConfig, type KubeletConfig, type RuntimeKind } from './config.js';
export { systemClock, ManualClock, type Clock } from './clock.js';
export type { HostFacts } from './host/host-info.js';
export { computePodActions, type PodActions } from './pods/actions.js';
export { generatePodStatus } from './status/generate.js';
