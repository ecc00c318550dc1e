import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodSpec, ReplicaSet, Service } from '@tskube/api';
import { CycleState, type NodeScore } from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { Code } from '../framework/status.js';
import type { ReadonlyPod } from '../framework/types.js';
import { makeNode, makePod, nodeInfoOf, notReadyTaint, staticListers, testHandle, type PodOptions } from '../testing/builders.js';
import { ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH, PodTopologySpread } from './pod-topology-spread.js';

type TSC = NonNullable<PodSpec['topologySpreadConstraints']>[number];
const web = { app: 'web' };
const zoneSpread = (o: Partial<TSC> = {}): TSC => ({ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: web }, ...o });
const existing = (name: string, node: string, o: PodOptions = {}) => makePod(name, { nodeName: node, labels: web, ...o });

/** n1 (zone a) holds 2 web pods, n2 (zone b) 1, n3 (zone c) none; n4 has no zone label. */
function cluster(extra: { n3?: Parameters<typeof makeNode>[1]; pods?: ReadonlyPod[] } = {}): NodeInfo[] {
  return [
    nodeInfoOf(makeNode('n1', { labels: { zone: 'a' } }), existing('w1', 'n1'), existing('w2', 'n1'), ...(extra.pods ?? [])),
    nodeInfoOf(makeNode('n2', { labels: { zone: 'b' } }), existing('w3', 'n2')),
    nodeInfoOf(makeNode('n3', { labels: { zone: 'c' }, ...extra.n3 })),
    nodeInfoOf(makeNode('n4')),
  ];
}

function verdicts(pod: ReadonlyPod, nodes: NodeInfo[]): Record<string, string> {
  const pl = new PodTopologySpread(testHandle(nodes));
  const state = new CycleState();
  const pre = pl.preFilter(state, pod, nodes);
  assert.equal(pre?.status, undefined);
  const out: Record<string, string> = {};
  for (const n of nodes) {
    const s = pl.filter(state, pod, n);
    out[n.name] = s ? `${s.code}: ${s.reasons.join()}` : 'ok';
  }
  return out;
}

const NO = `${Code.Unschedulable}: ${ERR_REASON_CONSTRAINTS_NOT_MATCH}`;
const NO_LABEL = `${Code.UnschedulableAndUnresolvable}: ${ERR_REASON_NODE_LABEL_NOT_MATCH}`;

test('PodTopologySpread Filter: skew = matching pods in the domain + self − global minimum', () => {
  const cases: { name: string; pod: ReadonlyPod; nodes?: NodeInfo[]; want: Record<string, string> }[] = [
    { name: 'maxSkew 1: only the empty zone', pod: makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread()] } }), want: { n1: NO, n2: NO, n3: 'ok', n4: NO_LABEL } },
    { name: 'maxSkew 2', pod: makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ maxSkew: 2 })] } }), want: { n1: NO, n2: 'ok', n3: 'ok', n4: NO_LABEL } },
    { name: 'a pod its own selector does not match adds nothing', pod: makePod('p', { labels: { app: 'other' }, spec: { topologySpreadConstraints: [zoneSpread()] } }), want: { n1: NO, n2: 'ok', n3: 'ok', n4: NO_LABEL } },
    {
      name: 'nodeAffinityPolicy Honor (default): zones the pod cannot use do not count (NodeAffinity rejects those nodes itself)',
      pod: makePod('p', { labels: web, nodeSelector: { zone: 'b' }, spec: { topologySpreadConstraints: [zoneSpread({ maxSkew: 1 })] } }),
      want: { n1: 'ok', n2: 'ok', n3: 'ok', n4: NO_LABEL },
    },
    {
      name: 'nodeAffinityPolicy Ignore: the unusable empty zone keeps the minimum at 0',
      pod: makePod('p', { labels: web, nodeSelector: { zone: 'b' }, spec: { topologySpreadConstraints: [zoneSpread({ maxSkew: 1, nodeAffinityPolicy: 'Ignore' })] } }),
      want: { n1: NO, n2: NO, n3: 'ok', n4: NO_LABEL },
    },
    {
      name: 'nodeTaintsPolicy Honor: a tainted node\'s zone is left out of the minimum (TaintToleration rejects the node itself)',
      pod: makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ nodeTaintsPolicy: 'Honor' })] } }),
      nodes: cluster({ n3: { taints: [notReadyTaint] } }), want: { n1: NO, n2: 'ok', n3: 'ok', n4: NO_LABEL },
    },
    {
      name: 'nodeTaintsPolicy Ignore (default): the tainted node\'s zone counts',
      pod: makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread()] } }),
      nodes: cluster({ n3: { taints: [notReadyTaint] } }), want: { n1: NO, n2: NO, n3: 'ok', n4: NO_LABEL },
    },
    {
      name: 'pods of other namespaces and pods being deleted are not counted',
      pod: makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread()] } }),
      nodes: [
        nodeInfoOf(makeNode('n1', { labels: { zone: 'a' } }), existing('x', 'n1', { namespace: 'other' }), existing('y', 'n1', { deleting: true })),
        nodeInfoOf(makeNode('n2', { labels: { zone: 'b' } })),
      ],
      want: { n1: 'ok', n2: 'ok' },
    },
    {
      name: 'minDomains above the number of domains makes the minimum 0',
      pod: makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ minDomains: 3 })] } }),
      nodes: [nodeInfoOf(makeNode('n1', { labels: { zone: 'a' } }), existing('w1', 'n1')), nodeInfoOf(makeNode('n2', { labels: { zone: 'b' } }), existing('w2', 'n2'))],
      want: { n1: NO, n2: NO },
    },
    {
      name: 'minDomains met: the real minimum',
      pod: makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ minDomains: 2 })] } }),
      nodes: [nodeInfoOf(makeNode('n1', { labels: { zone: 'a' } }), existing('w1', 'n1')), nodeInfoOf(makeNode('n2', { labels: { zone: 'b' } }), existing('w2', 'n2'))],
      want: { n1: 'ok', n2: 'ok' },
    },
    {
      name: 'matchLabelKeys narrows to pods with the same value (another version counts nothing)',
      pod: makePod('p', { labels: { ...web, version: 'v2' }, spec: { topologySpreadConstraints: [zoneSpread({ matchLabelKeys: ['version'] })] } }),
      nodes: [nodeInfoOf(makeNode('n1', { labels: { zone: 'a' } }), existing('w1', 'n1', { labels: { ...web, version: 'v1' } }), existing('w2', 'n1', { labels: { ...web, version: 'v1' } })), nodeInfoOf(makeNode('n2', { labels: { zone: 'b' } }))],
      want: { n1: 'ok', n2: 'ok' },
    },
    {
      name: 'a missing labelSelector matches no pod',
      pod: makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ labelSelector: undefined })] } }),
      want: { n1: 'ok', n2: 'ok', n3: 'ok', n4: NO_LABEL },
    },
    {
      name: 'two constraints: zone and hostname',
      pod: makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ maxSkew: 2 }), zoneSpread({ topologyKey: 'kubernetes.io/hostname', maxSkew: 1 })] } }),
      // zone alone would admit n2; by hostname n2 has 1 against n3's 0.
      want: { n1: NO, n2: NO, n3: 'ok', n4: NO_LABEL },
    },
  ];
  for (const c of cases) assert.deepEqual(verdicts(c.pod, c.nodes ?? cluster()), c.want, c.name);
});

test('PodTopologySpread: PreFilter skips pods without hard constraints; dry-run removal updates the counts', () => {
  const nodes = cluster();
  const pl = new PodTopologySpread(testHandle(nodes));
  assert.equal(pl.preFilter(new CycleState(), makePod('p', { labels: web }), nodes)?.status?.code, Code.Skip);
  const soft = makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ whenUnsatisfiable: 'ScheduleAnyway' })] } });
  assert.equal(pl.preFilter(new CycleState(), soft, nodes)?.status?.code, Code.Skip);

  const pod = makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ maxSkew: 1 })] } });
  const state = new CycleState();
  pl.preFilter(state, pod, nodes);
  assert.equal(pl.filter(state, pod, nodes[1]!)?.code, Code.Unschedulable);
  // Preemption's dry run removes w3 from n2 on a clone: n2's zone then has 0.
  const copy = state.clone();
  const n2 = nodes[1]!.clone();
  const w3 = n2.pods[0]!;
  n2.removePod(w3.pod.metadata!.uid!);
  pl.removePod(copy, pod, w3, n2);
  assert.equal(pl.filter(copy, pod, n2), undefined);
  assert.equal(pl.filter(state, pod, nodes[1]!)?.code, Code.Unschedulable, 'the original state is unchanged');
});

function scores(pl: PodTopologySpread, pod: ReadonlyPod, nodes: NodeInfo[]): Record<string, number> | 'skip' {
  const state = new CycleState();
  const pre = pl.preScore(state, pod, nodes);
  if (pre?.code === Code.Skip) return 'skip';
  const list: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(state, pod, n).score }));
  pl.normalizeScore(state, pod, list);
  return Object.fromEntries(list.map((s) => [s.name, s.score]));
}

test('PodTopologySpread Score: fewer matching pods in the domain scores higher', () => {
  const nodes = cluster();
  const pl = new PodTopologySpread(testHandle(nodes));
  const host = makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' })] } });
  // raw: count × ln(4 + 2) (n4 counts as a host too) → 3.58 → 4, 1.79 → 2, 0, 0; then 100 × (max + min − s) / max.
  assert.deepEqual(scores(pl, host, nodes), { n1: 0, n2: 50, n3: 100, n4: 100 });
  const zone = makePod('p', { labels: web, spec: { topologySpreadConstraints: [zoneSpread({ whenUnsatisfiable: 'ScheduleAnyway' })] } });
  // n4 lacks the zone label: ignored (0). zones a, b, c: ln(5) weights.
  // raw 2 × ln(5) → 3, 1 × ln(5) → 2, 0 → 100 × (3 − 2) / 3 = 33
  assert.deepEqual(scores(pl, zone, nodes.slice(0, 3)), { n1: 0, n2: 33, n3: 100 });
  const withMissing = scores(pl, zone, nodes);
  assert.ok(withMissing !== 'skip');
  assert.equal(withMissing.n4, 0);
});

test('PodTopologySpread: system default constraints apply to pods selected by a Service or owned by a ReplicaSet', () => {
  const nodes = [
    nodeInfoOf(makeNode('n1', { labels: { 'topology.kubernetes.io/zone': 'a' } }), existing('w1', 'n1'), existing('w2', 'n1'), existing('w3', 'n1'), existing('w4', 'n1')),
    nodeInfoOf(makeNode('n2', { labels: { 'topology.kubernetes.io/zone': 'b' } })),
    nodeInfoOf(makeNode('n3')), // no zone label: still spread by hostname
  ];
  const bare = makePod('p', { labels: web });
  assert.equal(scores(new PodTopologySpread(testHandle(nodes)), bare, nodes), 'skip', 'nothing selects the pod: no defaults');

  const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: web } };
  const viaService = scores(new PodTopologySpread(testHandle(nodes, staticListers({ services: [svc] }))), bare, nodes);
  assert.ok(viaService !== 'skip');
  assert.ok(viaService.n2! > viaService.n1! && viaService.n3! > viaService.n1!, JSON.stringify(viaService));

  const rs: ReplicaSet = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default' }, spec: { selector: { matchLabels: web } } };
  const owned = makePod('p', { labels: web, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs', controller: true }] });
  const pl = new PodTopologySpread(testHandle(nodes, staticListers({ replicaSets: [rs] })));
  const viaOwner = scores(pl, owned, nodes);
  assert.ok(viaOwner !== 'skip');
  assert.ok(viaOwner.n2! > viaOwner.n1!, JSON.stringify(viaOwner));
  assert.deepEqual(pl.constraints(owned, 'ScheduleAnyway').map((c) => [c.topologyKey, c.maxSkew]), [['kubernetes.io/hostname', 3], ['topology.kubernetes.io/zone', 5]]);
  assert.deepEqual(pl.constraints(owned, 'DoNotSchedule'), []);
});
