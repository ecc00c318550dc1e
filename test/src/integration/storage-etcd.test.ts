// The storage conformance suite against a real etcd process, and etcd-specific limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdStorage } from '@tskube/storage';
import { storageConformance } from '@tskube/storage/conformance';
import { nullLogger } from '@tskube/log';
import { startEtcd } from '../support/etcd.js';

storageConformance('etcd', async () => {
  const etcd = await startEtcd();
  const storage = new EtcdStorage({ endpoints: [etcd.endpoint], logger: nullLogger() });
  return {
    storage,
    compact: (rev) => storage.compact(rev),
    cleanup: async () => { await storage.close(); await etcd.stop(); },
  };
});

// A list whose response is larger than grpc-js's default 4 MiB message limit.
test('etcd storage lists more than 4 MiB in one response', async () => {
  const etcd = await startEtcd();
  const storage = new EtcdStorage({ endpoints: [etcd.endpoint], logger: nullLogger() });
  try {
    const big = 'x'.repeat(200 * 1024);
    for (let i = 0; i < 30; i++) {
      await storage.create(`/registry/big/ns/o-${i}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `o-${i}`, namespace: 'ns' }, data: { big } });
    }
    const list = await storage.list('/registry/big/');
    assert.equal(list.items.length, 30);
  } finally {
    await storage.close();
    await etcd.stop();
  }
});
