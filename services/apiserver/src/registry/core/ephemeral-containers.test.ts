import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, RESOURCES, type KubeObject, type Pod } from '@tskube/api';
import { MemoryStorage } from '@tskube/storage';
import { nullLogger } from '@tskube/log';
import { AdmissionChain } from '../../admission/admission.js';
import { KubeletClient } from '../../kubelet-client.js';
import { buildRegistry, systemContext, type ApiRegistry } from '../index.js';
import type { Rest } from '../rest.js';

const POD_DEF = RESOURCES.find((r) => r.group === '' && r.kind === 'Pod')!;
const ctx = () => systemContext(nullLogger(), 'default');
const failure = (e: unknown) => (e instanceof ApiError ? `${e.code} ${e.message}` : String(e));

async function setup(): Promise<{ reg: ApiRegistry; ec: Rest }> {
  const reg = buildRegistry({ storage: new MemoryStorage(), admission: new AdmissionChain([], []), kubelets: new KubeletClient(), logger: nullLogger() });
  const ec = reg.lookup(POD_DEF, 'ephemeralcontainers');
  assert.ok(ec, 'pods/ephemeralcontainers is served');
  await reg.store('Pod').create(ctx(), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'main', image: 'busybox:1' }] },
  } as KubeObject);
  return { reg, ec };
}

/** PUT-like: the caller's change applied to the live pod (what PATCH hands the endpoint). */
function change(fn: (p: Pod) => void) {
  return (live: KubeObject | null): KubeObject => {
    const p = structuredClone(live) as unknown as Pod;
    fn(p);
    return p as unknown as KubeObject;
  };
}

const debug = { name: 'debugger', image: 'busybox:1', targetContainerName: 'main', stdin: true, tty: true };

test('pods/ephemeralcontainers: GET is the pod; an update adds containers and nothing else', async () => {
  const { reg, ec } = await setup();
  assert.deepEqual(ec.kind, { group: '', version: 'v1', kind: 'Pod' });
  const got = await ec.get!(ctx(), 'web') as unknown as Pod;
  assert.equal(got.metadata?.name, 'web');

  const { object } = await ec.update!(ctx(), 'web', change((p) => {
    p.spec!.ephemeralContainers = [{ ...debug }];
    // changes outside spec.ephemeralContainers are dropped, as upstream
    p.spec!.containers[0]!.image = 'busybox:2';
    p.spec!.activeDeadlineSeconds = 5;
    p.metadata!.labels = { app: 'changed' };
    p.metadata!.annotations = { added: 'x' };
    (p as { status?: Pod['status'] }).status = { phase: 'Failed' };
  }));
  const out = object as unknown as Pod;
  assert.equal(out.spec?.ephemeralContainers?.[0]?.name, 'debugger');
  assert.equal(out.spec?.ephemeralContainers?.[0]?.imagePullPolicy, 'IfNotPresent', 'defaulted');
  assert.equal(out.spec?.ephemeralContainers?.[0]?.terminationMessagePolicy, 'File');
  assert.equal(out.spec?.containers[0]?.image, 'busybox:1');
  assert.equal(out.spec?.activeDeadlineSeconds, undefined);
  assert.deepEqual(out.metadata?.labels, { app: 'web' });
  assert.equal(out.metadata?.annotations, undefined);
  assert.equal(out.status?.phase, 'Pending');
  const stored = await reg.store('Pod').get(ctx(), 'web') as unknown as Pod;
  assert.deepEqual(stored.spec?.ephemeralContainers?.map((c) => c.name), ['debugger']);

  // a second one joins the first
  await ec.update!(ctx(), 'web', change((p) => { p.spec!.ephemeralContainers!.push({ name: 'two', image: 'busybox:1' }); }));
  assert.deepEqual((await reg.store('Pod').get(ctx(), 'web') as unknown as Pod).spec?.ephemeralContainers?.map((c) => c.name), ['debugger', 'two']);
});

test('pods/ephemeralcontainers: 422 for removals, changes and forbidden fields; the main resource refuses them', async () => {
  const { reg, ec } = await setup();
  await ec.update!(ctx(), 'web', change((p) => { p.spec!.ephemeralContainers = [{ ...debug }]; }));
  const cases: [string, (p: Pod) => void, string][] = [
    ['removal', (p) => { p.spec!.ephemeralContainers = []; },
      '422 Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed\n'],
    ['change', (p) => { p.spec!.ephemeralContainers![0]!.image = 'busybox:2'; },
      '422 Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed\n'],
    ['ports', (p) => { p.spec!.ephemeralContainers!.push({ name: 'x', image: 'busybox:1', ports: [{ containerPort: 80 }] }); },
      '422 Pod "web" is invalid: spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container'],
    ['duplicate name', (p) => { p.spec!.ephemeralContainers!.push({ name: 'main', image: 'busybox:1' }); },
      '422 Pod "web" is invalid: spec.ephemeralContainers[1].name: Duplicate value: "main"'],
    ['unknown target', (p) => { p.spec!.ephemeralContainers!.push({ name: 'x', image: 'busybox:1', targetContainerName: 'nope' }); },
      '422 Pod "web" is invalid: spec.ephemeralContainers[1].targetContainerName: Not found: "nope"'],
  ];
  for (const [name, fn, want] of cases) {
    await assert.rejects(ec.update!(ctx(), 'web', change(fn)), (e) => { assert.equal(failure(e), want, name); return true; });
  }
  await assert.rejects(reg.store('Pod').update(ctx(), 'web', change((p) => { p.spec!.ephemeralContainers!.push({ name: 'x', image: 'busybox:1' }); })),
    (e) => { assert.match(failure(e), /^422 Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/); return true; });
  await assert.rejects(reg.store('Pod').create(ctx(), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'new' },
    spec: { containers: [{ name: 'main', image: 'busybox:1' }], ephemeralContainers: [{ name: 'd', image: 'busybox:1' }] },
  } as KubeObject), (e) => { assert.equal(failure(e), '422 Pod "new" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create'); return true; });
});
