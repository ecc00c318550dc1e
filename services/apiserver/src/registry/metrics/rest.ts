/**
 * metrics.k8s.io/v1beta1 endpoints (what metrics-server serves upstream, served by the
 * apiserver itself here): nodes (NodeMetrics) and pods (PodMetrics, namespaced), get and list
 * only. Objects are computed per request from the cached scrape (source.ts):
 * - list: the API's nodes/pods matching the label selector (applied to the node's or pod's
 *   labels), each with metrics if its kubelet reported them; objects without metrics are left
 *   out. Sorted by (namespace,) name.
 * - get: NotFound for nodes/pods the API does not have (reported for `nodes`/`pods`), and
 *   NotFound for nodes.metrics.k8s.io/pods.metrics.k8s.io when there are no metrics (yet).
 * - watch: 405, as upstream.
 * Table output (kubectl get nodes.metrics.k8s.io): Name, cpu, memory, Window, as
 * metrics-server's table convertor.
 */
import {
  methodNotSupported, notFound, typed, type KubeList, type KubeObject, type Node, type Pod, type ResourceDef,
} from '@tskube/api';
import type { ApiWatch, Getter, ListQuery, Lister, RequestContext } from '../rest.js';
import type { TableConvertor } from '../strategy.js';
import { cpuQuantity, memoryQuantity, nodeMetricsOf, podMetricsOf, type NodeSummary } from './convert.js';
import type { SummarySource } from './source.js';

export interface MetricsObjects {
  getNode(name: string): Promise<Node>;
  listNodes(labelSelector?: string): Promise<Node[]>;
  getPod(namespace: string, name: string): Promise<Pod>;
  /** namespace '' = all namespaces. */
  listPods(namespace: string, labelSelector?: string): Promise<Pod[]>;
}

const GROUP = 'metrics.k8s.io';

function usageCells(usage: { cpu?: string; memory?: string }): string[] {
  return [usage.cpu ?? '', usage.memory ?? ''];
}

function sumUsage(containers: readonly { usage?: { cpu?: string; memory?: string } }[]): { cpu: string; memory: string } {
  // Summed in base units: cpu in nano cores, memory in bytes (both exact in our quantities).
  let nano = 0;
  let bytes = 0;
  for (const c of containers) {
    nano += parseNano(c.usage?.cpu ?? '0');
    bytes += parseBytes(c.usage?.memory ?? '0');
  }
  return { cpu: cpuQuantity(nano), memory: memoryQuantity(bytes) };
}

const DEC: Record<string, number> = { n: 1, u: 1e3, m: 1e6, '': 1e9, k: 1e12, M: 1e15, G: 1e18 };
const BIN: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, '': 1, k: 1000, M: 1e6, G: 1e9 };
function parseNano(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([numkMG]?)$/.exec(q);
  return m ? Number(m[1]) * (DEC[m[2] ?? ''] ?? 0) : 0;
}
function parseBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G)?$/.exec(q);
  return m ? Number(m[1]) * (BIN[m[2] ?? ''] ?? 1) : 0;
}

const COLUMNS: TableConvertor['columns'] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', priority: 0 },
  { name: 'cpu', type: 'string', format: 'quantity', description: '', priority: 0 },
  { name: 'memory', type: 'string', format: 'quantity', description: '', priority: 0 },
  { name: 'Window', type: 'string', format: 'duration', description: '', priority: 0 },
];

export const nodeMetricsTable: TableConvertor = {
  columns: COLUMNS,
  cells: (o) => {
    const x = o as KubeObject & { usage?: { cpu?: string; memory?: string }; window?: string };
    return [o.metadata?.name ?? '', ...usageCells(x.usage ?? {}), x.window ?? ''];
  },
};

export const podMetricsTable: TableConvertor = {
  columns: COLUMNS,
  cells: (o) => {
    const x = o as KubeObject & { containers?: { usage?: { cpu?: string; memory?: string } }[]; window?: string };
    return [o.metadata?.name ?? '', ...usageCells(sumUsage(x.containers ?? [])), x.window ?? ''];
  },
};

abstract class MetricsRest implements Getter, Lister {
  abstract readonly kind: { group: string; version: string; kind: string };
  abstract readonly table: TableConvertor;
  constructor(readonly def: ResourceDef, protected readonly source: SummarySource, protected readonly objects: MetricsObjects,
    protected readonly now: () => Date = () => new Date()) {}

  abstract get(ctx: RequestContext, name: string): Promise<KubeObject>;
  abstract list(ctx: RequestContext, q: ListQuery): Promise<KubeList>;

  async watch(_ctx: RequestContext, _q: ListQuery): Promise<ApiWatch> {
    throw methodNotSupported({ group: GROUP, resource: this.def.plural }, 'watch');
  }

  protected listOf(kind: string, items: KubeObject[]): KubeList {
    return { kind, apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items };
  }

  protected opts(): { windowMs: number; now: Date } {
    return { windowMs: this.source.resolutionMs, now: this.now() };
  }
}

export class NodeMetricsRest extends MetricsRest {
  readonly kind = { group: GROUP, version: 'v1beta1', kind: 'NodeMetrics' };
  readonly table = nodeMetricsTable;

  async get(_ctx: RequestContext, name: string): Promise<KubeObject> {
    const node = await this.objects.getNode(name);
    const s = (await this.source.scrape()).summaries.get(name);
    const m = s && nodeMetricsOf(node, s, this.opts());
    if (!m) throw notFound({ group: GROUP, resource: 'nodes' }, name);
    return m;
  }

  async list(_ctx: RequestContext, q: ListQuery): Promise<KubeList> {
    const [nodes, scrape] = await Promise.all([this.objects.listNodes(q.labelSelector), this.source.scrape()]);
    const o = this.opts();
    const items = nodes
      .map((n) => { const s = scrape.summaries.get(n.metadata?.name ?? ''); return s && nodeMetricsOf(n, s, o); })
      .filter((x): x is KubeObject => x !== undefined)
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    return this.listOf('NodeMetricsList', items);
  }
}

export class PodMetricsRest extends MetricsRest {
  readonly kind = { group: GROUP, version: 'v1beta1', kind: 'PodMetrics' };
  readonly table = podMetricsTable;

  private metricsOf(pods: Pod[], summaries: ReadonlyMap<string, NodeSummary>): KubeObject[] {
    const o = this.opts();
    return pods
      .map((p) => { const s = summaries.get(p.spec?.nodeName ?? ''); return s && podMetricsOf(p, s, o); })
      .filter((x): x is KubeObject => x !== undefined)
      .sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  }

  async get(ctx: RequestContext, name: string): Promise<KubeObject> {
    const pod = await this.objects.getPod(ctx.namespace, name);
    const [m] = this.metricsOf([pod], (await this.source.scrape()).summaries);
    if (!m) throw notFound({ group: GROUP, resource: 'pods' }, `${ctx.namespace}/${name}`);
    return m;
  }

  async list(ctx: RequestContext, q: ListQuery): Promise<KubeList> {
    const [pods, scrape] = await Promise.all([this.objects.listPods(ctx.namespace, q.labelSelector), this.source.scrape()]);
    return this.listOf('PodMetricsList', this.metricsOf(pods, scrape.summaries));
  }
}

/** Objects of the API read through the registry's stores with the apiserver's own identity. */
export function storeObjects(stores: { nodes(): StoreLike; pods(): StoreLike }, system: RequestContext): MetricsObjects {
  const withNs = (namespace: string): RequestContext => ({ ...system, namespace });
  return {
    getNode: async (name) => typed<Node>(await stores.nodes().get(system, name)),
    listNodes: async (labelSelector) => (await stores.nodes().list(system, labelSelector ? { labelSelector } : {})).items.map((o) => typed<Node>(o)),
    getPod: async (namespace, name) => typed<Pod>(await stores.pods().get(withNs(namespace), name)),
    listPods: async (namespace, labelSelector) =>
      (await stores.pods().list(withNs(namespace), labelSelector ? { labelSelector } : {})).items.map((o) => typed<Pod>(o)),
  };
}

export interface StoreLike {
  get(ctx: RequestContext, name: string): Promise<KubeObject>;
  list(ctx: RequestContext, q: ListQuery): Promise<KubeList>;
}
