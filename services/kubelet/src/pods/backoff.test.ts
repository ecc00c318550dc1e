import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from './backoff.js';

const S = 1000;

describe('Backoff (flowcontrol semantics)', () => {
  it('starts at the initial delay, doubles per failure and caps at the maximum', () => {
    const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S });
    const delays: number[] = [];
    let t = 0;
    for (let i = 0; i < 8; i++) {
      b.next('k', t, t);
      delays.push(b.get('k') / S);
      t += 1 * S;
    }
    assert.deepEqual(delays, [10, 20, 40, 80, 160, 300, 300, 300]);
  });

  const cases: Array<{ name: string; delay: number; eventAgo: number; want: boolean }> = [
    { name: 'just after the event', delay: 10, eventAgo: 1, want: true },
    { name: 'just before the delay ends', delay: 10, eventAgo: 9.9, want: true },
    { name: 'once the delay passed', delay: 10, eventAgo: 10, want: false },
  ];
  for (const c of cases) {
    it(`isInBackOffSince: ${c.name}`, () => {
      const b = new Backoff({ initialMs: c.delay * S, maxMs: 300 * S });
      const now = 1000 * S;
      b.next('k', now - c.eventAgo * S, now - c.eventAgo * S);
      assert.equal(b.isInBackOffSince('k', now - c.eventAgo * S, now), c.want);
    });
  }

  it('unknown keys are never in backoff', () => {
    const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S });
    assert.equal(b.isInBackOffSince('nope', 0, 1), false);
    assert.equal(b.isInBackOffSinceUpdate('nope', 1), false);
  });

  it('resets to the initial delay after a run of more than 2 × max (10 min)', () => {
    const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S });
    b.next('k', 0, 0);
    b.next('k', 1 * S, 1 * S);
    b.next('k', 2 * S, 2 * S);
    assert.equal(b.get('k'), 40 * S);
    const later = 2 * S + 601 * S; // the container ran for over 10 minutes
    assert.equal(b.isInBackOffSince('k', later, later + 1), false, 'a stale entry does not hold back');
    b.next('k', later, later);
    assert.equal(b.get('k'), 10 * S);
  });

  it('isInBackOffSinceUpdate counts from the last failure (image pulls)', () => {
    const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S });
    b.next('img', 100 * S, 100 * S);
    assert.equal(b.isInBackOffSinceUpdate('img', 105 * S), true);
    assert.equal(b.isInBackOffSinceUpdate('img', 111 * S), false);
  });

  it('forgetPrefix drops a pod\'s keys only', () => {
    const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S });
    b.next('uid-1/a', 0, 0);
    b.next('uid-1/b', 0, 0);
    b.next('uid-2/a', 0, 0);
    b.forgetPrefix('uid-1/');
    assert.equal(b.size, 1);
    assert.equal(b.get('uid-2/a'), 10 * S);
  });
});
