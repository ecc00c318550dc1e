/** Test builders for pods and nodes (upstream's st.MakePod / st.MakeNode, much smaller). */
import type { Node, Pod, PodSpec, Taint, Toleration } from '@tskube/api';
import { FakeClient, type Client } from '@tskube/client';
import { nullLogger, type Logger } from '@tskube/log';
import { Framework } from '../framework/framework.js';
import { NodeInfo } from '../framework/node-info.js';
import { defaultProfile, type Profile } from '../framework/registry.js';
import { inTreeRegistry } from '../plugins/index.js';
import type { ReadonlyNode, ReadonlyPod } from '../framework/types.js';

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  ephemeralStorage?: string;
  /** Extra allocatable entries (extended resources). */
  extra?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  /** Report capacity only (no status.allocatable). */
  capacityOnly?: boolean;
}

export function makeNode(name: string, o: NodeOptions = {}): ReadonlyNode {
  const res: Record<string, string> = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', ...o.extra };
  if (o.ephemeralStorage) res['ephemeral-storage'] = o.ephemeralStorage;
  const node: Node = {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, uid: `uid-${name}`, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: res, ...(o.capacityOnly ? {} : { allocatable: res }), conditions: [{ type: 'Ready', status: 'True' }] },
  };
  return node;
}

export interface PodOptions {
  namespace?: string;
  uid?: string;
  /** Requests of the single container ("" = none). */
  cpu?: string;
  memory?: string;
  requests?: Record<string, string>;
  priority?: number;
  nodeName?: string;
  schedulerName?: string;
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  affinity?: PodSpec['affinity'];
  spec?: Partial<PodSpec>;
  deleting?: boolean;
  labels?: Record<string, string>;
}

export function makePod(name: string, o: PodOptions = {}): ReadonlyPod {
  const requests: Record<string, string> = { ...o.requests };
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  const pod: Pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: o.namespace ?? 'default', uid: o.uid ?? `uid-${name}`, ...(o.labels ? { labels: o.labels } : {}),
      ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers: [{ name: 'c', image: 'busybox', ...(Object.keys(requests).length ? { resources: { requests } } : {}) }],
      schedulerName: o.schedulerName ?? 'default-scheduler',
      priority: o.priority ?? 0,
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      ...o.spec,
    },
    status: { phase: 'Pending' },
  };
  return pod;
}

/** A NodeInfo for `node` holding `pods`. */
export function nodeInfoOf(node: ReadonlyNode, ...pods: ReadonlyPod[]): NodeInfo {
  const ni = new NodeInfo(node);
  for (const p of pods) ni.addPod(p);
  return ni;
}

export const notReadyTaint: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

/** The default profile's framework over a FakeClient (or the given client), logging nothing. */
export function testFramework(opts: { client?: Client; profile?: Profile; logger?: Logger } = {}): Framework {
  return new Framework({
    registry: inTreeRegistry(), profile: opts.profile ?? defaultProfile(), client: opts.client ?? new FakeClient(), logger: opts.logger ?? nullLogger(),
  });
}
