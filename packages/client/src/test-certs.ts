/** Test helper: a throwaway CA, server and client certificates made with the openssl CLI. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** File paths inside `dir`: ca.crt, client.crt, client.key. */
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('the openssl CLI is required for the TLS tests: install it (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

export function makeTestPki(clientCN = 'system:kube-scheduler'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'tskube-client-pki-'));
  const key = (name: string) => openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  key('ca');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=tskube-test-ca', '-days', '1', '-out', 'ca.crt'], dir);
  const signed = (name: string, cn: string, ext: string) => {
    key(name);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
      '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
  };
  signed('server', 'tskube-apiserver', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', clientCN, 'extendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f));
  return {
    dir,
    caCert: read('ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'),
    clientCert: read('client.crt'), clientKey: read('client.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
