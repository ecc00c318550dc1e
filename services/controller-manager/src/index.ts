/** @tskube/controller-manager: the controller-manager as a library (tests, embedding). */
export { buildControllerManager, LEADER_ELECTION_NAME, LEADER_ELECTION_NAMESPACE } from './controller-manager.js';
export type { ControllerManager, ControllerManagerDeps, StopReason } from './controller-manager.js';
export { loadConfig, type ControllerManagerConfig } from './config.js';
export { ALL_CONTROLLERS, selectControllers } from './controllers.js';
export type { Controller, ControllerContext, ControllerSettings } from './controller.js';
export { ControllerManagerMetrics } from './metrics.js';
