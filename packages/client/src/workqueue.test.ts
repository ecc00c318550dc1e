import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, WorkQueue, defaultControllerRateLimiter,
  type RateLimiter,
} from './workqueue.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('rate limiters', () => {
  it('per-item exponential backoff doubles from 5 ms and caps at 1000 s', () => {
    const rl = new ItemExponentialRateLimiter<string>(5, 1_000_000);
    const delays = Array.from({ length: 6 }, () => rl.when('a'));
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160]);
    assert.equal(rl.numRequeues('a'), 6);
    assert.equal(rl.when('b'), 5, 'per item');
    for (let i = 0; i < 40; i++) rl.when('a');
    assert.equal(rl.when('a'), 1_000_000);
    rl.forget('a');
    assert.equal(rl.numRequeues('a'), 0);
    assert.equal(rl.when('a'), 5);
  });

  it('token bucket: burst free, then 1/qps apart, refilling with time', () => {
    let now = 0;
    const rl = new BucketRateLimiter<string>(10, 100, () => now);
    for (let i = 0; i < 100; i++) assert.equal(rl.when(), 0);
    assert.equal(rl.when(), 100);
    assert.equal(rl.when(), 200);
    now += 1000; // 10 tokens back, 2 were owed: 8 left
    assert.equal(rl.when(), 0);
    assert.ok(rl.numRequeues() === 0);
  });

  it('the default limiter takes the max of both', () => {
    const rl = defaultControllerRateLimiter<string>();
    assert.equal(rl.when('k'), 5);
    assert.equal(rl.when('k'), 10);
    const fixed = (d: number): RateLimiter<string> => ({ when: () => d, forget: () => {}, numRequeues: () => d });
    const max = new MaxOfRateLimiter<string>(fixed(3), fixed(7), fixed(1));
    assert.equal(max.when('x'), 7);
    assert.equal(max.numRequeues('x'), 7);
  });
});

describe('WorkQueue', () => {
  it('deduplicates queued keys and keeps FIFO order', async () => {
    const q = new WorkQueue();
    q.add('a'); q.add('b'); q.add('a'); q.add('c'); q.add('b');
    assert.equal(q.len(), 3);
    assert.deepEqual([await q.get(), await q.get(), await q.get()], ['a', 'b', 'c']);
  });

  it('never hands out a key being processed; an add meanwhile re-queues it once on done', async () => {
    const q = new WorkQueue();
    q.add('a');
    assert.equal(await q.get(), 'a');
    q.add('a'); q.add('a');
    assert.equal(q.len(), 0, 'dirty, not queued');
    q.add('b');
    assert.equal(await q.get(), 'b');
    q.done('a');
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'a');
    q.done('a');
    q.done('b');
    assert.equal(q.len(), 0);
  });

  it('get() waits for an add', async () => {
    const q = new WorkQueue();
    const p = q.get();
    let got: string | undefined;
    void p.then((v) => { got = v; });
    await tick();
    assert.equal(got, undefined);
    q.add('x');
    assert.equal(await p, 'x');
  });

  it('addAfter delays, and the earliest pending delay wins', async () => {
    const q = new WorkQueue();
    q.addAfter('late', 40);
    q.addAfter('early', 200);
    q.addAfter('early', 10);
    q.addAfter('early', 300);
    assert.equal(q.len(), 0);
    const t0 = Date.now();
    assert.equal(await q.get(), 'early');
    assert.ok(Date.now() - t0 < 150, 'earliest delay used');
    assert.equal(await q.get(), 'late');
    q.addAfter('now', 0);
    assert.equal(q.len(), 1);
  });

  it('addRateLimited uses the limiter; forget resets it', async () => {
    const q = new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter(5, 1000) });
    q.addRateLimited('k');
    assert.equal(q.numRequeues('k'), 1);
    assert.equal(q.len(), 0);
    assert.equal(await q.get(), 'k');
    q.done('k');
    q.addRateLimited('k');
    q.addRateLimited('k');
    assert.equal(q.numRequeues('k'), 3);
    q.forget('k');
    assert.equal(q.numRequeues('k'), 0);
    q.shutDown();
  });

  it('shutDown: waiting gets resolve undefined, adds are ignored, queued items still drain', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
    q.add('x');
    assert.equal(q.len(), 0);
    const q2 = new WorkQueue();
    q2.add('a');
    q2.addAfter('later', 10);
    q2.shutDown();
    assert.equal(await q2.get(), 'a');
    assert.equal(await q2.get(), undefined);
    assert.equal(q2.isShuttingDown, true);
  });

  it('reports metrics through the hooks', async () => {
    let now = 1000;
    const seen: string[] = [];
    const depths: number[] = [];
    const q = new WorkQueue<string>({
      name: 'rs', now: () => now,
      metrics: {
        depth: (name, d) => { assert.equal(name, 'rs'); depths.push(d); },
        add: () => seen.push('add'),
        queueDuration: (_n, s) => seen.push(`queued ${s}`),
        workDuration: (_n, s) => seen.push(`work ${s}`),
        retry: () => seen.push('retry'),
      },
    });
    q.add('a');
    q.add('a');
    now += 500;
    const k = await q.get();
    now += 2000;
    q.done(k!);
    q.addRateLimited('a');
    q.shutDown();
    assert.deepEqual(seen, ['add', 'queued 0.5', 'work 2', 'retry']);
    assert.equal(depths[0], 1);
    assert.equal(depths.at(-1), 0);
  });
});
