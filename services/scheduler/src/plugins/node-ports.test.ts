import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/interface.js';
import { Code } from '../framework/status.js';
import { makeNode, makePod, nodeInfoOf } from '../testing/builders.js';
import { ERR_REASON_PORTS, NodePorts } from './node-ports.js';

type Port = { containerPort: number; hostPort?: number; hostIP?: string; protocol?: string };

test('NodePorts: host port conflicts by protocol, port and address (0.0.0.0 = all addresses)', () => {
  const cases: { name: string; used: Port[]; wanted: Port[]; conflict: boolean }[] = [
    { name: 'same port, default ip and protocol', used: [{ containerPort: 80, hostPort: 8080 }], wanted: [{ containerPort: 80, hostPort: 8080 }], conflict: true },
    { name: 'different port', used: [{ containerPort: 80, hostPort: 8080 }], wanted: [{ containerPort: 80, hostPort: 8081 }], conflict: false },
    { name: 'different protocol', used: [{ containerPort: 80, hostPort: 8080, protocol: 'UDP' }], wanted: [{ containerPort: 80, hostPort: 8080 }], conflict: false },
    { name: 'different specific addresses', used: [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.1' }], wanted: [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.2' }], conflict: false },
    { name: 'same specific address', used: [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.1' }], wanted: [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.1' }], conflict: true },
    { name: 'wanted 0.0.0.0 collides with a specific address', used: [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.1' }], wanted: [{ containerPort: 80, hostPort: 8080 }], conflict: true },
    { name: 'used 0.0.0.0 collides with a specific address', used: [{ containerPort: 80, hostPort: 8080 }], wanted: [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.2' }], conflict: true },
    { name: 'container ports without hostPort never conflict', used: [{ containerPort: 80 }], wanted: [{ containerPort: 80, hostPort: 80 }], conflict: false },
  ];
  const pl = new NodePorts();
  for (const c of cases) {
    const node = nodeInfoOf(makeNode('n'), makePod('existing', { nodeName: 'n', ports: c.used }));
    const pod = makePod('p', { ports: c.wanted });
    const state = new CycleState();
    assert.equal(pl.preFilter(state, pod), undefined, c.name);
    const s = pl.filter(state, pod, node);
    if (!c.conflict) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, Code.Unschedulable, c.name);
      assert.deepEqual(s?.reasons, [ERR_REASON_PORTS], c.name);
    }
  }
});

test('NodePorts: PreFilter skips pods without host ports; sidecar init containers count', () => {
  const pl = new NodePorts();
  assert.equal(pl.preFilter(new CycleState(), makePod('p', { ports: [{ containerPort: 80 }] }))?.status?.code, Code.Skip);
  const sidecar = makePod('s', { nodeName: 'n', spec: { initContainers: [{ name: 'side', image: 'x', restartPolicy: 'Always', ports: [{ containerPort: 9, hostPort: 9000 }] }] } });
  const pod = makePod('p', { ports: [{ containerPort: 9, hostPort: 9000 }] });
  const state = new CycleState();
  pl.preFilter(state, pod);
  assert.equal(pl.filter(state, pod, nodeInfoOf(makeNode('n'), sidecar))?.code, Code.Unschedulable);
});

test('NodePorts: requeued when a pod using the port goes away', () => {
  const [podDelete] = new NodePorts().eventsToRegister();
  assert.ok(podDelete?.resource === 'AssignedPod' && podDelete.hint);
  const pod = makePod('p', { ports: [{ containerPort: 80, hostPort: 8080 }] });
  assert.equal(podDelete.hint(pod, makePod('x', { nodeName: 'n', ports: [{ containerPort: 80, hostPort: 8080 }] }), undefined), 'Queue');
  assert.equal(podDelete.hint(pod, makePod('x', { nodeName: 'n', ports: [{ containerPort: 80, hostPort: 9090 }] }), undefined), 'QueueSkip');
});
