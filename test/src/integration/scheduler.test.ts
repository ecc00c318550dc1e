// The scheduler in-process against the real apiserver (real etcd, HTTPS, client certificates):
// filtering by taints and resources, binding, events, the PodScheduled condition through
// pods/status, requeueing on a cluster event, leader election, health and metrics.
// No kubelet runs here: nodes are registered by the test, pods stay Pending once bound.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, Node, Pod, Taint } from '@tskube/api';
import { Resources, type RestClient } from '@tskube/client';
import type { Scheduler } from '@tskube/scheduler';
import { fakeNode, startControlPlane, type ControlPlane } from '../support/kubelet-stack.js';
import { untilPasses } from '../support/kubectl.js';

let plane: ControlPlane | undefined;
let admin: RestClient;
let scheduler: Scheduler;

const NOT_READY = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

const eventually = <T>(what: string, fn: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> => untilPasses(what, fn, timeoutMs, 100);

/** A tainted node is not Ready. */
const node = (name: string, cpu: string, taints: Taint[] = []): Node => fakeNode(name, { cpu, memory: '4Gi', taints, ready: taints.length === 0 });

function pod(name: string, cpu: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'busybox:1', resources: { requests: { cpu } } }] },
  };
}

async function events(reason: string, name: string): Promise<Event[]> {
  const list = await admin.resource(Resources.events).list({ namespace: 'default', fieldSelector: `involvedObject.name=${name},reason=${reason}` });
  return list.items;
}

before(async () => {
  plane = await startControlPlane({
    name: 'scheduler-it', nodes: [node('node-a', '2'), node('node-b', '2'), node('node-c', '2', [NOT_READY])], scheduler: { leaderElect: true },
  });
  admin = plane.admin;
  scheduler = plane.scheduler!.component;
});

after(async () => {
  const reason = await plane?.scheduler?.stop();
  await plane?.stop();
  if (plane) assert.equal(reason, 'shutdown');
});

test('pods bind only to untainted nodes and get a Scheduled event', async () => {
  const names = ['web-0', 'web-1', 'web-2', 'web-3'];
  for (const n of names) await admin.resource(Resources.pods).create('default', pod(n, '200m'));
  for (const n of names) {
    const bound = await eventually(`${n} bound`, async () => {
      const p = await admin.resource(Resources.pods).get('default', n);
      assert.ok(p.spec?.nodeName, 'not bound yet');
      return p;
    });
    assert.ok(['node-a', 'node-b'].includes(bound.spec!.nodeName!), `${n} landed on ${bound.spec!.nodeName}`);
    assert.equal(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
    const [ev] = await eventually(`${n} Scheduled event`, async () => {
      const e = await events('Scheduled', n);
      assert.equal(e.length, 1);
      return e;
    });
    assert.equal(ev!.message, `Successfully assigned default/${n} to ${bound.spec!.nodeName}`);
    assert.equal(ev!.type, 'Normal');
    assert.equal(ev!.source?.component, 'default-scheduler');
    assert.equal(ev!.reportingComponent, 'default-scheduler');
  }
});

test('a pod that fits nowhere stays Pending with the upstream message, then schedules when a big node appears', async () => {
  await admin.resource(Resources.pods).create('default', pod('huge', '100'));
  const want = '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 Insufficient cpu. '
    + 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
  const [ev] = await eventually('FailedScheduling event', async () => {
    const e = await events('FailedScheduling', 'huge');
    assert.equal(e.length, 1);
    return e;
  });
  assert.equal(ev!.type, 'Warning');
  assert.equal(ev!.message, want);
  const pending = await eventually('PodScheduled=False', async () => {
    const p = await admin.resource(Resources.pods).get('default', 'huge');
    const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
    assert.equal(c?.status, 'False');
    return p;
  });
  const cond = pending.status!.conditions!.find((x) => x.type === 'PodScheduled')!;
  assert.equal(cond.reason, 'Unschedulable');
  assert.equal(cond.message, want);
  assert.equal(pending.status?.phase, 'Pending');
  assert.equal(pending.spec?.nodeName, undefined);

  // Nothing touches the pod while it waits: no polling, no rewrite of an unchanged condition.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await admin.resource(Resources.pods).get('default', 'huge')).metadata?.resourceVersion, pending.metadata?.resourceVersion);

  // The node add event requeues it (no pod update involved).
  await admin.resource(Resources.nodes).create(node('node-big', '128'));
  const bound = await eventually('huge bound to node-big', async () => {
    const p = await admin.resource(Resources.pods).get('default', 'huge');
    assert.equal(p.spec?.nodeName, 'node-big');
    return p;
  });
  assert.equal(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
  await eventually('Scheduled event for huge', async () => assert.equal((await events('Scheduled', 'huge')).length, 1));
});

test('the scheduler holds the kube-scheduler Lease and serves readiness and metrics', async () => {
  const lease = await admin.resource(Resources.leases).get('kube-system', 'kube-scheduler');
  assert.match(lease.spec?.holderIdentity ?? '', /_/);
  const port = scheduler.healthPort;
  assert.ok(port);
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  assert.equal(ready.status, 200);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(metrics, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"[^}]*\} 5/);
  assert.match(metrics, /scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"[^}]*\} 1/);
  assert.match(metrics, /scheduler_pending_pods\{queue="unschedulable"[^}]*\} 0/);
  assert.match(metrics, /scheduler_scheduling_attempt_duration_seconds_bucket/);
});
