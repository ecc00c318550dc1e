import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap, Container, Pod, Secret } from '@tskube/api';
import type { EnvObjects } from './env-sources.js';
import {
  ContainerConfigError, containerConfig, containerEnv, containerHash, expandVars, linuxResources, oomScoreAdj, sandboxConfig,
  securityContext, type ImageUser,
} from './container-config.js';
import type * as m from '../cri/index.js';

const ctx = { nodeName: 'node-1', hostIP: '172.18.0.5', podIP: '10.244.0.9', podIPs: ['10.244.0.9'] };

function pod(c: Container, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'prod', uid: 'u-1', labels: { app: 'web' }, annotations: { team: 'a' } },
    spec: { nodeName: 'node-1', containers: [c], terminationGracePeriodSeconds: 5, ...extra },
  };
}

describe('container config', () => {
  const expansions: Array<[string, string]> = [
    ['$(A)', 'x'],
    ['pre-$(A)-$(B)', 'pre-x-y'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['cost $5', 'cost $5'],
    ['$(', '$('],
    ['$()', '$()'],
    ['$(A', '$(A'],
    ['$x$', '$x$'],
    ['$$$(A)', '$x'],
    ['$$$$', '$$'],
    ['$(A)$(B)$(A)', 'xyx'],
    ['a$(A $(B)', 'a$(A $(B)'],
  ];
  for (const [input, want] of expansions) {
    it(`expandVars(${JSON.stringify(input)})`, () => {
      assert.equal(expandVars(input, new Map([['A', 'x'], ['B', 'y']])), want);
    });
  }

  it('env: plain values, downward API fieldRefs and $(VAR) references to earlier variables', () => {
    const c: Container = {
      name: 'web', image: 'busybox',
      env: [
        { name: 'GREETING', value: 'hello' },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'MSG', value: '$(GREETING) from $(POD) on $(NODE), $(LATER)' },
        { name: 'LATER', value: 'late' },
      ],
    };
    const env = Object.fromEntries(containerEnv(pod(c), c, ctx).map((kv) => [kv.key, kv.value]));
    assert.deepEqual(env, {
      GREETING: 'hello', POD: 'web', NS: 'prod', UID: 'u-1', IP: '10.244.0.9', NODE: 'node-1', HOST: '172.18.0.5', APP: 'web',
      MSG: 'hello from web on node-1, $(LATER)', LATER: 'late',
    });
  });

  it('env: resourceFieldRef (limits default to the node allocatable)', () => {
    const c: Container = {
      name: 'web', resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m' } },
      env: [
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'CPU_LIM', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      ],
    };
    const env = Object.fromEntries(containerEnv(pod(c), c, ctx, { allocatable: { cpu: '4' } }).map((kv) => [kv.key, kv.value]));
    assert.deepEqual(env, { MEM: '64', CPU_REQ: '250', CPU_LIM: '4' });
  });

  // ---- env sources: ConfigMap/Secret key refs and envFrom (upstream makeEnvironmentVariables) ----
  const b64 = (v: string): string => Buffer.from(v).toString('base64');
  const objects: EnvObjects = {
    configMaps: new Map<string, ConfigMap | null>([
      ['cfg', { metadata: { name: 'cfg' }, data: { mode: 'fast', level: '3', '1bad': 'x', 'with space': 'y', 'dot.ok': 'z' } }],
      ['gone', null],
    ]),
    secrets: new Map<string, Secret | null>([
      ['creds', { metadata: { name: 'creds' }, data: { user: b64('admin'), pass: b64('s3cr3t') } }],
      ['nosecret', null],
    ]),
  };
  type EnvCase = { name: string; env?: Container['env']; envFrom?: Container['envFrom']; want?: Record<string, string>; order?: string[]; error?: string; warnings?: string[] };
  const envCases: EnvCase[] = [
    { name: 'configMapKeyRef', env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } }], want: { MODE: 'fast' } },
    { name: 'secretKeyRef (base64-decoded)', env: [{ name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'pass' } } }], want: { PASS: 's3cr3t' } },
    { name: 'missing ConfigMap', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }], error: 'configmap "gone" not found' },
    { name: 'missing Secret', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nosecret', key: 'k' } } }], error: 'secret "nosecret" not found' },
    { name: 'missing key', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope' } } }], error: "couldn't find key nope in ConfigMap prod/cfg" },
    { name: 'missing secret key', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }], error: "couldn't find key nope in Secret prod/creds" },
    {
      name: 'optional object and key are skipped',
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k', optional: true } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
        { name: 'C', valueFrom: { secretKeyRef: { name: 'nosecret', key: 'k', optional: true } } },
        { name: 'D', value: 'd' },
      ],
      want: { D: 'd' },
    },
    {
      name: 'envFrom with prefix; invalid names skipped with a warning; env overrides and expands',
      envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'DB_', secretRef: { name: 'creds' } }],
      env: [{ name: 'mode', value: 'slow' }, { name: 'URL', value: '$(DB_user):$(DB_pass)@$(level)/$(nope)/$$(mode)' }],
      want: { 'dot.ok': 'z', level: '3', mode: 'slow', DB_pass: 's3cr3t', DB_user: 'admin', URL: 'admin:s3cr3t@3/$(nope)/$(mode)' },
      order: ['dot.ok', 'level', 'mode', 'DB_pass', 'DB_user', 'URL'],
      warnings: ['Keys [1bad, with space] from the EnvFrom configMap prod/cfg were skipped since they are considered invalid environment variable names.'],
    },
    { name: 'envFrom: a prefix can make a key valid', envFrom: [{ prefix: 'P_', configMapRef: { name: 'cfg' } }], want: { P_1bad: 'x', 'P_dot.ok': 'z', P_level: '3', P_mode: 'fast' }, warnings: ['Keys [P_with space] from the EnvFrom configMap prod/cfg were skipped since they are considered invalid environment variable names.'] },
    { name: 'envFrom missing mandatory', envFrom: [{ secretRef: { name: 'nosecret' } }], error: 'secret "nosecret" not found' },
    { name: 'envFrom missing optional', envFrom: [{ configMapRef: { name: 'gone', optional: true } }], want: {} },
  ];
  for (const tc of envCases) {
    it(`env sources: ${tc.name}`, () => {
      const c: Container = { name: 'web', env: tc.env, envFrom: tc.envFrom };
      const warnings: string[] = [];
      const run = () => containerEnv(pod(c), c, ctx, { objects, onInvalidNames: (w) => warnings.push(w) });
      if (tc.error) {
        assert.throws(run, (e: unknown) => e instanceof ContainerConfigError && e.message === tc.error);
        return;
      }
      const env = run();
      assert.deepEqual(Object.fromEntries(env.map((kv) => [kv.key, kv.value])), tc.want);
      if (tc.order) assert.deepEqual(env.map((kv) => kv.key), tc.order);
      assert.deepEqual(warnings, tc.warnings ?? []);
    });
  }

  it('env sources without fetched objects are a config error', () => {
    const c: Container = { name: 'web', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] };
    assert.throws(() => containerEnv(pod(c), c, ctx), /couldn't get configMap prod\/cfg/);
  });

  it('command and args expand against the final environment', () => {
    const c: Container = {
      name: 'web', image: 'busybox', envFrom: [{ configMapRef: { name: 'cfg' } }],
      env: [{ name: 'USER', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } }],
      command: ['echo', '$(USER)', '$(mode)'], args: ['$(level)', '$$(level)', '$(UNSET)'],
    };
    const cfg = containerConfig(pod(c), c, { kind: 'regular', attempt: 0, env: ctx, objects, mounts: [{ container_path: '/etc/cfg', host_path: '/var/x', readonly: true }] });
    assert.deepEqual(cfg.command, ['echo', 'admin', 'fast']);
    assert.deepEqual(cfg.args, ['3', '$(level)', '$(UNSET)']);
    assert.deepEqual(cfg.mounts, [{ container_path: '/etc/cfg', host_path: '/var/x', readonly: true }]);
  });

  const resources: Array<{ name: string; r: Container['resources']; want: Record<string, number> }> = [
    { name: 'best effort', r: {}, want: { cpu_shares: 2 } },
    { name: 'requests only', r: { requests: { cpu: '500m', memory: '64Mi' } }, want: { cpu_shares: 512 } },
    {
      name: 'limits', r: { requests: { cpu: '250m' }, limits: { cpu: '1', memory: '128Mi' } },
      want: { cpu_shares: 256, cpu_period: 100000, cpu_quota: 100000, memory_limit_in_bytes: 128 * 1024 * 1024, memory_swap_limit_in_bytes: 128 * 1024 * 1024 },
    },
    { name: 'tiny cpu limit', r: { limits: { cpu: '1m' } }, want: { cpu_shares: 2, cpu_period: 100000, cpu_quota: 1000 } },
  ];
  for (const c of resources) {
    it(`resources: ${c.name}`, () => {
      assert.deepEqual(linuxResources({ name: 'x', resources: c.r }), c.want);
    });
  }

  it('container config: command/args expanded, workingDir, annotations with hash and attempt', () => {
    const c: Container = {
      name: 'web', image: 'local/busybox:1', command: ['sh', '-c'], args: ['echo $(MSG)'], workingDir: '/tmp',
      env: [{ name: 'MSG', value: 'hi' }],
    };
    const cfg = containerConfig(pod(c), c, { kind: 'regular', attempt: 3, env: ctx });
    assert.deepEqual(cfg.metadata, { name: 'web', attempt: 3 });
    assert.deepEqual(cfg.image, { image: 'local/busybox:1', user_specified_image: 'local/busybox:1' });
    assert.deepEqual(cfg.command, ['sh', '-c']);
    assert.deepEqual(cfg.args, ['echo hi']);
    assert.equal(cfg.working_dir, '/tmp');
    assert.equal(cfg.annotations?.['io.kubernetes.container.hash'], containerHash(c));
    assert.equal(cfg.annotations?.['io.kubernetes.container.restartCount'], '3');
    assert.equal(cfg.annotations?.['io.kubernetes.pod.terminationGracePeriod'], '5');
  });

  it('the hash changes with the image but not with resources', () => {
    const a: Container = { name: 'web', image: 'a:1', resources: { limits: { cpu: '1' } } };
    assert.equal(containerHash(a), containerHash({ ...a, resources: {} }));
    assert.notEqual(containerHash(a), containerHash({ ...a, image: 'a:2' }));
  });

  it('sandbox config: metadata, hostname, labels, port mappings', () => {
    const c: Container = { name: 'web', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 53, hostPort: 5353, protocol: 'UDP' }] };
    const cfg = sandboxConfig(pod(c), 2);
    assert.deepEqual(cfg.metadata, { name: 'web', namespace: 'prod', uid: 'u-1', attempt: 2 });
    assert.equal(cfg.hostname, 'web');
    assert.deepEqual(cfg.labels, { app: 'web' });
    assert.deepEqual(cfg.annotations, { team: 'a' });
    assert.deepEqual(cfg.port_mappings, [{ protocol: 'TCP', container_port: 80 }, { protocol: 'UDP', container_port: 53, host_port: 5353 }]);
    assert.equal(cfg.linux?.security_context?.namespace_options?.network, 'POD');
    const host = sandboxConfig(pod(c, { hostNetwork: true }), 0);
    assert.equal(host.linux?.security_context?.namespace_options?.network, 'NODE');
    assert.equal(host.hostname, undefined);
  });

  const GI = 1024 ** 3;
  const oomCases: Array<{ name: string; r: Container['resources']; capacity: number; want: number }> = [
    { name: 'Guaranteed', r: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }, capacity: 8 * GI, want: -997 },
    { name: 'BestEffort', r: {}, capacity: 8 * GI, want: 1000 },
    { name: 'Burstable 1Gi of 8Gi', r: { requests: { memory: '1Gi' } }, capacity: 8 * GI, want: 875 },
    { name: 'Burstable without a memory request', r: { requests: { cpu: '100m' } }, capacity: 8 * GI, want: 999 },
    { name: 'Burstable asking nearly everything', r: { requests: { memory: '8Gi' }, limits: { memory: '9Gi' } }, capacity: 8 * GI, want: 3 },
    { name: 'Burstable, unknown capacity', r: { requests: { memory: '1Gi' } }, capacity: 0, want: 999 },
  ];
  for (const c of oomCases) {
    it(`oom_score_adj: ${c.name}`, () => {
      const ctr: Container = { name: 'x', resources: c.r };
      assert.equal(oomScoreAdj(pod(ctr), ctr, c.capacity), c.want);
    });
  }

  it('the container config carries resources with oom_score_adj (32Mi limit, 500m cpu limit)', () => {
    const c: Container = { name: 'web', image: 'busybox', resources: { limits: { memory: '32Mi', cpu: '500m' } } };
    const cfg = containerConfig(pod(c), c, { kind: 'regular', attempt: 0, env: ctx, memoryCapacity: 8 * GI });
    // limits only: requests default to limits in the API, but here (no defaulting) the pod is Burstable.
    assert.deepEqual(cfg.linux?.resources, { cpu_shares: 512, cpu_period: 100_000, cpu_quota: 50_000, memory_limit_in_bytes: 32 * 1024 * 1024, memory_swap_limit_in_bytes: 32 * 1024 * 1024, oom_score_adj: 999 });
  });

  const security: Array<{
    name: string; c?: Container['securityContext']; p?: NonNullable<Pod['spec']>['securityContext']; image?: ImageUser;
    want?: Partial<m.LinuxContainerSecurityContext>; error?: RegExp;
  }> = [
    { name: 'nothing: the image user', image: { uid: 5 }, want: { run_as_user: { value: 5 } } },
    { name: 'nothing: the image user by name', image: { username: 'www' }, want: { run_as_username: 'www' } },
    { name: 'pod runAsUser/runAsGroup', p: { runAsUser: 1000, runAsGroup: 3000 }, image: { uid: 0 }, want: { run_as_user: { value: 1000 }, run_as_group: { value: 3000 } } },
    { name: 'the container wins over the pod', p: { runAsUser: 1000, runAsGroup: 3000 }, c: { runAsUser: 2000 }, want: { run_as_user: { value: 2000 }, run_as_group: { value: 3000 } } },
    { name: 'runAsGroup alone: root with that group', c: { runAsGroup: 7 }, want: { run_as_user: { value: 0 }, run_as_group: { value: 7 } } },
    { name: 'fsGroup then supplementalGroups', p: { fsGroup: 2000, supplementalGroups: [4000, 5000] }, want: { supplemental_groups: [2000, 4000, 5000] } },
    {
      name: 'capabilities, privileged, read-only rootfs',
      c: { capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, readOnlyRootFilesystem: true, privileged: true },
      want: { capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] }, readonly_rootfs: true, privileged: true },
    },
    { name: 'allowPrivilegeEscalation false → no_new_privs', c: { allowPrivilegeEscalation: false }, want: { no_new_privs: true } },
    { name: 'allowPrivilegeEscalation true → no flag', c: { allowPrivilegeEscalation: true }, want: { no_new_privs: undefined } },
    { name: 'runAsNonRoot with a non-root runAsUser', p: { runAsNonRoot: true }, c: { runAsUser: 1000 }, want: { run_as_user: { value: 1000 } } },
    { name: 'runAsNonRoot, runAsUser 0', p: { runAsNonRoot: true }, c: { runAsUser: 0 }, error: /^container's runAsUser breaks non-root policy \(pod: "prod\/web", container: web\)$/ },
    { name: 'runAsNonRoot, root image', c: { runAsNonRoot: true }, image: { uid: 0 }, error: /^container has runAsNonRoot and image will run as root \(pod: "prod\/web", container: web\)$/ },
    { name: 'runAsNonRoot, image user by name', c: { runAsNonRoot: true }, image: { username: 'www' }, error: /image has non-numeric user \(www\), cannot verify user is non-root/ },
  ];
  for (const t of security) {
    it(`security context: ${t.name}`, () => {
      const c: Container = { name: 'web', image: 'busybox', ...(t.c ? { securityContext: t.c } : {}) };
      const p = pod(c, t.p ? { securityContext: t.p } : {});
      if (t.error) {
        assert.throws(() => securityContext(p, c, t.image), (e: Error) => e instanceof ContainerConfigError && t.error!.test(e.message));
        return;
      }
      const got = securityContext(p, c, t.image);
      for (const [k, v] of Object.entries(t.want ?? {})) assert.deepEqual(got[k as keyof m.LinuxContainerSecurityContext], v, k);
    });
  }
});
