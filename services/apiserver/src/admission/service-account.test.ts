import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES, isApiError, type KubeObject, type Pod, type ResourceDef, type ServiceAccount } from '@tskube/api';
import type { AdmissionAttributes } from './admission.js';
import { DEFAULT_API_TOKEN_MOUNT_PATH, ServiceAccountAdmission, tokenVolume } from './service-account.js';

const podDef = RESOURCES.find((r) => r.group === '' && r.kind === 'Pod') as ResourceDef;
const sa = (name: string, o: Partial<ServiceAccount> = {}): ServiceAccount =>
  ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'ns', uid: `uid-${name}` }, ...o });

/** A source over `cached` (the watch cache) and `live` (storage); counts live reads. */
function plugin(cached: ServiceAccount[], live: ServiceAccount[] = cached) {
  const reads = { live: 0, sleeps: 0 };
  const find = (list: ServiceAccount[], n: string) => list.find((s) => s.metadata?.name === n) ?? null;
  const p = new ServiceAccountAdmission({
    cached: async (_ns, n) => find(cached, n),
    live: async (_ns, n) => { reads.live++; return find(live, n); },
  }, { randomSuffix: () => 'abcde', sleep: async () => { reads.sleeps++; } });
  return { p, reads };
}

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, annotations?: Record<string, string>): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'c', image: 'x' }], ...spec },
  };
}

function attrs(obj: Pod, operation: 'CREATE' | 'UPDATE' = 'CREATE', old?: Pod, subresource = ''): AdmissionAttributes {
  return {
    operation, resource: podDef, subresource, namespace: 'ns', name: 'p', object: obj as unknown as KubeObject,
    ...(old ? { oldObject: old as unknown as KubeObject } : {}), user: { username: 'u', groups: [] }, dryRun: false,
  };
}

async function admitted(p: ServiceAccountAdmission, obj: Pod): Promise<Pod> {
  const a = attrs(obj);
  await p.admit(a);
  await p.validate(a);
  return a.object as unknown as Pod;
}

const mount = { name: 'kube-api-access-abcde', readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH };

test('a pod without a service account gets default and the kube-api-access volume mounted in every container', async () => {
  const { p } = plugin([sa('default')]);
  const out = await admitted(p, pod({ initContainers: [{ name: 'i', image: 'x' }], containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }] }));
  assert.equal(out.spec!.serviceAccountName, 'default');
  assert.equal(out.spec!.serviceAccount, 'default');
  assert.deepEqual(out.spec!.volumes, [tokenVolume('kube-api-access-abcde')]);
  assert.deepEqual(out.spec!.volumes![0], {
    name: 'kube-api-access-abcde',
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  });
  for (const c of [...out.spec!.initContainers!, ...out.spec!.containers]) assert.deepEqual(c.volumeMounts, [mount], c.name);
});

test('automount: the pod setting wins over the service account, which wins over the default (true)', async () => {
  const cases: { name: string; saAuto?: boolean; podAuto?: boolean; mounted: boolean }[] = [
    { name: 'neither set', mounted: true },
    { name: 'sa false', saAuto: false, mounted: false },
    { name: 'pod false', podAuto: false, mounted: false },
    { name: 'sa false, pod true', saAuto: false, podAuto: true, mounted: true },
    { name: 'sa true, pod false', saAuto: true, podAuto: false, mounted: false },
  ];
  for (const c of cases) {
    const { p } = plugin([sa('default', c.saAuto === undefined ? {} : { automountServiceAccountToken: c.saAuto })]);
    const out = await admitted(p, pod(c.podAuto === undefined ? {} : { automountServiceAccountToken: c.podAuto }));
    assert.equal(out.spec!.volumes?.length ?? 0, c.mounted ? 1 : 0, c.name);
    assert.equal(out.spec!.containers[0]!.volumeMounts?.length ?? 0, c.mounted ? 1 : 0, c.name);
  }
});

test('an existing mount at the token path is kept; an existing kube-api-access volume is reused', async () => {
  const { p } = plugin([sa('default')]);
  const own = { name: 'mine', mountPath: DEFAULT_API_TOKEN_MOUNT_PATH };
  const out = await admitted(p, pod({ containers: [{ name: 'a', image: 'x', volumeMounts: [own] }, { name: 'b', image: 'x' }], volumes: [{ name: 'mine', emptyDir: {} }] }));
  assert.deepEqual(out.spec!.containers[0]!.volumeMounts, [own]);
  assert.deepEqual(out.spec!.containers[1]!.volumeMounts, [mount]);
  assert.deepEqual(out.spec!.volumes!.map((v) => v.name), ['mine', 'kube-api-access-abcde']);

  const all = await admitted(plugin([sa('default')]).p, pod({ containers: [{ name: 'a', image: 'x', volumeMounts: [own] }], volumes: [{ name: 'mine', emptyDir: {} }] }));
  assert.deepEqual(all.spec!.volumes!.map((v) => v.name), ['mine'], 'no container needs the token volume');

  const reuse = await admitted(plugin([sa('default')]).p, pod({ volumes: [{ name: 'kube-api-access-zzzzz', emptyDir: {} }] }));
  assert.deepEqual(reuse.spec!.volumes!.map((v) => v.name), ['kube-api-access-zzzzz']);
  assert.equal(reuse.spec!.containers[0]!.volumeMounts![0]!.name, 'kube-api-access-zzzzz');
});

test('a missing service account is a 403; default is retried 10 times, a named one read once', async () => {
  const cases: { name: string; spec: Partial<NonNullable<Pod['spec']>>; live: ServiceAccount[]; liveReads: number; error?: string }[] = [
    { name: 'named missing', spec: { serviceAccountName: 'x' }, live: [], liveReads: 1, error: 'pods "p" is forbidden: error looking up service account ns/x: serviceaccount "x" not found' },
    { name: 'default missing', spec: {}, live: [], liveReads: 10, error: 'pods "p" is forbidden: error looking up service account ns/default: serviceaccount "default" not found' },
    { name: 'not cached yet, found live', spec: { serviceAccountName: 'x' }, live: [sa('x')], liveReads: 1 },
    { name: 'deprecated serviceAccount field', spec: { serviceAccount: 'x' }, live: [sa('x')], liveReads: 1 },
  ];
  for (const c of cases) {
    const { p, reads } = plugin([], c.live);
    const a = attrs(pod(c.spec));
    const run = p.admit(a);
    if (c.error) {
      await assert.rejects(run, (e: unknown) => isApiError(e, 'Forbidden') && (e as Error).message === c.error, c.name);
    } else {
      await run;
      assert.equal((a.object as unknown as Pod).spec!.serviceAccountName, 'x', c.name);
    }
    assert.equal(reads.live, c.liveReads, c.name);
  }
});

test('imagePullSecrets come from the service account unless the pod names some', async () => {
  const { p } = plugin([sa('default', { imagePullSecrets: [{ name: 'reg' }] })]);
  assert.deepEqual((await admitted(p, pod())).spec!.imagePullSecrets, [{ name: 'reg' }]);
  assert.deepEqual((await admitted(p, pod({ imagePullSecrets: [{ name: 'own' }] }))).spec!.imagePullSecrets, [{ name: 'own' }]);
});

test('mirror pods are not mutated and may not reference service accounts, secrets or token projections', async () => {
  const mirror = { 'kubernetes.io/config.mirror': 'hash' };
  const { p } = plugin([sa('default')]);
  const out = await admitted(p, pod({}, mirror));
  assert.equal(out.spec!.serviceAccountName, undefined);
  assert.equal(out.spec!.volumes, undefined);
  const cases: { spec: Partial<NonNullable<Pod['spec']>>; error: string }[] = [
    { spec: { serviceAccountName: 'default' }, error: 'a mirror pod may not reference service accounts' },
    { spec: { volumes: [{ name: 's', secret: { secretName: 's' } }] }, error: 'a mirror pod may not reference secrets' },
    { spec: { containers: [{ name: 'c', image: 'x', env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] }, error: 'a mirror pod may not reference secrets' },
    { spec: { volumes: [tokenVolume('t')] }, error: 'a mirror pod may not use ServiceAccountToken volume projections' },
  ];
  for (const c of cases) {
    const a = attrs(pod(c.spec, mirror));
    await p.admit(a);
    await assert.rejects(p.validate(a), (e: unknown) => isApiError(e, 'Forbidden') && (e as Error).message === `pods "p" is forbidden: ${c.error}`, c.error);
  }
});

test('updates, subresources and other resources are left alone; an update keeps the deprecated field', async () => {
  const { p, reads } = plugin([]);
  const old = pod({ serviceAccountName: 'default', serviceAccount: 'default' });
  const next = pod({ serviceAccountName: 'default' });
  const a = attrs(next, 'UPDATE', old);
  await p.admit(a);
  await p.validate(a);
  assert.equal((a.object as unknown as Pod).spec!.serviceAccount, 'default');
  const sub = attrs(pod(), 'CREATE', undefined, 'binding');
  await p.admit(sub);
  await p.validate(sub);
  assert.equal((sub.object as unknown as Pod).spec!.serviceAccountName, undefined);
  assert.equal(reads.live, 0);
});
