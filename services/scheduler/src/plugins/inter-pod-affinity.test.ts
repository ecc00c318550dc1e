import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Namespace, PodSpec } from '@tskube/api';
import { CycleState, type NodeScore } from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { Code } from '../framework/status.js';
import type { ReadonlyPod } from '../framework/types.js';
import { makeNode, makePod, nodeInfoOf, staticListers, testHandle } from '../testing/builders.js';
import type { ClusterListers } from '../framework/registry.js';
import {
  ERR_REASON_AFFINITY, ERR_REASON_ANTI_AFFINITY, ERR_REASON_EXISTING_ANTI_AFFINITY, InterPodAffinity,
} from './inter-pod-affinity.js';

type Term = NonNullable<NonNullable<NonNullable<PodSpec['affinity']>['podAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>[number];
const term = (app: string, topologyKey: string, o: Partial<Term> = {}): Term => ({ labelSelector: { matchLabels: { app } }, topologyKey, ...o });
const affinity = (...t: Term[]): PodSpec['affinity'] => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: t } });
const antiAffinity = (...t: Term[]): PodSpec['affinity'] => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: t } });
const HOST = 'kubernetes.io/hostname';

/** n1, n2 in zone a (db runs on n1), n3 in zone b, n4 without a zone label. */
function cluster(extra: ReadonlyPod[] = []): NodeInfo[] {
  const infos = [
    nodeInfoOf(makeNode('n1', { labels: { zone: 'a' } }), makePod('db', { nodeName: 'n1', labels: { app: 'db' } })),
    nodeInfoOf(makeNode('n2', { labels: { zone: 'a' } })),
    nodeInfoOf(makeNode('n3', { labels: { zone: 'b' } })),
    nodeInfoOf(makeNode('n4')),
  ];
  for (const p of extra) infos.find((n) => n.name === p.spec?.nodeName)!.addPod(p);
  return infos;
}

const AFF = `${Code.UnschedulableAndUnresolvable}: ${ERR_REASON_AFFINITY}`;
const ANTI = `${Code.Unschedulable}: ${ERR_REASON_ANTI_AFFINITY}`;
const EXISTING = `${Code.Unschedulable}: ${ERR_REASON_EXISTING_ANTI_AFFINITY}`;

function verdicts(pod: ReadonlyPod, nodes: NodeInfo[], listers?: ClusterListers): Record<string, string> | 'skip' {
  const pl = new InterPodAffinity(testHandle(nodes, listers));
  const state = new CycleState();
  const pre = pl.preFilter(state, pod, nodes);
  if (pre?.status?.code === Code.Skip) return 'skip';
  assert.equal(pre?.status, undefined);
  const out: Record<string, string> = {};
  for (const n of nodes) {
    const s = pl.filter(state, pod, n);
    out[n.name] = s ? `${s.code}: ${s.reasons.join()}` : 'ok';
  }
  return out;
}

test('InterPodAffinity Filter: required affinity, anti-affinity and existing pods\' anti-affinity', () => {
  const guard = makePod('guard', { nodeName: 'n3', labels: { app: 'guard' }, affinity: antiAffinity(term('web', HOST)) });
  const otherNs = makePod('db-x', { nodeName: 'n3', namespace: 'other', labels: { app: 'db' } });
  const teamNs: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other', labels: { team: 'x' } } };
  const cases: { name: string; pod: ReadonlyPod; nodes?: NodeInfo[]; listers?: ClusterListers; want: Record<string, string> | 'skip' }[] = [
    { name: 'no affinity and no existing anti-affinity: Skip', pod: makePod('p', { labels: { app: 'web' } }), want: 'skip' },
    { name: 'affinity to db by zone', pod: makePod('p', { affinity: affinity(term('db', 'zone')) }), want: { n1: 'ok', n2: 'ok', n3: AFF, n4: AFF } },
    { name: 'affinity to db by hostname', pod: makePod('p', { affinity: affinity(term('db', HOST)) }), want: { n1: 'ok', n2: AFF, n3: AFF, n4: AFF } },
    { name: 'affinity to pods that do not exist', pod: makePod('p', { labels: { app: 'web' }, affinity: affinity(term('cache', 'zone')) }), want: { n1: AFF, n2: AFF, n3: AFF, n4: AFF } },
    {
      name: 'the first pod of a self-affine group goes anywhere that has the topology key',
      pod: makePod('p', { labels: { app: 'cache' }, affinity: affinity(term('cache', 'zone')) }), want: { n1: 'ok', n2: 'ok', n3: 'ok', n4: AFF },
    },
    { name: 'anti-affinity to db by zone', pod: makePod('p', { affinity: antiAffinity(term('db', 'zone')) }), want: { n1: ANTI, n2: ANTI, n3: 'ok', n4: 'ok' } },
    {
      name: 'an existing pod\'s anti-affinity keeps matching pods off its node',
      pod: makePod('p', { labels: { app: 'web' } }), nodes: cluster([guard]), want: { n1: 'ok', n2: 'ok', n3: EXISTING, n4: 'ok' },
    },
    {
      name: 'terms look in the pod\'s own namespace by default',
      pod: makePod('p', { affinity: affinity(term('db', 'zone')) }), nodes: [...cluster().slice(1, 3)].map((n) => n), want: { n2: AFF, n3: AFF },
    },
    {
      name: 'namespaces lists where to look',
      pod: makePod('p', { affinity: affinity(term('db', 'zone', { namespaces: ['other'] })) }), nodes: cluster([otherNs]), want: { n1: AFF, n2: AFF, n3: 'ok', n4: AFF },
    },
    {
      name: 'an empty namespaceSelector means all namespaces',
      pod: makePod('p', { affinity: antiAffinity(term('db', HOST, { namespaceSelector: {} })) }), nodes: cluster([otherNs]), want: { n1: ANTI, n2: 'ok', n3: ANTI, n4: 'ok' },
    },
    {
      name: 'a namespaceSelector selects namespaces by their labels',
      pod: makePod('p', { affinity: affinity(term('db', 'zone', { namespaceSelector: { matchLabels: { team: 'x' } } })) }),
      nodes: cluster([otherNs]), listers: staticListers({ namespaces: [teamNs] }), want: { n1: AFF, n2: AFF, n3: 'ok', n4: AFF },
    },
    {
      name: 'an existing pod\'s anti-affinity with a namespaceSelector matches by the incoming pod\'s namespace labels',
      pod: makePod('p', { namespace: 'other', labels: { app: 'web' } }),
      nodes: cluster([makePod('guard2', { nodeName: 'n2', affinity: antiAffinity(term('web', 'zone', { namespaceSelector: { matchLabels: { team: 'x' } } })) })]),
      listers: staticListers({ namespaces: [teamNs] }), want: { n1: EXISTING, n2: EXISTING, n3: 'ok', n4: 'ok' },
    },
  ];
  for (const c of cases) assert.deepEqual(verdicts(c.pod, c.nodes ?? cluster(), c.listers), c.want, c.name);
});

test('InterPodAffinity: malformed selectors are unresolvable; dry-run removal lifts anti-affinity', () => {
  const nodes = cluster();
  const pl = new InterPodAffinity(testHandle(nodes));
  const bad = makePod('p', { affinity: affinity({ labelSelector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, topologyKey: 'zone' }) });
  const pre = pl.preFilter(new CycleState(), bad, nodes);
  assert.equal(pre?.status?.code, Code.UnschedulableAndUnresolvable);
  assert.match(pre?.status?.message ?? '', /^parsing pod: /);

  const pod = makePod('p', { priority: 10, affinity: antiAffinity(term('db', HOST)) });
  const state = new CycleState();
  pl.preFilter(state, pod, nodes);
  assert.equal(pl.filter(state, pod, nodes[0]!)?.code, Code.Unschedulable);
  const copy = state.clone();
  const n1 = nodes[0]!.clone();
  const db = n1.pods[0]!;
  n1.removePod(db.pod.metadata!.uid!);
  pl.removePod(copy, pod, db, n1);
  assert.equal(pl.filter(copy, pod, n1), undefined);
  assert.equal(pl.filter(state, pod, nodes[0]!)?.code, Code.Unschedulable, 'the original state is unchanged');
});

function scores(pod: ReadonlyPod, nodes: NodeInfo[]): Record<string, number> | 'skip' {
  const pl = new InterPodAffinity(testHandle(nodes));
  const state = new CycleState();
  if (pl.preScore(state, pod, nodes)?.code === Code.Skip) return 'skip';
  const list: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(state, pod, n).score }));
  pl.normalizeScore(state, pod, list);
  return Object.fromEntries(list.map((s) => [s.name, s.score]));
}

test('InterPodAffinity Score: preferred terms of the pod and of existing pods, normalised min–max', () => {
  const pref = (app: string, key: string, weight: number) => ({ weight, podAffinityTerm: term(app, key) });
  assert.equal(scores(makePod('p'), cluster()), 'skip', 'nothing to prefer');
  assert.deepEqual(scores(makePod('p', { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [pref('db', 'zone', 10)] } } }), cluster()),
    { n1: 100, n2: 100, n3: 0, n4: 0 });
  assert.deepEqual(scores(makePod('p', { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [pref('db', 'zone', 10)] } } }), cluster()),
    { n1: 0, n2: 0, n3: 100, n4: 100 });
  // An existing pod that prefers (weight 5) web pods in its zone, and one that requires them by
  // hostname (hardPodAffinityWeight 1): n3 gets 5 + 1, n1 0.
  const lover = makePod('lover', { nodeName: 'n3', affinity: { podAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [pref('web', 'zone', 5)], requiredDuringSchedulingIgnoredDuringExecution: [term('web', HOST)],
  } } });
  assert.deepEqual(scores(makePod('p', { labels: { app: 'web' } }), cluster([lover])), { n1: 0, n2: 0, n3: 100, n4: 0 });
});
