// Compatibility matrix: every scenario of kubectl-scenarios.ts with each real kubectl from 1.27
// to 1.33 against the compose stack. Prints the matrix (scenario × version) and fails on any
// failure not listed, with its reason, in kubectl-matrix.expected.json (and asks to update
// that file when a listed failure starts passing).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { composeUp, loadImageEnv, type ComposeCluster } from '../support/compose.js';
import { Kubectl, eventually } from '../support/kubectl.js';
import { SCENARIOS, type ScenarioContext } from './kubectl-scenarios.js';

loadImageEnv();
const VERSIONS = (process.env.TSKUBE_KUBECTL_VERSIONS ?? '1.27,1.28,1.29,1.30,1.31,1.32,1.33').split(',');
const ONLY = process.env.TSKUBE_SCENARIOS?.split(',');
const PARALLEL = Number(process.env.TSKUBE_MATRIX_PARALLEL ?? 3);
const EXPECTED_FILE = new URL('../../src/e2e/kubectl-matrix.expected.json', import.meta.url);

interface Expected { knownFailures: Record<string, string> }
const expected = JSON.parse(readFileSync(EXPECTED_FILE, 'utf8')) as Expected;
const known = (id: string, v: string) => expected.knownFailures[`${id}@${v}`] ?? expected.knownFailures[`${id}@*`];

let cluster: ComposeCluster;
before(async () => {
  cluster = await composeUp({ kubelets: 2 });
  const k = new Kubectl(cluster.kubeconfig);
  await eventually('nodes Ready', async () => {
    const out = await k.ok(['get', 'nodes', '--no-headers']);
    const l = out.trim().split('\n');
    return l.length === 2 && l.every((x) => / Ready /.test(x)) ? l : null;
  }, 90_000);
});
after(async () => { if (cluster && !process.env.TSKUBE_E2E_KEEP) await cluster.down(); });

type Result = { ok: boolean; ms: number; error?: string };

test('kubectl 1.27–1.33 compatibility matrix', { timeout: 40 * 60_000 }, async () => {
  const scenarios = SCENARIOS.filter((s) => !ONLY || ONLY.includes(s.id));
  const results = new Map<string, Result>();
  const image = process.env.POD_IMAGE ?? 'busybox:1.36';
  const runVersion = async (version: string) => {
    const k = new Kubectl(cluster.kubeconfig, undefined, version);
    const ns = `kx-${version.replace('.', '')}`;
    await k.ok(['create', 'namespace', ns]);
    for (const s of scenarios) {
      const t0 = Date.now();
      const c: ScenarioContext = { k, ns, version, image };
      try {
        await s.run(c);
        results.set(`${s.id}@${version}`, { ok: true, ms: Date.now() - t0 });
      } catch (e) {
        results.set(`${s.id}@${version}`, { ok: false, ms: Date.now() - t0, error: (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 6).join(' | ') });
      }
    }
  };
  const queue = [...VERSIONS];
  await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
    for (let v = queue.shift(); v; v = queue.shift()) await runVersion(v);
  }));

  // the matrix
  const w = Math.max(...scenarios.map((s) => s.id.length));
  const rows = [`${'scenario'.padEnd(w)}  ${VERSIONS.map((v) => v.padStart(5)).join(' ')}`];
  for (const s of scenarios) {
    rows.push(`${s.id.padEnd(w)}  ${VERSIONS.map((v) => {
      const r = results.get(`${s.id}@${v}`)!;
      return (r.ok ? 'ok' : known(s.id, v) ? 'known' : 'FAIL').padStart(5);
    }).join(' ')}`);
  }
  process.stdout.write(`\n# kubectl compatibility matrix\n${rows.map((r) => `# ${r}`).join('\n')}\n`);

  const regressions: string[] = [];
  const nowPassing: string[] = [];
  for (const [key, r] of results) {
    const [id, v] = key.split('@') as [string, string];
    if (!r.ok && !known(id, v)) regressions.push(`${key}: ${r.error}`);
    if (r.ok && expected.knownFailures[key]) nowPassing.push(key);
    if (!r.ok && known(id, v)) process.stdout.write(`# known failure ${key}: ${known(id, v)} (${r.error?.slice(0, 200)})\n`);
  }
  if (nowPassing.length) process.stdout.write(`# these listed failures pass now, remove them from kubectl-matrix.expected.json: ${nowPassing.join(', ')}\n`);
  assert.deepEqual(regressions, [], `unexpected failures:\n${regressions.join('\n')}`);
});
