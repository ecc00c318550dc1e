import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodSpec } from '@tskube/api';
import { makePod } from '../testing/builders.js';
import { NodeInfo } from './node-info.js';
import { Resource, isScalarResourceName, podRequests } from './resources.js';
import { makeNode } from '../testing/builders.js';

const c = (name: string, requests?: Record<string, string>, restartPolicy?: string) => ({
  name, image: 'i', ...(requests ? { resources: { requests } } : {}), ...(restartPolicy ? { restartPolicy } : {}),
});

test('a pod requests max(sum of containers, largest init step) plus overhead', () => {
  const cases: { name: string; spec: Partial<PodSpec>; nonMissing?: boolean; want: Record<string, number> }[] = [
    { name: 'containers add up', spec: { containers: [c('a', { cpu: '100m', memory: '1Gi' }), c('b', { cpu: '1', memory: '512Mi' })] }, want: { cpu: 1100, memory: 1.5 * 2 ** 30 } },
    {
      name: 'upstream example: init max wins per resource',
      spec: {
        initContainers: [c('i1', { cpu: '2', memory: '1G' }), c('i2', { cpu: '2', memory: '3G' })],
        containers: [c('c1', { cpu: '2', memory: '1G' }), c('c2', { cpu: '1', memory: '1G' })],
      },
      want: { cpu: 3000, memory: 3e9 },
    },
    { name: 'overhead is added', spec: { containers: [c('a', { cpu: '250m' })], overhead: { cpu: '50m', memory: '10Mi' } }, want: { cpu: 300, memory: 10 * 2 ** 20 } },
    {
      name: 'sidecars run alongside the containers and later init steps',
      spec: {
        initContainers: [c('sidecar', { cpu: '500m' }, 'Always'), c('setup', { cpu: '2' })],
        containers: [c('app', { cpu: '1' })],
      },
      // steady state 1 + 0.5; init step "setup" needs 2 + 0.5 (the sidecar runs during it)
      want: { cpu: 2500 },
    },
    { name: 'nothing requested', spec: { containers: [c('a')] }, want: {} },
    { name: 'scoring defaults for unset cpu/memory', spec: { containers: [c('a'), c('b', { cpu: '1' })] }, nonMissing: true, want: { cpu: 1100, memory: 2 * 200 * 2 ** 20 } },
    { name: 'extended resources pass through', spec: { containers: [c('a', { 'example.com/gpu': '2' })] }, want: { 'example.com/gpu': 2 } },
    { name: 'malformed quantities count as 0', spec: { containers: [c('a', { cpu: 'lots' })] }, want: { cpu: 0 } },
  ];
  for (const tc of cases) {
    const pod = makePod('p', { spec: { containers: [], ...tc.spec } });
    const got = podRequests(pod, tc.nonMissing ? { nonMissing: { cpu: 100, memory: 200 * 2 ** 20 } } : {});
    assert.deepEqual(Object.fromEntries(got), tc.want, tc.name);
  }
});

test('scalar resource names', () => {
  const cases: [string, boolean][] = [
    ['cpu', false], ['memory', false], ['example.com/gpu', true], ['kubernetes.io/foo', true], ['hugepages-2Mi', true],
    ['attachable-volumes-aws-ebs', true], ['requests.example.com/gpu', false],
  ];
  for (const [name, want] of cases) assert.equal(isScalarResourceName(name), want, name);
});

test('NodeInfo accounts pods in and out, and clones independently', () => {
  const ni = new NodeInfo(makeNode('n', { cpu: '2', memory: '4Gi', extra: { 'example.com/gpu': '1' } }));
  assert.equal(ni.allocatable.milliCPU, 2000);
  assert.equal(ni.allocatable.allowedPodNumber, 110);
  assert.equal(ni.allocatable.scalar.get('example.com/gpu'), 1);
  ni.addPod(makePod('a', { cpu: '500m', memory: '1Gi' }));
  ni.addPod(makePod('b'));
  assert.equal(ni.requested.milliCPU, 500);
  assert.equal(ni.nonZeroRequested.milliCPU, 600, 'best-effort pod counts 100m for scoring');
  assert.equal(ni.nonZeroRequested.memory, 2 ** 30 + 200 * 2 ** 20);
  const copy = ni.clone();
  const gen = ni.generation;
  assert.equal(ni.removePod('uid-a'), true);
  assert.ok(ni.generation > gen);
  assert.equal(ni.requested.milliCPU, 0);
  assert.equal(copy.requested.milliCPU, 500, 'the clone is unaffected');
  assert.equal(copy.podCount, 2);
  assert.equal(ni.removePod('uid-a'), false);
});

test('a node without status.allocatable is taken at capacity', () => {
  const ni = new NodeInfo(makeNode('n', { cpu: '3', capacityOnly: true }));
  assert.equal(ni.allocatable.milliCPU, 3000);
});

test('Resource.add subtracts with sign -1', () => {
  const r = Resource.fromList(new Map([['cpu', 100], ['example.com/x', 2]]));
  r.add(new Map([['cpu', 40], ['example.com/x', 1]]), -1);
  assert.equal(r.get('cpu'), 60);
  assert.equal(r.get('example.com/x'), 1);
});
