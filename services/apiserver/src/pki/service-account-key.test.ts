import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { nullLogger } from '@tskube/log';
import { ensureServiceAccountKey, loadServiceAccountKey, serviceAccountKeyPaths } from './service-account-key.js';

test('sa.key/sa.pub: created once as a matching RSA pair, reused, replaced when they do not match', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tskube-sa-'));
  try {
    const log = nullLogger();
    assert.equal(await ensureServiceAccountKey({ pkiDir: dir, log }), true);
    const p = serviceAccountKeyPaths(dir);
    assert.equal((await stat(p.key)).mode & 0o777, 0o600);
    assert.equal((await stat(p.pub)).mode & 0o777, 0o644);
    const k1 = await loadServiceAccountKey(dir);
    assert.match(k1.privateKeyPem, /BEGIN RSA PRIVATE KEY/);
    assert.match(k1.publicKeyPem, /BEGIN PUBLIC KEY/);
    const derived = createPublicKey(createPrivateKey(k1.privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
    assert.equal(derived.trim(), k1.publicKeyPem.trim());
    assert.equal(await ensureServiceAccountKey({ pkiDir: dir, log }), false, 'a good pair is reused');
    assert.equal(await readFile(p.key, 'utf8'), k1.privateKeyPem);
    // a public key that belongs to another private key is replaced (pair regenerated)
    await writeFile(p.pub, 'garbage');
    assert.equal(await ensureServiceAccountKey({ pkiDir: dir, log }), true);
    assert.notEqual((await loadServiceAccountKey(dir)).privateKeyPem, k1.privateKeyPem);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
