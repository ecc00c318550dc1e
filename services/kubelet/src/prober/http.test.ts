import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Container } from '@tskube/api';
import { canonicalHeaderKey, doHttpProbe, httpGetRequest, resolveContainerPort } from './http.js';

const container: Container = { name: 'web', image: 'img', ports: [{ name: 'http', containerPort: 8080 }] };

describe('httpGetRequest', () => {
  it('builds upstream defaults: http, the pod IP, kube-probe User-Agent, Accept */*', () => {
    const r = httpGetRequest({ port: 'http', path: '/healthz?x=1' }, container, '10.0.0.9', 'probe');
    assert.equal(r.url.href, 'http://10.0.0.9:8080/healthz?x=1');
    assert.deepEqual([...r.headers], [['User-Agent', ['kube-probe/1.32']], ['Accept', ['*/*']]]);
    assert.equal(r.host, undefined);
  });

  it('keeps given headers (canonical names, repeated values), a Host override, scheme and host', () => {
    const r = httpGetRequest({
      scheme: 'HTTPS', host: 'example.test', port: 8443, path: 'ready',
      httpHeaders: [{ name: 'x-custom', value: 'a' }, { name: 'X-Custom', value: 'b' }, { name: 'user-agent', value: 'mine' }, { name: 'Accept', value: '' }, { name: 'host', value: 'svc.local' }],
    }, container, '10.0.0.9', 'lifecycle');
    assert.equal(r.url.href, 'https://example.test:8443/ready');
    assert.deepEqual([...r.headers], [['X-Custom', ['a', 'b']], ['User-Agent', ['mine']]]);
    assert.equal(r.host, 'svc.local');
    assert.equal(httpGetRequest({ port: 80 }, container, '10.0.0.9', 'lifecycle').headers.get('User-Agent')?.[0], 'kube-lifecycle/1.32');
  });

  const ports: Array<[number | string, number | string]> = [
    [80, 80], ['http', 8080], ['9090', 9090],
    ['metrics', 'strconv.Atoi: parsing "metrics": invalid syntax'], [0, 'invalid port number: 0'], [70000, 'invalid port number: 70000'],
  ];
  for (const [port, want] of ports) {
    it(`resolves port ${JSON.stringify(port)} → ${want}`, () => {
      if (typeof want === 'number') assert.equal(resolveContainerPort(port, container), want);
      else assert.throws(() => resolveContainerPort(port, container), { message: want });
    });
  }

  it('canonicalises header names as Go does', () => {
    assert.equal(canonicalHeaderKey('x-forwarded-for'), 'X-Forwarded-For');
    assert.equal(canonicalHeaderKey('ACCEPT'), 'Accept');
  });
});

describe('doHttpProbe against a local server', () => {
  let server: http.Server;
  let port = 0;
  let seen: http.IncomingHttpHeaders[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      const path = req.url ?? '/';
      if (path === '/ok') { res.end('fine'); return; }
      if (path === '/fail') { res.statusCode = 503; res.end('down'); return; }
      if (path === '/same') { res.writeHead(302, { Location: '/ok' }); res.end(); return; }
      if (path === '/other') { res.writeHead(301, { Location: `http://localhost:${port}/ok` }); res.end('moved'); return; }
      if (path === '/loop') { res.writeHead(302, { Location: '/loop' }); res.end(); return; }
      if (path === '/big') { res.end('x'.repeat(50_000)); return; }
      if (path === '/slow') return; // never answers
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const probe = (path: string, timeoutMs = 2000, headers: Array<{ name: string; value: string }> = []) =>
    doHttpProbe(httpGetRequest({ port, path, httpHeaders: headers }, container, '127.0.0.1', 'probe'), timeoutMs);

  const cases: Array<[string, string, string | RegExp]> = [
    ['/ok', 'success', 'fine'],
    ['/fail', 'failure', 'HTTP probe failed with statuscode: 503'],
    ['/same', 'success', 'fine'],
    ['/other', 'warning', 'Probe terminated redirects, Response body: moved'],
    ['/loop', 'failure', /^Get "http:\/\/127\.0\.0\.1:\d+\/loop": stopped after 10 redirects$/],
    ['/missing', 'failure', 'HTTP probe failed with statuscode: 404'],
  ];
  for (const [path, outcome, output] of cases) {
    it(`GET ${path} → ${outcome}`, async () => {
      const r = await probe(path);
      assert.equal(r.outcome, outcome);
      if (typeof output === 'string') assert.equal(r.output, output);
      else assert.match(r.output, output);
    });
  }

  it('sends kube-probe/1.32, Accept */*, the custom headers and a Host override', async () => {
    seen = [];
    await probe('/ok', 2000, [{ name: 'x-probe', value: '1' }, { name: 'Host', value: 'svc.example' }]);
    assert.equal(seen[0]?.['user-agent'], 'kube-probe/1.32');
    assert.equal(seen[0]?.accept, '*/*');
    assert.equal(seen[0]?.['x-probe'], '1');
    assert.equal(seen[0]?.host, 'svc.example');
    seen = [];
    await probe('/ok');
    assert.equal(seen[0]?.host, `127.0.0.1:${port}`);
  });

  it('reads at most 10 KiB of the body', async () => {
    const r = await probe('/big');
    assert.equal(r.outcome, 'success');
    assert.equal(r.output.length, 10 * 1024);
  });

  it('a server that does not answer within the timeout fails with Go\'s wording', async () => {
    const r = await probe('/slow', 300);
    assert.equal(r.outcome, 'failure');
    assert.equal(r.output, `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
  });

  it('a closed port fails with "connection refused"', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await doHttpProbe(httpGetRequest({ port: free, path: '/' }, container, '127.0.0.1', 'probe'), 1000);
    assert.equal(r.outcome, 'failure');
    assert.equal(r.output, `Get "http://127.0.0.1:${free}/": dial tcp 127.0.0.1:${free}: connect: connection refused`);
  });
});
