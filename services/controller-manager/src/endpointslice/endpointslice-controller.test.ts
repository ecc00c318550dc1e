import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { EndpointSlice, Pod, Service } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, settle, type Harness } from '../testing.js';
import { CONTROLLER_NAME, EndpointSliceController, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, addressTypesFor } from './endpointslice-controller.js';

const SVC = { group: '', plural: 'services' };
const PODS = { group: '', plural: 'pods' };
const NODES = { group: '', plural: 'nodes' };

function service(name: string, extra: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'default', labels: { team: 'a' }, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { selector: { app: name }, clusterIP: '10.0.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' }], ...extra },
  };
}

function pod(name: string, app: string, o: { ip?: string; ready?: boolean; node?: string; deleting?: boolean; hostname?: string } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app }, ...(o.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
    spec: {
      nodeName: o.node ?? 'n1', containers: [{ name: 'c', image: 'busybox:1', ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] }],
      ...(o.hostname ? { hostname: o.hostname, subdomain: app } : {}),
    },
    status: {
      phase: 'Running', ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2025-01-01T00:00:05Z' }],
    },
  };
}

describe('EndpointSliceController', () => {
  let h: Harness;
  let c: EndpointSliceController;
  let run: Promise<void> | undefined;
  beforeEach(() => {
    h = harness();
    c = new EndpointSliceController({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, sliceChangeDelayMs: 0 });
    run = undefined;
    h.fake.seed(NODES, { metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'zone-a' } } });
    h.fake.seed(NODES, { metadata: { name: 'n2' } });
  });
  afterEach(async () => {
    await h.stop();
    await run;
  });

  async function start(): Promise<void> {
    await h.start();
    run = c.run(h.signal);
  }
  const slicesOf = async (svc: string): Promise<EndpointSlice[]> =>
    (await h.fake.resource(Resources.endpointSlices).list({ namespace: 'default', labelSelector: `${LABEL_SERVICE_NAME}=${svc}` })).items;
  const sliceCreates = () => h.fake.actions.filter((a) => a.resource === 'endpointslices' && a.verb === 'create').length;

  it('creates a slice with labels, owner, conditions, node, zone, hostname and resolved ports', async () => {
    const svc = h.fake.seed(SVC, service('web'));
    const p1 = h.fake.seed(PODS, pod('web-1', 'web', { ip: '10.1.0.2', hostname: 'h1' }));
    h.fake.seed(PODS, pod('web-2', 'web', { ip: '10.1.0.3', ready: false, node: 'n2' }));
    h.fake.seed(PODS, pod('web-3', 'web', { ip: '10.1.0.4', deleting: true }));
    h.fake.seed(PODS, pod('web-4', 'web', {}));  // no IP
    await start();
    await eventually(async () => assert.equal((await slicesOf('web'))[0]?.endpoints?.length, 3));
    const [s] = await slicesOf('web');
    assert.match(s!.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.equal(s!.metadata!.generateName, 'web-');
    assert.deepEqual(s!.metadata!.labels, { team: 'a', [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: CONTROLLER_NAME });
    assert.deepEqual(s!.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(s!.metadata!.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2025-01-01T00:00:00Z');
    assert.equal(s!.addressType, 'IPv4');
    assert.deepEqual(s!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const byName = new Map(s!.endpoints.map((e) => [e.targetRef?.name, e]));
    assert.deepEqual(byName.get('web-1'), {
      addresses: ['10.1.0.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', zone: 'zone-a', hostname: 'h1',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: p1.metadata.uid },
    });
    assert.deepEqual(byName.get('web-2')?.conditions, { ready: false, serving: false, terminating: false });
    assert.equal(byName.get('web-2')?.zone, undefined);
    assert.deepEqual(byName.get('web-3')?.conditions, { ready: false, serving: true, terminating: true });
  });

  it('splits at 100 endpoints per slice and updates slices in place as pods change', async () => {
    h.fake.seed(SVC, service('big'));
    for (let i = 0; i < 250; i++) h.fake.seed(PODS, pod(`big-${i}`, 'big', { ip: `10.2.${i >> 8}.${i & 255}` }));
    await start();
    await eventually(async () => {
      const slices = await slicesOf('big');
      assert.deepEqual(slices.map((s) => s.endpoints.length).sort((a, b) => a - b), [50, 100, 100]);
    });
    const names = (await slicesOf('big')).map((s) => s.metadata!.name).sort();
    const creates = sliceCreates();
    // A readiness change rewrites one slice; deleting 30 pods shrinks slices without new ones.
    const p0 = await h.fake.resource(Resources.pods).get('default', 'big-0');
    await h.fake.resource(Resources.pods).updateStatus({ ...p0, status: { ...p0.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    for (let i = 200; i < 230; i++) await h.fake.resource(Resources.pods).delete('default', `big-${i}`, { gracePeriodSeconds: 0 });
    await eventually(async () => {
      const slices = await slicesOf('big');
      assert.equal(slices.reduce((n, s) => n + s.endpoints.length, 0), 220);
      const ep0 = slices.flatMap((s) => s.endpoints).find((e) => e.targetRef?.name === 'big-0');
      assert.equal(ep0?.conditions?.ready, false);
    });
    assert.deepEqual((await slicesOf('big')).map((s) => s.metadata!.name).sort(), names);
    assert.equal(sliceCreates(), creates);
    for (const s of await slicesOf('big')) assert.ok(s.endpoints.length <= 100);
  });

  it('keeps one empty placeholder slice for a service without endpoints, then fills it', async () => {
    h.fake.seed(SVC, service('empty'));
    await start();
    await eventually(async () => assert.equal((await slicesOf('empty')).length, 1));
    const [placeholder] = await slicesOf('empty');
    assert.deepEqual(placeholder!.endpoints ?? [], []);
    assert.deepEqual(placeholder!.ports ?? [], []);
    c.queue.add('default/empty');
    await settle(20);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sliceCreates(), 1);
    h.fake.seed(PODS, pod('empty-1', 'empty', { ip: '10.1.0.9' }));
    await eventually(async () => {
      const slices = await slicesOf('empty');
      assert.equal(slices.length, 1);
      assert.equal(slices[0]!.endpoints.length, 1);
      // Reused in place: the placeholder turned into the slice with ports.
      assert.equal(slices[0]!.metadata!.name, placeholder!.metadata!.name);
      assert.deepEqual(slices[0]!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    });
  });

  it('ignores services without selector, and leaves out pods on unknown nodes', async () => {
    h.fake.seed(SVC, service('manual', { selector: undefined }));
    h.fake.seed(SVC, service('web'));
    h.fake.seed(PODS, pod('web-1', 'web', { ip: '10.1.0.2', node: 'ghost' }));
    h.fake.seed(PODS, pod('web-2', 'web', { ip: '10.1.0.3' }));
    await start();
    await eventually(async () => assert.deepEqual((await slicesOf('web')).flatMap((s) => s.endpoints.map((e) => e.targetRef?.name)), ['web-2']));
    assert.deepEqual(await slicesOf('manual'), []);
    await eventually(() => assert.ok(h.recorder.reasons().includes('FailedToUpdateEndpointSlices')));
  });
});

describe('addressTypesFor', () => {
  const cases: { name: string; spec: Service['spec']; want: string[] }[] = [
    { name: 'ipFamilies', spec: { ipFamilies: ['IPv6', 'IPv4'] }, want: ['IPv6', 'IPv4'] },
    { name: 'cluster IP family', spec: { clusterIP: 'fd00::1' }, want: ['IPv6'] },
    { name: 'headless without families', spec: { clusterIP: 'None' }, want: ['IPv4', 'IPv6'] },
  ];
  for (const tc of cases) it(tc.name, () => assert.deepEqual(addressTypesFor({ spec: tc.spec }), tc.want));
});
