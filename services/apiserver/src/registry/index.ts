/**
 * Assembles the REST endpoints of every resource and subresource from the resource table,
 * the generic store and the per-kind strategies.
 */
import { RESOURCES, isDNS1123Label, isDNS1123Subdomain, typed, type Namespace, type Node, type ResourceDef } from '@tskube/api';
import type { Storage } from '@tskube/storage';
import type { Logger } from '@tskube/log';
import type { AdmissionChain } from '../admission/admission.js';
import type { KubeletClient } from '../kubelet-client.js';
import type { Rest, RequestContext } from './rest.js';
import { Store } from './store.js';
import { plainStrategy, type Strategy } from './strategy.js';
import { BindingRest, PodLogRest, podStatusStrategy, podStrategy } from './core/pods.js';
import {
  NamespaceRest, eventStrategy, namespaceFinalizeRest, namespaceMainRest, namespaceStatusStrategy, namespaceStrategy,
  nodeStatusStrategy, nodeStrategy, subresourceRest,
} from './core/others.js';
import { ScaleRest, replicaSetStatusStrategy, replicaSetStrategy } from './apps/replicasets.js';
import { leaseStrategy } from './coordination/leases.js';

export interface RegistryDeps {
  storage: Storage;
  admission: AdmissionChain;
  kubelets: KubeletClient;
  logger: Logger;
  resources?: readonly ResourceDef[];
}

export interface ApiRegistry {
  resources: readonly ResourceDef[];
  /** The endpoint for a resource or `resource/subresource`, if served. */
  lookup(def: ResourceDef, subresource: string): Rest | undefined;
  store(kind: string): Store;
}

const key = (def: ResourceDef, sub: string) => `${def.group}/${def.version}/${def.plural}${sub ? `/${sub}` : ''}`;

const STRATEGIES: Record<string, { main: Strategy; status?: Strategy }> = {
  Pod: { main: podStrategy, status: podStatusStrategy },
  Node: { main: nodeStrategy, status: nodeStatusStrategy },
  Namespace: { main: namespaceStrategy, status: namespaceStatusStrategy },
  Event: { main: eventStrategy },
  ReplicaSet: { main: replicaSetStrategy, status: replicaSetStatusStrategy },
  Lease: { main: leaseStrategy },
};

/** Context for the apiserver's own reads (log proxy looking up nodes, admission …). */
export function systemContext(logger: Logger, namespace = ''): RequestContext {
  return { user: { username: 'system:apiserver', groups: ['system:masters'] }, namespace, dryRun: false, log: logger };
}

export function buildRegistry(deps: RegistryDeps): ApiRegistry {
  const resources = deps.resources ?? RESOURCES;
  const endpoints = new Map<string, Rest>();
  const stores = new Map<string, Store>();
  for (const def of resources) {
    if (def.kind === 'Binding') continue;
    const s = STRATEGIES[def.kind] ?? { main: { ...plainStrategy, validate: () => [], validateUpdate: () => [] } };
    const store = new Store({
      def, strategy: s.main, storage: deps.storage, admission: deps.admission,
      nameValidator: def.kind === 'Namespace' ? isDNS1123Label : isDNS1123Subdomain,
    });
    stores.set(def.kind, store);
    endpoints.set(key(def, ''), store);
    if (s.status) endpoints.set(key(def, 'status'), subresourceRest(store.withStrategy(s.status, 'status')));
  }
  const sys = systemContext(deps.logger);
  const pods = stores.get('Pod');
  const nodes = stores.get('Node');
  if (pods && nodes) {
    const podDef = pods.def;
    const bindingDef = resources.find((r) => r.kind === 'Binding');
    endpoints.set(key(podDef, 'binding'), new BindingRest(podDef, pods));
    if (bindingDef) endpoints.set(key(bindingDef, ''), new BindingRest(bindingDef, pods));
    endpoints.set(key(podDef, 'log'), new PodLogRest(podDef, pods, async (n) => typed<Node>(await nodes.get(sys, n)), deps.kubelets));
  }
  const ns = stores.get('Namespace');
  if (ns) {
    const rest = new NamespaceRest(ns);
    endpoints.set(key(ns.def, ''), namespaceMainRest(ns, rest));
    endpoints.set(key(ns.def, 'finalize'), namespaceFinalizeRest(ns.def, rest));
  }
  const rs = stores.get('ReplicaSet');
  if (rs) endpoints.set(key(rs.def, 'scale'), new ScaleRest(rs.def, rs));

  return {
    resources,
    lookup: (def, sub) => endpoints.get(key(def, sub)),
    store: (kind) => {
      const s = stores.get(kind);
      if (!s) throw new Error(`no store for kind ${kind}`);
      return s;
    },
  };
}

/** Namespace lookup for admission: null when it does not exist. */
export function namespaceGetter(registry: () => ApiRegistry, logger: Logger): (name: string) => Promise<Namespace | null> {
  const sys = systemContext(logger);
  return async (name) => {
    try {
      return typed<Namespace>(await registry().store('Namespace').get(sys, name));
    } catch (e) {
      if ((e as { code?: number }).code === 404) return null;
      throw e;
    }
  };
}
