/** metrics.k8s.io/v1beta1 resource modules (virtual, read-only; see rest.ts and source.ts). */
import type { ResourceModule, ModuleContext } from '../module.js';
import { NodeMetricsRest, PodMetricsRest, storeObjects, type MetricsObjects } from './rest.js';
import { KubeletSummarySource, type SummarySource } from './source.js';

/** One scrape cache per registry, shared by both resources. */
const sources = new WeakMap<object, { source: SummarySource; objects: MetricsObjects }>();

function shared(ctx: ModuleContext): { source: SummarySource; objects: MetricsObjects } {
  let s = sources.get(ctx.deps);
  if (!s) {
    const objects = storeObjects({ nodes: () => ctx.storeFor('', 'Node'), pods: () => ctx.storeFor('', 'Pod') }, ctx.system);
    const source = new KubeletSummarySource({
      listNodes: () => objects.listNodes(), kubelets: ctx.deps.kubelets, logger: ctx.deps.logger.child({ subsystem: 'metrics' }),
    });
    s = { source, objects };
    sources.set(ctx.deps, s);
  }
  return s;
}

export const METRICS_MODULES: ResourceModule[] = [
  {
    group: 'metrics.k8s.io', kind: 'NodeMetrics',
    endpoints: (ctx) => { const s = shared(ctx); return { '': new NodeMetricsRest(ctx.def, s.source, s.objects) }; },
  },
  {
    group: 'metrics.k8s.io', kind: 'PodMetrics',
    endpoints: (ctx) => { const s = shared(ctx); return { '': new PodMetricsRest(ctx.def, s.source, s.objects) }; },
  },
];
