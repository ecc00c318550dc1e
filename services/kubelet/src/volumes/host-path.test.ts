import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkHostPathType } from './host-path.js';

describe('hostPath type checks', () => {
  let base: string;
  let sock: Server;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'tskube-hp-'));
    await mkdir(join(base, 'dir'));
    await writeFile(join(base, 'file'), 'x');
    sock = createServer();
    await new Promise<void>((r) => sock.listen(join(base, 'sock'), () => r()));
  });
  after(async () => {
    await new Promise<void>((r) => sock.close(() => r()));
    await rm(base, { recursive: true, force: true });
  });

  const cases: Array<{ path: string; type: string; error?: string }> = [
    { path: 'missing', type: '' },
    { path: 'dir', type: 'Directory' },
    { path: 'file', type: 'Directory', error: 'is not a directory' },
    { path: 'missing', type: 'Directory', error: 'is not a directory' },
    { path: 'file', type: 'File' },
    { path: 'dir', type: 'File', error: 'is not a file' },
    { path: 'sock', type: 'Socket' },
    { path: 'file', type: 'Socket', error: 'is not a socket file' },
    { path: 'file', type: 'CharDevice', error: 'is not a character device' },
    { path: 'file', type: 'BlockDevice', error: 'is not a block device' },
    { path: 'file', type: 'DirectoryOrCreate', error: 'is not a directory' },
    { path: 'dir', type: 'FileOrCreate', error: 'is not a file' },
    { path: 'dir', type: 'Bogus', error: 'unsupported type "Bogus"' },
  ];
  for (const tc of cases) {
    it(`${tc.type || '(unset)'} on ${tc.path}: ${tc.error ?? 'ok'}`, async () => {
      const p = join(base, tc.path);
      if (tc.error) {
        await assert.rejects(checkHostPathType(p, tc.type), (e: Error) => e.message.startsWith('hostPath type check failed: ') && e.message.includes(tc.error!));
      } else await checkHostPathType(p, tc.type);
    });
  }
  it('CharDevice /dev/null', () => checkHostPathType('/dev/null', 'CharDevice'));

  it('DirectoryOrCreate and FileOrCreate create what is missing', async () => {
    await checkHostPathType(join(base, 'new', 'nested'), 'DirectoryOrCreate');
    assert.ok((await stat(join(base, 'new', 'nested'))).isDirectory());
    await checkHostPathType(join(base, 'new', 'f'), 'FileOrCreate');
    assert.ok((await stat(join(base, 'new', 'f'))).isFile());
    await assert.rejects(checkHostPathType(join(base, 'nodir', 'f'), 'FileOrCreate'), /could not be created/);
  });
});
