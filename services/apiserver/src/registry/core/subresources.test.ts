import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { ApiError, RESOURCES, type KubeObject } from '@tskube/api';
import { MemoryStorage } from '@tskube/storage';
import { nullLogger } from '@tskube/log';
import { AdmissionChain } from '../../admission/admission.js';
import { NamespaceLifecycle } from '../../admission/namespace-lifecycle.js';
import { KubeletClient } from '../../kubelet-client.js';
import { buildRegistry, namespaceGetter, systemContext, type ApiRegistry } from '../index.js';
import type { RegistryDeps } from '../module.js';
import { ServiceAccountTokenSigner } from './token.js';

const def = (group: string, kind: string) => RESOURCES.find((r) => r.group === group && r.kind === kind)!;
const ctx = (namespace = 'default', dryRun = false) => ({ ...systemContext(nullLogger(), namespace), dryRun });
const code = (e: unknown) => (e instanceof ApiError ? `${e.code} ${e.reason}: ${e.message}` : String(e));

async function setup(extra: Partial<RegistryDeps> = {}): Promise<ApiRegistry> {
  const storage = new MemoryStorage();
  let reg!: ApiRegistry;
  const admission = new AdmissionChain([], [new NamespaceLifecycle(namespaceGetter(() => reg, nullLogger()))]);
  reg = buildRegistry({ storage, admission, kubelets: new KubeletClient(), logger: nullLogger(), ...extra });
  await reg.store('Namespace').create(ctx(''), { metadata: { name: 'default' } });
  return reg;
}

const pod = (name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'i:1' }] }, ...extra });

test('serviceaccounts/token: a JWT signed by the configured key, with upstream claims', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const reg = await setup({ serviceAccountKey: { privateKeyPem, publicKeyPem } });
  const sa = await reg.store('ServiceAccount').create(ctx(), { metadata: { name: 'builder' } });
  const token = reg.lookup(def('', 'ServiceAccount'), 'token')!;
  assert.deepEqual(token.kind, { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' });
  const before = Math.floor(Date.now() / 1000);
  const out = await token.create!(ctx(), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { audiences: null, expirationSeconds: null } as unknown as object, status: { token: '' } }, 'builder') as KubeObject & {
    spec: { expirationSeconds: number; audiences: string[] }; status: { token: string; expirationTimestamp: string };
  };
  assert.equal(out.spec.expirationSeconds, 3600);
  assert.deepEqual(out.spec.audiences, ['https://kubernetes.default.svc.cluster.local']);
  const { payload, protectedHeader } = await jwtVerify(out.status.token, createPublicKey(publicKeyPem), { issuer: 'https://kubernetes.default.svc.cluster.local' });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(protectedHeader.kid, ServiceAccountTokenSigner.keyID(publicKey));
  assert.equal(payload.sub, 'system:serviceaccount:default:builder');
  assert.deepEqual(payload['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'builder', uid: sa.metadata.uid } });
  assert.ok(payload.exp! - payload.iat! === 3600 && payload.iat! >= before);
  assert.equal(Date.parse(out.status.expirationTimestamp) / 1000, payload.exp);

  // bound to a pod, with its own audience and duration
  const p = await reg.store('Pod').create(ctx(), pod('web', {}));
  const bound = await token.create!(ctx(), { spec: { audiences: ['vault'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web' } } }, 'builder') as KubeObject & { status: { token: string } };
  const claims = (await jwtVerify(bound.status.token, createPublicKey(publicKeyPem), { audience: 'vault' })).payload;
  assert.deepEqual((claims['kubernetes.io'] as { pod: unknown }).pod, { name: 'web', uid: p.metadata.uid });
  assert.equal(claims.exp! - claims.iat!, 600);

  await assert.rejects(token.create!(ctx(), { spec: { expirationSeconds: 60 } }, 'builder'), (e) => code(e) === '422 Invalid: TokenRequest.authentication.k8s.io "builder" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
  await assert.rejects(token.create!(ctx(), { spec: {} }, 'nobody'), (e) => code(e) === '404 NotFound: serviceaccounts "nobody" not found');
  await assert.rejects(token.create!(ctx(), { spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: 'other' } } }, 'builder'), (e) => code(e).startsWith('409 Conflict'));
  await assert.rejects(token.create!(ctx(), { metadata: { name: 'x' }, spec: {} }, 'builder'), (e) => code(e).includes('metadata.name: Invalid value: "x": must match the service account name if specified'));
});

test('without a configured key tokens are signed by an in-memory key', async () => {
  const signer = new ServiceAccountTokenSigner();
  const jwt = await signer.sign({ sub: 'x' });
  assert.equal(decodeProtectedHeader(jwt).alg, 'RS256');
  assert.equal((await jwtVerify(jwt, createPublicKey(await signer.publicKeyPem()))).payload.sub, 'x');
});

test('pods/eviction deletes the pod; PodDisruptionBudgets can refuse with 429', async () => {
  const reg = await setup();
  const pods = reg.store('Pod');
  const eviction = reg.lookup(def('', 'Pod'), 'eviction')!;
  assert.deepEqual(eviction.kind, { group: 'policy', version: 'v1', kind: 'Eviction' });
  await pods.create(ctx(), pod('a', { app: 'web' }));
  const out = await eviction.create!(ctx(), { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'a', namespace: 'default' }, deleteOptions: {} }, 'a');
  assert.deepEqual(out, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  await assert.rejects(pods.get(ctx(), 'a'), (e) => code(e).startsWith('404'));
  await assert.rejects(eviction.create!(ctx(), { metadata: { name: 'b' } }, 'a'), (e) => code(e) === '400 BadRequest: name in URL does not match name in Eviction object');
  await assert.rejects(eviction.create!(ctx(), { deleteOptions: { propagationPolicy: 'Sideways' } }, 'a'), (e) => code(e).startsWith('422 Invalid: Eviction.policy "a" is invalid: propagationPolicy'));

  // a running pod covered by a PDB whose status is not current yet: 429 with the cause
  const running = { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
  await pods.create(ctx(), pod('b', { app: 'web' }));
  await pods.mutate(ctx(), 'b', (cur) => ({ ...cur, ...running }));
  let pdbs;
  try { pdbs = reg.store('PodDisruptionBudget', 'policy'); } catch { return; /* policy/v1 not served in this build */ }
  await pdbs.create(ctx(), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } });
  await assert.rejects(eviction.create!(ctx(), {}, 'b'), (e) => e instanceof ApiError && e.code === 429 && e.reason === 'TooManyRequests'
    && e.status.details?.causes?.[0]?.message === 'The disruption budget web is still being processed by the server.');
  // current status, nothing allowed: 429 naming the budget
  await pdbs.mutate(ctx(), 'web', (cur) => ({ ...cur, status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } }));
  await assert.rejects(eviction.create!(ctx(), {}, 'b'), (e) => e instanceof ApiError && e.code === 429
    && e.status.details?.causes?.[0]?.message === 'The disruption budget web needs 1 healthy pods and has 1 currently');
  // one disruption allowed: the pod goes and the budget records it
  await pdbs.mutate(ctx(), 'web', (cur) => ({ ...cur, status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 } }));
  await eviction.create!(ctx(), {}, 'b');
  await assert.rejects(pods.get(ctx(), 'b'), (e) => code(e).startsWith('404'));
  const st = (await pdbs.get(ctx(), 'web')).status as { disruptionsAllowed: number; disruptedPods: Record<string, string> };
  assert.equal(st.disruptionsAllowed, 0);
  assert.ok(st.disruptedPods.b);
  // a Pending pod ignores budgets
  await pods.create(ctx(), pod('c', { app: 'web' }));
  await eviction.create!(ctx(), {}, 'c');
  await assert.rejects(pods.get(ctx(), 'c'), (e) => code(e).startsWith('404'));
});

test('events.k8s.io/v1 and core/v1 see the same events', async () => {
  const reg = await setup();
  const core = reg.store('Event');
  const v1 = reg.store('Event', 'events.k8s.io');
  await core.create(ctx(), {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
    reason: 'Started', message: 'Started container', source: { component: 'kubelet' }, count: 1, type: 'Normal',
    firstTimestamp: '2024-05-01T10:00:00Z', lastTimestamp: '2024-05-01T10:00:00Z',
  });
  const seen = await v1.get(ctx(), 'web.1') as KubeObject & Record<string, unknown>;
  assert.equal(seen.apiVersion, 'events.k8s.io/v1');
  assert.deepEqual(seen.regarding, { kind: 'Pod', name: 'web', namespace: 'default' });
  assert.equal(seen.note, 'Started container');
  assert.deepEqual(seen.deprecatedSource, { component: 'kubelet' });
  assert.equal(seen.deprecatedCount, 1);
  assert.equal(seen.eventTime, null);
  await v1.create(ctx(), {
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'sync.1' }, eventTime: '2024-05-01T10:00:00.000000Z',
    reportingController: 'example.com/ctl', reportingInstance: 'ctl-0', action: 'Sync', reason: 'Synced', type: 'Normal',
    regarding: { kind: 'Service', name: 'web', namespace: 'default' }, note: 'synced',
  });
  const asCore = await core.get(ctx(), 'sync.1') as KubeObject & Record<string, unknown>;
  assert.equal(asCore.message, 'synced');
  assert.equal(asCore.reportingComponent, 'example.com/ctl');
  assert.deepEqual(asCore.involvedObject, { kind: 'Service', name: 'web', namespace: 'default' });
  assert.deepEqual((await v1.list(ctx(), { fieldSelector: 'regarding.kind=Service' })).items.map((i) => i.metadata!.name), ['sync.1']);
  assert.deepEqual((await core.list(ctx(), { fieldSelector: 'involvedObject.kind=Pod' })).items.map((i) => i.metadata!.name), ['web.1']);
  await assert.rejects(v1.create(ctx(), { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'bad' }, reason: 'X', type: 'Normal' }),
    (e) => code(e) === '422 Invalid: Event.events.k8s.io "bad" is invalid: eventTime: Required value');
  const table = reg.lookup(def('events.k8s.io', 'Event'), '')!.table!;
  assert.deepEqual(table.columns.filter((c) => c.priority === 0).map((c) => c.name), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
  const cells = table.cells(seen, new Date('2024-05-01T10:05:00Z')).filter((_, i) => table.columns[i]!.priority === 0);
  assert.deepEqual(cells, ['5m', 'Normal', 'Started', 'pod/web', 'Started container']);
});
