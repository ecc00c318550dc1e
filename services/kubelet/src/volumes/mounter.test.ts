import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExecMounter, FakeMounter, tmpfsNoswapSupported } from './mounter.js';

describe('ExecMounter (commands replaced by scripts; real mounts are covered by the integration tests)', () => {
  let dir: string;
  let log: string;
  let ok: string;
  let fail: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tskube-mounter-'));
    log = join(dir, 'calls');
    ok = join(dir, 'ok.sh');
    fail = join(dir, 'fail.sh');
    await writeFile(ok, `#!/bin/sh\necho "$0 $*" >> ${log}\n`);
    await writeFile(fail, '#!/bin/sh\necho "mount: /x: permission denied." >&2\nexit 32\n');
    await chmod(ok, 0o755);
    await chmod(fail, 0o755);
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('runs mount -t tmpfs -o <options> tmpfs <dir> and umount <dir>', async () => {
    const m = new ExecMounter({ mountCommand: ok, umountCommand: ok, noswap: true });
    await m.mountTmpfs('/v/mem', ['size=1048576']);
    await m.mountTmpfs('/v/default', []);
    await m.unmount('/v/mem');
    assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), [
      `${ok} -t tmpfs -o size=1048576,noswap tmpfs /v/mem`,
      `${ok} -t tmpfs -o noswap tmpfs /v/default`,
      `${ok} /v/mem`,
    ]);
  });

  it('reports a failed command the way upstream mount-utils does', async () => {
    const m = new ExecMounter({ mountCommand: fail, umountCommand: fail, noswap: false });
    await assert.rejects(m.mountTmpfs('/x', ['size=1']), (e: Error) => e.message
      === `mount failed: exit status 32\nMounting command: ${fail}\nMounting arguments: -t tmpfs -o size=1 tmpfs /x\nOutput: mount: /x: permission denied.`);
    await assert.rejects(m.unmount('/x'), /^Error: unmount failed: exit status 32\nUnmounting arguments: \/x\nOutput: mount: \/x: permission denied\.$/);
  });

  it('mountPoint: a plain directory is none; a mounted file system is one (tmpfs → memory)', async () => {
    const m = new ExecMounter();
    assert.equal(await m.mountPoint(dir), undefined);
    assert.equal(await m.mountPoint(join(dir, 'missing')), undefined);
    assert.deepEqual(await m.mountPoint('/proc'), { medium: 'other' });
    assert.deepEqual(await m.mountPoint('/dev/shm'), { medium: 'memory' }, 'Linux mounts a tmpfs on /dev/shm');
  });

  it('tmpfs takes noswap from Linux 6.4 on', () => {
    const cases: Array<[string, boolean]> = [['6.4.0', true], ['6.18.44-fc', true], ['7.0.1', true], ['6.3.9', false], ['5.15.0-91-generic', false], ['weird', false]];
    for (const [r, want] of cases) assert.equal(tmpfsNoswapSupported(r), want, r);
  });
});

describe('FakeMounter', () => {
  it('keeps mount points in memory and can fail on demand', async () => {
    const m = new FakeMounter();
    await m.mountTmpfs('/a/b/', ['size=1']);
    assert.deepEqual(await m.mountPoint('/a/b'), { medium: 'memory' });
    await m.unmount('/a/b');
    assert.equal(await m.mountPoint('/a/b'), undefined);
    await assert.rejects(m.unmount('/a/b'), /not mounted/);
    m.failMount = 'no';
    await assert.rejects(m.mountTmpfs('/c', []), /no/);
    assert.deepEqual(m.calls, ['mount /a/b size=1', 'unmount /a/b', 'unmount /a/b', 'mount /c ']);
  });
});
