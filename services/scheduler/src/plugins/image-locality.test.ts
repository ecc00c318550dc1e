import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import type { ReadonlyPod } from '../framework/types.js';
import { makeNode, makePod, nodeInfoOf, testHandle } from '../testing/builders.js';
import { ImageLocality, MAX_CONTAINER_THRESHOLD, MIN_THRESHOLD, calculatePriority, normalizedImageName } from './image-locality.js';

const MB = 1024 * 1024;

test('ImageLocality helpers: tag normalisation and the clamped linear score', () => {
  const names: [string, string][] = [
    ['nginx', 'nginx:latest'], ['nginx:1.25', 'nginx:1.25'], ['registry:5000/app', 'registry:5000/app:latest'], ['registry:5000/app:v1', 'registry:5000/app:v1'],
  ];
  for (const [input, want] of names) assert.equal(normalizedImageName(input), want, input);
  const cases: [number, number, number][] = [
    [0, 1, 0], [MIN_THRESHOLD, 1, 0], [MAX_CONTAINER_THRESHOLD, 1, 100], [2 * MAX_CONTAINER_THRESHOLD, 1, 100],
    [MAX_CONTAINER_THRESHOLD, 2, Math.trunc((100 * (MAX_CONTAINER_THRESHOLD - MIN_THRESHOLD)) / (2 * MAX_CONTAINER_THRESHOLD - MIN_THRESHOLD))],
    [500 * MB, 1, Math.trunc((100 * (500 * MB - MIN_THRESHOLD)) / (MAX_CONTAINER_THRESHOLD - MIN_THRESHOLD))],
  ];
  for (const [sum, n, want] of cases) assert.equal(calculatePriority(sum, n), want, `${sum}/${n}`);
});

function scores(pod: ReadonlyPod, nodes: NodeInfo[]): Record<string, number> {
  const pl = new ImageLocality(testHandle(nodes));
  const state = new CycleState();
  pl.preScore(state, pod, nodes);
  return Object.fromEntries(nodes.map((n) => [n.name, pl.score(state, pod, n).score]));
}

test('ImageLocality Score: size × spread over all nodes', () => {
  const big = { names: ['example.com/big:1'], sizeBytes: 800 * MB };
  const nodes = [
    nodeInfoOf(makeNode('a', { images: [big] })),
    nodeInfoOf(makeNode('b', { images: [big, { names: ['busybox:latest', 'busybox@sha256:x'], sizeBytes: 100 * MB }] })),
    nodeInfoOf(makeNode('c')),
    nodeInfoOf(makeNode('d')),
  ];
  const pod = makePod('p', { image: 'example.com/big:1' });
  // 800 MiB on 2 of 4 nodes → 400 MiB scaled.
  const want = calculatePriority(400 * MB, 1);
  assert.deepEqual(scores(pod, nodes), { a: want, b: want, c: 0, d: 0 });
  assert.ok(want > 0);
  // busybox (no tag → :latest) is only on b, but it is small: below the 23 MiB floor after scaling.
  assert.deepEqual(scores(makePod('q', { image: 'busybox' }), nodes), { a: 0, b: 0, c: 0, d: 0 });
  // Two containers: the ceiling doubles.
  const two = makePod('r', { image: 'example.com/big:1', spec: { initContainers: [{ name: 'i', image: 'example.com/big:1' }] } });
  assert.equal(scores(two, nodes).b, calculatePriority(800 * MB, 2));
});
