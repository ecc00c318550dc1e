/** @tskube/kubelet: the kubelet (kubelet.ts wiring) and its CRI layer (cri/). */
export * from './cri/index.js';
export { buildKubelet, DEFAULT_TIMING, type Kubelet, type KubeletDeps, type KubeletEndpoints, type KubeletSettings, type KubeletTiming } from './kubelet.js';
export { loadConfig, type KubeletConfig, type RuntimeKind } from './config.js';
export { systemClock, ManualClock, type Clock } from './clock.js';
export type { HostFacts } from './host/host-info.js';
export { computePodActions, type PodActions } from './pods/actions.js';
export { generatePodStatus } from './status/generate.js';
export {
  parseThresholdConfig, parseReserved, type EvictionConfig, type Threshold, type ThresholdSettings,
} from './eviction/thresholds.js';
export type { EvictionStats, EvictionStatsSource } from './eviction/stats.js';
export { canonicalQuantity, formatQuantity } from './eviction/quantity.js';
export { succeedingProbeRunner, type ProbeRunner } from './prober/prober.js';
export type { KubeletPodSource } from './kubelet.js';
export { ExecMounter, FakeMounter, type Mounter } from './volumes/mounter.js';
export { PodDispatcher, type PodDispatcherOptions } from './sim/pod-dispatcher.js';
export { SimBackend, SimRuntime, nodeAddress, podSubnet, type SimRuntimeOptions } from './sim/sim-runtime.js';
export {
  buildSimulatedNodes, simulatedNodeLabels, zoneNames, SIMULATED_LABEL, ZONE_LABEL, SIM_CLIENT_MAX_SOCKETS, SIM_HEARTBEAT_MAX_SOCKETS,
  type SimulatedNodes, type SimulatedNodesOptions,
} from './sim/simulated-nodes.js';
