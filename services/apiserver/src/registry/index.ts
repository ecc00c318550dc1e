/**
 * Assembles the REST endpoints of every resource and subresource from the resource table and
 * the resource modules (./modules.ts): a generic Store per module with a strategy, its /status
 * endpoint, and whatever extra endpoints the module adds.
 */
import { RESOURCES, typed, type Namespace, type ResourceDef } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { Rest, RequestContext } from './rest.js';
import { Store } from './store.js';
import { subresourceRest } from './core/others.js';
import { MODULES } from './modules.js';
import type { BootstrapInfo, ModuleContext, RegistryDeps, ResourceModule } from './module.js';

export type { BootstrapInfo, RegistryDeps } from './module.js';

export interface ApiRegistry {
  resources: readonly ResourceDef[];
  /** The endpoint for a resource or `resource/subresource`, if served. */
  lookup(def: ResourceDef, subresource: string): Rest | undefined;
  /** The generic store of a kind (group '' = core; the first served version unless given). */
  store(kind: string, group?: string, version?: string): Store;
  /** Runs every module's bootstrap hook, in module order (see ResourceModule.bootstrap). */
  bootstrap(info: BootstrapInfo): Promise<void>;
}

const key = (def: ResourceDef, sub: string) => `${def.group}/${def.version}/${def.plural}${sub ? `/${sub}` : ''}`;

/** Context for the apiserver's own reads (log proxy looking up nodes, admission …). */
export function systemContext(logger: Logger, namespace = ''): RequestContext {
  return { user: { username: 'system:apiserver', groups: ['system:masters'] }, namespace, dryRun: false, log: logger };
}

function moduleFor(modules: readonly ResourceModule[], def: ResourceDef): ResourceModule | undefined {
  return modules.find((m) => m.group === def.group && m.kind === def.kind && m.version === def.version)
    ?? modules.find((m) => m.group === def.group && m.kind === def.kind && m.version === undefined);
}

export function buildRegistry(deps: RegistryDeps, modules: readonly ResourceModule[] = MODULES): ApiRegistry {
  const resources = deps.resources ?? RESOURCES;
  const endpoints = new Map<string, Rest>();
  const stores = new Map<string, Store>();
  const sys = systemContext(deps.logger);
  const storeFor = (group: string, kind: string, version?: string): Store => {
    const s = version ? stores.get(`${group}/${version}/${kind}`) : [...stores.entries()].find(([k]) => k.startsWith(`${group}/`) && k.endsWith(`/${kind}`))?.[1];
    if (!s) throw new Error(`no store for ${group || 'core'}/${version ?? '*'} ${kind}`);
    return s;
  };

  const withModules: [ResourceDef, ResourceModule | undefined][] = resources.map((def) => [def, moduleFor(modules, def)]);
  const hooks: [ResourceModule, ModuleContext][] = [];
  for (const [def, m] of withModules) {
    if (!m?.strategy) continue;
    const store = new Store({
      def, strategy: m.strategy, storage: deps.storage, admission: deps.admission,
      ...(m.nameValidator ? { nameValidator: m.nameValidator } : {}),
      ...(m.conversion ? { conversion: m.conversion } : {}),
    });
    stores.set(`${def.group}/${def.version}/${def.kind}`, store);
    endpoints.set(key(def, ''), store);
    if (m.statusStrategy) endpoints.set(key(def, 'status'), subresourceRest(store.withStrategy(m.statusStrategy, 'status')));
  }
  for (const [def, m] of withModules) {
    if (!m) {
      deps.logger.debug('resource without a module is not served', { group: def.group, kind: def.kind });
      continue;
    }
    const store = stores.get(`${def.group}/${def.version}/${def.kind}`);
    const ctx: ModuleContext = { def, ...(store ? { store } : {}), storeFor, deps, system: sys };
    for (const [sub, rest] of Object.entries(m.endpoints?.(ctx) ?? {})) endpoints.set(key(def, sub), rest);
    if (m.bootstrap && !hooks.some(([hm]) => hm === m)) hooks.push([m, ctx]);
  }

  return {
    resources: resources.filter((def) => endpoints.has(key(def, ''))),
    lookup: (def, sub) => endpoints.get(key(def, sub)),
    store: (kind, group = '', version) => storeFor(group, kind, version),
    async bootstrap(info) {
      for (const [m, ctx] of hooks) await m.bootstrap!(ctx, info);
    },
  };
}

/**
 * Namespace lookup for admission: null when it does not exist. Like upstream's lister with a
 * live fallback: the watch cache answers; a miss (a namespace created a moment ago) is
 * checked against storage before it counts as absent.
 */
export function namespaceGetter(registry: () => ApiRegistry, logger: Logger): (name: string) => Promise<Namespace | null> {
  const sys = systemContext(logger);
  const notFound = (e: unknown) => (e as { code?: number }).code === 404;
  return async (name) => {
    const store = registry().store('Namespace');
    try {
      return typed<Namespace>(await store.get(sys, name, { resourceVersion: '0' }));
    } catch (e) {
      if (!notFound(e)) throw e;
    }
    try {
      return typed<Namespace>(await store.get(sys, name));
    } catch (e) {
      if (notFound(e)) return null;
      throw e;
    }
  };
}
