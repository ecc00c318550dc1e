import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DATA_DIR, validatePayloadPath, writeAtomic, type FileProjection } from './atomic-writer.js';

const f = (s: string, mode = 0o644): FileProjection => ({ data: Buffer.from(s), mode });

describe('atomic writer', () => {
  let base: string;
  before(async () => { base = await mkdtemp(join(tmpdir(), 'tskube-aw-')); });
  after(async () => { await rm(base, { recursive: true, force: true }); });

  const bad: Array<[string, RegExp]> = [
    ['', /must not be empty/],
    ['/etc/passwd', /must be relative/],
    ['a/../../x', /must not contain '\.\.'/],
    ['..data', /must not start with '\.\.'/],
    ['..', /must not contain/],
  ];
  for (const [p, re] of bad) it(`rejects path ${JSON.stringify(p)}`, () => assert.throws(() => validatePayloadPath(p), re));
  for (const p of ['a', 'a/b/c', 'a..b', '.hidden']) it(`accepts path ${JSON.stringify(p)}`, () => validatePayloadPath(p));

  it('lays out ..data, a timestamped dir and one symlink per top-level entry; files keep their modes', async () => {
    const dir = join(base, 'v1');
    assert.equal(await writeAtomic(dir, new Map([['k1', f('one')], ['sub/k2', f('two', 0o400)]])), true);
    const ts = await readlink(join(dir, DATA_DIR));
    assert.match(ts, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.[0-9a-f]+$/);
    assert.equal(await readlink(join(dir, 'k1')), '..data/k1');
    assert.equal(await readlink(join(dir, 'sub')), '..data/sub');
    assert.equal(await readFile(join(dir, 'k1'), 'utf8'), 'one');
    assert.equal(await readFile(join(dir, 'sub', 'k2'), 'utf8'), 'two');
    assert.equal((await stat(join(dir, 'sub', 'k2'))).mode & 0o777, 0o400);
    assert.deepEqual((await readdir(dir)).sort(), [ts, DATA_DIR, 'k1', 'sub'].sort());
  });

  it('an unchanged payload writes nothing; a change swaps ..data and removes stale entries and the old dir', async () => {
    const dir = join(base, 'v2');
    await writeAtomic(dir, new Map([['a', f('1')], ['b', f('2')]]));
    const first = await readlink(join(dir, DATA_DIR));
    assert.equal(await writeAtomic(dir, new Map([['a', f('1')], ['b', f('2')]])), false);
    assert.equal(await readlink(join(dir, DATA_DIR)), first);
    assert.equal(await writeAtomic(dir, new Map([['a', f('1', 0o600)], ['b', f('2')]])), true, 'a mode change is a change');
    assert.equal(await writeAtomic(dir, new Map([['a', f('changed')], ['c', f('3')]])), true);
    const second = await readlink(join(dir, DATA_DIR));
    assert.notEqual(second, first);
    assert.equal(await readFile(join(dir, 'a'), 'utf8'), 'changed');
    assert.equal(await readFile(join(dir, 'c'), 'utf8'), '3');
    await assert.rejects(lstat(join(dir, 'b')), 'b is gone');
    assert.deepEqual((await readdir(dir)).sort(), [second, DATA_DIR, 'a', 'c'].sort());
  });

  it('an empty payload leaves an empty ..data; user files next to it are kept', async () => {
    const dir = join(base, 'v3');
    await writeAtomic(dir, new Map([['x', f('1')]]));
    await writeFile(join(dir, 'mine'), 'keep');
    await writeAtomic(dir, new Map());
    assert.deepEqual(await readdir(join(dir, DATA_DIR)), []);
    assert.equal(await readFile(join(dir, 'mine'), 'utf8'), 'keep');
    await assert.rejects(lstat(join(dir, 'x')));
  });
});
