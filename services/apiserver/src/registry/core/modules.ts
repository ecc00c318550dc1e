/** core/v1 resource modules. */
import { isDNS1035Label, isDNS1123Label, typed, type Node } from '@tskube/api';
import type { ResourceModule } from '../module.js';
import type { Store } from '../store.js';
import { ScaleRest } from '../apps/scale.js';
import { BindingRest, PodLogRest, PodStreamRest, podEphemeralContainersStrategy, podStatusStrategy, podStrategy } from './pods.js';
import {
  NamespaceRest, eventStrategy, namespaceFinalizeRest, namespaceMainRest, namespaceStatusStrategy, namespaceStrategy,
  nodeStatusStrategy, nodeStrategy, subresourceRest,
} from './others.js';
import {
  configMapStrategy, endpointsStrategy, limitRangeStrategy, persistentVolumeClaimStatusStrategy, persistentVolumeClaimStrategy,
  persistentVolumeStatusStrategy, persistentVolumeStrategy, resourceQuotaStatusStrategy, resourceQuotaStrategy, secretStrategy,
  serviceAccountStrategy,
} from './config.js';
import { ServiceRest, bootstrapServices, serviceIPAM, serviceStatusStrategy, serviceStrategy } from './services.js';
import { replicationControllerSelector, replicationControllerStatusStrategy, replicationControllerStrategy } from './replicationcontrollers.js';
import { EvictionRest } from './eviction.js';
import { NodeProxyRest } from './node-proxy.js';
import { ServiceAccountTokenSigner, TokenRest } from './token.js';

export const CORE_MODULES: ResourceModule[] = [
  {
    group: '', kind: 'Pod', strategy: podStrategy, statusStrategy: podStatusStrategy,
    endpoints: (ctx) => {
      const pods = ctx.store!;
      const nodes = () => ctx.storeFor('', 'Node');
      const getNode = async (n: string): Promise<Node> => typed<Node>(await nodes().get(ctx.system, n));
      return {
        binding: new BindingRest(ctx.def, pods),
        ephemeralcontainers: subresourceRest(pods.withStrategy(podEphemeralContainersStrategy, 'ephemeralcontainers')),
        log: new PodLogRest(ctx.def, pods, getNode, ctx.deps.kubelets),
        exec: new PodStreamRest(ctx.def, 'exec', pods, getNode, ctx.deps.kubelets),
        attach: new PodStreamRest(ctx.def, 'attach', pods, getNode, ctx.deps.kubelets),
        portforward: new PodStreamRest(ctx.def, 'portforward', pods, getNode, ctx.deps.kubelets),
        eviction: new EvictionRest(ctx.def, {
          pods,
          pdbs: (): Store | undefined => {
            try { return ctx.storeFor('policy', 'PodDisruptionBudget'); } catch { return undefined; }
          },
        }),
      };
    },
  },
  {
    group: '', kind: 'Binding',
    endpoints: (ctx) => ({ '': new BindingRest(ctx.def, ctx.storeFor('', 'Pod')) }),
  },
  {
    group: '', kind: 'Node', strategy: nodeStrategy, statusStrategy: nodeStatusStrategy,
    endpoints: (ctx) => ({
      proxy: new NodeProxyRest(ctx.def, async (n) => typed<Node>(await ctx.store!.get(ctx.system, n)), ctx.deps.kubelets),
    }),
  },
  {
    group: '', kind: 'Namespace', strategy: namespaceStrategy, statusStrategy: namespaceStatusStrategy, nameValidator: isDNS1123Label,
    endpoints: (ctx) => {
      const rest = new NamespaceRest(ctx.store!);
      return { '': namespaceMainRest(ctx.store!, rest), finalize: namespaceFinalizeRest(ctx.def, rest) };
    },
  },
  { group: '', kind: 'Event', strategy: eventStrategy },
  { group: '', kind: 'ConfigMap', strategy: configMapStrategy },
  { group: '', kind: 'Secret', strategy: secretStrategy },
  {
    group: '', kind: 'ServiceAccount', strategy: serviceAccountStrategy,
    endpoints: (ctx) => ({
      token: new TokenRest(ctx.def, {
        serviceAccounts: ctx.store!,
        storeFor: (kind) => ctx.storeFor('', kind),
        signer: ctx.deps.serviceAccountSigner ?? new ServiceAccountTokenSigner(ctx.deps.serviceAccountKey),
      }),
    }),
  },
  { group: '', kind: 'Endpoints', strategy: endpointsStrategy },
  { group: '', kind: 'LimitRange', strategy: limitRangeStrategy },
  { group: '', kind: 'ResourceQuota', strategy: resourceQuotaStrategy, statusStrategy: resourceQuotaStatusStrategy },
  { group: '', kind: 'PersistentVolume', strategy: persistentVolumeStrategy, statusStrategy: persistentVolumeStatusStrategy },
  { group: '', kind: 'PersistentVolumeClaim', strategy: persistentVolumeClaimStrategy, statusStrategy: persistentVolumeClaimStatusStrategy },
  {
    group: '', kind: 'ReplicationController', strategy: replicationControllerStrategy, statusStrategy: replicationControllerStatusStrategy,
    endpoints: (ctx) => ({ scale: new ScaleRest(ctx.def, ctx.store!, { selector: replicationControllerSelector }) }),
  },
  {
    group: '', kind: 'Service', strategy: serviceStrategy, statusStrategy: serviceStatusStrategy, nameValidator: isDNS1035Label,
    endpoints: (ctx) => ({ '': new ServiceRest(ctx.store!, serviceIPAM(ctx)) }),
    bootstrap: (ctx, info) => bootstrapServices(ctx, new ServiceRest(ctx.store!, serviceIPAM(ctx)), serviceIPAM(ctx), info),
  },
];
