/** events.k8s.io/v1: a second view of the core/v1 Events (same storage prefix, stored in the core/v1 shape). */
import { row, type ResourceDef } from '../resource-def.js';

export const EVENTS: readonly ResourceDef[] = [
  row({
    group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'],
    schemaPackage: 'events', storagePrefix: 'events',
  }),
];
