import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { nullLogger } from '@tskube/log';
import { ensurePki, loadServingTls, loadKubeletClientTls, type EnsurePkiOptions } from './pki.js';
import { parseKubeconfig } from './kubeconfig.js';
import { parseSan, parseSanList, readSans, readSubject } from './certs.js';
import { pkiPaths } from './paths.js';

const EXTERNAL = 'https://127.0.0.1:6443';
const INTERNAL = 'https://apiserver:6443';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tskube-pki-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const opts = (dataDir: string, extra: Partial<EnsurePkiOptions> = {}): EnsurePkiOptions =>
  ({ dataDir, externalUrl: EXTERNAL, internalUrl: INTERNAL, log: nullLogger(), ...extra });

const ALL = ['ca', 'apiserver', 'apiserver-kubelet-client', 'admin.kubeconfig', 'scheduler.kubeconfig',
  'controller-manager.kubeconfig', 'kubelet.kubeconfig', 'sa'];

test('first call generates every file with the right mode and the data dir owner', async () => {
  await withDir(async (dir) => {
    // as root, prove the chown: the data dir belongs to someone else (a host user)
    const isRoot = process.geteuid?.() === 0;
    const owner = isRoot ? { uid: 1234, gid: 2345 } : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    if (isRoot) await chown(dir, owner.uid, owner.gid);
    const state = await ensurePki(opts(dir));
    assert.deepEqual([...state.issued].sort(), [...ALL].sort());
    const p = state.paths;
    const expectMode: [string, number][] = [
      [p.caCert, 0o644], [p.caKey, 0o600], [p.apiserverCert, 0o644], [p.apiserverKey, 0o600],
      [p.kubeletClientCert, 0o644], [p.kubeletClientKey, 0o600], [p.adminKubeconfig, 0o600],
      [p.schedulerKubeconfig, 0o600], [p.controllerManagerKubeconfig, 0o600], [p.kubeletKubeconfig, 0o600],
      [p.pkiDir, 0o755], [join(p.pkiDir, 'sa.key'), 0o600], [join(p.pkiDir, 'sa.pub'), 0o644],
    ];
    for (const [file, mode] of expectMode) {
      const s = await stat(file);
      assert.equal(s.mode & 0o777, mode, `${file} mode ${(s.mode & 0o777).toString(8)}`);
      assert.deepEqual({ uid: s.uid, gid: s.gid }, owner, `${file} owner`);
    }
  });
});

test('second call reuses everything; a SAN change reissues only the serving certificate', async () => {
  await withDir(async (dir) => {
    const p = pkiPaths(dir);
    await ensurePki(opts(dir));
    const ca1 = await readFile(p.caCert, 'utf8');
    const serving1 = await readFile(p.apiserverCert, 'utf8');
    const admin1 = await readFile(p.adminKubeconfig, 'utf8');

    const again = await ensurePki(opts(dir));
    assert.deepEqual(again.issued, []);
    assert.equal(await readFile(p.caCert, 'utf8'), ca1);
    assert.equal(await readFile(p.apiserverCert, 'utf8'), serving1);
    assert.equal(await readFile(p.adminKubeconfig, 'utf8'), admin1);

    const extra = parseSanList('tskube.example.com, 10.1.2.3,fd00::0:1');
    const changed = await ensurePki(opts(dir, { extraSans: extra }));
    assert.deepEqual(changed.issued, ['apiserver']);
    assert.equal(await readFile(p.caCert, 'utf8'), ca1, 'CA kept');
    assert.equal(await readFile(p.adminKubeconfig, 'utf8'), admin1, 'client credentials kept');
    const sans = readSans(await readFile(p.apiserverCert, 'utf8')).map((s) => `${s.type}:${s.value}`);
    for (const want of ['dns:tskube.example.com', 'ip:10.1.2.3', 'ip:fd00::1', 'dns:kubernetes.default.svc.cluster.local',
      'dns:apiserver', 'dns:localhost', 'ip:127.0.0.1', 'ip:::1']) {
      assert.ok(sans.includes(want), `serving cert lacks ${want}: ${sans.join(' ')}`);
    }
    // dropping the extra SANs again: the existing certificate still covers what is required
    assert.deepEqual((await ensurePki(opts(dir))).issued, []);
  });
});

test('a changed external URL rewrites only admin.kubeconfig, and its host becomes a SAN', async () => {
  await withDir(async (dir) => {
    await ensurePki(opts(dir));
    const state = await ensurePki(opts(dir, { externalUrl: 'https://tskube.local:7443' }));
    assert.deepEqual([...state.issued].sort(), ['admin.kubeconfig', 'apiserver']);
    const cfg = parseKubeconfig(await readFile(state.paths.adminKubeconfig, 'utf8'));
    assert.equal(cfg.server, 'https://tskube.local:7443');
    assert.ok(readSans(await readFile(state.paths.apiserverCert, 'utf8')).some((s) => s.value === 'tskube.local'));
  });
});

test('leaves expiring within 30 days are reissued; the CA is kept', async () => {
  await withDir(async (dir) => {
    await ensurePki(opts(dir));
    const later = new Date(Date.now() + 340 * 24 * 3600 * 1000);
    const state = await ensurePki(opts(dir, { now: later }));
    assert.deepEqual([...state.issued].sort(), ALL.filter((n) => n !== 'ca' && n !== 'sa').sort(), 'the service account key does not expire');
  });
});

test('an unreadable CA regenerates everything', async () => {
  await withDir(async (dir) => {
    const first = await ensurePki(opts(dir));
    const oldCa = await readFile(first.paths.caCert, 'utf8');
    await writeFile(first.paths.caKey, 'garbage');
    const state = await ensurePki(opts(dir));
    assert.deepEqual([...state.issued].sort(), ALL.filter((n) => n !== 'sa').sort(), 'the service account key is independent of the CA');
    assert.notEqual(await readFile(first.paths.caCert, 'utf8'), oldCa);
  });
});

test('every credential is signed by the CA with the right subject and usage', async () => {
  await withDir(async (dir) => {
    const { paths: p } = await ensurePki(opts(dir));
    const caPem = await readFile(p.caCert, 'utf8');
    const ca = new X509Certificate(caPem);
    assert.ok(ca.ca);
    assert.equal(readSubject(caPem).commonName, 'tskube-ca');
    const days = (c: X509Certificate): number => (Date.parse(c.validTo) - Date.now()) / 86400e3;
    assert.ok(days(ca) > 3640 && days(ca) < 3660, `CA lifetime ${days(ca)} days`);

    const cases: { file: string; cn: string; orgs: string[]; server?: string; user?: string }[] = [
      { file: p.adminKubeconfig, cn: 'kubernetes-admin', orgs: ['system:masters'], server: EXTERNAL, user: 'admin' },
      { file: p.schedulerKubeconfig, cn: 'system:kube-scheduler', orgs: [], server: INTERNAL, user: 'scheduler' },
      { file: p.controllerManagerKubeconfig, cn: 'system:kube-controller-manager', orgs: [], server: INTERNAL,
        user: 'controller-manager' },
      { file: p.kubeletKubeconfig, cn: 'system:node:tskube-kubelet', orgs: ['system:nodes'], server: INTERNAL, user: 'kubelet' },
      { file: p.kubeletClientCert, cn: 'kube-apiserver-kubelet-client', orgs: ['system:masters'] },
      { file: p.apiserverCert, cn: 'kube-apiserver', orgs: [] },
    ];
    for (const c of cases) {
      let certPem: string;
      if (c.server !== undefined) {
        const cfg = parseKubeconfig(await readFile(c.file, 'utf8'));
        assert.equal(cfg.server, c.server, c.file);
        assert.equal(cfg.user, c.user, c.file);
        assert.equal(cfg.caPem, caPem, `${c.file} embeds the CA`);
        certPem = cfg.certPem;
        assert.ok(new X509Certificate(certPem).checkPrivateKey(createPrivateKey(cfg.keyPem)));
      } else {
        certPem = await readFile(c.file, 'utf8');
      }
      const cert = new X509Certificate(certPem);
      assert.ok(cert.checkIssued(ca), `${c.file} issued by CA`);
      assert.ok(cert.verify(ca.publicKey), `${c.file} signature verifies`);
      assert.ok(days(cert) > 360 && days(cert) < 370, `${c.file} lifetime ${days(cert)} days`);
      assert.deepEqual(readSubject(certPem), { commonName: c.cn, organizations: c.orgs }, c.file);
    }
  });
});

test('TLS handshake: serving cert + admin client cert, the server sees the admin identity', async () => {
  await withDir(async (dir) => {
    const { paths } = await ensurePki(opts(dir));
    const tls = await loadServingTls(paths);
    const server = createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(JSON.stringify(peer.subject));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const admin = parseKubeconfig(await readFile(paths.adminKubeconfig, 'utf8'));
      const body = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', ca: admin.caPem, cert: admin.certPem, key: admin.keyPem },
          (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => { data += d; });
            res.on('end', () => resolve(data));
          });
        req.on('error', reject);
        req.end();
      });
      assert.deepEqual(JSON.parse(body), { O: 'system:masters', CN: 'kubernetes-admin' });

      // the apiserver→kubelet client pair is accepted by a server trusting the same CA
      const kc = await loadKubeletClientTls(paths);
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = request({ host: 'localhost', port, path: '/', ca: kc.ca, cert: kc.cert, key: kc.key },
          (res) => { res.resume(); resolve(res.statusCode); });
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

test('parseSan', () => {
  const cases: [string, string][] = [
    ['Example.COM', 'dns:example.com'],
    ['10.0.0.1', 'ip:10.0.0.1'],
    ['0:0:0:0:0:0:0:1', 'ip:::1'],
    ['[fd00::1]', 'ip:fd00::1'],
    ['*.apps.local', 'dns:*.apps.local'],
    ['DNS:10.0.0.1', 'dns:10.0.0.1'],
    ['IP:192.168.1.1', 'ip:192.168.1.1'],
  ];
  for (const [input, want] of cases) {
    const s = parseSan(input);
    assert.equal(`${s.type}:${s.value}`, want, input);
  }
  for (const bad of ['', 'has space', 'IP:not-an-ip', 'a,b']) {
    assert.throws(() => parseSan(bad), /invalid/, bad);
  }
  assert.deepEqual(parseSanList(undefined), []);
  assert.deepEqual(parseSanList(' a.b , ,1.2.3.4').map((s) => s.value), ['a.b', '1.2.3.4']);
});
