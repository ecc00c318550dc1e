import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isApiError, type Pod } from '@tskube/api';
import { isExpired } from './errors.js';
import { FakeClient } from './fake.js';
import { serveFake, type FakeServer } from './fake-server.js';
import { createClient, createClientFromKubeconfig, isTimeout, type RestClient } from './rest.js';
import { makeTestPki, type TestPki } from './test-certs.js';
import { Resources } from './types.js';

const pod = (name: string): Pod => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'i' }] } });

describe('RestClient over HTTP', () => {
  let srv: FakeServer;
  let client: RestClient;
  before(async () => {
    srv = await serveFake(new FakeClient());
    client = createClient({ server: srv.url, component: 'scheduler', token: 'sekret', maxRetryDelayMs: 20 });
  });
  after(async () => { client.close(); await srv.close(); });

  it('sends User-Agent, Accept and the bearer token', async () => {
    await client.resource(Resources.pods).create('default', pod('ua'));
    const r = srv.requests.at(-1)!;
    assert.equal(r.headers['user-agent'], 'tskube-scheduler/0.1.0');
    assert.equal(client.userAgent, 'tskube-scheduler/0.1.0');
    assert.equal(r.headers.accept, 'application/json');
    assert.equal(r.headers.authorization, 'Bearer sekret');
    assert.equal(r.path, '/api/v1/namespaces/default/pods');
  });

  const patchTypes = [
    ['merge', 'application/merge-patch+json'],
    ['strategic', 'application/strategic-merge-patch+json'],
    ['json', 'application/json-patch+json'],
    ['apply', 'application/apply-patch+yaml'],
  ] as const;
  for (const [type, ct] of patchTypes) {
    it(`patch type ${type} is sent as ${ct}`, async () => {
      const pods = client.resource(Resources.pods);
      await pods.create('default', pod(`pt-${type}`)).catch(() => {});
      const p = type === 'json'
        ? await pods.patch('default', `pt-${type}`, [{ op: 'add', path: '/metadata/labels', value: { t: type } }], type)
        : await pods.patch('default', `pt-${type}`, { metadata: { labels: { t: type } } }, type);
      assert.equal(p.metadata?.labels?.t, type);
      const r = srv.requests.at(-1)!;
      assert.equal(r.method, 'PATCH');
      assert.equal(r.headers['content-type'], ct);
      if (type === 'apply') assert.equal(r.query.get('fieldManager'), 'scheduler');
    });
  }

  const errorCases: [string, number, string, string, string][] = [
    ['404 text body', 404, '404 page not found', 'NotFound', 'the server could not find the requested resource (get pods x)'],
    ['500 text body', 500, 'boom', 'InternalError', 'an error on the server ("boom") has prevented the request from succeeding (get pods x)'],
    ['503 empty body', 503, '', 'ServiceUnavailable', 'the server is currently unable to handle the request (get pods x)'],
    ['403 Status body', 403, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403,
      message: 'pods "x" is forbidden: User "u" cannot get resource "pods"' }), 'Forbidden', 'pods "x" is forbidden: User "u" cannot get resource "pods"'],
  ];
  for (const [name, status, body, reason, message] of errorCases) {
    it(`turns a ${name} into ApiError ${reason}`, async () => {
      srv.intercept = () => ({ status, body });
      try {
        await assert.rejects(client.resource(Resources.pods).get('default', 'x'), (e: unknown) => {
          assert.ok(isApiError(e));
          assert.equal(e.code, status);
          assert.equal(e.reason, reason);
          assert.equal(e.message, message);
          return true;
        });
      } finally {
        srv.intercept = undefined;
      }
    });
  }

  it('retries 429 after Retry-After, then succeeds', async () => {
    await client.resource(Resources.pods).create('default', pod('retry'));
    let n = 0;
    srv.intercept = (r) => (r.method === 'GET' && n++ < 2 ? { status: 429, body: '', headers: { 'Retry-After': '0' } } : undefined);
    try {
      const before = srv.requests.length;
      const p = await client.resource(Resources.pods).get('default', 'retry');
      assert.equal(p.metadata?.name, 'retry');
      assert.equal(srv.requests.length - before, 3);
    } finally { srv.intercept = undefined; }
  });

  it('gives up after maxRetries with TooManyRequests', async () => {
    const c = createClient({ server: srv.url, maxRetries: 1, maxRetryDelayMs: 5 });
    srv.intercept = () => ({ status: 429, body: '', headers: { 'Retry-After': '1' } });
    try {
      const before = srv.requests.length;
      await assert.rejects(c.resource(Resources.pods).get('default', 'x'), (e: unknown) => isApiError(e, 'TooManyRequests'));
      assert.equal(srv.requests.length - before, 2);
    } finally { srv.intercept = undefined; c.close(); }
  });

  it('a watch answered with HTTP 410 rejects as expired', async () => {
    srv.intercept = (r) => (r.query.get('watch') === 'true'
      ? { status: 410, body: JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (9)' }) }
      : undefined);
    try {
      await assert.rejects(client.resource(Resources.pods).watch({ resourceVersion: '1' }), (e: unknown) => isExpired(e));
    } finally { srv.intercept = undefined; }
  });

  it('watch sends its query parameters and streams events', async () => {
    const pods = client.resource(Resources.pods);
    const list = await pods.list({ namespace: 'default' });
    const w = await pods.watch({ namespace: 'default', resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 30, labelSelector: 'w=1' });
    const r = srv.requests.at(-1)!;
    assert.equal(r.query.get('watch'), 'true');
    assert.equal(r.query.get('allowWatchBookmarks'), 'true');
    assert.equal(r.query.get('timeoutSeconds'), '30');
    assert.equal(r.query.get('labelSelector'), 'w=1');
    await pods.create('default', { ...pod('watched'), metadata: { name: 'watched', labels: { w: '1' } } });
    for await (const ev of w) {
      assert.equal(ev.type, 'ADDED');
      assert.equal(ev.object.metadata?.name, 'watched');
      break;
    }
    w.close();
  });

  it('getStream streams pod logs', async () => {
    await client.resource(Resources.pods).create('default', pod('logs'));
    srv.fake.setPodLog('default', 'logs', 'hello\nworld\n');
    const s = await client.getStream('/api/v1/namespaces/default/pods/logs/log', { follow: true });
    let text = '';
    for await (const c of s) text += String(c);
    assert.equal(text, 'hello\nworld\n');
    assert.equal(srv.requests.at(-1)!.query.get('follow'), 'true');
  });

  it('raw returns parsed JSON', async () => {
    const got = await client.raw<{ kind: string; items: unknown[] }>('GET', '/api/v1/namespaces/default/pods');
    assert.equal(got.kind, 'PodList');
    assert.ok(Array.isArray(got.items));
  });
});

describe('RestClient timeouts and aborts', () => {
  let hang: http.Server;
  let url: string;
  before(async () => {
    hang = http.createServer(() => { /* never answers */ });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
  });
  after(async () => { hang.closeAllConnections(); await new Promise((r) => hang.close(r)); });

  it('a request times out with a TimeoutError', async () => {
    const c = createClient({ server: url, timeoutMs: 50 });
    const t0 = Date.now();
    await assert.rejects(c.resource(Resources.pods).get('default', 'x'), (e: unknown) => isTimeout(e) && /timed out after 50 ms/.test((e as Error).message));
    assert.ok(Date.now() - t0 < 1000);
    c.close();
  });

  it('per-request timeoutMs overrides the client default', async () => {
    const c = createClient({ server: url, timeoutMs: 10_000 });
    await assert.rejects(c.resource(Resources.nodes).get('x', { timeoutMs: 30 }), (e: unknown) => isTimeout(e));
    c.close();
  });

  it('an AbortSignal aborts the request', async () => {
    const c = createClient({ server: url });
    const ac = new AbortController();
    const p = c.resource(Resources.pods).list({ signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(p, (e: unknown) => (e as Error).name === 'AbortError');
    c.close();
  });
});

describe('RestClient over HTTPS with client certificates', () => {
  let pki: TestPki;
  let srv: FakeServer;
  before(async () => {
    pki = makeTestPki('system:kube-scheduler');
    srv = await serveFake(new FakeClient(), { tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert, requestCert: true } });
  });
  after(async () => { await srv.close(); pki.cleanup(); });

  it('authenticates with the client certificate and verifies the server against the CA', async () => {
    const c = createClient({ server: srv.url, ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
    const n = await c.resource(Resources.nodes).create({ metadata: { name: 'tls-node' } });
    assert.equal(n.metadata?.name, 'tls-node');
    assert.equal(srv.requests.at(-1)!.clientCN, 'system:kube-scheduler');
    c.close();
  });

  it('fails without a client certificate, and with an untrusted server', async () => {
    const noCert = createClient({ server: srv.url, ca: pki.caCert });
    await assert.rejects(noCert.resource(Resources.nodes).get('x'), (e: unknown) => !isApiError(e));
    noCert.close();
    const noCa = createClient({ server: srv.url, cert: pki.clientCert, key: pki.clientKey });
    await assert.rejects(noCa.resource(Resources.nodes).get('x'), /self.signed|unable to verify|certificate/i);
    noCa.close();
  });

  it('loads everything from a kubeconfig with relative file paths', async () => {
    const kc = join(pki.dir, 'scheduler.kubeconfig');
    writeFileSync(kc, [
      'apiVersion: v1', 'kind: Config', 'current-context: tskube',
      'clusters:', '- name: tskube', '  cluster:', `    server: ${srv.url}`, '    certificate-authority: ca.crt',
      'contexts:', '- name: tskube', '  context: {cluster: tskube, user: scheduler}',
      'users:', '- name: scheduler', '  user:',
      `    client-certificate-data: ${pki.clientCert.toString('base64')}`,
      '    client-key: client.key', '',
    ].join('\n'));
    const c = createClientFromKubeconfig(kc, { component: 'scheduler' });
    const list = await c.resource(Resources.nodes).list();
    assert.ok(Array.isArray(list.items));
    assert.equal(srv.requests.at(-1)!.headers['user-agent'], 'tskube-scheduler/0.1.0');
    c.close();
  });
});
