/** @tskube/scheduler: the scheduler service, its framework and plugins (see services/scheduler/README.md). */
export { buildScheduler, DEBUG_PODS_PREFIX, LEASE_NAME, LEASE_NAMESPACE, type Scheduler, type SchedulerDeps, type StopReason } from './scheduler.js';
export { DebugStore, type AttemptRecord } from './debug.js';
export { Nominator } from './queue/nominator.js';
export { loadConfig, type SchedulerConfig } from './config.js';
export { Code, Status } from './framework/status.js';
export * from './framework/interface.js';
export { Framework, type FrameworkOptions } from './framework/framework.js';
export { Registry, defaultProfile, EMPTY_LISTERS, type ClusterListers, type Handle, type PluginFactory, type Profile, type PluginConfig } from './framework/registry.js';
export { NodeInfo, type PodInfo } from './framework/node-info.js';
export { FitError, NodeToStatus, fitErrorMessage } from './framework/fit-error.js';
export { PodScheduler, type ScheduleResult } from './framework/schedule-pod.js';
export { inTreeRegistry, Names } from './plugins/index.js';
export { SchedulingQueue, type QueuedPodInfo } from './queue/scheduling-queue.js';
export { SchedulerCache, Snapshot } from './cache/cache.js';
