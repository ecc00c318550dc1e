/**
 * @tskube/client: what every non-apiserver component uses to talk to the apiserver.
 * See docs/client.md for a tour.
 */
export * from './types.js';
export * from './errors.js';
export * from './watch.js';
export * from './client.js';
export * from './kubeconfig.js';
export * from './rest.js';
export * from './store.js';
export * from './informer.js';
export * from './workqueue.js';
export * from './controller.js';
export * from './events.js';
export * from './leader-election.js';
export * from './backoff.js';
export * from './merge-patch.js';
export * from './fake.js';
export * from './fake-server.js';
