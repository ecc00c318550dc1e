/**
 * Kubelet volumes and environment sources against a real apiserver (etcd + apiserver in this
 * process) and real Docker, driven with the pinned kubectl 1.32: env from a ConfigMap and a
 * Secret (valueFrom, envFrom, $(VAR) expansion) read back with `kubectl logs`; configMap,
 * secret and downwardAPI volumes read by the container, a ConfigMap update seen inside the
 * running container; an emptyDir shared by two containers; hostPath and a PVC bound to a
 * hostPath PV; a missing ConfigMap → CreateContainerConfigError / FailedMount until created;
 * the pod directory removed with the pod; memory-backed volumes (emptyDir medium Memory and
 * secret volumes) are tmpfs mounts the kubelet makes on the host, sized as upstream, seen as
 * tmpfs inside the containers, and unmounted when the pod goes. The kubelet mounts them with
 * the machine's mount(8): this test runs as root, as CI does.
 *
 * The kubelet root is a temporary directory on this machine, which is also the Docker host,
 * so the paths the kubelet writes are the bind-mount sources Docker sees (as compose arranges
 * with the same-path mount of /var/lib/tskube-kubelet). Short resync (3 s) and object cache
 * TTL (1 s) make updates show within seconds. Needs Docker with POD_IMAGE/PAUSE_IMAGE, the
 * etcd binary and kubectl 1.32; removes every container (tskube.cluster=<scope>) in `after`.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Resources } from '@tskube/client';
import { POD_IMAGE } from '../support/docker.js';
import { Kubectl, eventually } from '../support/kubectl.js';
import { startKubeletStack, type KubeletStack } from '../support/kubelet-stack.js';
import { mountsUnder } from '../support/mounts.js';

describe('kubelet volumes and env sources (real apiserver, Docker, kubectl 1.32)', () => {
  let stack: KubeletStack;
  let dir: string;
  let rootDir: string;
  let k: Kubectl;
  let nodeName: string;

  before(async () => {
    stack = await startKubeletStack({ name: 'volumes-it', rootDir: true, timing: { resyncMs: 3000, objectCacheTtlMs: 1000 } });
    ({ dir, nodeName, kubectl: k } = stack);
    rootDir = stack.rootDir!;
  });

  after(async () => {
    await stack?.stop();
  });

  /** Runs kubectl and fails with its output unless it exits 0. */
  const kubectl = (args: string[], input?: string): Promise<string> => k.ok(args, { input });
  const apply = (obj: unknown): Promise<string> => kubectl(['apply', '-f', '-'], JSON.stringify(obj));
  const pod = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: name, tier: 'test' } },
    spec: { nodeName, terminationGracePeriodSeconds: 1, ...spec },
  });
  async function logsContain(podName: string, container: string, want: string | RegExp, timeoutMs = 60_000): Promise<string> {
    return eventually(`${podName}/${container} logs to show ${String(want)}`, async () => {
      const r = await k.run(['logs', podName, '-c', container]);
      if (r.code !== 0) return undefined;
      return (typeof want === 'string' ? r.stdout.includes(want) : want.test(r.stdout)) ? r.stdout : undefined;
    }, timeoutMs, 500);
  }
  async function podUid(name: string): Promise<string> {
    return (await kubectl(['get', 'pod', name, '-o', 'jsonpath={.metadata.uid}'])).trim();
  }

  it('env: configMapKeyRef, secretKeyRef, envFrom with prefix, $(VAR) expansion in env/command/args; invalid keys event', async () => {
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { greeting: 'hello', mode: 'fast', '1bad': 'x' } });
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-secret' }, stringData: { password: 's3cr3t', user: 'admin' } });
    await apply(pod('env', {
      containers: [{
        name: 'main', image: POD_IMAGE,
        envFrom: [{ configMapRef: { name: 'app-config' } }, { prefix: 'DB_', secretRef: { name: 'app-secret' } }],
        env: [
          { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'greeting' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } },
          { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k', optional: true } } },
          { name: 'MSG', value: '$(GREETING) world, $(DB_user):$(PASSWORD) $$(ESCAPED) $(UNDEFINED)' },
        ],
        command: ['sh', '-c'],
        args: ['echo "MSG=$MSG"; echo "mode=$mode"; echo "arg=$(GREETING)"; echo "optional=${OPTIONAL-unset}"; exec sleep 3600'],
      }],
    }));
    const out = await logsContain('env', 'main', 'optional=');
    assert.match(out, /^MSG=hello world, admin:s3cr3t \$\(ESCAPED\) \$\(UNDEFINED\)$/m);
    assert.match(out, /^mode=fast$/m);
    assert.match(out, /^arg=hello$/m);
    assert.match(out, /^optional=unset$/m);
    const events = await kubectl(['get', 'events', '--field-selector', 'involvedObject.name=env', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    assert.match(events, /InvalidEnvironmentVariableNames: Keys \[1bad\] from the EnvFrom configMap default\/app-config were skipped since they are considered invalid environment variable names\./);
  });

  it('configMap, secret and downwardAPI volumes are read in the container; a ConfigMap update shows up in the running container', async () => {
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config' }, data: { 'index.html': 'v1' } });
    await apply(pod('cfgvol', {
      containers: [{
        name: 'main', image: POD_IMAGE,
        command: ['sh', '-c', 'cat /etc/secret/pw; echo; cat /etc/podinfo/labels; echo; echo "name=`cat /etc/podinfo/name`"; ls -l /etc/secret/; while true; do echo "page=`cat /etc/web/index.html`"; sleep 1; done'],
        volumeMounts: [
          { name: 'web', mountPath: '/etc/web' },
          { name: 'sec', mountPath: '/etc/secret' },
          { name: 'info', mountPath: '/etc/podinfo' },
        ],
      }],
      volumes: [
        { name: 'web', configMap: { name: 'web-config' } },
        { name: 'sec', secret: { secretName: 'app-secret', items: [{ key: 'password', path: 'pw', mode: 0o400 }] } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      ],
    }));
    const out = await logsContain('cfgvol', 'main', 'page=v1');
    assert.match(out, /^s3cr3t$/m);
    assert.match(out, /^app="cfgvol"\ntier="test"$/m);
    assert.match(out, /^name=cfgvol$/m);
    assert.match(out, /pw -> \.\.data\/pw/, 'the atomic writer layout: pw is a symlink into ..data');
    const started = Date.now();
    await kubectl(['patch', 'configmap', 'web-config', '--type=merge', '-p', '{"data":{"index.html":"v2"}}']);
    await logsContain('cfgvol', 'main', 'page=v2', 90_000);
    stack.log.info('configmap update seen', { ms: Date.now() - started });
    assert.equal(await kubectl(['get', 'pod', 'cfgvol', '-o', 'jsonpath={.status.phase}']), 'Running');
  });

  it('an emptyDir is shared by two containers; hostPath and a PVC bound to a hostPath PV are mounted', async () => {
    const hostDir = join(dir, 'host-data');
    await apply({
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `pv-${stack.scope.cluster}` },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: join(dir, 'pv-data'), type: 'DirectoryOrCreate' }, storageClassName: 'manual' },
    });
    await apply({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'claim' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual', volumeName: `pv-${stack.scope.cluster}` },
    });
    // No binder runs in this test: bind the claim as the PV controller would.
    const pvc = await stack.admin.resource(Resources.persistentVolumeClaims).get('default', 'claim');
    await stack.admin.resource(Resources.persistentVolumeClaims).updateStatus({ ...pvc, status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } });
    await apply(pod('shared', {
      containers: [
        { name: 'writer', image: POD_IMAGE, command: ['sh', '-c', 'echo "from writer" > /shared/msg; echo host > /host/f; echo claim > /data/f; exec sleep 3600'],
          volumeMounts: [{ name: 'scratch', mountPath: '/shared' }, { name: 'host', mountPath: '/host' }, { name: 'data', mountPath: '/data' }] },
        { name: 'reader', image: POD_IMAGE, command: ['sh', '-c', 'while true; do cat /in/msg 2>/dev/null && break; sleep 0.5; done; exec sleep 3600'],
          volumeMounts: [{ name: 'scratch', mountPath: '/in', readOnly: true }] },
      ],
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
        { name: 'data', persistentVolumeClaim: { claimName: 'claim' } },
      ],
    }));
    await logsContain('shared', 'reader', 'from writer');
    await eventually('hostPath and PV files', async () => existsSync(join(hostDir, 'f')) && existsSync(join(dir, 'pv-data', 'f')), 30_000, 500);
    const uid = await podUid('shared');
    assert.ok(existsSync(join(rootDir, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'scratch', 'msg')));
    await kubectl(['delete', 'pod', 'shared', '--wait=true', '--timeout=60s']);
    await eventually('pod directory removed', async () => !existsSync(join(rootDir, 'pods', uid)), 30_000, 500);
    assert.ok(existsSync(join(hostDir, 'f')), 'hostPath contents stay');
  });

  it('emptyDir medium Memory and secret volumes are tmpfs mounts (sized as upstream), shared by the containers, unmounted with the pod', async (t) => {
    await apply(pod('tmpfs', {
      containers: [
        {
          name: 'writer', image: POD_IMAGE, resources: { limits: { memory: '64Mi' } },
          command: ['sh', '-c', 'echo "in memory" > /cache/msg; grep -E " /(cache|etc/secret) " /proc/mounts; df -k /cache | tail -1; cat /etc/secret/password; echo; exec sleep 3600'],
          volumeMounts: [{ name: 'cache', mountPath: '/cache' }, { name: 'sec', mountPath: '/etc/secret' }],
        },
        {
          name: 'reader', image: POD_IMAGE, resources: { limits: { memory: '64Mi' } },
          command: ['sh', '-c', 'while true; do cat /in/msg 2>/dev/null && break; sleep 0.5; done; exec sleep 3600'],
          volumeMounts: [{ name: 'cache', mountPath: '/in', readOnly: true }],
        },
      ],
      volumes: [
        { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '32Mi' } },
        { name: 'sec', secret: { secretName: 'app-secret' } },
      ],
    }));
    await logsContain('tmpfs', 'reader', 'in memory');
    const out = await logsContain('tmpfs', 'writer', 's3cr3t');
    t.diagnostic(`kubectl logs tmpfs -c writer:\n${out}`);
    // Inside the container: tmpfs, 32Mi (sizeLimit) and 128Mi (the pod's limit: 2 × 64Mi).
    assert.match(out, /^tmpfs \/cache tmpfs \S*\bsize=32768k\b/m);
    assert.match(out, /^tmpfs \/etc\/secret tmpfs ro,\S*\bsize=131072k\b/m);
    assert.match(out, /^tmpfs\s+32768\s+\d+\s+\d+\s+\d+%\s+\/cache$/m, 'df: 32768 1K-blocks');
    // On the host: the kubelet's mounts on the volume directories.
    const uid = await podUid('tmpfs');
    const podDir = join(rootDir, 'pods', uid);
    const onHost = mountsUnder(podDir).map((m) => `${m.mountPoint.slice(podDir.length)} ${m.fsType} ${m.options.find((o) => o.startsWith('size=')) ?? ''}`).sort();
    assert.deepEqual(onHost, [
      '/volumes/kubernetes.io~empty-dir/cache tmpfs size=32768k',
      '/volumes/kubernetes.io~secret/sec tmpfs size=131072k',
    ]);
    t.diagnostic(`host mounts under ${podDir}:\n${onHost.join('\n')}`);
    await kubectl(['delete', 'pod', 'tmpfs', '--wait=true', '--timeout=60s']);
    await eventually('tmpfs unmounted and the pod directory removed', async () => mountsUnder(podDir).length === 0 && !existsSync(podDir), 30_000, 500);
  });

  it('a missing ConfigMap: CreateContainerConfigError for env, FailedMount and ContainerCreating for a volume, until it exists', async () => {
    await apply(pod('noenv', { containers: [{ name: 'main', image: POD_IMAGE, command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'later', key: 'x' } } }] }] }));
    await apply(pod('novol', {
      containers: [{ name: 'main', image: POD_IMAGE, command: ['sh', '-c', 'cat /cfg/x; echo; exec sleep 3600'], volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] }],
      volumes: [{ name: 'cfg', configMap: { name: 'later' } }],
    }));
    const waiting = (name: string): Promise<string> =>
      kubectl(['get', 'pod', name, '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}']);
    await eventually('noenv CreateContainerConfigError', async () => (await waiting('noenv')) === 'CreateContainerConfigError|configmap "later" not found', 30_000, 500);
    await eventually('FailedMount event', async () => {
      const ev = await kubectl(['get', 'events', '--field-selector', 'involvedObject.name=novol,reason=FailedMount', '-o', 'jsonpath={.items[*].message}']);
      return ev.includes('MountVolume.SetUp failed for volume "cfg" : configmap "later" not found');
    }, 30_000, 500);
    assert.equal(await waiting('novol'), 'ContainerCreating|', 'the pod waits for its volume');
    assert.equal(await kubectl(['get', 'pod', 'novol', '-o', 'jsonpath={.status.phase}']), 'Pending');
    const described = await kubectl(['describe', 'pod', 'noenv']);
    assert.match(described, /Error: configmap "later" not found/);
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later' }, data: { x: 'finally' } });
    await logsContain('novol', 'main', 'finally', 60_000).catch(async (err: unknown) => {
      const r = await k.run(['logs', 'novol', '-c', 'main']);
      throw new Error(`${String(err)}; logs: ${r.code} ${r.stdout} ${r.stderr}`);
    });
    await eventually('noenv Running', async () => (await kubectl(['get', 'pod', 'noenv', '-o', 'jsonpath={.status.phase}'])) === 'Running', 60_000, 500);
  });

  it('deleting pods removes every pod directory', async () => {
    await kubectl(['delete', 'pods', '--all', '--wait=true', '--timeout=60s']);
    await eventually('no pod directories', async () => readdirSync(join(rootDir, 'pods')).length === 0, 30_000, 500);
    assert.deepEqual(mountsUnder(rootDir).map((m) => m.mountPoint), [], 'no mounts left under the kubelet root');
  });
});
