// With etcd gone the apiserver stays up: /readyz fails, /livez passes, requests fail fast
// with a Status (503), and everything recovers when etcd returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd } from '../support/etcd.js';
import { startApiServer } from '../support/apiserver.js';
import { credsFromKubeconfig, request } from '../support/http.js';
import { eventually } from '../support/kubectl.js';

test('readyz follows etcd; requests fail fast while it is down', async () => {
  const etcd = await startEtcd();
  const api = await startApiServer({ etcd });
  const c = credsFromKubeconfig(api.kubeconfig);
  try {
    assert.equal((await request(c, 'GET', '/readyz')).status, 200);
    await etcd.pause();
    const ready = await eventually('readyz failing', async () => {
      const r = await request(c, 'GET', '/readyz');
      return r.status === 500 ? r : null;
    }, 30_000, 500);
    assert.match(ready.body, /\[-\]etcd failed/);
    assert.equal((await request(c, 'GET', '/livez')).status, 200, 'the process itself is alive');
    const t0 = Date.now();
    const r = await request(c, 'GET', '/api/v1/namespaces/default/pods');
    const ms = Date.now() - t0;
    assert.ok(r.status >= 500, `status ${r.status}`);
    assert.equal(r.json().kind, 'Status');
    assert.ok(ms < 20_000, `a request against a dead etcd answered in ${ms} ms`);
    await etcd.resume();
    await eventually('readyz passing again', async () => (await request(c, 'GET', '/readyz')).status === 200 || null, 60_000, 500);
    const ok = await request(c, 'GET', '/api/v1/namespaces/default/pods');
    assert.equal(ok.status, 200);
  } finally {
    await api.stop();
    await etcd.stop();
  }
});
