import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '@tskube/api';
import { isApiError } from '@tskube/api';
import { FakeClient, Resources } from '@tskube/client';
import { CycleState } from '../framework/interface.js';
import { Code } from '../framework/status.js';
import { makePod, testFramework } from '../testing/builders.js';

test('DefaultBinder POSTs pods/binding; a second binding is a Conflict status carrying the ApiError', async () => {
  const client = new FakeClient();
  const created = await client.resource(Resources.pods).create('default', makePod('web') as Pod);
  const fwk = testFramework({ client });
  const ok = await fwk.runBindPlugins(new CycleState(), created, 'n1');
  assert.equal(ok.code, Code.Success);
  const action = client.actions.find((a) => a.subresource === 'binding');
  assert.deepEqual(action?.body, {
    apiVersion: 'v1', kind: 'Binding', metadata: { namespace: 'default', name: 'web', uid: created.metadata!.uid }, target: { kind: 'Node', name: 'n1' },
  });
  assert.equal((await client.resource(Resources.pods).get('default', 'web')).spec?.nodeName, 'n1');
  const again = await fwk.runBindPlugins(new CycleState(), created, 'n2');
  assert.equal(again.code, Code.Error);
  assert.equal(again.plugin, 'DefaultBinder');
  assert.ok(isApiError(again.error, 'Conflict'));
});
