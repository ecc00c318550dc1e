import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conflict } from '@tskube/api';
import { runController } from './controller.js';
import { captureLogger } from './test-logger.js';
import { ItemExponentialRateLimiter, WorkQueue } from './workqueue.js';

describe('runController', () => {
  it('reconciles, retries failures with backoff (logging each once), and forgets on success', async () => {
    const q = new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter(1, 100) });
    const log = captureLogger();
    const ac = new AbortController();
    const calls: string[] = [];
    let failures = 2;
    const done = runController({
      name: 'test', queue: q, logger: log, signal: ac.signal, workers: 2,
      reconcile: async (key) => {
        calls.push(key);
        if (key === 'bad' && failures-- > 0) throw new Error(`boom ${failures}`);
        if (key === 'bad') { assert.equal(q.numRequeues('bad'), 2); setTimeout(() => ac.abort(), 5); }
      },
    });
    q.add('good');
    q.add('bad');
    await done;
    assert.deepEqual(calls.filter((c) => c === 'bad').length, 3);
    assert.equal(q.numRequeues('bad'), 0, 'forgotten after success');
    const errors = log.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 2);
    assert.deepEqual(errors.map((l) => [l.msg, l.fields.controller, l.fields.key]), [
      ['reconcile failed', 'test', 'bad'], ['reconcile failed', 'test', 'bad']]);
    assert.ok(errors[0]!.fields.err instanceof Error);
  });

  it('retries a 409 Conflict like any failure but logs it at debug level', async () => {
    const q = new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter(1, 100) });
    const log = captureLogger();
    const ac = new AbortController();
    let first = true;
    const done = runController({
      name: 'test', queue: q, logger: log, signal: ac.signal,
      reconcile: async () => {
        if (first) { first = false; throw conflict({ group: 'apps', resource: 'replicasets' }, 'web'); }
        setTimeout(() => ac.abort(), 5);
      },
    });
    q.add('k');
    await done;
    assert.equal(first, false);
    assert.deepEqual(log.lines.filter((l) => l.level === 'error'), []);
    assert.deepEqual(log.lines.filter((l) => l.level === 'debug').map((l) => l.msg), ['reconcile conflict, retrying']);
  });

  it('requeueAfter looks at the key again later', async () => {
    const q = new WorkQueue<string>();
    const ac = new AbortController();
    const times: number[] = [];
    const done = runController({
      name: 'requeue', queue: q, logger: captureLogger(), signal: ac.signal,
      reconcile: async () => {
        times.push(Date.now());
        if (times.length === 1) return { requeueAfter: 30 };
        ac.abort();
        return undefined;
      },
    });
    q.add('k');
    await done;
    assert.equal(times.length, 2);
    assert.ok(times[1]! - times[0]! >= 25, `requeued after ${times[1]! - times[0]!} ms`);
  });

  it('never runs one key on two workers at once', async () => {
    const q = new WorkQueue<string>();
    const ac = new AbortController();
    const active = new Set<string>();
    let overlaps = 0;
    let runs = 0;
    const done = runController({
      name: 'serial', queue: q, logger: captureLogger(), signal: ac.signal, workers: 4,
      reconcile: async (key) => {
        if (active.has(key)) overlaps++;
        active.add(key);
        await new Promise((r) => setTimeout(r, 2));
        if (runs++ < 20) q.add(key);
        active.delete(key);
      },
    });
    for (let i = 0; i < 10; i++) { q.add('same'); q.add(`k${i % 3}`); }
    // 4 distinct keys + 20 re-adds while in flight = 24 reconciles.
    for (let i = 0; i < 200 && runs < 24; i++) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await done;
    assert.equal(overlaps, 0);
    assert.equal(runs, 24);
  });

  it('stops promptly when the signal aborts', async () => {
    const q = new WorkQueue<string>();
    const ac = new AbortController();
    const done = runController({ name: 'idle', queue: q, logger: captureLogger(), signal: ac.signal, workers: 3, reconcile: async () => {} });
    setTimeout(() => ac.abort(), 10);
    await done;
    assert.equal(q.isShuttingDown, true);
  });
});
