/**
 * The service account signing key pair, pki/sa.key (RSA private key, PKCS#1 PEM, 0600) and
 * pki/sa.pub (PKIX public key PEM, 0644), as kubeadm lays them out. Tokens are signed with the
 * private key; the token authenticator verifies with the same pair (filters/service-account-token.ts).
 *
 * Contract of ensureServiceAccountKey: a readable pair whose halves match is reused; a lone,
 * unreadable or mismatched pair is replaced (which invalidates tokens issued before). Files are
 * written atomically, key first. The pair is independent of the CA: a new CA does not replace it.
 */
import { generateKeyPair, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@tskube/log';
import { writeFileAtomic, type FileOwner } from './files.js';

export interface ServiceAccountKeyPaths {
  readonly key: string;
  readonly pub: string;
}

export function serviceAccountKeyPaths(pkiDir: string): ServiceAccountKeyPaths {
  return { key: join(pkiDir, 'sa.key'), pub: join(pkiDir, 'sa.pub') };
}

export interface ServiceAccountKey {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Why an existing pair cannot be used, or undefined when it can. */
function pairProblem(keyPem: string, pubPem: string): string | undefined {
  try {
    const priv = createPrivateKey(keyPem);
    if (priv.asymmetricKeyType !== 'rsa') return `key type ${priv.asymmetricKeyType ?? 'unknown'}`;
    const derived = createPublicKey(priv).export({ type: 'spki', format: 'pem' }).toString().trim();
    const stored = createPublicKey(pubPem).export({ type: 'spki', format: 'pem' }).toString().trim();
    return derived === stored ? undefined : 'sa.pub does not match sa.key';
  } catch (err) {
    return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Creates pki/sa.key and pki/sa.pub when missing or unusable. Returns whether it wrote them. */
export async function ensureServiceAccountKey(opts: { pkiDir: string; owner?: FileOwner; log: Logger }): Promise<boolean> {
  const paths = serviceAccountKeyPaths(opts.pkiDir);
  const [keyPem, pubPem] = await Promise.all([readOptional(paths.key), readOptional(paths.pub)]);
  const reason = keyPem === undefined || pubPem === undefined ? 'missing' : pairProblem(keyPem, pubPem);
  if (reason === undefined) return false;
  opts.log.info('pki generating service account key', { reason, path: paths.key });
  const pair = await new Promise<ServiceAccountKey>((resolve, reject) => {
    generateKeyPair('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ privateKeyPem: privateKey, publicKeyPem: publicKey })));
  });
  await writeFileAtomic(paths.key, pair.privateKeyPem, { mode: 0o600, ...(opts.owner ? { owner: opts.owner } : {}) });
  await writeFileAtomic(paths.pub, pair.publicKeyPem, { mode: 0o644, ...(opts.owner ? { owner: opts.owner } : {}) });
  return true;
}

/** Reads the pair ensureServiceAccountKey wrote. */
export async function loadServiceAccountKey(pkiDir: string): Promise<ServiceAccountKey> {
  const paths = serviceAccountKeyPaths(pkiDir);
  const [privateKeyPem, publicKeyPem] = await Promise.all([readFile(paths.key, 'utf8'), readFile(paths.pub, 'utf8')]);
  return { privateKeyPem, publicKeyPem };
}
