// The API groups beyond core (apps, batch, autoscaling v1+v2, policy, rbac, scheduling,
// discovery, authorization, authentication) through the real kubectl against the real
// apiserver on a real etcd.
//
// kubectl 1.32 sends protobuf bodies for `create <generator>` and `auth can-i/whoami`; those
// commands use kubectl 1.31 (JSON) here until protobuf request decoding lands.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { Kubectl, eventually } from '../support/kubectl.js';

let api: TestApiServer;
let k: Kubectl;
let k131: Kubectl;

const NS = 'groups';
const template = (app: string, restartPolicy?: string) => ({
  metadata: { labels: { app } },
  spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'main', image: 'busybox:1' }] },
});

const MANIFESTS = [
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template('web') } },
  {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
    spec: {
      serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } }, template: template('db'),
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent') } },
  { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'db-1' }, data: { spec: {} }, revision: 1 },
  { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi' }, spec: { template: template('pi', 'Never') } },
  { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' }, spec: { schedule: '@hourly', jobTemplate: { spec: { template: template('n', 'OnFailure') } } } },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5,
    metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }],
  } },
  { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'old' }, spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 50,
  } },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'read-pods' }, roleRef: { kind: 'Role', name: 'reader' }, subjects: [{ kind: 'User', name: 'jane' }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'test-aggregate' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { team: 'x' } }] } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'test-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: 'viewers' }, { kind: 'ServiceAccount', name: 'bot', namespace: NS }] },
  { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'test-high' }, value: 1000, description: 'test' },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true } }], ports: [{ name: 'http', port: 80 }] },
];

/** `kubectl get` headers, upstream's (pkg/printers/internalversion/printers.go). */
const HEADERS: [string, string, string[]][] = [
  ['deployments', 'web', ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']],
  ['statefulsets', 'db', ['NAME', 'READY', 'AGE']],
  ['daemonsets', 'agent', ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']],
  ['controllerrevisions', 'db-1', ['NAME', 'CONTROLLER', 'REVISION', 'AGE']],
  ['jobs', 'pi', ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']],
  ['cronjobs', 'nightly', ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']],
  ['horizontalpodautoscalers', 'web', ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']],
  ['poddisruptionbudgets', 'web', ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']],
  ['roles', 'reader', ['NAME', 'CREATED AT']],
  ['rolebindings', 'read-pods', ['NAME', 'ROLE', 'AGE']],
  ['clusterroles', 'test-aggregate', ['NAME', 'CREATED AT']],
  ['clusterrolebindings', 'test-view', ['NAME', 'ROLE', 'AGE']],
  ['priorityclasses', 'test-high', ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE']],
  ['endpointslices', 'web-abc', ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']],
];

const headerOf = (out: string) => out.split('\n')[0]!.trim().split(/\s{2,}/);

before(async () => {
  api = await startApiServer();
  k = new Kubectl(api.kubeconfig, undefined, '1.32');
  k131 = new Kubectl(api.kubeconfig, undefined, '1.31');
  await k.ok(['create', 'namespace', NS]);
  // the bootstrap hooks run after the system namespaces
  await eventually('bootstrapped cluster roles', async () => (await k.run(['get', 'clusterrole', 'cluster-admin'])).code === 0, 15_000, 200);
});
after(async () => { await api?.stop(); });

test('create -f every kind, then get shows upstream columns', async () => {
  const out = await k.ok(['create', '-n', NS, '-f', '-'], { input: MANIFESTS.map((m) => JSON.stringify(m)).join('\n') });
  assert.match(out, /deployment\.apps\/web created/);
  assert.match(out, /horizontalpodautoscaler\.autoscaling\/old created/);
  assert.match(out, /endpointslice\.discovery\.k8s\.io\/web-abc created/);
  const results = await Promise.all(HEADERS.map(([res, name]) => k.ok(['get', '-n', NS, res, name])));
  HEADERS.forEach(([res, name, want], i) => {
    assert.deepEqual(headerOf(results[i]!), want, res);
    assert.match(results[i]!.split('\n')[1]!, new RegExp(`^${name}\\s`), res);
  });
  const row = (i: number) => results[i]!.split('\n')[1]!.trim().split(/\s{2,}/);
  assert.deepEqual(row(0).slice(0, 4), ['web', '0/1', '0', '0'], 'deployment row');
  assert.deepEqual(row(1).slice(0, 2), ['db', '0/2'], 'statefulset row');
  assert.deepEqual(row(4).slice(0, 3), ['pi', 'Running', '0/1'], 'job row');
  assert.deepEqual(row(5).slice(0, 5), ['nightly', '@hourly', '<none>', 'False', '0'], 'cronjob row');
  assert.deepEqual(row(6).slice(0, 6), ['web', 'Deployment/web', 'memory: <unknown>/100Mi', '1', '5', '0'], 'hpa row');
  assert.deepEqual(row(7).slice(0, 4), ['web', '1', 'N/A', '0'], 'pdb row');
  assert.deepEqual(row(9).slice(0, 2), ['read-pods', 'Role/reader'], 'rolebinding row');
  assert.deepEqual(row(12).slice(0, 3), ['test-high', '1000', 'false'], 'priorityclass row');
  assert.deepEqual(row(13).slice(0, 4), ['web-abc', 'IPv4', '80', '10.0.0.5'], 'endpointslice row');

  const wide = await k.ok(['get', '-n', NS, 'clusterrolebinding', 'test-view', '-o', 'wide']);
  assert.match(wide.split('\n')[1]!, /ClusterRole\/view\s+\S+\s+viewers\s+groups\/bot/);

  // defaults the server filled in
  const job = JSON.parse(await k.ok(['get', '-n', NS, 'job', 'pi', '-o', 'json'])) as { metadata: { uid: string; labels: Record<string, string> }; spec: Record<string, unknown> };
  assert.equal(job.spec.backoffLimit, 6);
  assert.equal(job.spec.completionMode, 'NonIndexed');
  assert.deepEqual(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid } });
  assert.equal(job.metadata.labels['batch.kubernetes.io/job-name'], 'pi');
  const sts = JSON.parse(await k.ok(['get', '-n', NS, 'sts', 'db', '-o', 'json'])) as { spec: Record<string, unknown> };
  assert.equal(sts.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  const cj = JSON.parse(await k.ok(['get', '-n', NS, 'cj', 'nightly', '-o', 'json'])) as { spec: Record<string, unknown> };
  assert.deepEqual([cj.spec.concurrencyPolicy, cj.spec.successfulJobsHistoryLimit, cj.spec.failedJobsHistoryLimit, cj.spec.suspend], ['Allow', 3, 1, false]);
  const pdb = JSON.parse(await k.ok(['get', '-n', NS, 'pdb', 'web', '-o', 'json'])) as { status: Record<string, unknown>; metadata: { generation: number } };
  assert.deepEqual(pdb.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });

  // get all: the kinds in the `all` category
  const all = await k.ok(['get', 'all', '-n', NS]);
  for (const kind of ['deployment.apps/web', 'statefulset.apps/db', 'daemonset.apps/agent', 'job.batch/pi', 'cronjob.batch/nightly', 'horizontalpodautoscaler.autoscaling/web']) {
    assert.ok(all.includes(kind), `get all lists ${kind}`);
  }
});

test('kubectl scale goes through /scale and bumps generation', async () => {
  assert.match(await k.ok(['scale', '-n', NS, 'deploy/web', '--replicas=3']), /deployment\.apps\/web scaled/);
  assert.match(await k.ok(['scale', '-n', NS, 'statefulset/db', '--replicas=1']), /statefulset\.apps\/db scaled/);
  const d = JSON.parse(await k.ok(['get', '-n', NS, 'deploy', 'web', '-o', 'json'])) as { spec: { replicas: number }; metadata: { generation: number } };
  assert.equal(d.spec.replicas, 3);
  assert.equal(d.metadata.generation, 2);
  const scale = JSON.parse(await k.ok(['get', '--raw', `/apis/apps/v1/namespaces/${NS}/deployments/web/scale`])) as { kind: string; status: { selector: string } };
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.status.selector, 'app=web');
});

test('HPAs: one stored version, served as v2 and v1', async () => {
  const v2 = JSON.parse(await k.ok(['get', '-n', NS, 'horizontalpodautoscalers.v2.autoscaling', 'old', '-o', 'json'])) as { apiVersion: string; spec: { metrics: unknown } };
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  const v1 = JSON.parse(await k.ok(['get', '-n', NS, 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'json'])) as { apiVersion: string; metadata: { annotations: Record<string, string> }; spec: Record<string, unknown> };
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.equal(v1.spec.targetCPUUtilizationPercentage, undefined);
  assert.deepEqual(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics']!), [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } }]);
  // the preferred version is v2: a plain `get hpa` reads v2
  assert.equal((JSON.parse(await k.ok(['get', '-n', NS, 'hpa', 'old', '-o', 'json'])) as { apiVersion: string }).apiVersion, 'autoscaling/v2');
  // a v1 patch keeps the v2-only metrics
  await k.ok(['patch', '-n', NS, 'horizontalpodautoscalers.v1.autoscaling', 'web', '--type=merge', '-p', '{"spec":{"maxReplicas":7}}']);
  const after = JSON.parse(await k.ok(['get', '-n', NS, 'hpa', 'web', '-o', 'json'])) as { spec: { maxReplicas: number; metrics: { resource: { name: string } }[] } };
  assert.equal(after.spec.maxReplicas, 7);
  assert.equal(after.spec.metrics[0]!.resource.name, 'memory');
});

test('422 with every cause and its field path', async () => {
  const bad = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bad' },
    spec: { replicas: -1, selector: { matchLabels: { app: 'x' } }, template: template('y'), strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
  };
  const r = await k.run(['create', '-n', NS, '-f', '-'], { input: JSON.stringify(bad) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /The Deployment "bad" is invalid:/);
  assert.match(r.stderr, /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
  assert.match(r.stderr, /spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/);
  assert.match(r.stderr, /spec\.strategy\.rollingUpdate\.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0/);
  const badCron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'bad' }, spec: { schedule: '* * *', jobTemplate: { spec: { template: template('x') } } } };
  const c = await k.run(['create', '-n', NS, '-f', '-'], { input: JSON.stringify(badCron) });
  assert.match(c.stderr, /spec\.schedule: Invalid value: "\* \* \*": expected exactly 5 fields, found 3: \[\* \* \*\]/);
  assert.match(c.stderr, /spec\.jobTemplate\.spec\.template\.spec\.restartPolicy: Unsupported value: "Always"/);
  const rb = await k.run(['patch', '-n', NS, 'rolebinding', 'read-pods', '--type=merge', '-p', '{"roleRef":{"name":"other"}}']);
  assert.match(rb.stderr, /roleRef: Invalid value: .*cannot change roleRef/);
});

test('create generators and auth through kubectl 1.31 (JSON bodies)', async () => {
  await k131.ok(['create', 'deployment', 'gen', '-n', NS, '--image=busybox:1', '--replicas=2']);
  await k131.ok(['create', 'job', 'gen-job', '-n', NS, '--image=busybox:1']);
  await k131.ok(['create', 'cronjob', 'gen-cron', '-n', NS, '--image=busybox:1', '--schedule=*/5 * * * *']);
  await k131.ok(['create', 'role', 'gen-role', '-n', NS, '--verb=get', '--resource=pods']);
  await k131.ok(['create', 'priorityclass', 'gen-pc', '--value=10']);
  const genJob = JSON.parse(await k.ok(['get', '-n', NS, 'job', 'gen-job', '-o', 'json'])) as { spec: { template: { spec: { restartPolicy: string } } } };
  assert.equal(genJob.spec.template.spec.restartPolicy, 'Never');
  assert.equal((await k131.ok(['auth', 'can-i', 'create', 'pods'])).trim(), 'yes');
  assert.equal((await k131.ok(['auth', 'can-i', 'delete', 'deployments.apps', '-n', NS])).trim(), 'yes');
  const list = await k131.ok(['auth', 'can-i', '--list', '-n', NS]);
  assert.match(list, /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
  const who = await k131.ok(['auth', 'whoami']);
  assert.match(who, /Username\s+kubernetes-admin/);
  assert.match(who, /Groups\s+\[system:masters system:authenticated\]/);
});

test('api-resources lists every resource with upstream short names', async () => {
  const out = await k.ok(['api-resources']);
  const rows = out.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/));
  const find = (name: string, apiVersion: string) => rows.find((r) => r[0] === name && r.includes(apiVersion));
  const want: [string, string, string | null, string][] = [
    ['controllerrevisions', 'apps/v1', null, 'ControllerRevision'],
    ['daemonsets', 'apps/v1', 'ds', 'DaemonSet'],
    ['deployments', 'apps/v1', 'deploy', 'Deployment'],
    ['replicasets', 'apps/v1', 'rs', 'ReplicaSet'],
    ['statefulsets', 'apps/v1', 'sts', 'StatefulSet'],
    ['selfsubjectreviews', 'authentication.k8s.io/v1', null, 'SelfSubjectReview'],
    ['localsubjectaccessreviews', 'authorization.k8s.io/v1', null, 'LocalSubjectAccessReview'],
    ['selfsubjectaccessreviews', 'authorization.k8s.io/v1', null, 'SelfSubjectAccessReview'],
    ['selfsubjectrulesreviews', 'authorization.k8s.io/v1', null, 'SelfSubjectRulesReview'],
    ['subjectaccessreviews', 'authorization.k8s.io/v1', null, 'SubjectAccessReview'],
    ['horizontalpodautoscalers', 'autoscaling/v2', 'hpa', 'HorizontalPodAutoscaler'],
    ['cronjobs', 'batch/v1', 'cj', 'CronJob'],
    ['jobs', 'batch/v1', null, 'Job'],
    ['endpointslices', 'discovery.k8s.io/v1', null, 'EndpointSlice'],
    ['poddisruptionbudgets', 'policy/v1', 'pdb', 'PodDisruptionBudget'],
    ['clusterrolebindings', 'rbac.authorization.k8s.io/v1', null, 'ClusterRoleBinding'],
    ['clusterroles', 'rbac.authorization.k8s.io/v1', null, 'ClusterRole'],
    ['rolebindings', 'rbac.authorization.k8s.io/v1', null, 'RoleBinding'],
    ['roles', 'rbac.authorization.k8s.io/v1', null, 'Role'],
    ['priorityclasses', 'scheduling.k8s.io/v1', 'pc', 'PriorityClass'],
  ];
  for (const [name, apiVersion, short, kind] of want) {
    const r = find(name, apiVersion);
    assert.ok(r, `${name} (${apiVersion}) listed`);
    assert.deepEqual(r, [name, ...(short ? [short] : []), apiVersion, ...r.slice(short ? 3 : 2, -1), kind], name);
  }
  assert.ok(out.split('\n')[0]!.includes('SHORTNAMES'));
  const versions = await k.ok(['api-versions']);
  assert.ok(versions.includes('autoscaling/v1') && versions.includes('autoscaling/v2'));
  // short names resolve
  assert.match(await k.ok(['get', 'pc', 'system-node-critical']), /system-node-critical\s+2000001000\s+false/);
  assert.match(await k.ok(['get', 'clusterrole', 'admin', 'edit', 'view', '-o', 'name']), /clusterrole\.rbac\.authorization\.k8s\.io\/admin/);
});
