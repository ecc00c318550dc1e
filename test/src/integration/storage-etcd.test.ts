// The storage conformance suite against a real etcd process.
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
