export * from './pod.js';
export * from './replicaset.js';
export * from './misc.js';
