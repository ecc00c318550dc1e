/**
 * Records the protobuf request bodies a real kubectl sends, for the decoder's test fixtures
 * (kubectl-1.32.ts beside this file is its output).
 *
 * Runs a small plain-HTTP stand-in apiserver (kubectl sends no credentials over http, see
 * kubectl-contract S2) that serves just enough discovery and canned responses for each
 * command to reach its write, records every request body, and prints a TypeScript module
 * with the bodies in base64. Not a test and not used at run time.
 *
 *   npx tsc -b services/apiserver
 *   node services/apiserver/dist/protobuf/testdata/capture-kubectl.js 1.32 \
 *     > services/apiserver/src/protobuf/testdata/kubectl-1.32.ts
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

interface Captured { method: string; path: string; contentType: string; body: Buffer }

/** One command to run and the name of the fixture its (last) protobuf body becomes. */
interface Scenario { name: string; args: string[]; note?: string }

const SCENARIOS: Scenario[] = [
  { name: 'namespace', args: ['create', 'namespace', 'ns1'] },
  { name: 'configmap', args: ['create', 'configmap', 'cm1', '--from-literal=a=b', '--from-literal=empty=', '-n', 'ns1'] },
  { name: 'configmap-binary', args: ['create', 'configmap', 'cm2', '--from-file=bin={{BIN}}', '--from-literal=text=hello'], note: 'bin holds the bytes 00 ff 10 (not UTF-8): binaryData' },
  { name: 'secret-generic', args: ['create', 'secret', 'generic', 's1', '--from-literal=user=admin', '--from-literal=pw=s3cr3t'] },
  { name: 'secret-docker-registry', args: ['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example', '--docker-username=u', '--docker-password=p'] },
  { name: 'service-clusterip', args: ['create', 'service', 'clusterip', 'svc1', '--tcp=80:8080', '--tcp=443'] },
  { name: 'service-nodeport', args: ['create', 'service', 'nodeport', 'svc2', '--tcp=80:http', '--node-port=30080'] },
  { name: 'service-externalname', args: ['create', 'service', 'externalname', 'ext', '--external-name=example.com'] },
  { name: 'serviceaccount', args: ['create', 'serviceaccount', 'sa1'] },
  { name: 'deployment', args: ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=80'] },
  { name: 'deployment-zero', args: ['create', 'deployment', 'zero', '--image=busybox', '--replicas=0', '--', 'sleep', '3600'] },
  { name: 'job', args: ['create', 'job', 'j1', '--image=busybox', '--', 'echo', 'hi'] },
  { name: 'cronjob', args: ['create', 'cronjob', 'cj1', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'] },
  { name: 'job-from-cronjob', args: ['create', 'job', 'j2', '--from=cronjob/rich'], note: 'copies the canned CronJob "rich" (a PodSpec with volumes, probes, env, resources)' },
  { name: 'role', args: ['create', 'role', 'r1', '--verb=get,list', '--resource=pods,deployments.apps', '--resource-name=x'] },
  { name: 'clusterrole', args: ['create', 'clusterrole', 'cr1', '--verb=get', '--non-resource-url=/healthz', '--non-resource-url=/logs/*'] },
  { name: 'clusterrole-aggregation', args: ['create', 'clusterrole', 'agg', '--aggregation-rule=rbac.example.com/aggregate=true'] },
  { name: 'rolebinding', args: ['create', 'rolebinding', 'rb1', '--role=r1', '--user=alice', '--serviceaccount=default:sa1', '--group=devs'] },
  { name: 'clusterrolebinding', args: ['create', 'clusterrolebinding', 'crb1', '--clusterrole=cr1', '--user=bob'] },
  { name: 'hpa', args: ['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=80'] },
  { name: 'pdb-min-available', args: ['create', 'poddisruptionbudget', 'pdb1', '--selector=app=web', '--min-available=1'] },
  { name: 'pdb-min-available-zero', args: ['create', 'poddisruptionbudget', 'pdb0', '--selector=app=web', '--min-available=0'] },
  { name: 'pdb-max-unavailable', args: ['create', 'poddisruptionbudget', 'pdb2', '--selector=app in (web,api)', '--max-unavailable=50%'] },
  { name: 'priorityclass', args: ['create', 'priorityclass', 'high', '--value=1000', '--description=important', '--preemption-policy=Never'] },
  { name: 'quota', args: ['create', 'quota', 'q1', '--hard=cpu=1,memory=1G,pods=2', '--scopes=BestEffort'] },
  { name: 'ssar-resource', args: ['auth', 'can-i', 'list', 'deployments.apps', '-n', 'kube-system'] },
  { name: 'ssar-subresource', args: ['auth', 'can-i', 'get', 'pods', '--subresource=log', '--all-namespaces'] },
  { name: 'ssar-nonresource', args: ['auth', 'can-i', 'get', '/healthz'] },
  { name: 'ssrr', args: ['auth', 'can-i', '--list', '-n', 'ns1'] },
  { name: 'selfsubjectreview', args: ['auth', 'whoami'] },
  { name: 'tokenrequest', args: ['create', 'token', 'sa1', '--duration=10m', '--audience=https://example.com', '--bound-object-kind=Pod', '--bound-object-name=p1', '--bound-object-uid=0b6f1f6e-0000-4000-8000-000000000001'] },
  { name: 'pod-debug-node', args: ['debug', 'node/n1', '--image=busybox', '--profile=general'], note: 'kubectl debug node/… creates a Pod through the typed client' },
  { name: 'deleteoptions-drain', args: ['drain', 'n1', '--force', '--disable-eviction', '--grace-period=0'] },
  { name: 'deleteoptions-drain-default', args: ['drain', 'n1', '--force', '--disable-eviction'] },
  { name: 'eviction', args: ['drain', 'n2', '--force'], note: 'with pods/eviction in discovery: drain posts an Eviction' },
];

const GROUPS: Record<string, { version: string; resources: [string, string, boolean][] }> = {
  '': { version: 'v1', resources: [['namespaces', 'Namespace', false], ['configmaps', 'ConfigMap', true], ['secrets', 'Secret', true],
    ['services', 'Service', true], ['serviceaccounts', 'ServiceAccount', true], ['pods', 'Pod', true], ['nodes', 'Node', false],
    ['resourcequotas', 'ResourceQuota', true]] },
  apps: { version: 'v1', resources: [['deployments', 'Deployment', true]] },
  batch: { version: 'v1', resources: [['jobs', 'Job', true], ['cronjobs', 'CronJob', true]] },
  'rbac.authorization.k8s.io': { version: 'v1', resources: [['roles', 'Role', true], ['clusterroles', 'ClusterRole', false],
    ['rolebindings', 'RoleBinding', true], ['clusterrolebindings', 'ClusterRoleBinding', false]] },
  autoscaling: { version: 'v1', resources: [['horizontalpodautoscalers', 'HorizontalPodAutoscaler', true]] },
  policy: { version: 'v1', resources: [['poddisruptionbudgets', 'PodDisruptionBudget', true]] },
  'scheduling.k8s.io': { version: 'v1', resources: [['priorityclasses', 'PriorityClass', false]] },
  'authorization.k8s.io': { version: 'v1', resources: [['selfsubjectaccessreviews', 'SelfSubjectAccessReview', false], ['selfsubjectrulesreviews', 'SelfSubjectRulesReview', false]] },
  'authentication.k8s.io': { version: 'v1', resources: [['selfsubjectreviews', 'SelfSubjectReview', false]] },
};

const RICH_POD_SPEC = {
  restartPolicy: 'OnFailure',
  terminationGracePeriodSeconds: 0,
  automountServiceAccountToken: false,
  nodeSelector: { disk: 'ssd' },
  tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }],
  securityContext: { runAsUser: 1000, runAsNonRoot: true, fsGroup: 2000, sysctls: [{ name: 'net.ipv4.ip_forward', value: '1' }] },
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } },
  volumes: [
    { name: 'cfg', configMap: { name: 'cm1', items: [{ key: 'a', path: 'a.txt', mode: 0o644 }], defaultMode: 0o420 } },
    { name: 'sec', secret: { secretName: 's1', optional: false } },
    { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    { name: 'proj', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600, audience: 'api' } }, { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }] } },
  ],
  initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true'] }],
  containers: [{
    name: 'main', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c'], args: ['date; sleep 1'], workingDir: '/tmp',
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env: [{ name: 'A', value: 'x' }, { name: 'EMPTY', value: '' }, { name: 'NODE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
      { name: 'KEY', valueFrom: { secretKeyRef: { name: 's1', key: 'pw', optional: true } } },
      { name: 'MEM', valueFrom: { resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' } } }],
    envFrom: [{ prefix: 'CM_', configMapRef: { name: 'cm1' } }],
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
    volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }, { name: 'tmp', mountPath: '/scratch', subPath: 'x' }],
    livenessProbe: { httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X', value: 'y' }] }, initialDelaySeconds: 5, periodSeconds: 10 },
    readinessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 1 },
    startupProbe: { exec: { command: ['true'] } },
    lifecycle: { preStop: { sleep: { seconds: 2 } } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
    terminationMessagePolicy: 'FallbackToLogsOnError', stdin: false, tty: false,
  }],
};

function cannedGet(path: string): unknown {
  const now = '2025-01-01T00:00:00Z';
  if (/\/nodes\/n\d$/.test(path)) {
    const name = path.split('/').pop();
    return { kind: 'Node', apiVersion: 'v1', metadata: { name, uid: 'node-uid', resourceVersion: '5', creationTimestamp: now }, spec: {}, status: {} };
  }
  if (path === '/apis/apps/v1/namespaces/default/deployments/web') {
    return { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web', namespace: 'default', uid: 'dep-uid', resourceVersion: '7', creationTimestamp: now },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } } };
  }
  if (path === '/apis/batch/v1/namespaces/default/cronjobs/rich') {
    return { kind: 'CronJob', apiVersion: 'batch/v1', metadata: { name: 'rich', namespace: 'default', uid: 'cj-uid', resourceVersion: '8', creationTimestamp: now },
      spec: { schedule: '@hourly', jobTemplate: { metadata: { labels: { team: 'a' } },
        spec: { backoffLimit: 0, completions: 1, parallelism: 1, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 0,
          template: { metadata: { labels: { app: 'rich' }, annotations: { 'a.example/x': '' } }, spec: RICH_POD_SPEC } } } } };
  }
  return undefined;
}

function podList(node: string): unknown {
  return { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: [
    { metadata: { name: `p-${node}`, namespace: 'default', uid: `pod-uid-${node}`, resourceVersion: '10', creationTimestamp: '2025-01-01T00:00:00Z' },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] }, status: { phase: 'Running' } }] };
}

function responseFor(c: Captured, deleted: Set<string>): { code: number; body: unknown } {
  const parts = c.path.split('/').filter(Boolean);
  const resource = c.path.startsWith('/api/') ? parts[parts.length - 1] : parts[parts.length - 1];
  if (c.method === 'POST') {
    const gv = c.path.startsWith('/api/') ? 'v1' : `${parts[1]}/${parts[2]}`;
    if (resource === 'selfsubjectaccessreviews') return { code: 201, body: { kind: 'SelfSubjectAccessReview', apiVersion: gv, metadata: {}, spec: {}, status: { allowed: true } } };
    if (resource === 'selfsubjectrulesreviews') return { code: 201, body: { kind: 'SelfSubjectRulesReview', apiVersion: gv, metadata: {}, spec: {}, status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [], incomplete: false } } };
    if (resource === 'selfsubjectreviews') return { code: 201, body: { kind: 'SelfSubjectReview', apiVersion: gv, metadata: {}, status: { userInfo: { username: 'admin', groups: ['system:masters'] } } } };
    if (resource === 'token') return { code: 201, body: { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: {}, spec: { audiences: [] }, status: { token: 'tok', expirationTimestamp: '2030-01-01T00:00:00Z' } } };
    if (resource === 'eviction') {
      deleted.add(c.path.replace(/\/eviction$/, ''));
      return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
    }
    const meta = { name: 'created', namespace: 'default', uid: 'u', resourceVersion: '1', creationTimestamp: '2025-01-01T00:00:00Z' };
    if (resource === 'pods') return { code: 201, body: { kind: 'Pod', apiVersion: 'v1', metadata: meta, spec: { containers: [{ name: 'debugger', image: 'busybox' }] } } };
    return { code: 201, body: { metadata: meta } };
  }
  if (c.method === 'DELETE') {
    deleted.add(c.path);
    return { code: 200, body: { kind: 'Pod', apiVersion: 'v1', metadata: { name: parts[parts.length - 1], namespace: 'default', uid: 'x' } } };
  }
  if (c.method === 'PATCH') return { code: 200, body: cannedGet(c.path) ?? {} };
  return { code: 404, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' } };
}

function discovery(path: string, withEviction: boolean): unknown {
  if (path === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0-capture' };
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (path === '/apis') {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: Object.entries(GROUPS).filter(([g]) => g).map(([g, d]) => ({
      name: g, versions: [{ groupVersion: `${g}/${d.version}`, version: d.version }], preferredVersion: { groupVersion: `${g}/${d.version}`, version: d.version } })) };
  }
  for (const [g, d] of Object.entries(GROUPS)) {
    const gvPath = g ? `/apis/${g}/${d.version}` : `/api/${d.version}`;
    if (path !== gvPath) continue;
    const resources: unknown[] = d.resources.map(([name, kind, namespaced]) => ({ name, singularName: kind.toLowerCase(), namespaced, kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }));
    if (g === 'apps') resources.push({ name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    if (!g && withEviction) resources.push({ name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: g ? `${g}/${d.version}` : d.version, resources };
  }
  return undefined;
}

async function runScenario(bin: string, s: Scenario): Promise<Captured[]> {
  const captured: Captured[] = [];
  const deleted = new Set<string>();
  const withEviction = s.name === 'eviction';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const c: Captured = { method: req.method ?? 'GET', path: url.pathname, contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) };
      if (c.body.length) captured.push(c);
      let code = 200;
      let body: unknown;
      if (c.method === 'GET') {
        body = discovery(c.path, withEviction) ?? cannedGet(c.path);
        if (body === undefined && c.path === '/api/v1/pods') body = podList(url.searchParams.get('fieldSelector')?.split('=')[1] ?? 'n1');
        if (body === undefined || deleted.has(c.path)) {
          code = 404;
          body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' };
        }
      } else ({ code, body } = responseFor(c, deleted));
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'capture-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]\n` +
    'users: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]\ncurrent-context: x\n');
  try {
    const out = await new Promise<string>((resolve) => {
      const binFile = join(dir, 'bin');
      writeFileSync(binFile, Buffer.from([0x00, 0xff, 0x10]));
      const args = s.args.map((a) => a.replace('{{BIN}}', binFile));
      execFile(bin, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
        resolve(`${err ? `exit ${String((err as { code?: unknown }).code)} ` : ''}${stdout}${stderr}`.trim());
      });
    });
    process.stderr.write(`${s.name}: ${out.split('\n').slice(0, 3).join(' | ')}\n`);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return captured;
}

function kubectlBin(version: string): string {
  const dir = process.env.TSKUBE_KUBECTL_DIR ?? dirname(realpathSync(execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim()));
  return join(dir, `kubectl.${version}`);
}

async function main(): Promise<void> {
  const version = process.argv[2] ?? '1.32';
  const bin = kubectlBin(version);
  const lines: string[] = [];
  for (const s of SCENARIOS) {
    const got = await runScenario(bin, s);
    const writes = got.filter((c) => c.method !== 'PATCH'); // drain's cordon is a JSON patch
    const last = writes[writes.length - 1];
    if (!last) { process.stderr.write(`${s.name}: no request body captured\n`); continue; }
    lines.push(`  {\n    name: ${JSON.stringify(s.name)},\n    command: ${JSON.stringify(['kubectl', ...s.args].join(' '))},` +
      `${s.note ? `\n    note: ${JSON.stringify(s.note)},` : ''}\n` +
      `    method: ${JSON.stringify(last.method)}, path: ${JSON.stringify(last.path)}, contentType: ${JSON.stringify(last.contentType)},\n` +
      `    body: ${JSON.stringify(last.body.toString('base64'))},\n  },`);
  }
  const out = `/**\n * Request bodies recorded from the real kubectl ${version} by capture-kubectl.ts (do not edit;\n` +
    ` * re-run the capture instead). \`body\` is base64 of the exact bytes sent.\n */\n` +
    `import type { CapturedRequest } from './captured.js';\n\n` +
    `export const KUBECTL_${version.replace('.', '_')}: readonly CapturedRequest[] = [\n${lines.join('\n')}\n];\n`;
  process.stdout.write(out);
}

await main();
