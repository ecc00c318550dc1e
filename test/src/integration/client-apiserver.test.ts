// The client conformance suite against the real apiserver: the fake and the real server agree.
import { after } from 'node:test';
import { createClientFromKubeconfig } from '@tskube/client';
import { clientConformance } from '@tskube/client/conformance';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';

let api: TestApiServer | undefined;
after(async () => { await api?.stop(); });

clientConformance('REST client against the tskube apiserver', async () => {
  api = await startApiServer();
  return createClientFromKubeconfig(api.kubeconfig, { component: 'conformance' });
});
