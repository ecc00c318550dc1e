/**
 * The client conformance suite (habit 9): behaviour every `Client` implementation must show,
 * the fake against nothing and the REST client against a real apiserver alike.
 *
 *   import { clientConformance } from '@tskube/client/conformance';
 *   clientConformance('fake', () => new FakeClient());
 *
 * Assumes only what a fresh cluster has: namespace "default" and the pods, nodes, events,
 * leases and replicasets resources. Every object it makes carries a per-run name prefix and
 * label and is deleted again; pods name a scheduler that does not exist, so a running
 * scheduler leaves them alone.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isApiError, type Lease, type Node, type Pod, type ReplicaSet } from '@tskube/api';
import type { Client } from './client.js';
import { Resources } from './types.js';
import type { WatchObjectEvent, WatchStream } from './watch.js';

export interface ConformanceOptions {
  /** Namespace to work in; default "default". */
  namespace?: string;
  /** Per-watch wait before giving up (ms); default 10 s. */
  watchTimeoutMs?: number;
}

async function collect<T>(w: WatchStream<T>, n: number, timeoutMs: number): Promise<WatchObjectEvent<T>[]> {
  const out: WatchObjectEvent<T>[] = [];
  const timer = setTimeout(() => w.close(), timeoutMs);
  try {
    for await (const ev of w) {
      if (ev.type === 'BOOKMARK') continue;
      out.push(ev);
      if (out.length >= n) break;
    }
  } finally {
    clearTimeout(timer);
    w.close();
  }
  return out;
}

function apiErr(reason: string, code: number, message?: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isApiError(e), `expected an ApiError, got ${String(e)}`);
    assert.equal(e.reason, reason);
    assert.equal(e.code, code);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  };
}

export function clientConformance(name: string, make: () => Client | Promise<Client>, opts: ConformanceOptions = {}): void {
  const ns = opts.namespace ?? 'default';
  const watchMs = opts.watchTimeoutMs ?? 10_000;
  const run = randomBytes(3).toString('hex');
  const runLabel = { 'tskube.io/conformance': run };
  const sel = `tskube.io/conformance=${run}`;
  let seq = 0;
  const uniq = (what: string) => `conf-${run}-${what}-${++seq}`;

  describe(`client conformance: ${name}`, () => {
    let client: Client;
    const cleanups: (() => Promise<void>)[] = [];
    const ignoreNotFound = async (p: Promise<unknown>) => {
      try { await p; } catch (e) { if (!isApiError(e, 'NotFound')) throw e; }
    };

    const podSpec = (podName: string, labels: Record<string, string> = {}): Pod => ({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: podName, labels: { ...runLabel, ...labels } },
      spec: {
        schedulerName: `tskube-conformance-none-${run}`,
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'c', image: 'local/busybox:1' }],
      },
    });
    const newPod = async (what: string, labels?: Record<string, string>): Promise<Pod> => {
      const pods = client.resource(Resources.pods);
      const p = await pods.create(ns, podSpec(uniq(what), labels));
      cleanups.push(() => ignoreNotFound(pods.delete(ns, p.metadata!.name!, { gracePeriodSeconds: 0 })));
      return p;
    };
    const newNode = async (what: string): Promise<Node> => {
      const nodes = client.resource(Resources.nodes);
      const n = await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: uniq(what), labels: { ...runLabel } }, spec: {} });
      cleanups.push(() => ignoreNotFound(nodes.delete(n.metadata!.name!)));
      return n;
    };

    before(async () => { client = await make(); });
    after(async () => {
      for (const c of cleanups.reverse()) await c();
      client.close();
    });

    it('create sets uid, creationTimestamp and resourceVersion; get returns the object', async () => {
      const p = await newPod('create');
      assert.ok(p.metadata?.uid, 'uid set');
      assert.ok(p.metadata?.creationTimestamp, 'creationTimestamp set');
      assert.ok(p.metadata?.resourceVersion, 'resourceVersion set');
      assert.equal(p.metadata?.namespace, ns);
      const got = await client.resource(Resources.pods).get(ns, p.metadata!.name!);
      assert.equal(got.metadata?.uid, p.metadata?.uid);
      assert.equal(got.metadata?.resourceVersion, p.metadata?.resourceVersion);
      assert.equal(got.kind, 'Pod');
      assert.equal(got.apiVersion, 'v1');
    });

    it('generateName makes a unique name', async () => {
      const pods = client.resource(Resources.pods);
      const spec = podSpec('');
      delete spec.metadata!.name;
      spec.metadata!.generateName = `conf-${run}-gen-`;
      const a = await pods.create(ns, spec);
      cleanups.push(() => ignoreNotFound(pods.delete(ns, a.metadata!.name!, { gracePeriodSeconds: 0 })));
      const b = await pods.create(ns, spec);
      cleanups.push(() => ignoreNotFound(pods.delete(ns, b.metadata!.name!, { gracePeriodSeconds: 0 })));
      assert.ok(a.metadata!.name!.startsWith(`conf-${run}-gen-`));
      assert.notEqual(a.metadata!.name, b.metadata!.name);
    });

    it('create of a taken name is 409 AlreadyExists', async () => {
      const p = await newPod('dup');
      const n = p.metadata!.name!;
      await assert.rejects(client.resource(Resources.pods).create(ns, podSpec(n)),
        apiErr('AlreadyExists', 409, `pods "${n}" already exists`));
    });

    it('get of a missing object is 404 NotFound', async () => {
      const n = uniq('missing');
      await assert.rejects(client.resource(Resources.pods).get(ns, n), apiErr('NotFound', 404, `pods "${n}" not found`));
      await assert.rejects(client.resource(Resources.nodes).get(n), apiErr('NotFound', 404, `nodes "${n}" not found`));
    });

    it('list filters by label selector and returns a resourceVersion', async () => {
      const a = await newPod('list-a', { tier: 'a' });
      const b = await newPod('list-b', { tier: 'b' });
      const pods = client.resource(Resources.pods);
      const all = await pods.list({ namespace: ns, labelSelector: sel });
      assert.ok(all.metadata.resourceVersion, 'list resourceVersion');
      const names = all.items.map((p) => p.metadata?.name);
      assert.ok(names.includes(a.metadata!.name) && names.includes(b.metadata!.name));
      const onlyA = await pods.list({ namespace: ns, labelSelector: `${sel},tier=a` });
      assert.deepEqual(onlyA.items.map((p) => p.metadata?.name), [a.metadata!.name]);
      assert.equal(onlyA.items[0]!.kind, 'Pod');
      const notA = await pods.namespace(ns).list({ labelSelector: `${sel},tier!=a` });
      assert.ok(!notA.items.some((p) => p.metadata?.name === a.metadata!.name));
    });

    it('list with limit pages through everything exactly once', async () => {
      for (let i = 0; i < 3; i++) await newPod('page', { paged: 'yes' });
      const pods = client.resource(Resources.pods);
      const seen: string[] = [];
      let cont: string | undefined;
      let pages = 0;
      do {
        const page = await pods.list({ namespace: ns, labelSelector: `${sel},paged=yes`, limit: 2, continue: cont });
        seen.push(...page.items.map((p) => p.metadata!.name!));
        cont = page.metadata.continue || undefined;
        assert.ok(++pages <= 3, 'too many pages');
      } while (cont);
      assert.equal(seen.length, 3);
      assert.equal(new Set(seen).size, 3);
    });

    it('field selectors: metadata.name and spec.nodeName', async () => {
      const a = await newPod('field-a');
      await newPod('field-b');
      const pods = client.resource(Resources.pods);
      const byName = await pods.list({ namespace: ns, labelSelector: sel, fieldSelector: `metadata.name=${a.metadata!.name}` });
      assert.deepEqual(byName.items.map((p) => p.metadata?.name), [a.metadata!.name]);
      const node = uniq('nowhere');
      const none = await pods.list({ namespace: ns, labelSelector: sel, fieldSelector: `spec.nodeName=${node}` });
      assert.equal(none.items.length, 0);
      const unbound = await pods.list({ namespace: ns, labelSelector: sel, fieldSelector: 'spec.nodeName=' });
      assert.ok(unbound.items.length >= 2);
    });

    it('update bumps resourceVersion; a stale resourceVersion is 409 Conflict', async () => {
      const pods = client.resource(Resources.pods);
      const p = await newPod('update');
      const n = p.metadata!.name!;
      const changed = await pods.update({ ...p, metadata: { ...p.metadata, labels: { ...p.metadata!.labels, step: 'one' } } });
      assert.equal(changed.metadata?.labels?.step, 'one');
      assert.notEqual(changed.metadata?.resourceVersion, p.metadata?.resourceVersion);
      await assert.rejects(pods.update({ ...p, metadata: { ...p.metadata, labels: { ...p.metadata!.labels, step: 'two' } } }),
        apiErr('Conflict', 409,
          `Operation cannot be fulfilled on pods "${n}": the object has been modified; please apply your changes to the latest version and try again`));
      assert.equal((await pods.get(ns, n)).metadata?.labels?.step, 'one');
    });

    it('merge patch and JSON patch', async () => {
      const pods = client.resource(Resources.pods);
      const p = await newPod('patch');
      const n = p.metadata!.name!;
      const merged = await pods.patch(ns, n, { metadata: { labels: { patched: 'merge' }, annotations: { a: '1' } } }, 'merge');
      assert.equal(merged.metadata?.labels?.patched, 'merge');
      assert.equal(merged.metadata?.labels?.['tskube.io/conformance'], run, 'merge keeps other labels');
      const removed = await pods.patch(ns, n, { metadata: { annotations: { a: null } } }, 'merge');
      assert.equal(removed.metadata?.annotations?.a, undefined, 'null deletes');
      const jp = await pods.patch(ns, n, [
        { op: 'test', path: '/metadata/labels/patched', value: 'merge' },
        { op: 'replace', path: '/metadata/labels/patched', value: 'json' },
      ], 'json');
      assert.equal(jp.metadata?.labels?.patched, 'json');
      await assert.rejects(pods.patch(ns, n, [{ op: 'test', path: '/metadata/labels/patched', value: 'nope' }], 'json'),
        (e: unknown) => isApiError(e) && e.code >= 400 && e.code < 500);
      await assert.rejects(pods.patch(ns, uniq('nopatch'), { metadata: { labels: { x: 'y' } } }, 'merge'), apiErr('NotFound', 404));
    });

    it('delete removes the object; deleting again is 404; a uid precondition mismatch is 409', async () => {
      const pods = client.resource(Resources.pods);
      const p = await newPod('delete');
      const n = p.metadata!.name!;
      await assert.rejects(pods.delete(ns, n, { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } }), apiErr('Conflict', 409));
      await pods.delete(ns, n, { gracePeriodSeconds: 0, preconditions: { uid: p.metadata!.uid } });
      await assert.rejects(pods.get(ns, n), apiErr('NotFound', 404));
      await assert.rejects(pods.delete(ns, n), apiErr('NotFound', 404, `pods "${n}" not found`));
    });

    it('watch from a list resourceVersion sees ADDED, MODIFIED, DELETED in order', async () => {
      const pods = client.resource(Resources.pods);
      const label = { watch: uniq('w') };
      const list = await pods.list({ namespace: ns, labelSelector: `${sel},watch=${label.watch}` });
      const w = await pods.watch({ namespace: ns, labelSelector: `${sel},watch=${label.watch}`, resourceVersion: list.metadata.resourceVersion });
      const events = collect(w, 3, watchMs);
      const p = await newPod('watch', label);
      const n = p.metadata!.name!;
      await pods.patch(ns, n, { metadata: { annotations: { touched: 'yes' } } }, 'merge');
      await pods.delete(ns, n, { gracePeriodSeconds: 0 });
      const got = await events;
      assert.deepEqual(got.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
      assert.ok(got.every((e) => e.object.metadata?.name === n));
      assert.equal(got[1]!.object.metadata?.annotations?.touched, 'yes');
    });

    it('watch resumes after a given resourceVersion', async () => {
      const pods = client.resource(Resources.pods);
      const label = { resume: uniq('r') };
      const p = await newPod('resume', label);
      const n = p.metadata!.name!;
      const v2 = await pods.patch(ns, n, { metadata: { annotations: { step: '2' } } }, 'merge');
      const v3 = await pods.patch(ns, n, { metadata: { annotations: { step: '3' } } }, 'merge');
      const w = await pods.watch({ namespace: ns, labelSelector: `${sel},resume=${label.resume}`, resourceVersion: v2.metadata!.resourceVersion });
      const got = await collect(w, 1, watchMs);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.type, 'MODIFIED');
      assert.equal(got[0]!.object.metadata?.resourceVersion, v3.metadata?.resourceVersion);
      assert.equal(got[0]!.object.metadata?.annotations?.step, '3');
    });

    it('watch without a resourceVersion starts with ADDED for current objects', async () => {
      const pods = client.resource(Resources.pods);
      const label = { initial: uniq('i') };
      const p = await newPod('initial', label);
      const w = await pods.watch({ namespace: ns, labelSelector: `${sel},initial=${label.initial}` });
      const got = await collect(w, 1, watchMs);
      assert.deepEqual(got.map((e) => [e.type, e.object.metadata?.name]), [['ADDED', p.metadata!.name]]);
    });

    it('a filtered watch reports an object that stops matching as DELETED', async () => {
      const pods = client.resource(Resources.pods);
      const label = { sel: uniq('s') };
      const p = await newPod('unmatch', label);
      const w = await pods.watch({ namespace: ns, labelSelector: `${sel},sel=${label.sel}`, resourceVersion: p.metadata!.resourceVersion });
      const events = collect(w, 1, watchMs);
      await pods.patch(ns, p.metadata!.name!, { metadata: { labels: { sel: 'other' } } }, 'merge');
      const got = await events;
      assert.deepEqual(got.map((e) => [e.type, e.object.metadata?.name]), [['DELETED', p.metadata!.name]]);
    });

    it('status split: update ignores status, updateStatus ignores spec (pods)', async () => {
      const pods = client.resource(Resources.pods);
      const p = await newPod('status');
      const n = p.metadata!.name!;
      const phaseBefore = p.status?.phase;
      const u = await pods.update({ ...p, metadata: { ...p.metadata, labels: { ...p.metadata!.labels, main: 'yes' } }, status: { ...p.status, phase: 'Running', message: 'set-by-update' } });
      assert.equal(u.metadata?.labels?.main, 'yes');
      assert.equal(u.status?.phase, phaseBefore);
      assert.notEqual(u.status?.message, 'set-by-update');
      const s = await pods.updateStatus({ ...u, spec: { ...u.spec!, activeDeadlineSeconds: 99 }, status: { ...u.status, phase: 'Running', message: 'set-by-status' } });
      assert.equal(s.status?.phase, 'Running');
      assert.equal(s.status?.message, 'set-by-status');
      assert.equal(s.spec?.activeDeadlineSeconds, undefined);
      const ps = await pods.patchStatus(ns, n, { status: { message: 'patched-status' } }, 'merge');
      assert.equal(ps.status?.message, 'patched-status');
      assert.equal(ps.status?.phase, 'Running');
    });

    it('cluster-scoped resources take no namespace; status split on nodes', async () => {
      const nodes = client.resource(Resources.nodes);
      const node = await newNode('node');
      const n = node.metadata!.name!;
      assert.equal(node.metadata?.namespace, undefined);
      const got = await nodes.get(n);
      assert.equal(got.metadata?.uid, node.metadata?.uid);
      const listed = await nodes.list({ labelSelector: sel });
      assert.ok(listed.items.some((x) => x.metadata?.name === n));
      const withStatus = await nodes.updateStatus({ ...got, spec: { unschedulable: true }, status: { capacity: { cpu: '2', memory: '1Gi', pods: '10' } } });
      assert.equal(withStatus.status?.capacity?.cpu, '2');
      assert.notEqual(withStatus.spec?.unschedulable, true);
      const main = await nodes.update({ ...withStatus, spec: { unschedulable: true }, status: { capacity: { cpu: '64' } } });
      assert.equal(main.spec?.unschedulable, true);
      assert.equal(main.status?.capacity?.cpu, '2');
      await nodes.delete(n);
      await assert.rejects(nodes.get(n), apiErr('NotFound', 404));
    });

    it('pods/binding sets spec.nodeName; binding a bound pod is 409 Conflict', async () => {
      const pods = client.resource(Resources.pods);
      const node = await newNode('bind-node');
      const p = await newPod('bind');
      const n = p.metadata!.name!;
      const target = { apiVersion: 'v1', kind: 'Node', name: node.metadata!.name! };
      await pods.createSubresource(ns, n, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: n }, target });
      const bound = await pods.get(ns, n);
      assert.equal(bound.spec?.nodeName, node.metadata!.name);
      await assert.rejects(
        pods.createSubresource(ns, n, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: n }, target }),
        apiErr('Conflict', 409));
      const byNode = await pods.list({ namespace: ns, labelSelector: sel, fieldSelector: `spec.nodeName=${node.metadata!.name}` });
      assert.deepEqual(byNode.items.map((x) => x.metadata?.name), [n]);
    });

    it('leases: create, compare-and-swap update (coordination.k8s.io)', async () => {
      const leases = client.resource(Resources.leases);
      const name = uniq('lease');
      const l: Lease = await leases.create(ns, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { name, labels: { ...runLabel } },
        spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
      });
      cleanups.push(() => ignoreNotFound(leases.delete(ns, name)));
      assert.equal(l.apiVersion, 'coordination.k8s.io/v1');
      const l2 = await leases.update({ ...l, spec: { ...l.spec, holderIdentity: 'b' } });
      assert.equal(l2.spec?.holderIdentity, 'b');
      await assert.rejects(leases.update({ ...l, spec: { ...l.spec, holderIdentity: 'c' } }), apiErr('Conflict', 409));
    });

    it('replicasets and events (apps group, events resource)', async () => {
      const rss = client.resource(Resources.replicaSets);
      const name = uniq('rs');
      const labels = { ...runLabel, app: name };
      const rs: ReplicaSet = await rss.create(ns, {
        apiVersion: 'apps/v1', kind: 'ReplicaSet',
        metadata: { name, labels },
        spec: {
          replicas: 0, selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'local/busybox:1' }] } },
        },
      });
      cleanups.push(() => ignoreNotFound(rss.delete(ns, name)));
      const st = await rss.updateStatus({ ...rs, status: { replicas: 0, observedGeneration: rs.metadata?.generation } });
      assert.equal(st.status?.observedGeneration, rs.metadata?.generation);
      await assert.rejects(rss.get(ns, uniq('nors')), (e: unknown) => isApiError(e, 'NotFound') && /^replicasets\.apps "/.test(e.message));

      const events = client.resource(Resources.events);
      const evName = `${name}.${Date.now().toString(16)}`;
      const ev = await events.create(ns, {
        apiVersion: 'v1', kind: 'Event',
        metadata: { name: evName },
        involvedObject: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name, namespace: ns, uid: rs.metadata?.uid },
        reason: 'Conformance', message: 'hello', type: 'Normal', count: 1,
        source: { component: 'conformance' },
        firstTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        lastTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      });
      cleanups.push(() => ignoreNotFound(events.delete(ns, evName)));
      const patched = await events.patch(ns, evName, { count: 2 }, 'merge');
      assert.equal(patched.count, 2);
      assert.equal(ev.involvedObject.name, name);
      const byObject = await events.list({ namespace: ns, fieldSelector: `involvedObject.name=${name}` });
      assert.deepEqual(byObject.items.map((e) => e.metadata?.name), [evName]);
    });
  });
}
