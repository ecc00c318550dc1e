import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeconfigError, loadKubeconfig, parseKubeconfig } from './kubeconfig.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function config(opts: { cluster?: string[]; user?: string[]; context?: string[]; current?: string } = {}): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${opts.current ?? 'main'}`,
    'clusters:',
    '- name: c1',
    '  cluster:',
    ...(opts.cluster ?? ['server: https://10.0.0.1:6443', `certificate-authority-data: ${b64('CA PEM')}`]).map((l) => `    ${l}`),
    'contexts:',
    '- name: main',
    '  context:',
    ...(opts.context ?? ['cluster: c1', 'user: u1']).map((l) => `    ${l}`),
    'users:',
    '- name: u1',
    '  user:',
    ...(opts.user ?? [`client-certificate-data: ${b64('CERT PEM')}`, `client-key-data: ${b64('KEY PEM')}`]).map((l) => `    ${l}`),
    '',
  ].join('\n');
}

describe('kubeconfig', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tskube-kubeconfig-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA FROM FILE');
    writeFileSync(join(dir, 'token'), 'file-token\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves the current context with embedded data', () => {
    const kc = parseKubeconfig(config());
    assert.equal(kc.server, 'https://10.0.0.1:6443');
    assert.equal(kc.ca?.toString(), 'CA PEM');
    assert.equal(kc.cert?.toString(), 'CERT PEM');
    assert.equal(kc.key?.toString(), 'KEY PEM');
    assert.equal(kc.contextName, 'main');
    assert.equal(kc.clusterName, 'c1');
    assert.equal(kc.userName, 'u1');
  });

  it('reads relative paths against the kubeconfig directory', () => {
    const file = join(dir, 'rel.kubeconfig');
    writeFileSync(file, config({
      cluster: ['server: https://127.0.0.1:6443', 'certificate-authority: ca.crt'],
      user: ['tokenFile: token'],
      context: ['cluster: c1', 'user: u1', 'namespace: kube-system'],
    }));
    const kc = loadKubeconfig(file);
    assert.equal(kc.ca?.toString(), 'CA FROM FILE');
    assert.equal(kc.token, 'file-token');
    assert.equal(kc.namespace, 'kube-system');
  });

  it('supports insecure-skip-tls-verify and tokens', () => {
    const kc = parseKubeconfig(config({ cluster: ['server: https://h:1', 'insecure-skip-tls-verify: true'], user: ['token: abc'] }));
    assert.equal(kc.insecureSkipTLSVerify, true);
    assert.equal(kc.token, 'abc');
    assert.equal(kc.ca, undefined);
  });

  it('uses an explicit context over current-context', () => {
    const text = `${config({ current: 'nope' })}`;
    assert.equal(parseKubeconfig(text, { context: 'main' }).server, 'https://10.0.0.1:6443');
  });

  const failures: [string, string, RegExp][] = [
    ['unknown current context', config({ current: 'other' }), /context "other" not found/],
    ['no current context', config({ current: '""' }), /no current-context is set/],
    ['missing cluster', config({ context: ['cluster: nope', 'user: u1'] }), /cluster "nope" \(of context "main"\) not found/],
    ['missing server', config({ cluster: ['certificate-authority-data: eA=='] }), /cluster "c1" has no server/],
    ['bad server URL', config({ cluster: ['server: ftp://x'] }), /invalid server URL "ftp:\/\/x"/],
    ['missing user', config({ context: ['cluster: c1', 'user: ghost'] }), /user "ghost" \(of context "main"\) not found/],
    ['cert without key', config({ user: [`client-certificate-data: ${b64('C')}`] }), /client-certificate is set but client-key is missing/],
    ['file and data', config({ user: ['client-key: a', `client-key-data: ${b64('K')}`, `client-certificate-data: ${b64('C')}`] }), /both "client-key" and "client-key-data"/],
    ['unreadable file', config({ cluster: ['server: https://h:1', 'certificate-authority: /nonexistent/ca.crt'] }), /cannot read certificate-authority \/nonexistent\/ca.crt/],
    ['ca and insecure', config({ cluster: ['server: https://h:1', `certificate-authority-data: ${b64('x')}`, 'insecure-skip-tls-verify: true'] }), /both set/],
    ['not YAML', ':\n  - [', /invalid YAML|not a YAML mapping/],
  ];
  for (const [name, text, re] of failures) {
    it(`fails clearly: ${name}`, () => {
      assert.throws(() => parseKubeconfig(text, { source: '/x/kc' }), (e: unknown) => {
        assert.ok(e instanceof KubeconfigError);
        assert.match(e.message, /^kubeconfig \/x\/kc: /);
        assert.match(e.message, re);
        return true;
      });
    });
  }

  it('names the file when it cannot be read', () => {
    assert.throws(() => loadKubeconfig(join(dir, 'missing')), /kubeconfig .*missing: cannot read/);
  });
});
