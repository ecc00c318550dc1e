import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ConfigMap } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { DESCRIPTION, DESCRIPTION_ANNOTATION, ROOT_CA_CONFIGMAP, RootCACertPublisher } from './root-ca-cert-publisher.js';

const NS = { group: '', plural: 'namespaces' };
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('RootCACertPublisher', () => {
  let h: Harness;
  let run: Promise<void> | undefined;
  beforeEach(() => {
    h = harness();
    const c = new RootCACertPublisher({ client: h.fake, informers: h.informers, logger: h.logger, rootCA: CA });
    run = h.start().then(() => c.run(h.signal));
  });
  afterEach(async () => {
    await h.stop();
    await run;
  });
  const get = async (ns: string): Promise<ConfigMap | undefined> => {
    try { return await h.fake.resource(Resources.configMaps).get(ns, ROOT_CA_CONFIGMAP); } catch { return undefined; }
  };

  it('publishes kube-root-ca.crt in active namespaces, restores it when edited or deleted', async () => {
    h.fake.seed(NS, { metadata: { name: 'a' }, status: { phase: 'Active' } });
    h.fake.seed(NS, { metadata: { name: 'dying', deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: ['x'] }, status: { phase: 'Terminating' } });
    await eventually(async () => assert.ok(await get('a')));
    const cm = (await get('a'))!;
    assert.deepEqual(cm.data, { 'ca.crt': CA });
    assert.equal(cm.metadata?.annotations?.[DESCRIPTION_ANNOTATION], DESCRIPTION);
    assert.equal(await get('dying'), undefined);

    await h.fake.resource(Resources.configMaps).update({ ...cm, data: { 'ca.crt': 'tampered', extra: 'x' } });
    await eventually(async () => assert.deepEqual((await get('a'))?.data, { 'ca.crt': CA }));

    await h.fake.resource(Resources.configMaps).delete('a', ROOT_CA_CONFIGMAP);
    await eventually(async () => assert.deepEqual((await get('a'))?.data, { 'ca.crt': CA }));
  });
});
