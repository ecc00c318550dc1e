import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KILLED_EXIT_CODE, runFakeCommand, tokenize } from './fake-shell.js';

async function run(argv: string[], env: Record<string, string> = {}, killAfterMs?: number): Promise<{ code: number; out: string; err: string }> {
  const ac = new AbortController();
  if (killAfterMs !== undefined) setTimeout(() => ac.abort(), killAfterMs);
  let out = '';
  let err = '';
  const code = await runFakeCommand(argv, { env, signal: ac.signal, stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

describe('fake shell', () => {
  it('tokenizes quotes, separators and variables', () => {
    const words = (s: string): string[] => tokenize(s, { A: 'x y' }).map((t) => (t.kind === 'word' ? t.value : `<${t.value}>`));
    assert.deepEqual(words(`echo 'a b' "c $A" $A\${A}; exit 3 && true || false`),
      ['echo', 'a b', 'c x y', 'x yx y', '<;>', 'exit', '3', '<&&>', 'true', '<||>', 'false']);
  });

  it('runs the commands pods use', async () => {
    const cases: Array<[string[], number, string, string]> = [
      [['echo', 'hello'], 0, 'hello\n', ''],
      [['sh', '-c', 'echo a; echo b >&2; exit 3'], 3, 'a\n', 'b\n'],
      [['/bin/sh', '-c', 'false && echo no; echo $X'], 0, 'yes\n', ''],
      [['sh', '-c', 'false || exit 4'], 4, '', ''],
      [['sh', '-c', 'nosuch'], 127, '', 'sh: nosuch: not found\n'],
      [['sh', '-c', 'echo -n x; sleep 0.01; true'], 0, 'x', ''],
      [['sh'], 0, '', ''],
    ];
    for (const [argv, code, out, err] of cases) {
      assert.deepEqual(await run(argv, { X: 'yes' }), { code, out, err }, argv.join(' '));
    }
  });

  it('ps lists the processes of its PID namespace, then itself', async () => {
    let out = '';
    const code = await runFakeCommand(['sh', '-c', 'ps'], {
      env: {}, signal: new AbortController().signal, stdout: (t) => { out += t; }, stderr: () => {},
      processes: () => [{ pid: 1, command: 'sleep 3600' }, { pid: 2, command: 'sh' }],
    });
    assert.equal(code, 0);
    assert.equal(out, 'PID   USER     COMMAND\n    1 root     sleep 3600\n    2 root     sh\n    3 root     ps\n');
  });

  it('keeps servers and sleeps running until killed', async () => {
    for (const argv of [[], ['nginx', '-g', 'daemon off;'], ['sleep', 'infinity'], ['sh', '-c', 'echo up; sleep 3600']]) {
      const r = await run(argv, {}, 20);
      assert.equal(r.code, KILLED_EXIT_CODE, argv.join(' '));
    }
  });
});
