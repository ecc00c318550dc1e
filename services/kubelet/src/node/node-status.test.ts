import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseThresholdStatements } from '../eviction/thresholds.js';
import {
  initialNode, nodeCapacity, nodeImages, nodeStatus, nodeStatusChanged, conditionTransitions, type NodeFacts,
} from './node-status.js';

const T0 = Date.parse('2024-05-01T10:00:00Z');

function facts(o: Partial<NodeFacts> = {}): NodeFacts {
  return {
    nodeName: 'kubelet-1', nodeIP: '172.18.0.5', hostname: 'abc123', kubeletPort: 10250,
    cpuCores: 4, memoryBytes: 8 * 1024 ** 3, ephemeralStorageBytes: 100 * 1024 ** 3, maxPods: 110,
    nodeInfo: {
      machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)',
      architecture: 'amd64', containerRuntimeVersion: 'docker://27.3.1',
    },
    ...o,
  };
}

describe('node status', () => {
  it('registers with labels, the not-ready taint and a full status', () => {
    const n = initialNode(facts(), { ready: true }, T0);
    assert.deepEqual(n.metadata?.labels, {
      'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': 'kubelet-1', 'kubernetes.io/os': 'linux',
    });
    assert.deepEqual(n.spec?.taints, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
    const s = n.status!;
    assert.deepEqual(s.addresses, [{ type: 'InternalIP', address: '172.18.0.5' }, { type: 'Hostname', address: 'kubelet-1' }]);
    assert.deepEqual(s.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
    assert.equal(s.nodeInfo?.kubeletVersion, 'v1.32.0-tskube');
    assert.equal(s.nodeInfo?.containerRuntimeVersion, 'docker://27.3.1');
    assert.equal(s.nodeInfo?.operatingSystem, 'linux');
    assert.deepEqual(s.conditions?.map((c) => [c.type, c.status, c.reason]), [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ]);
    assert.equal(s.conditions?.[3]?.message, 'kubelet is posting ready status');
    assert.equal(s.conditions?.[3]?.lastHeartbeatTime, '2024-05-01T10:00:00Z');
  });

  const capacities: Array<{ name: string; f: NodeFacts; cap: Record<string, string>; alloc: Record<string, string> }> = [
    {
      // upstream: 100Gi − int64(100Gi × float32(0.1)) = 96636764000 (float32 0.1 is a hair above 0.1)
      name: 'host values, minus the default hard eviction thresholds',
      f: facts(),
      cap: { cpu: '4', memory: '8388608Ki', pods: '110', 'ephemeral-storage': '104857600Ki' },
      alloc: { cpu: '4', memory: '8092Mi', pods: '110', 'ephemeral-storage': '96636764000' },
    },
    {
      name: 'overrides',
      f: facts({ cpuOverride: '2', memoryOverride: '4Gi' }),
      cap: { cpu: '2', memory: '4Gi', pods: '110', 'ephemeral-storage': '104857600Ki' },
      alloc: { cpu: '2', memory: '3996Mi', pods: '110', 'ephemeral-storage': '96636764000' },
    },
    {
      name: 'system and kube reserved, custom hard thresholds (a percentage of memory, a quantity of disk)',
      f: facts({
        reservations: {
          systemReserved: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '1Gi', pid: '1000' },
          kubeReserved: { cpu: '50m', memory: '512Mi' },
          evictionHard: parseThresholdStatements('memory.available<5%,nodefs.available<2Gi,nodefs.inodesFree<5%'),
        },
      }),
      cap: { cpu: '4', memory: '8388608Ki', pods: '110', 'ephemeral-storage': '104857600Ki' },
      // memory: 8Gi − 256Mi − 512Mi − int64(8Gi × float32(0.05)) = 7355131488 bytes (not a whole Ki)
      alloc: { cpu: '3850m', memory: '7355131488', pods: '110', 'ephemeral-storage': '97Gi' },
    },
    {
      name: 'no hard thresholds: only the reservations come off; never below 0',
      f: facts({ reservations: { systemReserved: { cpu: '8', memory: '1Gi' }, evictionHard: [] } }),
      cap: { cpu: '4', memory: '8388608Ki', pods: '110', 'ephemeral-storage': '104857600Ki' },
      alloc: { cpu: '0', memory: '7Gi', pods: '110', 'ephemeral-storage': '100Gi' },
    },
  ];
  for (const c of capacities) {
    it(`capacity: ${c.name}`, () => {
      const { capacity, allocatable } = nodeCapacity(c.f);
      assert.deepEqual(capacity, c.cap);
      assert.deepEqual(allocatable, c.alloc);
    });
  }

  it('pressure conditions: True with upstream reasons and messages while the eviction manager holds them', () => {
    const a = nodeStatus(facts(), { ready: true }, undefined, T0);
    const b = nodeStatus(facts(), { ready: true }, a, T0 + 10_000, ['MemoryPressure', 'DiskPressure', 'PIDPressure']);
    assert.deepEqual(b.conditions?.slice(0, 3).map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime]), [
      ['MemoryPressure', 'True', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', '2024-05-01T10:00:10Z'],
      ['DiskPressure', 'True', 'KubeletHasDiskPressure', 'kubelet has disk pressure', '2024-05-01T10:00:10Z'],
      ['PIDPressure', 'True', 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available', '2024-05-01T10:00:10Z'],
    ]);
    assert.deepEqual(conditionTransitions(a, b).map((c) => c.type), ['MemoryPressure', 'DiskPressure', 'PIDPressure']);
    const c = nodeStatus(facts(), { ready: true }, b, T0 + 20_000, ['DiskPressure']);
    assert.deepEqual(c.conditions?.slice(0, 3).map((x) => [x.type, x.status, x.lastTransitionTime]), [
      ['MemoryPressure', 'False', '2024-05-01T10:00:20Z'],
      ['DiskPressure', 'True', '2024-05-01T10:00:10Z'],
      ['PIDPressure', 'False', '2024-05-01T10:00:20Z'],
    ]);
  });

  it('images: largest first, digests then tags, at most 5 names and 50 images, nameless images left out', () => {
    const img = (size: number, tags: string[], digests: string[] = []) => ({ size, repo_tags: tags, repo_digests: digests });
    assert.deepEqual(nodeImages([
      img(10, ['local/busybox:1']),
      img(500, ['local/node:20', 'node:20'], ['local/node@sha256:aa']),
      img(99, []),
      img(70, ['a:1', 'a:2', 'a:3', 'a:4', 'a:5', 'a:6']),
    ]), [
      { names: ['local/node@sha256:aa', 'local/node:20', 'node:20'], sizeBytes: 500 },
      { names: ['a:1', 'a:2', 'a:3', 'a:4', 'a:5'], sizeBytes: 70 },
      { names: ['local/busybox:1'], sizeBytes: 10 },
    ]);
    const many = nodeImages(Array.from({ length: 60 }, (_, i) => img(i, [`i:${i}`])));
    assert.equal(many.length, 50);
    assert.deepEqual([many[0]!.sizeBytes, many[49]!.sizeBytes], [59, 10]);
  });

  it('Ready False with the runtime\'s reason when it is down', () => {
    const s = nodeStatus(facts(), { ready: false, message: 'container runtime is down' }, undefined, T0);
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'KubeletNotReady');
    assert.equal(ready?.message, 'container runtime is down');
  });

  it('changes are detected ignoring heartbeats; transitions keep their time while unchanged', () => {
    const a = nodeStatus(facts(), { ready: true }, undefined, T0);
    const b = nodeStatus(facts(), { ready: true }, a, T0 + 10_000);
    assert.equal(nodeStatusChanged(a, b), false, 'only heartbeats moved');
    assert.equal(b.conditions?.[3]?.lastTransitionTime, '2024-05-01T10:00:00Z');
    assert.equal(b.conditions?.[3]?.lastHeartbeatTime, '2024-05-01T10:00:10Z');
    const c = nodeStatus(facts(), { ready: false }, b, T0 + 20_000);
    assert.equal(nodeStatusChanged(b, c), true);
    assert.equal(c.conditions?.[3]?.lastTransitionTime, '2024-05-01T10:00:20Z');
    assert.deepEqual(conditionTransitions(b, c).map((x) => x.type), ['Ready']);
    assert.deepEqual(conditionTransitions(undefined, a).map((x) => x.type), ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);
  });
});
