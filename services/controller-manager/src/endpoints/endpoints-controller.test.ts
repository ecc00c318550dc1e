import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { EndpointSubset, Endpoints, Pod, Service } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, settle, type Harness } from '../testing.js';
import { EndpointsController, MAX_CAPACITY, OVER_CAPACITY_ANNOTATION, repackSubsets, truncateSubsets } from './endpoints-controller.js';

const SVC = { group: '', plural: 'services' };
const PODS = { group: '', plural: 'pods' };
const EPS = { group: '', plural: 'endpoints' };

function service(name: string, extra: Partial<Service['spec']> = {}, labels: Record<string, string> = { team: 'a' }): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'default', labels, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: {
      selector: { app: name }, clusterIP: '10.0.0.10', ipFamilies: ['IPv4'],
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' }, { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090 }],
      ...extra,
    },
  };
}

interface PodOpts { ip?: string; ready?: boolean; node?: string; hostname?: string; subdomain?: string; deleting?: boolean; phase?: string; readySince?: string }

function pod(name: string, app: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app }, ...(o.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'busybox:1', ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] }],
      ...(o.node ? { nodeName: o.node } : {}), ...(o.hostname ? { hostname: o.hostname } : {}), ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}),
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: o.readySince ?? '2025-01-01T00:00:05Z' }],
    },
  };
}

describe('EndpointsController', () => {
  let h: Harness;
  let c: EndpointsController;
  let run: Promise<void> | undefined;
  beforeEach(() => {
    h = harness();
    c = new EndpointsController({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder });
    run = undefined;
  });
  afterEach(async () => {
    await h.stop();
    await run;
  });

  async function start(): Promise<void> {
    await h.start();
    run = c.run(h.signal);
  }
  const getEp = (name: string) => h.fake.resource(Resources.endpoints).get('default', name);
  const epWrites = () => h.fake.actions.filter((a) => a.resource === 'endpoints' && ['create', 'update'].includes(a.verb)).length;

  it('lists ready pods as addresses and not-ready ones as notReadyAddresses, resolving named target ports', async () => {
    h.fake.seed(SVC, service('web'));
    const ready = h.fake.seed(PODS, pod('web-1', 'web', { ip: '10.1.0.2', ready: true, node: 'n1', hostname: 'h1', subdomain: 'web' }));
    const notReady = h.fake.seed(PODS, pod('web-2', 'web', { ip: '10.1.0.3', ready: false, node: 'n2' })) as unknown as Pod;
    h.fake.seed(PODS, pod('web-3', 'web', { ready: true, node: 'n3' }));                 // no IP yet
    h.fake.seed(PODS, pod('web-4', 'web', { ip: '10.1.0.5', ready: true, deleting: true })); // terminating
    h.fake.seed(PODS, pod('web-5', 'web', { ip: '10.1.0.6', phase: 'Succeeded' }));          // finished
    h.fake.seed(PODS, pod('other', 'other', { ip: '10.1.0.7', ready: true }));
    await start();
    await eventually(async () => assert.ok(await getEp('web')));
    const ep = await getEp('web');
    assert.deepEqual(ep.metadata?.labels, { team: 'a' });
    assert.equal(ep.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2025-01-01T00:00:00Z');
    const expected: EndpointSubset[] = [{
      addresses: [{ ip: '10.1.0.2', nodeName: 'n1', hostname: 'h1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: ready.metadata.uid } }],
      notReadyAddresses: [{ ip: '10.1.0.3', nodeName: 'n2', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-2', uid: notReady.metadata?.uid } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }],
    }];
    assert.deepEqual(ep.subsets, expected);

    // Readiness flips: the address moves, with a trigger time of the transition.
    await h.fake.resource(Resources.pods).updateStatus({ ...notReady, status: { ...notReady.status, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:01:00Z' }] } });
    await eventually(async () => {
      const got = await getEp('web');
      assert.equal(got.subsets?.[0]?.addresses?.length, 2);
      assert.equal(got.subsets?.[0]?.notReadyAddresses, undefined);
      assert.equal(got.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2025-01-01T00:01:00Z');
    });
  });

  it('publishes not-ready and terminating pods as ready with publishNotReadyAddresses; headless services get the label and may have no ports', async () => {
    h.fake.seed(SVC, service('hl', { publishNotReadyAddresses: true, clusterIP: 'None', ports: [] }));
    h.fake.seed(PODS, pod('hl-1', 'hl', { ip: '10.1.0.2', ready: false }));
    h.fake.seed(PODS, pod('hl-2', 'hl', { ip: '10.1.0.3', ready: true, deleting: true }));
    await start();
    await eventually(async () => {
      const ep = await getEp('hl');
      assert.deepEqual(ep.metadata?.labels, { team: 'a', 'service.kubernetes.io/headless': '' });
      assert.deepEqual(ep.subsets?.map((s) => ({ ready: s.addresses?.map((a) => a.ip), notReady: s.notReadyAddresses, ports: s.ports })),
        [{ ready: ['10.1.0.2', '10.1.0.3'], notReady: undefined, ports: undefined }]);
    });
  });

  it('leaves services without selector (and ExternalName services) and their endpoints alone', async () => {
    h.fake.seed(SVC, service('manual', { selector: undefined }));
    h.fake.seed(SVC, service('ext', { type: 'ExternalName', externalName: 'example.com' }));
    h.fake.seed(PODS, pod('ext-1', 'ext', { ip: '10.1.0.2', ready: true }));
    const manual: Endpoints = { metadata: { name: 'manual', namespace: 'default' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 80 }] }] };
    h.fake.seed(EPS, manual);
    await start();
    await settle(20);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual((await getEp('manual')).subsets, manual.subsets);
    await assert.rejects(getEp('ext'), /not found/);
    assert.equal(epWrites(), 0);
  });

  it('deletes endpoints when their service goes, and leftover endpoints found at start (not leader records)', async () => {
    h.fake.seed(SVC, service('web'));
    h.fake.seed(EPS, { metadata: { name: 'gone', namespace: 'default' }, subsets: [] });
    h.fake.seed(EPS, { metadata: { name: 'lock', namespace: 'default', annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } } });
    await start();
    await eventually(async () => assert.ok(await getEp('web')));
    await eventually(async () => assert.rejects(getEp('gone'), /not found/));
    await h.fake.resource(Resources.services).delete('default', 'web');
    await eventually(async () => assert.rejects(getEp('web'), /not found/));
    assert.ok(await getEp('lock'));
  });

  it('does not write when nothing changed, and rewrites labels that drifted', async () => {
    h.fake.seed(SVC, service('web'));
    h.fake.seed(PODS, pod('web-1', 'web', { ip: '10.1.0.2', ready: true }));
    await start();
    await eventually(async () => assert.equal((await getEp('web')).subsets?.length, 1));
    const writes = epWrites();
    c.queue.add('default/web');
    await settle(20);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(epWrites(), writes);
    const svc = await h.fake.resource(Resources.services).get('default', 'web');
    await h.fake.resource(Resources.services).update({ ...svc, metadata: { ...svc.metadata, labels: { team: 'b' } } });
    await eventually(async () => assert.deepEqual((await getEp('web')).metadata?.labels, { team: 'b' }));
  });

  it(`truncates to ${MAX_CAPACITY} addresses with the over-capacity annotation`, async () => {
    h.fake.seed(SVC, service('big', { ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }));
    for (let i = 0; i < MAX_CAPACITY + 5; i++) {
      h.fake.seed(PODS, pod(`big-${i}`, 'big', { ip: `10.2.${i >> 8}.${i & 255}`, ready: i % 2 === 0 }));
    }
    await start();
    await eventually(async () => {
      const ep = await getEp('big');
      assert.equal(ep.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION], 'truncated');
      const s = ep.subsets![0]!;
      assert.equal(s.addresses!.length, 503);                   // every ready address kept
      assert.equal(s.notReadyAddresses!.length, MAX_CAPACITY - 503);
    }, 10_000);
  });
});

describe('truncateSubsets', () => {
  const addrs = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ ip: `${p}.${i}` }));
  const cases: { name: string; subsets: EndpointSubset[]; want: { ready: number; notReady: number }[]; truncated: boolean }[] = [
    { name: 'under capacity', subsets: [{ addresses: addrs(8, 'a'), notReadyAddresses: addrs(4, 'b') }], want: [{ ready: 8, notReady: 4 }], truncated: false },
    { name: 'not-ready cut first', subsets: [{ addresses: addrs(8, 'a'), notReadyAddresses: addrs(6, 'b') }, { addresses: addrs(2, 'c'), notReadyAddresses: addrs(2, 'd') }], want: [{ ready: 8, notReady: 2 }, { ready: 2, notReady: 0 }], truncated: true },
    { name: 'ready proportionally, not-ready dropped', subsets: [{ addresses: addrs(9, 'a'), notReadyAddresses: addrs(1, 'b') }, { addresses: addrs(6, 'c') }], want: [{ ready: 8, notReady: 0 }, { ready: 4, notReady: 0 }], truncated: true },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const s = structuredClone(tc.subsets);
      assert.equal(truncateSubsets(s, 12), tc.truncated);
      assert.deepEqual(s.map((x) => ({ ready: x.addresses?.length ?? 0, notReady: x.notReadyAddresses?.length ?? 0 })), tc.want);
    });
  }
});

describe('repackSubsets', () => {
  it('groups addresses by identical port sets; not ready on one port wins', () => {
    const a = { ip: '10.0.0.1' };
    const b = { ip: '10.0.0.2' };
    const p80 = { port: 80, protocol: 'TCP' };
    const p81 = { port: 81, protocol: 'TCP' };
    const got = repackSubsets([
      { address: b, ready: true, port: p80 }, { address: a, ready: true, port: p80 },
      { address: b, ready: true, port: p81 }, { address: a, ready: true, port: p81 },
      { address: a, ready: false, port: p80 },
    ]);
    assert.deepEqual(got, [
      { addresses: [a, b], ports: [p81] },
      { addresses: [b], notReadyAddresses: [a], ports: [p80] },
    ]);
  });
});
