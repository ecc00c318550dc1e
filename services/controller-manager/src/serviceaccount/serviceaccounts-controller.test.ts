import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApiError, alreadyExists } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, settle, type Harness } from '../testing.js';
import { ServiceAccountsController } from './serviceaccounts-controller.js';

const NS = { group: '', plural: 'namespaces' };
const SA = { group: '', plural: 'serviceaccounts' };

describe('ServiceAccountsController', () => {
  let h: Harness;
  let c: ServiceAccountsController;
  let run: Promise<void> | undefined;
  beforeEach(() => {
    h = harness();
    c = new ServiceAccountsController({ client: h.fake, informers: h.informers, logger: h.logger });
    run = undefined;
  });
  afterEach(async () => {
    await h.stop();
    await run;
  });
  async function start(): Promise<void> {
    await h.start();
    run = c.run(h.signal);
  }
  const hasDefault = async (ns: string) => {
    try {
      await h.fake.resource(Resources.serviceAccounts).get(ns, 'default');
      return true;
    } catch {
      return false;
    }
  };

  it('creates default in active namespaces only, and again after it is deleted', async () => {
    h.fake.seed(NS, { metadata: { name: 'a' }, status: { phase: 'Active' } });
    h.fake.seed(NS, { metadata: { name: 'dying', deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: ['x'] }, status: { phase: 'Terminating' } });
    h.fake.seed(SA, { metadata: { name: 'other', namespace: 'a' } });
    await start();
    await eventually(async () => assert.equal(await hasDefault('a'), true));
    assert.equal(await hasDefault('dying'), false);

    h.fake.seed(NS, { metadata: { name: 'b' }, status: { phase: 'Active' } });
    await eventually(async () => assert.equal(await hasDefault('b'), true));

    await h.fake.resource(Resources.serviceAccounts).delete('a', 'default');
    await eventually(async () => assert.equal(await hasDefault('a'), true));
    // Deleting a service account it does not manage changes nothing.
    const creates = () => h.fake.actions.filter((x) => x.verb === 'create' && x.resource === 'serviceaccounts').length;
    const before = creates();
    await h.fake.resource(Resources.serviceAccounts).delete('a', 'other');
    await settle(20);
    assert.equal(creates(), before);
  });

  it('retries failed creates; AlreadyExists counts as done', async () => {
    h.fake.seed(NS, { metadata: { name: 'a' }, status: { phase: 'Active' } });
    let failures = 1;
    const attempts: string[] = [];
    h.fake.addReactor((a) => {
      if (a.verb !== 'create' || a.resource !== 'serviceaccounts') return;
      attempts.push(a.namespace ?? '');
      if (a.namespace === 'a' && failures-- > 0) throw new ApiError(500, 'InternalError', 'boom');
      if (a.namespace === 'taken') throw alreadyExists({ group: '', resource: 'serviceaccounts' }, 'default');
    });
    await start();
    await eventually(async () => assert.equal(await hasDefault('a'), true));
    assert.deepEqual(attempts, ['a', 'a']);
    h.fake.seed(NS, { metadata: { name: 'taken' }, status: { phase: 'Active' } });
    await eventually(() => assert.ok(attempts.includes('taken')));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(attempts.filter((x) => x === 'taken').length, 1);
  });
});
