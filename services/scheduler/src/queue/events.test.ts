import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '@tskube/api';
import { makeNode, makePod, notReadyTaint } from '../testing/builders.js';
import type { ReadonlyNode } from '../framework/types.js';
import { isPodUpdated, nodeSchedulingPropertiesChange } from './events.js';

test('node updates map to upstream cluster events; heartbeats map to none', () => {
  const base = makeNode('n', { cpu: '2' });
  const withStatus = (n: ReadonlyNode, s: Partial<NonNullable<Node['status']>>): ReadonlyNode => ({ ...n, status: { ...n.status, ...s } });
  const cases: [string, ReadonlyNode, string[]][] = [
    ['heartbeat only', withStatus(base, { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-01-01T00:00:00Z' }] }), []],
    ['cordon', makeNode('n', { cpu: '2', unschedulable: true }), ['NodeSpecUnschedulableChange']],
    ['allocatable', makeNode('n', { cpu: '4' }), ['NodeAllocatableChange']],
    ['labels', makeNode('n', { cpu: '2', labels: { a: 'b' } }), ['NodeLabelChange']],
    ['taints', makeNode('n', { cpu: '2', taints: [notReadyTaint] }), ['NodeTaintChange']],
    ['ready flips', withStatus(base, { conditions: [{ type: 'Ready', status: 'False' }] }), ['NodeConditionChange']],
  ];
  for (const [name, next, want] of cases) assert.deepEqual(nodeSchedulingPropertiesChange(next, base).map((e) => e.label), want, name);
});

test('isPodUpdated ignores status and bookkeeping metadata', () => {
  const p = makePod('p');
  assert.equal(isPodUpdated(p, { ...p, metadata: { ...p.metadata, resourceVersion: '7', managedFields: [] }, status: { phase: 'Pending', conditions: [] } }), false);
  assert.equal(isPodUpdated(p, makePod('p', { labels: { a: 'b' } })), true);
  assert.equal(isPodUpdated(p, makePod('p', { cpu: '1' })), true);
});
