import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as m from '../cri/index.js';
import type { RuntimeContainer, RuntimePodStatus } from './runtime-state.js';
import { TerminationMessages, createTerminationLogFile, terminationMessage } from './termination-message.js';

/** A readLogs that serves `lines` with tail/limit applied as the runtimes do (tail first, then the byte limit). */
function logs(lines: string[], calls: m.ReadLogsRequest[] = []) {
  return {
    calls,
    readLogs(req: m.ReadLogsRequest): AsyncIterable<m.LogChunk> {
      calls.push(req);
      const tail = req.tail_lines !== undefined && req.tail_lines >= 0 ? lines.slice(-req.tail_lines) : lines;
      let text = tail.map((l) => `${l}\n`).join('');
      if (req.limit_bytes) text = Buffer.from(text).subarray(0, req.limit_bytes).toString();
      return (async function* () { yield { data: Buffer.from(text), stream: 'stdout' }; })();
    },
  };
}

let dir = '';
before(async () => { dir = await mkdtemp(join(tmpdir(), 'tskube-tm-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

function exited(o: Partial<RuntimeContainer>): RuntimeContainer {
  return {
    id: 'c1', name: 'app', attempt: 0, state: 'exited', createdAt: 1, startedAt: 2, finishedAt: 3, exitCode: 1, reason: 'Error', message: '',
    image: 'busybox', imageRef: 'sha256:1', hash: '', sandboxId: 'sb', terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File', ...o,
  };
}

describe('termination messages', () => {
  it('creates a world-writable empty file under <root>/pods/<uid>/containers/<name>/', async () => {
    const f = await createTerminationLogFile(dir, 'uid-1', 'app');
    assert.match(f, new RegExp(`^${dir}/pods/uid-1/containers/app/[0-9a-f]{8}$`));
    assert.equal((await stat(f)).mode & 0o777, 0o666);
    assert.equal(await readFile(f, 'utf8'), '');
    await assert.rejects(createTerminationLogFile(dir, 'uid-1', '../x'), /invalid container name/);
  });

  const many = Array.from({ length: 200 }, (_, i) => `line ${i}`);
  const cases: Array<{ name: string; file?: string; c: Partial<RuntimeContainer>; lines?: string[]; want: (s: string) => void }> = [
    { name: 'File: the file content', file: 'bye', c: {}, want: (s) => assert.equal(s, 'bye') },
    { name: 'File: empty file, no logs read', file: '', c: {}, lines: ['oops'], want: (s) => assert.equal(s, '') },
    { name: 'File: only the last 4096 bytes', file: `${'a'.repeat(5000)}END`, c: {}, want: (s) => { assert.equal(s.length, 4096); assert.ok(s.endsWith('END')); } },
    { name: 'FallbackToLogsOnError, exit 1, empty file → last logs', file: '', c: { terminationMessagePolicy: 'FallbackToLogsOnError' }, lines: ['a', 'b'], want: (s) => assert.equal(s, 'a\nb\n') },
    { name: 'FallbackToLogsOnError, exit 1, the file wins', file: 'from file', c: { terminationMessagePolicy: 'FallbackToLogsOnError' }, lines: ['a'], want: (s) => assert.equal(s, 'from file') },
    { name: 'FallbackToLogsOnError, exit 0 → nothing from the logs', file: '', c: { terminationMessagePolicy: 'FallbackToLogsOnError', exitCode: 0 }, lines: ['a'], want: (s) => assert.equal(s, '') },
    {
      name: 'FallbackToLogsOnError: at most the last 80 lines, 2048 bytes', c: { terminationMessagePolicy: 'FallbackToLogsOnError', terminationMessageHostPath: '' }, lines: many,
      want: (s) => { assert.ok(s.startsWith('line 120\n'), s.slice(0, 20)); assert.ok(Buffer.byteLength(s) <= 2048); },
    },
    { name: 'FallbackToLogsOnError, could not run → no logs', file: '', c: { terminationMessagePolicy: 'FallbackToLogsOnError', reason: 'ContainerCannotRun' }, lines: ['a'], want: (s) => assert.equal(s, '') },
  ];
  for (const [i, t] of cases.entries()) {
    it(t.name, async () => {
      let host = '';
      if (t.file !== undefined) { host = join(dir, `msg-${i}`); await writeFile(host, t.file); }
      const c = exited({ terminationMessageHostPath: host, ...t.c });
      t.want(await terminationMessage(c, logs(t.lines ?? [])));
    });
  }

  it('fills exited instances once (cached), joined after the runtime message', async () => {
    const host = join(dir, 'cached');
    await writeFile(host, 'done');
    const calls: m.ReadLogsRequest[] = [];
    const tm = new TerminationMessages(logs(['x'], calls));
    const mk = (): RuntimePodStatus => ({
      uid: 'u', name: 'p', namespace: 'ns', sandboxes: [], ips: [],
      containers: [
        exited({ id: 'a', message: 'exec failed', terminationMessageHostPath: host }),
        exited({ id: 'b', state: 'running', terminationMessageHostPath: host }),
        exited({ id: 'c', terminationMessagePolicy: 'FallbackToLogsOnError', terminationMessageHostPath: '' }),
      ],
    });
    const rs = mk();
    await tm.fill(rs);
    assert.deepEqual(rs.containers.map((c) => c.message), ['exec failed: done', '', 'x\n']);
    await writeFile(host, 'changed');
    const again = mk();
    await tm.fill(again);
    assert.equal(again.containers[0]?.message, 'exec failed: done', 'read once per instance');
    assert.equal(calls.length, 1, 'logs read once');
  });
});
