import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap, Pod, Secret } from '@tskube/api';
import { FakeClient, type DeepReadonly, type EventRecorder } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { KubeletEvents } from '../events.js';
import { ContainerConfigError } from '../pods/container-config.js';
import type { ObjectSource } from './object-cache.js';
import { podVolumeDir, Plugin } from './paths.js';
import type { TokenSource } from './tokens.js';
import { FakeMounter } from './mounter.js';
import { VolumeManager } from './volume-manager.js';

class Objects implements ObjectSource {
  configMaps = new Map<string, ConfigMap>();
  secrets = new Map<string, Secret>();
  async configMap(_ns: string, name: string): Promise<DeepReadonly<ConfigMap> | null> { return this.configMaps.get(name) ?? null; }
  async secret(_ns: string, name: string): Promise<DeepReadonly<Secret> | null> { return this.secrets.get(name) ?? null; }
}

describe('volume manager', () => {
  let root: string;
  const events: Array<{ reason: string; message: string }> = [];
  const recorder: EventRecorder = { event: (_o, _t, reason, message) => { events.push({ reason, message }); }, flush: async () => undefined };
  const objects = new Objects();
  const tokenCalls: string[] = [];
  const tokens: TokenSource = {
    token: async (pod, req) => { tokenCalls.push(`${req.serviceAccount}/${req.audience ?? ''}/${req.expirationSeconds ?? ''}`); return `token-for-${pod.metadata?.name}`; },
    forgetPod: () => undefined,
  };
  let vm: VolumeManager;
  const mounter = new FakeMounter();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tskube-vm-'));
    vm = new VolumeManager({
      rootDir: root, client: new FakeClient(), objects, tokens, events: new KubeletEvents(recorder, 'n1'), logger: nullLogger(),
      node: { name: 'n1', hostIPs: () => ['10.0.0.1'], allocatable: () => ({ cpu: '2', memory: '1Gi' }) }, mounter,
    });
  });
  after(async () => { await rm(root, { recursive: true, force: true }); });

  const pod = (volumes: NonNullable<Pod['spec']>['volumes'], mounts: NonNullable<Pod['spec']>['containers'][number]['volumeMounts'] = []): Pod => ({
    metadata: { name: 'web', namespace: 'ns', uid: 'uid-1', labels: { app: 'web', tier: 'a"b' }, annotations: { note: 'n' } },
    spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox', volumeMounts: mounts, resources: { limits: { memory: '64Mi' } } }], volumes },
  });

  it('lays out <root>/pods/<uid>/volumes/<plugin>/<name>', () => {
    assert.equal(podVolumeDir('/r', 'u', Plugin.configMap, 'cfg'), '/r/pods/u/volumes/kubernetes.io~configmap/cfg');
    assert.equal(podVolumeDir('/r', 'u', Plugin.emptyDir, 'x'), '/r/pods/u/volumes/kubernetes.io~empty-dir/x');
    assert.throws(() => podVolumeDir('/r', '../x', Plugin.secret, 'x'), /invalid pod UID/);
    assert.throws(() => podVolumeDir('/r', 'u', Plugin.secret, '../x'), /invalid volume name/);
  });

  it('a missing mandatory ConfigMap blocks the pod with a FailedMount event; optional ones mount empty', async () => {
    events.length = 0;
    const p = pod([{ name: 'cfg', configMap: { name: 'app-config' } }, { name: 'opt', configMap: { name: 'nope', optional: true } }]);
    assert.equal(await vm.mountPod(p), false);
    assert.deepEqual(events, [{ reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found' }]);
    assert.deepEqual(await readdir(join(root, 'pods/uid-1/volumes/kubernetes.io~configmap/opt/..data')), []);
  });

  it('configMap, secret, emptyDir, downwardAPI and projected volumes; updates rewrite in place', async () => {
    events.length = 0;
    objects.configMaps.set('app-config', { metadata: { name: 'app-config' }, data: { 'app.conf': 'v1', other: 'o' }, binaryData: { bin: Buffer.from([1, 2]).toString('base64') } });
    objects.secrets.set('creds', { metadata: { name: 'creds' }, data: { pass: Buffer.from('pw').toString('base64') } });
    const p = pod([
      { name: 'cfg', configMap: { name: 'app-config' } },
      { name: 'sel', configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }], defaultMode: 0o440 } },
      { name: 'sec', secret: { secretName: 'creds', defaultMode: 0o400 } },
      { name: 'scratch', emptyDir: {} },
      { name: 'info', downwardAPI: { items: [
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
      ] } },
      { name: 'api', projected: { sources: [
        { serviceAccountToken: { path: 'token', audience: 'api', expirationSeconds: 3600 } },
        { configMap: { name: 'app-config', items: [{ key: 'other', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ] } },
    ], [
      { name: 'cfg', mountPath: '/etc/cfg' },
      { name: 'scratch', mountPath: '/data', subPath: 'sub/dir' },
      { name: 'scratch', mountPath: '/ro', readOnly: true, mountPropagation: 'HostToContainer' },
    ]);
    assert.equal(await vm.mountPod(p), true);
    assert.equal(events.length, 0, JSON.stringify(events));
    const vol = (plugin: string, name: string, file = ''): string => join(root, 'pods/uid-1/volumes', plugin, name, file);
    assert.equal(await readFile(vol('kubernetes.io~configmap', 'cfg', 'app.conf'), 'utf8'), 'v1');
    assert.deepEqual([...await readFile(vol('kubernetes.io~configmap', 'cfg', 'bin'))], [1, 2]);
    assert.equal(await readFile(vol('kubernetes.io~configmap', 'sel', 'conf/app.conf'), 'utf8'), 'v1');
    assert.equal((await stat(vol('kubernetes.io~configmap', 'sel', 'conf/app.conf'))).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(vol('kubernetes.io~configmap', 'sel'))).filter((n) => !n.startsWith('..')), ['conf']);
    assert.equal(await readFile(vol('kubernetes.io~secret', 'sec', 'pass'), 'utf8'), 'pw');
    assert.equal((await stat(vol('kubernetes.io~secret', 'sec', 'pass'))).mode & 0o777, 0o400);
    assert.equal((await stat(vol('kubernetes.io~empty-dir', 'scratch'))).mode & 0o777, 0o777);
    assert.equal(await readFile(vol('kubernetes.io~downward-api', 'info', 'labels'), 'utf8'), 'app="web"\ntier="a\\"b"');
    assert.equal(await readFile(vol('kubernetes.io~downward-api', 'info', 'name'), 'utf8'), 'web');
    assert.equal(await readFile(vol('kubernetes.io~downward-api', 'info', 'mem'), 'utf8'), '64');
    assert.equal(await readFile(vol('kubernetes.io~projected', 'api', 'token'), 'utf8'), 'token-for-web');
    assert.equal(await readFile(vol('kubernetes.io~projected', 'api', 'ca.crt'), 'utf8'), 'o');
    assert.equal(await readFile(vol('kubernetes.io~projected', 'api', 'namespace'), 'utf8'), 'ns');
    assert.deepEqual(tokenCalls, ['robot/api/3600']);

    const mounts = await vm.mountsFor(p, p.spec!.containers[0]!);
    assert.deepEqual(mounts, [
      { container_path: '/etc/cfg', host_path: vol('kubernetes.io~configmap', 'cfg'), readonly: true, propagation: 'PROPAGATION_PRIVATE' },
      { container_path: '/data', host_path: vol('kubernetes.io~empty-dir', 'scratch', 'sub/dir'), readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      { container_path: '/ro', host_path: vol('kubernetes.io~empty-dir', 'scratch'), readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
    ]);
    assert.ok((await stat(vol('kubernetes.io~empty-dir', 'scratch', 'sub/dir'))).isDirectory(), 'subPath created');

    // Update: the next sync rewrites the contents atomically.
    await writeFile(vol('kubernetes.io~empty-dir', 'scratch', 'kept'), 'x');
    const before = await readlink(vol('kubernetes.io~configmap', 'cfg', '..data'));
    objects.configMaps.set('app-config', { metadata: { name: 'app-config' }, data: { 'app.conf': 'v2' } });
    assert.equal(await vm.mountPod(p), true);
    assert.equal(await readFile(vol('kubernetes.io~configmap', 'cfg', 'app.conf'), 'utf8'), 'v2');
    assert.notEqual(await readlink(vol('kubernetes.io~configmap', 'cfg', '..data')), before);
    assert.deepEqual((await readdir(vol('kubernetes.io~configmap', 'cfg'))).filter((n) => !n.startsWith('..')), ['app.conf']);
    assert.equal(await readFile(vol('kubernetes.io~empty-dir', 'scratch', 'kept'), 'utf8'), 'x', 'emptyDir contents survive syncs');

    // A ConfigMap deleted under a running pod: FailedMount, but the pod stays ready with the last contents.
    events.length = 0;
    objects.configMaps.delete('app-config');
    assert.equal(await vm.mountPod(p), true);
    assert.ok(events.some((e) => e.message === 'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found'));
    assert.equal(await readFile(vol('kubernetes.io~configmap', 'cfg', 'app.conf'), 'utf8'), 'v2');

    await vm.cleanupPod('uid-1');
    await assert.rejects(stat(join(root, 'pods/uid-1')));
    await vm.cleanupPod('uid-1');
  });

  it('mount errors: unknown volume, bad subPath, Bidirectional without privileged, unsupported plugin, missing key', async () => {
    events.length = 0;
    objects.configMaps.set('small', { metadata: { name: 'small' }, data: { a: '1' } });
    const p = pod([{ name: 'e', emptyDir: {} }, { name: 'nfs', nfs: { server: 's', path: '/' } }, { name: 'k', configMap: { name: 'small', items: [{ key: 'zzz', path: 'z' }] } }]);
    assert.equal(await vm.mountPod(p), false);
    assert.deepEqual(events.map((e) => e.message), [
      'MountVolume.SetUp failed for volume "nfs" : no volume plugin matched',
      'MountVolume.SetUp failed for volume "k" : configmap references non-existent config key: zzz',
    ]);
    const c = (volumeMounts: NonNullable<Pod['spec']>['containers'][number]['volumeMounts']) => ({ name: 'c', volumeMounts });
    const bad: Array<[NonNullable<Pod['spec']>['containers'][number]['volumeMounts'], RegExp]> = [
      [[{ name: 'x', mountPath: '/x' }], /cannot find volume "x" to mount into container "c"/],
      [[{ name: 'e', mountPath: '/x', subPath: '../up' }], /must be a relative path/],
      [[{ name: 'e', mountPath: '/x', subPath: '/abs' }], /must be a relative path/],
      [[{ name: 'e', mountPath: '/x', mountPropagation: 'Bidirectional' }], /only to privileged containers/],
    ];
    for (const [mounts, re] of bad) {
      await assert.rejects(vm.mountsFor(p, c(mounts)), (e: unknown) => e instanceof ContainerConfigError && re.test(e.message));
    }
    await vm.cleanupPod('uid-1');
  });

  it('cleanupOrphans removes pod directories nobody knows', async () => {
    const p = pod([{ name: 'e', emptyDir: {} }]);
    await vm.mountPod({ ...p, metadata: { ...p.metadata, uid: 'known' } });
    await vm.mountPod({ ...p, metadata: { ...p.metadata, uid: 'orphan' } });
    await vm.cleanupPod('orphan');
    await vm.mountPod({ ...p, metadata: { ...p.metadata, uid: 'orphan2' } });
    // Forget orphan2's in-memory state as after a restart: a fresh manager over the same root.
    const fresh = new VolumeManager({
      rootDir: root, client: new FakeClient(), objects, tokens, events: new KubeletEvents(recorder, 'n1'), logger: nullLogger(),
      node: { name: 'n1', hostIPs: () => [], allocatable: () => ({}) }, mounter,
    });
    await fresh.cleanupOrphans((uid) => uid === 'known');
    assert.deepEqual(await readdir(join(root, 'pods')), ['known']);
    await vm.cleanupPod('known');
  });

  const MiB = 1024 * 1024;

  it('memory-backed volumes: emptyDir medium Memory, secret, downwardAPI and projected get a tmpfs; configMap and plain emptyDir do not', async () => {
    events.length = 0;
    mounter.calls.length = 0;
    objects.configMaps.set('app-config', { metadata: { name: 'app-config' }, data: { a: '1' } });
    objects.secrets.set('creds', { metadata: { name: 'creds' }, data: { pass: Buffer.from('pw').toString('base64') } });
    const p = pod([
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      { name: 'big', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } }, // above the pod's limit: the limit wins
      { name: 'disk', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'app-config' } },
      { name: 'sec', secret: { secretName: 'creds' } },
      { name: 'info', downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      { name: 'api', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
    ]);
    assert.equal(await vm.mountPod(p), true);
    assert.deepEqual(events, []);
    const vol = (plugin: string, name: string): string => join(root, 'pods/uid-1/volumes', plugin, name);
    // The pod's memory limit (64Mi, its only container) bounds every tmpfs; sizeLimit lowers it.
    assert.deepEqual(mounter.calls, [
      `mount ${vol('kubernetes.io~empty-dir', 'mem')} size=${16 * MiB}`,
      `mount ${vol('kubernetes.io~empty-dir', 'big')} size=${64 * MiB}`,
      `mount ${vol('kubernetes.io~secret', 'sec')} size=${64 * MiB}`,
      `mount ${vol('kubernetes.io~downward-api', 'info')} size=${64 * MiB}`,
      `mount ${vol('kubernetes.io~projected', 'api')} size=${64 * MiB}`,
    ]);
    assert.deepEqual([...vm.mounted('uid-1')].filter(([, v]) => v.medium === 'memory').map(([k]) => k), ['mem', 'big', 'sec', 'info', 'api']);
    assert.equal(await readFile(join(vol('kubernetes.io~secret', 'sec'), 'pass'), 'utf8'), 'pw', 'written after the mount');

    // Syncs and a kubelet restart (a fresh manager) keep the mounts: no second tmpfs.
    mounter.calls.length = 0;
    assert.equal(await vm.mountPod(p), true);
    const fresh = new VolumeManager({
      rootDir: root, client: new FakeClient(), objects, tokens, events: new KubeletEvents(recorder, 'n1'), logger: nullLogger(),
      node: { name: 'n1', hostIPs: () => [], allocatable: () => ({ memory: '1Gi' }) }, mounter,
    });
    assert.equal(await fresh.mountPod(p), true);
    assert.deepEqual(mounter.calls, []);

    await vm.cleanupPod('uid-1');
    assert.deepEqual(mounter.calls.sort(), [
      `unmount ${vol('kubernetes.io~downward-api', 'info')}`,
      `unmount ${vol('kubernetes.io~empty-dir', 'big')}`,
      `unmount ${vol('kubernetes.io~empty-dir', 'mem')}`,
      `unmount ${vol('kubernetes.io~projected', 'api')}`,
      `unmount ${vol('kubernetes.io~secret', 'sec')}`,
    ]);
    assert.equal(mounter.mounts.size, 0);
    await assert.rejects(stat(join(root, 'pods/uid-1')));
  });

  it('a tmpfs that cannot be mounted is a FailedMount and the pod waits; nothing falls back to disk', async () => {
    events.length = 0;
    mounter.failMount = 'mount failed: exit status 32\nOutput: mount: permission denied';
    try {
      const p = pod([{ name: 'mem', emptyDir: { medium: 'Memory' } }, { name: 'sec', secret: { secretName: 'creds' } }, { name: 'disk', emptyDir: {} }]);
      assert.equal(await vm.mountPod(p), false);
      assert.deepEqual(events.map((e) => `${e.reason} ${e.message}`), [
        'FailedMount MountVolume.SetUp failed for volume "mem" : mount failed: exit status 32\nOutput: mount: permission denied',
        'FailedMount MountVolume.SetUp failed for volume "sec" : mount failed: exit status 32\nOutput: mount: permission denied',
      ]);
      assert.deepEqual(await readdir(join(root, 'pods/uid-1/volumes/kubernetes.io~secret/sec')), [], 'no secret written to disk');
      await assert.rejects(vm.mountsFor(p, { name: 'c', volumeMounts: [{ name: 'mem', mountPath: '/m' }] }), ContainerConfigError);
      // Once mounting works, the next sync sets them up.
      mounter.failMount = undefined;
      assert.equal(await vm.mountPod(p), true);
      assert.equal(mounter.mounts.size, 2);
    } finally {
      mounter.failMount = undefined;
      await vm.cleanupPod('uid-1');
    }
  });

  it('unsupported emptyDir media fail the volume', async () => {
    events.length = 0;
    assert.equal(await vm.mountPod(pod([{ name: 'huge', emptyDir: { medium: 'HugePages' } }])), false);
    assert.deepEqual(events.map((e) => e.message), ['MountVolume.SetUp failed for volume "huge" : storage medium "HugePages" is not supported']);
    await vm.cleanupPod('uid-1');
  });

  it('cleanup: a failed unmount keeps the pod directory (retried later); orphans are unmounted before removal', async () => {
    const p = pod([{ name: 'mem', emptyDir: { medium: 'Memory' } }, { name: 'disk', emptyDir: {} }]);
    await vm.mountPod(p);
    await writeFile(join(root, 'pods/uid-1/volumes/kubernetes.io~empty-dir/mem/data'), 'x');
    mounter.failUnmount = 'umount: target is busy';
    await assert.rejects(vm.cleanupPod('uid-1'), /UnmountVolume.TearDown failed for pod uid-1: kubernetes.io~empty-dir\/mem: umount: target is busy/);
    assert.equal(await readFile(join(root, 'pods/uid-1/volumes/kubernetes.io~empty-dir/mem/data'), 'utf8'), 'x', 'nothing removed through a mount');
    // The orphan sweep (after a restart) logs the failure and goes on; then succeeds.
    const fresh = new VolumeManager({
      rootDir: root, client: new FakeClient(), objects, tokens, events: new KubeletEvents(recorder, 'n1'), logger: nullLogger(),
      node: { name: 'n1', hostIPs: () => [], allocatable: () => ({}) }, mounter,
    });
    await fresh.cleanupOrphans(() => false);
    assert.ok(mounter.mounts.size === 1);
    mounter.failUnmount = undefined;
    await fresh.cleanupOrphans(() => false);
    assert.equal(mounter.mounts.size, 0);
    assert.deepEqual(await readdir(join(root, 'pods')), []);
  });
});
