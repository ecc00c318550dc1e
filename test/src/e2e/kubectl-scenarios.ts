/**
 * The kubectl scenarios of the compatibility matrix: everyday commands as a user types them,
 * each asserting what kubectl prints or what the cluster then holds. Every scenario runs in a
 * namespace of its own (one per kubectl version), so versions never see each other's objects.
 */
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, chmodSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kubectl, eventually } from '../support/kubectl.js';

export interface ScenarioContext {
  k: Kubectl;
  ns: string;
  version: string;
  image: string;
}

export interface Scenario {
  id: string;
  run(c: ScenarioContext): Promise<void>;
}

const podYaml = (name: string, image: string, labels = 'app: web', extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {${labels}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${image}
    command: ["sh", "-c", "echo started ${name}; sleep 3600"]${extra}
`;

const rsYaml = (name: string, image: string, replicas: number) => `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {rs: ${name}}}
  template:
    metadata: {labels: {rs: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: ${image}, command: [sleep, "3600"]}]
`;

const lines = (s: string) => s.trim().split('\n').filter(Boolean);

async function running(c: ScenarioContext, name: string): Promise<void> {
  await eventually(`${c.ns}/${name} Running`, async () => (await c.k.ok(['get', 'pod', name, '-n', c.ns, '-o', 'jsonpath={.status.phase}'])) === 'Running' || null, 90_000);
}

export const SCENARIOS: Scenario[] = [
  {
    id: 'version',
    async run({ k }) {
      const v = JSON.parse(await k.ok(['version', '-o', 'json'])) as { serverVersion: { major: string; minor: string } };
      assert.deepEqual([v.serverVersion.major, v.serverVersion.minor], ['1', '32']);
    },
  },
  {
    id: 'api-resources',
    async run({ k }) {
      const out = await k.ok(['api-resources']);
      assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
      assert.match(out, /^replicasets\s+rs\s+apps\/v1\s+true\s+ReplicaSet$/m);
      assert.match(out, /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
      const versions = lines(await k.ok(['api-versions']));
      for (const gv of ['v1', 'apps/v1', 'coordination.k8s.io/v1']) assert.ok(versions.includes(gv), gv);
    },
  },
  {
    id: 'create-f',
    async run({ k, ns, image }) {
      assert.match(await k.ok(['create', '-n', ns, '-f', '-'], { input: podYaml('created', image) }), /^pod\/created created$/m);
      const dup = await k.run(['create', '-n', ns, '-f', '-'], { input: podYaml('created', image) });
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /AlreadyExists/);
    },
  },
  {
    id: 'get-table',
    async run(c) {
      const { k, ns, image } = c;
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('table', image) });
      await running(c, 'table');
      const table = lines(await k.ok(['get', 'pods', '-n', ns]));
      assert.match(table[0]!, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
      assert.match(table.find((l) => l.startsWith('table '))!, /^table\s+1\/1\s+Running\s+0\s+\S+$/);
      const wide = lines(await k.ok(['get', 'pods', '-n', ns, '-o', 'wide']));
      assert.match(wide[0]!, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
      const all = await k.ok(['get', 'pods', '-A']);
      assert.match(lines(all)[0]!, /^NAMESPACE\s+NAME\s+READY/);
      assert.match(await k.ok(['get', 'pods', '-n', ns, '--show-labels']), /app=web/);
    },
  },
  {
    id: 'get-output',
    async run({ k, ns, image }) {
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('out', image) });
      assert.match(await k.ok(['get', 'pod', 'out', '-n', ns, '-o', 'yaml']), /^kind: Pod$/m);
      const json = JSON.parse(await k.ok(['get', 'pod', 'out', '-n', ns, '-o', 'json'])) as { metadata: { name: string } };
      assert.equal(json.metadata.name, 'out');
      assert.equal(await k.ok(['get', 'pod', 'out', '-n', ns, '-o', 'jsonpath={.spec.containers[0].name}']), 'main');
      const cc = lines(await k.ok(['get', 'pods', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image']));
      assert.match(cc[0]!, /^NAME\s+IMAGE$/);
      assert.ok(cc.some((l) => new RegExp(`^out\\s+${image.replace(/[.:/]/g, '\\$&')}$`).test(l)), cc.join('\n'));
      assert.equal(await k.ok(['get', 'pods', '-n', ns, '-o', 'name', '--field-selector', 'metadata.name=out']), 'pod/out\n');
    },
  },
  {
    id: 'selectors-chunking',
    async run({ k, ns, image }) {
      for (let i = 0; i < 5; i++) await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml(`sel-${i}`, image, `app: sel, idx: "${i}"`) });
      assert.equal(lines(await k.ok(['get', 'pods', '-n', ns, '-l', 'app=sel', '--no-headers'])).length, 5);
      assert.equal(lines(await k.ok(['get', 'pods', '-n', ns, '-l', 'app=sel,idx in (1,3)', '--no-headers'])).length, 2);
      assert.equal(lines(await k.ok(['get', 'pods', '-n', ns, '--field-selector', 'metadata.name!=sel-0', '-l', 'app=sel', '--no-headers'])).length, 4);
      assert.equal(lines(await k.ok(['get', 'pods', '-n', ns, '-l', 'app=sel', '--chunk-size=2', '--no-headers'])).length, 5);
      const bad = await k.run(['get', 'pods', '-n', ns, '--field-selector', 'spec.bogus=1']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /field label not supported: spec.bogus/);
    },
  },
  {
    id: 'get-watch',
    async run({ k, ns, image }) {
      const watch = k.run(['get', 'pods', '-n', ns, '-w', '-l', 'app=watched'], { timeoutMs: 8000 });
      await new Promise((r) => setTimeout(r, 1500));
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('watched', image, 'app: watched') });
      const out = (await watch).stdout;
      assert.match(out, /^NAME\s+READY\s+STATUS/m);
      assert.match(out, /^watched\s+\d\/1\s+\S+/m);
    },
  },
  {
    id: 'apply-client-side',
    async run({ k, ns, image }) {
      const v1 = podYaml('csa', image, 'app: web, extra: "yes"');
      assert.match(await k.ok(['apply', '-n', ns, '-f', '-'], { input: v1 }), /pod\/csa created/);
      assert.match(await k.ok(['apply', '-n', ns, '-f', '-'], { input: v1 }), /pod\/csa unchanged/);
      // a removed field: the 3-way merge drops the label
      assert.match(await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('csa', image) }), /pod\/csa configured/);
      const labels = JSON.parse(await k.ok(['get', 'pod', 'csa', '-n', ns, '-o', 'jsonpath={.metadata.labels}'])) as Record<string, string>;
      assert.deepEqual(labels, { app: 'web' });
    },
  },
  {
    id: 'apply-server-side',
    async run({ k, ns, image }) {
      assert.match(await k.ok(['apply', '--server-side', '-n', ns, '-f', '-'], { input: rsYaml('ssa', image, 1) }), /serverside-applied/);
      await k.ok(['scale', 'rs', 'ssa', '-n', ns, '--replicas=2']);
      const conflict = await k.run(['apply', '--server-side', '-n', ns, '-f', '-'], { input: rsYaml('ssa', image, 3) });
      assert.equal(conflict.code, 1);
      // the manager of the scale is named after kubectl's User-Agent (the pinned binary: "kubectl.1.32")
      assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl[^"]*" with subresource "scale" using apps\/v1: \.spec\.replicas/);
      assert.match(conflict.stderr, /--force-conflicts/);
      assert.match(await k.ok(['apply', '--server-side', '--force-conflicts', '-n', ns, '-f', '-'], { input: rsYaml('ssa', image, 3) }), /serverside-applied/);
      assert.equal(await k.ok(['get', 'rs', 'ssa', '-n', ns, '-o', 'jsonpath={.spec.replicas}']), '3');
    },
  },
  {
    id: 'diff',
    async run({ k, ns, image }) {
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('diffed', image) });
      const same = await k.run(['diff', '-n', ns, '-f', '-'], { input: podYaml('diffed', image) });
      assert.equal(same.code, 0, same.stderr + same.stdout);
      const changed = await k.run(['diff', '-n', ns, '-f', '-'], { input: podYaml('diffed', image, 'app: web, new: label') });
      assert.equal(changed.code, 1, changed.stderr);
      assert.match(changed.stdout, /^\+\s+new: label$/m);
    },
  },
  {
    id: 'patch',
    async run({ k, ns, image }) {
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('patched', image) });
      await k.ok(['patch', 'pod', 'patched', '-n', ns, '-p', '{"metadata":{"labels":{"s":"1"}}}']);
      await k.ok(['patch', 'pod', 'patched', '-n', ns, '--type=merge', '-p', '{"metadata":{"labels":{"m":"2"}}}']);
      await k.ok(['patch', 'pod', 'patched', '-n', ns, '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/j","value":"3"}]']);
      const labels = JSON.parse(await k.ok(['get', 'pod', 'patched', '-n', ns, '-o', 'jsonpath={.metadata.labels}'])) as Record<string, string>;
      assert.deepEqual(labels, { app: 'web', s: '1', m: '2', j: '3' });
      const bad = await k.run(['patch', 'pod', 'patched', '-n', ns, '--type=json', '-p', '[{"op":"test","path":"/metadata/name","value":"x"}]']);
      assert.equal(bad.code, 1);
    },
  },
  {
    id: 'label-annotate',
    async run({ k, ns, image }) {
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('la', image) });
      assert.match(await k.ok(['label', 'pod', 'la', '-n', ns, 'tier=front']), /pod\/la labeled/);
      const clash = await k.run(['label', 'pod', 'la', '-n', ns, 'tier=back']);
      assert.equal(clash.code, 1, 'relabel without --overwrite is refused by kubectl');
      await k.ok(['label', 'pod', 'la', '-n', ns, 'tier=back', '--overwrite']);
      // kubectl 1.27 itself prints "pod/la annotate"
      assert.match(await k.ok(['annotate', 'pod', 'la', '-n', ns, 'note=hello']), /pod\/la annotated?$/m);
      assert.equal(await k.ok(['get', 'pod', 'la', '-n', ns, '-o', 'jsonpath={.metadata.labels.tier} {.metadata.annotations.note}']), 'back hello');
      await k.ok(['label', 'pod', 'la', '-n', ns, 'tier-']);
      assert.equal(await k.ok(['get', 'pod', 'la', '-n', ns, '-o', 'jsonpath={.metadata.labels.tier}']), '');
    },
  },
  {
    id: 'scale-replicaset',
    async run({ k, ns, image }) {
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: rsYaml('scaled', image, 1) });
      assert.match(await k.ok(['scale', 'rs', 'scaled', '-n', ns, '--replicas=3']), /replicaset.apps\/scaled scaled/);
      await eventually('3 pods', async () => lines(await k.ok(['get', 'pods', '-n', ns, '-l', 'rs=scaled', '--no-headers'])).length === 3 || null, 60_000);
      const stale = await k.run(['scale', 'rs', 'scaled', '-n', ns, '--replicas=1', '--current-replicas=2']);
      assert.equal(stale.code, 1, 'the precondition on current replicas fails');
      await k.ok(['scale', 'rs', 'scaled', '-n', ns, '--replicas=1', '--current-replicas=3']);
      await eventually('rs status 1', async () => /scaled\s+1\s+1\s+/.test(await k.ok(['get', 'rs', 'scaled', '-n', ns])) || null, 60_000);
    },
  },
  {
    id: 'delete-cascade',
    async run({ k, ns, image }) {
      for (const [name, cascade] of [['bg', 'background'], ['orph', 'orphan'], ['fg', 'foreground']] as const) {
        await k.ok(['apply', '-n', ns, '-f', '-'], { input: rsYaml(name, image, 2) });
        await eventually(`${name} pods`, async () => lines(await k.ok(['get', 'pods', '-n', ns, '-l', `rs=${name}`, '--no-headers'])).length === 2 || null, 60_000);
        await k.ok(['delete', 'rs', name, '-n', ns, `--cascade=${cascade}`, '--timeout=90s'], { timeoutMs: 100_000 });
        const left = async () => lines(await k.ok(['get', 'pods', '-n', ns, '-l', `rs=${name}`, '--no-headers'])).filter((l) => !/Terminating/.test(l)).length;
        if (cascade === 'orphan') {
          assert.equal(await left(), 2, 'orphaned pods stay');
          const refs = await k.ok(['get', 'pods', '-n', ns, '-l', `rs=${name}`, '-o', 'jsonpath={.items[*].metadata.ownerReferences}']);
          assert.equal(refs.trim(), '', 'and lose their owner reference');
        } else {
          await eventually(`${name} pods deleted`, async () => (await left()) === 0 || null, 90_000);
        }
      }
    },
  },
  {
    id: 'delete-wait',
    async run({ k, ns, image }) {
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('gone', image) });
      assert.match(await k.ok(['delete', 'pod', 'gone', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 }), /pod "gone" deleted/);
      const r = await k.run(['get', 'pod', 'gone', '-n', ns]);
      assert.match(r.stderr, /NotFound/);
      const missing = await k.run(['delete', 'pod', 'never-was', '-n', ns]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /pods "never-was" not found/);
    },
  },
  {
    id: 'describe',
    async run(c) {
      const { k, ns, image } = c;
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('described', image) });
      await running(c, 'described');
      const out = await eventually('events in describe', async () => {
        const d = await k.ok(['describe', 'pod', 'described', '-n', ns]);
        return /Started\s/.test(d) ? d : null;
      }, 30_000);
      assert.match(out, /^Name:\s+described$/m);
      assert.match(out, new RegExp(`^Namespace:\\s+${ns}$`, 'm'));
      assert.match(out, /^Status:\s+Running$/m);
      assert.match(out, /Scheduled\s/);
      assert.match(await k.ok(['describe', 'node']), /^Name:\s+\S+-kubelet-\d$/m);
    },
  },
  {
    id: 'explain',
    async run({ k }) {
      assert.match(await k.ok(['explain', 'pod.spec.containers.image']), /image/i);
      assert.match(await k.ok(['explain', 'replicaset.spec.replicas']), /replicas/i);
    },
  },
  {
    id: 'auth-can-i',
    async run({ k, ns }) {
      assert.equal((await k.ok(['auth', 'can-i', 'create', 'pods', '-n', ns])).trim(), 'yes');
    },
  },
  {
    id: 'wait',
    async run({ k, ns, image }) {
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('waited', image) });
      assert.match(await k.ok(['wait', '--for=condition=Ready', 'pod/waited', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 }), /condition met/);
      const del = k.ok(['wait', '--for=delete', 'pod/waited', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
      await k.ok(['delete', 'pod', 'waited', '-n', ns, '--wait=false']);
      assert.match(await del, /condition met|deleted/);
    },
  },
  {
    id: 'replace',
    async run({ k, ns, image }) {
      // a pod no scheduler picks up: nothing else writes it between get and replace
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('replaced', image).replace('spec:\n', 'spec:\n  schedulerName: nobody\n') });
      const live = await k.ok(['get', 'pod', 'replaced', '-n', ns, '-o', 'yaml']);
      assert.match(await k.ok(['replace', '-n', ns, '-f', '-'], { input: live.replace('app: web', 'app: replaced') }), /pod\/replaced replaced/);
      assert.equal(await k.ok(['get', 'pod', 'replaced', '-n', ns, '-o', 'jsonpath={.metadata.labels.app}']), 'replaced');
      // the same (now stale) resourceVersion again is a conflict
      const stale = await k.run(['replace', '-n', ns, '-f', '-'], { input: live });
      assert.equal(stale.code, 1);
      assert.match(stale.stderr, /Conflict|the object has been modified/);
    },
  },
  {
    id: 'edit',
    async run({ k, ns, image }) {
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('edited', image) });
      const dir = mkdtempSync(join(tmpdir(), 'kubectl-editor-'));
      const editor = join(dir, 'editor.sh');
      writeFileSync(editor, '#!/bin/sh\nsed -i "s/app: web/app: edited/" "$1"\n');
      chmodSync(editor, 0o755);
      assert.match(await k.ok(['edit', 'pod', 'edited', '-n', ns], { env: { KUBE_EDITOR: editor } }), /pod\/edited edited/);
      assert.equal(await k.ok(['get', 'pod', 'edited', '-n', ns, '-o', 'jsonpath={.metadata.labels.app}']), 'edited');
    },
  },
  {
    id: 'logs',
    async run(c) {
      const { k, ns, image } = c;
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('logged', image) });
      await running(c, 'logged');
      const out = await eventually('logs', async () => { const l = await k.ok(['logs', 'logged', '-n', ns]); return l.includes('started logged') ? l : null; }, 30_000);
      assert.equal(out, 'started logged\n');
      assert.equal((await k.ok(['logs', 'logged', '-n', ns, '--tail=1'])), 'started logged\n');
    },
  },
  {
    // kubectl ≤ 1.29 speak SPDY/3.1 (v4.channel.k8s.io), newer ones WebSocket v5.channel.k8s.io
    id: 'exec',
    async run(c) {
      const { k, ns, image } = c;
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('execd', image) });
      await running(c, 'execd');
      assert.equal(await k.ok(['exec', 'execd', '-n', ns, '--', 'echo', 'hi']), 'hi\n');
      const input = 'stdin line\n'.repeat(500);
      assert.equal(await k.ok(['exec', '-i', 'execd', '-n', ns, '--', 'cat'], { input }), input);
      const failed = await k.run(['exec', 'execd', '-n', ns, '--', 'sh', '-c', 'echo err >&2; exit 3']);
      assert.deepEqual([failed.code, failed.stderr], [3, 'err\ncommand terminated with exit code 3\n']);
    },
  },
  {
    id: 'cp',
    async run(c) {
      const { k, ns, image } = c;
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: podYaml('copied', image) });
      await running(c, 'copied');
      const dir = mkdtempSync(join(tmpdir(), 'kubectl-cp-'));
      const content = Array.from({ length: 2000 }, (_, i) => `line ${i} of ${c.version}`).join('\n');
      writeFileSync(join(dir, 'in.txt'), content);
      await k.ok(['cp', join(dir, 'in.txt'), `${ns}/copied:/tmp/in.txt`]);
      assert.equal(await k.ok(['exec', 'copied', '-n', ns, '--', 'sh', '-c', 'wc -l < /tmp/in.txt']), '1999\n');
      await k.ok(['cp', `${ns}/copied:/tmp/in.txt`, join(dir, 'out.txt')]);
      assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), content);
      rmSync(dir, { recursive: true, force: true });
    },
  },
  {
    // SPDY/3.1: natively (≤ 1.30) or tunnelled in a WebSocket (1.31+, falling back to native if refused)
    id: 'port-forward',
    async run(c) {
      const { k, ns, image } = c;
      const pod = `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${image}
    command: ["sh", "-c", "mkdir -p /www && echo hello-${c.version} > /www/index.html && exec httpd -f -p 8080 -h /www"]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: pod });
      // Ready, not just Running: httpd listens a moment after the container starts
      await k.ok(['wait', '--for=condition=Ready', 'pod/web', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
      // -v=4: client-go logs "fallback to secondary dialer" when the WebSocket tunnel is refused
      const child = k.spawn(['port-forward', '-n', ns, 'pod/web', ':8080', '-v=4']);
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no "Forwarding from" within 20 s; stdout ${out} stderr ${err}`)), 20_000);
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
            if (m) { clearTimeout(timer); resolve(Number(m[1])); }
          });
          child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`kubectl port-forward exited ${code}: ${err}`)); });
        });
        for (let i = 0; i < 2; i++) {
          const body = await new Promise<string>((resolve, reject) => {
            http.get({ host: '127.0.0.1', port, path: '/index.html', agent: false }, (res) => {
              let b = '';
              res.on('data', (d: Buffer) => { b += d.toString(); });
              res.on('end', () => resolve(`${res.statusCode} ${b}`));
            }).on('error', reject);
          });
          assert.equal(body, `200 hello-${c.version}\n`);
        }
        if (Number(c.version.split('.')[1]) >= 31) assert.doesNotMatch(err, /fallback to secondary dialer/);
      } finally {
        child.kill('SIGTERM');
      }
    },
  },
  {
    id: 'logs-follow',
    async run(c) {
      const { k, ns, image } = c;
      const pod = podYaml('ticker', image).replace('"echo started ticker; sleep 3600"', '"i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"');
      await k.ok(['apply', '-n', ns, '-f', '-'], { input: pod });
      await running(c, 'ticker');
      const child = k.spawn(['logs', '-f', 'ticker', '-n', ns]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      try {
        // The first line shows the history arrived; two more show lines written while following.
        const first = await eventually('a first tick', async () => /tick (\d+)\n/.exec(out)?.[1], 15_000, 100);
        const want = `tick ${Number(/tick (\d+)\n(?![\s\S]*tick)/.exec(out)?.[1] ?? first) + 2}\n`;
        await eventually(`${want.trim()} while following`, async () => out.includes(want), 15_000, 100);
        assert.equal(child.exitCode, null, 'logs -f keeps running');
      } finally {
        child.kill('SIGTERM');
      }
    },
  },
  {
    id: 'get-raw-events',
    async run({ k, ns }) {
      assert.match(await k.ok(['get', '--raw', '/readyz']), /^ok/);
      const list = JSON.parse(await k.ok(['get', '--raw', `/api/v1/namespaces/${ns}/pods`])) as { kind: string };
      assert.equal(list.kind, 'PodList');
      const ev = await k.ok(['get', 'events', '-n', ns]);
      assert.match(lines(ev)[0]!, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    },
  },
  {
    id: 'create-generators',
    async run({ k, ns, image }) {
      assert.match(await k.ok(['create', 'configmap', 'cm', '-n', ns, '--from-literal=a=b']), /configmap\/cm created/);
      assert.match(await k.ok(['create', 'secret', 'generic', 'sec', '-n', ns, '--from-literal=a=b']), /secret\/sec created/);
      assert.match(await k.ok(['create', 'deployment', 'dep', '-n', ns, `--image=${image}`]), /deployment.apps\/dep created/);
      assert.match(await k.ok(['create', 'namespace', `${ns}-gen`]), /namespace\/\S+ created/);
      assert.match(await k.ok(['create', 'serviceaccount', 'sa', '-n', ns]), /serviceaccount\/sa created/);
    },
  },
];
