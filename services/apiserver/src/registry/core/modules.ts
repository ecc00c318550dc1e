/** core/v1 resource modules. */
import { isDNS1123Label, typed, type Node } from '@tskube/api';
import type { ResourceModule } from '../module.js';
import { BindingRest, PodLogRest, podStatusStrategy, podStrategy } from './pods.js';
import {
  NamespaceRest, eventStrategy, namespaceFinalizeRest, namespaceMainRest, namespaceStatusStrategy, namespaceStrategy,
  nodeStatusStrategy, nodeStrategy,
} from './others.js';

export const CORE_MODULES: ResourceModule[] = [
  {
    group: '', kind: 'Pod', strategy: podStrategy, statusStrategy: podStatusStrategy,
    endpoints: (ctx) => {
      const pods = ctx.store!;
      const nodes = () => ctx.storeFor('', 'Node');
      return {
        binding: new BindingRest(ctx.def, pods),
        log: new PodLogRest(ctx.def, pods, async (n) => typed<Node>(await nodes().get(ctx.system, n)), ctx.deps.kubelets),
      };
    },
  },
  {
    group: '', kind: 'Binding',
    endpoints: (ctx) => ({ '': new BindingRest(ctx.def, ctx.storeFor('', 'Pod')) }),
  },
  { group: '', kind: 'Node', strategy: nodeStrategy, statusStrategy: nodeStatusStrategy },
  {
    group: '', kind: 'Namespace', strategy: namespaceStrategy, statusStrategy: namespaceStatusStrategy, nameValidator: isDNS1123Label,
    endpoints: (ctx) => {
      const rest = new NamespaceRest(ctx.store!);
      return { '': namespaceMainRest(ctx.store!, rest), finalize: namespaceFinalizeRest(ctx.def, rest) };
    },
  },
  { group: '', kind: 'Event', strategy: eventStrategy },
];
