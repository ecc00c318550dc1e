/** core/v1 (the legacy group, served under /api/v1). */
import { RW, row, sub, type ResourceDef } from '../resource-def.js';

export const core = (kind: string) => ({ group: '', version: 'v1', kind });

export const CORE: readonly ResourceDef[] = [
  row({
    group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], schemaPackage: 'core',
    subresources: [sub('status', core('Namespace'), RW), sub('finalize', core('Namespace'), ['update'])],
  }),
  row({
    group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'],
    schemaPackage: 'core',
    subresources: [
      sub('binding', core('Binding'), ['create']),
      sub('log', core('Pod'), ['get']),
      sub('status', core('Pod'), RW),
    ],
  }),
  row({
    group: '', version: 'v1', kind: 'Binding', plural: 'bindings', namespaced: true, verbs: ['create'],
    schemaPackage: 'core',
  }),
  row({
    group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], schemaPackage: 'core',
    storagePrefix: 'minions',
    subresources: [sub('status', core('Node'), RW)],
  }),
  row({
    group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], schemaPackage: 'core',
  }),
];
