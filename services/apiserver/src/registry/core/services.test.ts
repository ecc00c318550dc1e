import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, RESOURCES, type KubeObject, type MutableService } from '@tskube/api';
import { MemoryStorage } from '@tskube/storage';
import { nullLogger } from '@tskube/log';
import { AdmissionChain } from '../../admission/admission.js';
import { NamespaceLifecycle } from '../../admission/namespace-lifecycle.js';
import { KubeletClient } from '../../kubelet-client.js';
import { buildRegistry, namespaceGetter, systemContext, type ApiRegistry } from '../index.js';
import type { Rest } from '../rest.js';
import { IP_RECORD_PREFIX, PORT_RECORD_PREFIX } from './service-allocator.js';
import { ServiceIPAM } from './service-ipam.js';
import { IPRange, PortRange } from './service-ranges.js';
import { repairServiceAllocations } from './services.js';

const SERVICES = RESOURCES.find((r) => r.group === '' && r.kind === 'Service')!;

async function setup(ranges?: string[]): Promise<{ reg: ApiRegistry; svc: Rest; storage: MemoryStorage }> {
  const storage = new MemoryStorage();
  let reg!: ApiRegistry;
  const admission = new AdmissionChain([], [new NamespaceLifecycle(namespaceGetter(() => reg, nullLogger()))]);
  reg = buildRegistry({ storage, admission, kubelets: new KubeletClient(), logger: nullLogger(), ...(ranges ? { serviceClusterIPRanges: ranges } : {}) });
  await reg.store('Namespace').create(ctx(''), { metadata: { name: 'default' } });
  return { reg, svc: reg.lookup(SERVICES, '')!, storage };
}

const ctx = (namespace = 'default', dryRun = false) => ({ ...systemContext(nullLogger(), namespace), dryRun });
const service = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
const spec = (o: KubeObject) => (o as MutableService).spec!;
const code = (e: unknown) => (e instanceof ApiError ? `${e.code} ${e.reason}: ${e.message}` : String(e));
const recorded = async (storage: MemoryStorage, prefix: string) => (await storage.list(prefix)).items.map((i) => i.metadata.name).sort();

test('create: ClusterIP from the range, NodePorts in range, headless and ExternalName get none', async () => {
  const { svc, storage } = await setup(['10.0.0.0/24']);
  const a = await svc.create!(ctx(), service('a', { ports: [{ port: 80 }], selector: { app: 'a' } }));
  const ip = spec(a).clusterIP!;
  assert.match(ip, /^10\.0\.0\.\d+$/);
  assert.deepEqual(spec(a).clusterIPs, [ip]);
  assert.deepEqual(spec(a).ipFamilies, ['IPv4']);
  assert.equal(spec(a).ipFamilyPolicy, 'SingleStack');
  assert.ok(Number(ip.split('.')[3]) > 16, 'dynamic IPs come from above the static band');
  const np = await svc.create!(ctx(), service('np', { type: 'NodePort', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }));
  for (const p of spec(np).ports!) assert.ok(p.nodePort! >= 30000 && p.nodePort! <= 32767, `nodePort ${p.nodePort}`);
  assert.notEqual(spec(np).ports![0]!.nodePort, spec(np).ports![1]!.nodePort);
  const headless = await svc.create!(ctx(), service('h', { clusterIP: 'None', selector: { app: 'h' }, ports: [{ port: 80 }] }));
  assert.deepEqual(spec(headless).clusterIPs, ['None']);
  const ext = await svc.create!(ctx(), service('ext', { type: 'ExternalName', externalName: 'db.example.com' }));
  assert.equal(spec(ext).clusterIP, undefined);
  assert.equal(spec(ext).ipFamilies, undefined);
  assert.deepEqual(await recorded(storage, IP_RECORD_PREFIX), [ip, spec(np).clusterIP!].sort());
  assert.deepEqual(await recorded(storage, PORT_RECORD_PREFIX), spec(np).ports!.map((p) => String(p.nodePort)).sort());
});

test('requested IPs and ports are honoured, or 422 when taken or out of range', async () => {
  const { svc } = await setup();
  const a = await svc.create!(ctx(), service('a', { clusterIP: '10.96.0.50', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
  assert.equal(spec(a).clusterIP, '10.96.0.50');
  assert.equal(spec(a).ports![0]!.nodePort, 30080);
  await assert.rejects(svc.create!(ctx(), service('b', { clusterIP: '10.96.0.50', ports: [{ port: 80 }] })),
    (e) => code(e) === '422 Invalid: Service "b" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.50"]: failed to allocate IP 10.96.0.50: provided IP is already allocated');
  await assert.rejects(svc.create!(ctx(), service('c', { clusterIP: '192.168.0.1', ports: [{ port: 80 }] })),
    (e) => code(e).endsWith('failed to allocate IP 192.168.0.1: provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12'));
  await assert.rejects(svc.create!(ctx(), service('d', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })),
    (e) => code(e) === '422 Invalid: Service "d" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
  await assert.rejects(svc.create!(ctx(), service('e', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] })),
    (e) => code(e).endsWith('spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767'));
  await assert.rejects(svc.create!(ctx(), service('f', { ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] })),
    (e) => code(e).endsWith('spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services'));
});

test('failed creates give their allocations back; invalid ones allocate nothing', async () => {
  const { svc, storage } = await setup();
  await svc.create!(ctx(), service('a', { ports: [{ port: 80 }] }));
  // AlreadyExists after allocating: the new IP and port are released
  await assert.rejects(svc.create!(ctx(), service('a', { type: 'NodePort', ports: [{ port: 80 }] })), (e) => code(e).startsWith('409 AlreadyExists'));
  // a missing namespace is a 404 from admission, after allocation
  await assert.rejects(svc.create!(ctx('nope'), service('x', { ports: [{ port: 80 }] })), (e) => code(e).startsWith('404 NotFound'));
  // invalid: every cause, nothing allocated
  await assert.rejects(svc.create!(ctx(), service('Bad_Name', { ports: [{ port: 0 }] })), (e) => e instanceof ApiError && e.code === 422 && (e.status.details?.causes?.length ?? 0) >= 2);
  assert.equal((await recorded(storage, IP_RECORD_PREFIX)).length, 1);
  assert.equal((await recorded(storage, PORT_RECORD_PREFIX)).length, 0);
  // dry run: an IP in the answer, nothing recorded
  const dry = await svc.create!(ctx('default', true), service('dry', { ports: [{ port: 80 }] }));
  assert.ok(spec(dry).clusterIP);
  assert.equal((await recorded(storage, IP_RECORD_PREFIX)).length, 1);
});

test('updates keep, allocate and release as the type changes; delete releases everything', async () => {
  const { svc, storage } = await setup();
  const a = await svc.create!(ctx(), service('a', { ports: [{ name: 'http', port: 80 }] }));
  const ip = spec(a).clusterIP!;
  // a PUT of the original manifest (no clusterIP) keeps the IP
  const put = await svc.update!(ctx(), 'a', () => service('a', { ports: [{ name: 'http', port: 80 }] }));
  assert.equal(spec(put.object).clusterIP, ip);
  // changing the IP is refused
  await assert.rejects(svc.update!(ctx(), 'a', (cur) => ({ ...cur!, spec: { ...spec(cur!), clusterIP: '10.96.0.99', clusterIPs: ['10.96.0.99'] } })),
    (e) => code(e).includes('spec.clusterIPs[0]: Invalid value: ["10.96.0.99"]: may not change once set'));
  // ClusterIP → NodePort allocates a node port
  const np = await svc.update!(ctx(), 'a', (cur) => ({ ...cur!, spec: { ...spec(cur!), type: 'NodePort' } }));
  const port = spec(np.object).ports![0]!.nodePort!;
  assert.ok(port >= 30000);
  assert.deepEqual(await recorded(storage, PORT_RECORD_PREFIX), [String(port)]);
  // NodePort → ClusterIP releases it
  await svc.update!(ctx(), 'a', (cur) => ({ ...cur!, spec: { ...spec(cur!), type: 'ClusterIP' } }));
  assert.deepEqual(await recorded(storage, PORT_RECORD_PREFIX), []);
  // → ExternalName releases the IP; → ClusterIP allocates a new one
  await svc.update!(ctx(), 'a', (cur) => ({ ...cur!, spec: { ...spec(cur!), type: 'ExternalName', externalName: 'x.example.com' } }));
  assert.deepEqual(await recorded(storage, IP_RECORD_PREFIX), []);
  const back = await svc.update!(ctx(), 'a', (cur) => {
    const s = { ...spec(cur!), type: 'ClusterIP' };
    delete s.externalName;
    return { ...cur!, spec: s };
  });
  assert.ok(spec(back.object).clusterIP);
  assert.deepEqual(await recorded(storage, IP_RECORD_PREFIX), [spec(back.object).clusterIP!]);
  await svc.delete!(ctx(), 'a', {});
  assert.deepEqual(await recorded(storage, IP_RECORD_PREFIX), []);
  assert.deepEqual(await recorded(storage, PORT_RECORD_PREFIX), []);
});

test('PUT may create a service (allocating) and deletecollection releases', async () => {
  const { svc, storage } = await setup();
  const r = await svc.update!(ctx(), 'made', () => service('made', { type: 'NodePort', ports: [{ port: 80 }] }));
  assert.equal(r.created, true);
  assert.ok(spec(r.object).clusterIP);
  assert.equal((await recorded(storage, PORT_RECORD_PREFIX)).length, 1);
  await svc.deleteCollection!(ctx(), {}, {});
  assert.deepEqual(await recorded(storage, IP_RECORD_PREFIX), []);
  assert.deepEqual(await recorded(storage, PORT_RECORD_PREFIX), []);
});

test('concurrent creates through the registry get distinct IPs', async () => {
  const { svc } = await setup(['10.0.0.0/27']);
  const made = await Promise.allSettled(Array.from({ length: 35 }, (_, i) => svc.create!(ctx(), service(`s${i}`, { ports: [{ port: 80 }] }))));
  const ips = made.filter((m): m is PromiseFulfilledResult<KubeObject> => m.status === 'fulfilled').map((m) => spec(m.value).clusterIP!);
  assert.equal(ips.length, 30, 'a /27 holds 30 services');
  assert.equal(new Set(ips).size, 30);
  for (const m of made) if (m.status === 'rejected') assert.match(code(m.reason), /^500 InternalError: Internal error occurred: failed to allocate a serviceIP: range is full/);
});

test('bootstrap creates the kubernetes service with the first IP; repair fixes records', async () => {
  const { reg, svc, storage } = await setup();
  const abort = new AbortController();
  await reg.bootstrap({ signal: abort.signal, securePort: 6443, advertiseAddress: '192.168.5.5' });
  abort.abort();
  const k = await svc.get!(ctx(), 'kubernetes');
  assert.equal(spec(k).clusterIP, '10.96.0.1');
  assert.deepEqual(spec(k).ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
  assert.deepEqual(k.metadata!.labels, { component: 'apiserver', provider: 'kubernetes' });
  const ep = await reg.store('Endpoints').get(ctx(), 'kubernetes') as KubeObject & { subsets: unknown };
  assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '192.168.5.5' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
  // a second start with another port updates the ports
  await reg.bootstrap({ signal: AbortSignal.abort(), securePort: 7443 });
  assert.equal(spec(await svc.get!(ctx(), 'kubernetes')).ports![0]!.targetPort, 7443);

  const ipam = new ServiceIPAM({ storage, ranges: [new IPRange('10.96.0.0/12')], nodePorts: PortRange.parse('30000-32767') });
  // a lost record and a leaked one
  await storage.delete(`${IP_RECORD_PREFIX}10.96.0.1`);
  await ipam.ipAllocators.get('IPv4')!.claim('10.96.0.77', { namespace: 'default', name: 'gone' });
  const services = (await svc.list!(ctx(''), {})).items;
  const young = await repairServiceAllocations(ipam, services, new Date(), 60_000, nullLogger());
  assert.deepEqual(young.recorded, ['10.96.0.1']);
  assert.deepEqual(young.released, [], 'a young record may belong to a create in flight');
  const later = await repairServiceAllocations(ipam, services, new Date(Date.now() + 120_000), 60_000, nullLogger());
  assert.deepEqual(later.released, ['10.96.0.77']);
  assert.deepEqual(await recorded(storage, IP_RECORD_PREFIX), ['10.96.0.1']);
});

test('field selectors: spec.type and spec.clusterIP', async () => {
  const { svc } = await setup();
  await svc.create!(ctx(), service('a', { ports: [{ port: 80 }] }));
  await svc.create!(ctx(), service('b', { type: 'NodePort', ports: [{ port: 80 }] }));
  const np = await svc.list!(ctx(), { fieldSelector: 'spec.type=NodePort' });
  assert.deepEqual(np.items.map((i) => i.metadata!.name), ['b']);
  const ip = spec(np.items[0]!).clusterIP!;
  assert.deepEqual((await svc.list!(ctx(), { fieldSelector: `spec.clusterIP=${ip}` })).items.map((i) => i.metadata!.name), ['b']);
});

test('dual-stack ranges: families follow the policy; secondary IPs are added and released', async () => {
  const { svc, storage } = await setup(['10.96.0.0/16', 'fd00:10:96::/112']);
  const single = await svc.create!(ctx(), service('single', { ports: [{ port: 80 }] }));
  assert.deepEqual(spec(single).ipFamilies, ['IPv4']);
  const dual = await svc.create!(ctx(), service('dual', { ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80 }] }));
  assert.deepEqual(spec(dual).ipFamilies, ['IPv4', 'IPv6']);
  assert.match(spec(dual).clusterIPs![1]!, /^fd00:10:96::/);
  const six = await svc.create!(ctx(), service('six', { ipFamilies: ['IPv6'], ports: [{ port: 80 }] }));
  assert.match(spec(six).clusterIP!, /^fd00:10:96::/);
  // upgrade single → dual, then downgrade again
  const up = await svc.update!(ctx(), 'single', (cur) => ({ ...cur!, spec: { ...spec(cur!), ipFamilyPolicy: 'RequireDualStack' } }));
  assert.equal(spec(up.object).clusterIPs!.length, 2);
  assert.equal((await recorded(storage, IP_RECORD_PREFIX)).length, 5);
  await svc.update!(ctx(), 'single', (cur) => ({ ...cur!, spec: { ...spec(cur!), ipFamilyPolicy: 'SingleStack' } }));
  assert.equal((await recorded(storage, IP_RECORD_PREFIX)).length, 4, 'the secondary IP is released');
  assert.equal(spec(await svc.get!(ctx(), 'single')).clusterIPs!.length, 1);
});
