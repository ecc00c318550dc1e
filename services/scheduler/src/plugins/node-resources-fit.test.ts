import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/interface.js';
import { Code } from '../framework/status.js';
import type { ReadonlyPod } from '../framework/types.js';
import { makeNode, makePod, nodeInfoOf, type NodeOptions } from '../testing/builders.js';
import { NodeResourcesFit, leastRequestedScore } from './node-resources-fit.js';

test('Filter: every shortfall is reported; a request beyond allocatable is unresolvable', () => {
  const cases: { name: string; node?: NodeOptions; existing?: ReadonlyPod[]; pod: ReadonlyPod; code?: Code; reasons?: string[] }[] = [
    { name: 'fits', pod: makePod('p', { cpu: '1', memory: '1Gi' }) },
    { name: 'fits exactly', node: { cpu: '2' }, existing: [makePod('e', { cpu: '1' })], pod: makePod('p', { cpu: '1' }) },
    { name: 'cpu taken by others', node: { cpu: '2' }, existing: [makePod('e', { cpu: '1500m' })], pod: makePod('p', { cpu: '1' }), code: Code.Unschedulable, reasons: ['Insufficient cpu'] },
    { name: 'more cpu than the node has', node: { cpu: '2' }, pod: makePod('p', { cpu: '100' }), code: Code.UnschedulableAndUnresolvable, reasons: ['Insufficient cpu'] },
    {
      name: 'cpu and memory, in upstream order',
      node: { cpu: '2', memory: '1Gi' }, existing: [makePod('e', { cpu: '2', memory: '512Mi' })],
      pod: makePod('p', { cpu: '1', memory: '1Gi' }), code: Code.Unschedulable, reasons: ['Insufficient cpu', 'Insufficient memory'],
    },
    { name: 'pod count', node: { pods: '1' }, existing: [makePod('e')], pod: makePod('p'), code: Code.Unschedulable, reasons: ['Too many pods'] },
    { name: 'pod count and cpu', node: { pods: '1', cpu: '1' }, existing: [makePod('e', { cpu: '1' })], pod: makePod('p', { cpu: '1' }), code: Code.Unschedulable, reasons: ['Too many pods', 'Insufficient cpu'] },
    { name: 'best-effort pod on a full node', node: { cpu: '1' }, existing: [makePod('e', { cpu: '1' })], pod: makePod('p') },
    { name: 'ephemeral-storage', node: { ephemeralStorage: '1Gi' }, pod: makePod('p', { requests: { 'ephemeral-storage': '2Gi' } }), code: Code.UnschedulableAndUnresolvable, reasons: ['Insufficient ephemeral-storage'] },
    { name: 'extended resource the node lacks', pod: makePod('p', { requests: { 'example.com/gpu': '1' } }), code: Code.UnschedulableAndUnresolvable, reasons: ['Insufficient example.com/gpu'] },
    { name: 'extended resource present', node: { extra: { 'example.com/gpu': '2' } }, pod: makePod('p', { requests: { 'example.com/gpu': '2' } }) },
  ];
  for (const c of cases) {
    const pl = new NodeResourcesFit();
    const state = new CycleState();
    pl.preFilter(state, c.pod);
    const s = pl.filter(state, c.pod, nodeInfoOf(makeNode('n', c.node), ...(c.existing ?? [])));
    if (!c.code) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, c.code, c.name);
      assert.deepEqual(s?.reasons, c.reasons, c.name);
    }
  }
});

test('Filter without PreFilter state is an error status', () => {
  const s = new NodeResourcesFit().filter(new CycleState(), makePod('p'), nodeInfoOf(makeNode('n')));
  assert.equal(s?.code, Code.Error);
});

test('leastRequestedScore is integer arithmetic and 0 when over capacity', () => {
  const cases: [number, number, number][] = [[0, 4000, 100], [1000, 4000, 75], [3000, 4000, 25], [4000, 4000, 0], [5000, 4000, 0], [1, 3, 66], [0, 0, 0]];
  for (const [req, cap, want] of cases) assert.equal(leastRequestedScore(req, cap), want, `${req}/${cap}`);
});

test('Score (LeastAllocated): free share of cpu and memory after placing the pod, averaged', () => {
  const cases: { name: string; existing: ReadonlyPod[]; pod: ReadonlyPod; want: number }[] = [
    { name: 'empty node', existing: [], pod: makePod('p', { cpu: '1', memory: '2Gi' }), want: 75 },
    // cpu (2000+1000)/4000 → 25; memory: existing best-effort counts 200Mi → (8192-2248)*100/8192 = 72
    { name: 'busy cpu', existing: [makePod('e', { cpu: '2' })], pod: makePod('p', { cpu: '1', memory: '2Gi' }), want: 48 },
    // best-effort pod counts 100m / 200Mi: cpu 97, memory 97
    { name: 'best-effort pod', existing: [], pod: makePod('p'), want: 97 },
  ];
  for (const c of cases) {
    const pl = new NodeResourcesFit();
    const state = new CycleState();
    pl.preScore(state, c.pod);
    assert.equal(pl.score(state, c.pod, nodeInfoOf(makeNode('n', { cpu: '4', memory: '8Gi' }), ...c.existing)).score, c.want, c.name);
  }
});

test('requeue hints: node added that fits, allocatable grown, assigned pod deleted', () => {
  const regs = new NodeResourcesFit().eventsToRegister();
  const node = regs.find((r) => r.resource === 'Node');
  const pods = regs.find((r) => r.resource === 'AssignedPod');
  assert.ok(node?.resource === 'Node' && node.hint && pods?.resource === 'AssignedPod' && pods.hint);
  const big = makePod('p', { cpu: '8' });
  assert.equal(node.hint(big, undefined, makeNode('n', { cpu: '4' })), 'QueueSkip', 'too small even when empty');
  assert.equal(node.hint(big, undefined, makeNode('n', { cpu: '16' })), 'Queue');
  assert.equal(node.hint(big, makeNode('n', { cpu: '4' }), makeNode('n', { cpu: '16' })), 'Queue', 'grew');
  assert.equal(node.hint(makePod('q', { cpu: '1' }), makeNode('n', { cpu: '16' }), makeNode('n', { cpu: '16', memory: '16Gi' })), 'QueueSkip', 'grew in something the pod does not request');
  assert.equal(pods.hint(big, makePod('e', { nodeName: 'n' }), undefined), 'Queue');
});
