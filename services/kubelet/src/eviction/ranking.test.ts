import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { isCriticalPod, podRequest, rankDiskPressure, rankMemoryPressure, rankPIDPressure } from './ranking.js';

const Mi = 2 ** 20;

function pod(name: string, o: { request?: string; storage?: string; priority?: number; annotations?: Record<string, string> } = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.request) requests.memory = o.request;
  if (o.storage) requests['ephemeral-storage'] = o.storage;
  return {
    metadata: { name, uid: name, namespace: 'default', ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: { priority: o.priority, containers: [{ name: 'c', image: 'i', resources: { requests } }] },
  };
}

const names = (pods: readonly Pod[]): string[] => pods.map((p) => p.metadata?.name ?? '');

describe('eviction ranking (upstream rankMemoryPressure / rankDiskPressureFunc / rankPIDPressure)', () => {
  it('memory: over request first, then lower priority, then more usage above the request', () => {
    const usage: Record<string, number> = { guaranteed: 100 * Mi, bursty: 300 * Mi, besteffort: 50 * Mi, important: 900 * Mi, small: 10 * Mi };
    const pods = [
      pod('guaranteed', { request: '200Mi' }), // under its request
      pod('bursty', { request: '100Mi' }), // 200Mi above
      pod('besteffort'), // 50Mi above 0
      pod('important', { request: '100Mi', priority: 1000 }), // over, but higher priority
      pod('small', { request: '100Mi', priority: -5 }), // under its request, low priority
    ];
    assert.deepEqual(names(rankMemoryPressure(pods, (p) => usage[p.metadata!.name!])), ['bursty', 'besteffort', 'important', 'small', 'guaranteed']);
  });

  it('a pod without stats goes first', () => {
    assert.deepEqual(names(rankMemoryPressure([pod('a'), pod('nostats')], (p) => (p.metadata?.name === 'a' ? 10 : undefined))), ['nostats', 'a']);
  });

  it('disk: by local storage over the ephemeral-storage request, priority, usage above the request', () => {
    const usage: Record<string, number> = { writer: 1500 * Mi, reserved: 1500 * Mi, quiet: 0, idle: 4096 };
    const pods = [pod('quiet'), pod('reserved', { storage: '2Gi' }), pod('idle'), pod('writer')];
    assert.deepEqual(names(rankDiskPressure(pods, (p) => usage[p.metadata!.name!])), ['writer', 'idle', 'quiet', 'reserved']);
  });

  it('pids: priority, then more processes', () => {
    const procs: Record<string, number> = { a: 5, b: 50, c: 500 };
    assert.deepEqual(names(rankPIDPressure([pod('a'), pod('b'), pod('c', { priority: 10 })], (p) => procs[p.metadata!.name!])), ['b', 'a', 'c']);
  });

  it('critical pods: static (config.source not api), mirror, system-critical priority', () => {
    assert.equal(isCriticalPod(pod('p')), false);
    assert.equal(isCriticalPod(pod('p', { annotations: { 'kubernetes.io/config.source': 'api' } })), false);
    assert.equal(isCriticalPod(pod('p', { annotations: { 'kubernetes.io/config.source': 'file' } })), true);
    assert.equal(isCriticalPod(pod('p', { annotations: { 'kubernetes.io/config.mirror': 'abc' } })), true);
    assert.equal(isCriticalPod(pod('p', { priority: 2_000_000_000 })), true);
    assert.equal(isCriticalPod(pod('p', { priority: 1_999_999_999 })), false);
  });

  it('pod request: app containers summed, at least the largest init container, plus overhead', () => {
    const p: Pod = {
      spec: {
        containers: [{ name: 'a', resources: { requests: { memory: '100Mi' } } }, { name: 'b', resources: { requests: { memory: '50Mi' } } }],
        initContainers: [{ name: 'i', resources: { requests: { memory: '200Mi' } } }],
        overhead: { memory: '10Mi' },
      },
    };
    assert.equal(podRequest(p, 'memory'), 210 * Mi);
    assert.equal(podRequest(pod('x'), 'memory'), 0);
  });
});
