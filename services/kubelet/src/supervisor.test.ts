import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@tskube/log';
import { Supervisor, waitExit } from './supervisor.js';

const log = createLogger({ component: 'supervisor-test', level: 'error' });
const FAST = { initialMs: 50, maxMs: 200, resetAfterMs: 60_000 };

async function until(what: string, fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Supervisor', () => {
  let dir: string;
  const lines = (f: string): string[] => { try { return readFileSync(join(dir, f), 'utf8').trim().split('\n').filter(Boolean); } catch { return []; } };
  /** A child script: appends `<name> start` to the journal, then runs `body`. */
  const script = (name: string, body: string): string => {
    const file = join(dir, `${name}.cjs`);
    writeFileSync(file, `const fs = require('fs'); const j = (s) => fs.appendFileSync(${JSON.stringify(join(dir, 'journal'))}, s + '\\n');\nj('${name} start');\n${body}\n`);
    return file;
  };

  before(() => { dir = mkdtempSync(join(tmpdir(), 'tskube-supervisor-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('restarts a child that dies, with a new pid, and leaves the other alone', async () => {
    writeFileSync(join(dir, 'journal'), '');
    const sup = new Supervisor({
      logger: log, backoff: FAST,
      children: [
        { name: 'runtime', command: process.execPath, args: [script('runtime', 'setInterval(() => {}, 1000);')] },
        { name: 'kubelet', command: process.execPath, args: [script('kubelet', 'setInterval(() => {}, 1000);')] },
      ],
    });
    sup.start();
    await until('both started', () => lines('journal').length === 2);
    const first = sup.pid('runtime')!;
    const kubelet = sup.pid('kubelet');
    process.kill(first, 'SIGKILL');
    await until('runtime restarted', () => lines('journal').filter((l) => l === 'runtime start').length === 2);
    await until('new pid', () => sup.pid('runtime') !== undefined);
    assert.notEqual(sup.pid('runtime'), first);
    assert.equal(sup.restarts('runtime'), 1);
    assert.equal(sup.pid('kubelet'), kubelet, 'the kubelet kept running');
    assert.equal(sup.restarts('kubelet'), 0);
    assert.equal(await sup.stop(), 0);
    assert.equal(sup.pid('runtime'), undefined);
    assert.equal(sup.pid('kubelet'), undefined);
  });

  it('stops in reverse start order: the runtime gets SIGTERM only after the kubelet exited; exit code of the kubelet', async () => {
    writeFileSync(join(dir, 'journal'), '');
    const sup = new Supervisor({
      logger: log, backoff: FAST,
      children: [
        { name: 'runtime', command: process.execPath, args: [script('runtime', "process.on('SIGTERM', () => { j('runtime term'); process.exit(0); }); setInterval(() => {}, 1000);")] },
        { name: 'kubelet', command: process.execPath, args: [script('kubelet', "process.on('SIGTERM', () => { j('kubelet term'); setTimeout(() => { j('kubelet done'); process.exit(3); }, 300); }); setInterval(() => {}, 1000);")] },
      ],
    });
    sup.start();
    await until('both started', () => lines('journal').length === 2);
    assert.equal(await sup.stop('SIGTERM'), 3);
    assert.deepEqual(lines('journal').slice(2), ['kubelet term', 'kubelet done', 'runtime term']);
    assert.equal(sup.restarts('kubelet'), 0, 'no restart while stopping');
  });

  it('kills a child that ignores the stop signal after stopTimeoutMs', async () => {
    writeFileSync(join(dir, 'journal'), '');
    const sup = new Supervisor({
      logger: log, backoff: FAST, stopTimeoutMs: 200,
      children: [{ name: 'stubborn', command: process.execPath, args: [script('stubborn', "process.on('SIGTERM', () => j('ignored')); setInterval(() => {}, 1000);")] }],
    });
    sup.start();
    await until('started', () => lines('journal').length === 1);
    const started = Date.now();
    assert.equal(await sup.stop(), 0);
    assert.ok(Date.now() - started >= 190, 'waited for the timeout');
    assert.deepEqual(lines('journal'), ['stubborn start', 'ignored']);
  });

  it('backs off: delays double up to the maximum', async () => {
    writeFileSync(join(dir, 'journal'), '');
    const sup = new Supervisor({
      logger: log, backoff: { initialMs: 100, maxMs: 200, resetAfterMs: 60_000 },
      children: [{ name: 'crasher', command: process.execPath, args: [script('crasher', 'process.exit(1);')] }],
    });
    const t0 = Date.now();
    sup.start();
    await until('four starts', () => lines('journal').length >= 4);
    // starts at ≈0, +100, +200 (doubled), +200 (capped)
    assert.ok(Date.now() - t0 >= 480, `restarts waited 100 + 200 + 200 ms (took ${Date.now() - t0} ms)`);
    await sup.stop();
    assert.ok(sup.restarts('crasher') >= 3);
  });
});

describe('exitWithParent', () => {
  it('a child exits when the supervisor’s IPC channel closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tskube-ewp-'));
    try {
      const mod = new URL('./supervisor.js', import.meta.url).href;
      const child = join(dir, 'child.mjs');
      writeFileSync(child, `import { exitWithParent } from ${JSON.stringify(mod)};
const log = { warn() {}, info() {}, error() {}, debug() {}, child() { return log; } };
exitWithParent(log);
process.send('ready');
setInterval(() => {}, 1000);
`);
      const proc = spawn(process.execPath, [child], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      await new Promise<void>((resolve, reject) => {
        proc.once('message', () => resolve());
        proc.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      proc.disconnect();
      const exited = waitExit(proc);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      assert.equal(proc.exitCode, 1, 'exited on its own with 1 (not killed)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
