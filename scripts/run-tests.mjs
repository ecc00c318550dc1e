#!/usr/bin/env node
// Runs the compiled test files with node's test runner, in stages so that a failing unit
// test is reported before the slow end-to-end stage starts.
//
//   node scripts/run-tests.mjs            unit, integration, then e2e
//   node scripts/run-tests.mjs unit       only the unit stage (no etcd, no Docker)
//   node scripts/run-tests.mjs e2e FILTER e2e files whose path contains FILTER
//
// unit:        packages/*/dist and services/*/dist  (**/*.test.js)
// integration: test/dist/integration               (real etcd process, real gRPC, real Docker)
// e2e:         test/dist/e2e                        (the compose stack and a pinned kubectl)
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;

function findTests(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (e.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const stages = {
  unit: () => ['packages', 'services'].flatMap((top) =>
    readdirSync(join(root, top)).flatMap((d) => findTests(join(root, top, d, 'dist')))),
  integration: () => findTests(join(root, 'test/dist/integration')),
  e2e: () => findTests(join(root, 'test/dist/e2e')),
};

const [only, filter] = process.argv.slice(2);
const names = only ? [only] : Object.keys(stages);
for (const name of names) {
  const pick = stages[name];
  if (!pick) { console.error(`unknown stage "${name}"; stages: ${Object.keys(stages).join(', ')}`); process.exit(2); }
  const files = pick().filter((f) => !filter || f.includes(filter)).sort();
  console.log(`\n=== ${name}: ${files.length} test files ===`);
  if (files.length === 0) continue;
  for (const f of files) console.log(`  ${relative(root, f)}`);
  // e2e files share one Docker engine and the host's CPU: run them one at a time.
  const concurrency = name === 'unit' ? 2 : 1;
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
    { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`\n=== ${name} stage failed (exit ${r.status ?? r.signal}) ===`);
    process.exit(r.status ?? 1);
  }
}
