import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Expectations } from './expectations.js';

describe('Expectations', () => {
  it('is satisfied without a record, and once every expected creation was observed', () => {
    const e = new Expectations();
    assert.equal(e.satisfied('ns/rs'), true);
    e.expectCreations('ns/rs', 2);
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), true);
  });

  it('counts each expected deletion once and ignores unexpected ones', () => {
    const e = new Expectations();
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/zzz');
    assert.deepEqual(e.pending('ns/rs'), { add: 0, del: 1 });
    assert.equal(e.satisfied('ns/rs'), false);
    e.deletionObserved('ns/rs', 'ns/b');
    assert.equal(e.satisfied('ns/rs'), true);
  });

  it('expires after the TTL so a lost event cannot wedge a controller', () => {
    let t = 1000;
    const e = new Expectations({ now: () => t, ttlMs: 5 * 60_000 });
    e.expectCreations('ns/rs', 1);
    t += 5 * 60_000;
    assert.equal(e.satisfied('ns/rs'), false);
    t += 1;
    assert.equal(e.satisfied('ns/rs'), true);
  });

  it('expect sets creations and deletions at once (DaemonSet rounds)', () => {
    const e = new Expectations();
    e.expect('ns/ds', 1, ['ns/a']);
    assert.deepEqual(e.pending('ns/ds'), { add: 1, del: 1 });
    e.creationObserved('ns/ds');
    assert.equal(e.satisfied('ns/ds'), false);
    e.deletionObserved('ns/ds', 'ns/a');
    assert.equal(e.satisfied('ns/ds'), true);
    e.expect('ns/ds', 0, []);
    assert.equal(e.satisfied('ns/ds'), true);
  });

  it('delete forgets the record', () => {
    const e = new Expectations();
    e.expectCreations('ns/rs', 3);
    e.delete('ns/rs');
    assert.equal(e.satisfied('ns/rs'), true);
    assert.equal(e.pending('ns/rs'), undefined);
  });
});
