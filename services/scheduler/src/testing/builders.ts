/** Test builders for pods and nodes (upstream's st.MakePod / st.MakeNode, much smaller). */
import type {
  Container, Namespace, Node, Pod, PodDisruptionBudget, PodSpec, ReplicaSet, ReplicationController, Service,
  StatefulSet, Taint, Toleration,
} from '@tskube/api';
import { FakeClient, type Client, type EventRecorder } from '@tskube/client';
import { Snapshot } from '../cache/cache.js';
import type { PodNominator } from '../framework/interface.js';
import { nullLogger, type Logger } from '@tskube/log';
import { Framework } from '../framework/framework.js';
import { NodeInfo } from '../framework/node-info.js';
import { EMPTY_LISTERS, defaultProfile, type ClusterListers, type Profile } from '../framework/registry.js';
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
  /** status.images */
  images?: NonNullable<NonNullable<Node['status']>['images']>;
}

export function makeNode(name: string, o: NodeOptions = {}): ReadonlyNode {
  const res: Record<string, string> = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', ...o.extra };
  if (o.ephemeralStorage) res['ephemeral-storage'] = o.ephemeralStorage;
  const node: Node = {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, uid: `uid-${name}`, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: res, ...(o.capacityOnly ? {} : { allocatable: res }), conditions: [{ type: 'Ready', status: 'True' }],
      ...(o.images ? { images: o.images } : {}),
    },
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
  /** Container ports of the single container (hostPort ones matter to NodePorts). */
  ports?: NonNullable<Container['ports']>;
  image?: string;
  /** status.startTime */
  startTime?: string;
  nominatedNodeName?: string;
  ownerReferences?: NonNullable<Pod['metadata']>['ownerReferences'];
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
      ...(o.ownerReferences ? { ownerReferences: o.ownerReferences } : {}),
    },
    spec: {
      containers: [{
        name: 'c', image: o.image ?? 'busybox', ...(Object.keys(requests).length ? { resources: { requests } } : {}),
        ...(o.ports ? { ports: o.ports } : {}),
      }],
      schedulerName: o.schedulerName ?? 'default-scheduler',
      priority: o.priority ?? 0,
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      ...o.spec,
    },
    status: {
      phase: 'Pending', ...(o.startTime ? { startTime: o.startTime } : {}), ...(o.nominatedNodeName ? { nominatedNodeName: o.nominatedNodeName } : {}),
    },
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

export interface ListerObjects {
  namespaces?: Namespace[];
  services?: Service[];
  replicationControllers?: ReplicationController[];
  replicaSets?: ReplicaSet[];
  statefulSets?: StatefulSet[];
  pdbs?: PodDisruptionBudget[];
}

/** ClusterListers over fixed objects. */
export function staticListers(o: ListerObjects = {}): ClusterListers {
  const byName = <T extends { metadata?: { namespace?: string; name?: string } }>(list: T[] | undefined, ns: string, name: string) =>
    list?.find((x) => x.metadata?.namespace === ns && x.metadata?.name === name);
  return {
    ...EMPTY_LISTERS,
    namespace: (name) => o.namespaces?.find((n) => n.metadata?.name === name),
    namespaces: () => o.namespaces ?? [],
    services: (ns) => (o.services ?? []).filter((s) => s.metadata?.namespace === ns),
    replicationController: (ns, name) => byName(o.replicationControllers, ns, name),
    replicaSet: (ns, name) => byName(o.replicaSets, ns, name),
    statefulSet: (ns, name) => byName(o.statefulSets, ns, name),
    podDisruptionBudgets: () => o.pdbs ?? [],
  };
}

export interface TestFrameworkOptions {
  client?: Client;
  profile?: Profile;
  logger?: Logger;
  /** The snapshot plugins see through the handle (pass the same NodeInfos given to schedulePod). */
  nodes?: NodeInfo[];
  listers?: ClusterListers;
  nominator?: PodNominator;
  recorder?: EventRecorder;
  now?: () => number;
}

/** The default profile's framework over a FakeClient (or the given client), logging nothing. */
export function testFramework(opts: TestFrameworkOptions = {}): Framework {
  const fwk = new Framework({
    registry: inTreeRegistry(), profile: opts.profile ?? defaultProfile(), client: opts.client ?? new FakeClient(), logger: opts.logger ?? nullLogger(),
    snapshot: Snapshot.of(opts.nodes ?? []), listers: opts.listers ?? EMPTY_LISTERS,
    ...(opts.recorder ? { recorder: opts.recorder } : {}), ...(opts.now ? { now: opts.now } : {}),
  });
  if (opts.nominator) fwk.setPodNominator(opts.nominator);
  return fwk;
}

/** A snapshot lister and listers for constructing plugins directly. */
export function testHandle(nodes: NodeInfo[], listers: ClusterListers = EMPTY_LISTERS): { snapshot: Snapshot; listers: ClusterListers } {
  return { snapshot: Snapshot.of(nodes), listers };
}
