import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { isApiError } from '@tskube/api';
import { isExpired } from './errors.js';
import { PushWatchStream, WatchDecoder, toObjectEvent, watchStreamFromReadable, type WatchObjectEvent } from './watch.js';

const line = (type: string, name: string, rv: string) =>
  `${JSON.stringify({ type, object: { kind: 'Pod', apiVersion: 'v1', metadata: { name, resourceVersion: rv } } })}\n`;

describe('WatchDecoder', () => {
  const text = line('ADDED', 'a', '1') + line('MODIFIED', 'ünïcødé-é', '2') + line('DELETED', 'c', '3');
  const bytes = Buffer.from(text, 'utf8');

  const splits: [string, number[]][] = [
    ['one chunk', []],
    ['every byte', Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)],
    ['inside a multi-byte character', [bytes.indexOf(Buffer.from('ü')) + 1]],
    ['right after a newline', [bytes.indexOf(0x0a) + 1]],
    ['right before a newline', [bytes.indexOf(0x0a)]],
  ];
  for (const [name, cuts] of splits) {
    it(`decodes the same events when split ${name}`, () => {
      const dec = new WatchDecoder();
      const out: unknown[] = [];
      let prev = 0;
      for (const c of [...cuts, bytes.length]) { out.push(...dec.push(bytes.subarray(prev, c))); prev = c; }
      out.push(...dec.end());
      assert.deepEqual(out.map((e) => (e as { type: string }).type), ['ADDED', 'MODIFIED', 'DELETED']);
      assert.equal((out[1] as { object: { metadata: { name: string } } }).object.metadata.name, 'ünïcødé-é');
    });
  }

  it('returns a last event without a trailing newline from end()', () => {
    const dec = new WatchDecoder();
    assert.deepEqual(dec.push(line('ADDED', 'a', '1').trimEnd()), []);
    assert.equal(dec.end().length, 1);
  });

  it('skips blank lines and rejects garbage', () => {
    const dec = new WatchDecoder();
    assert.deepEqual(dec.push('\n\r\n'), []);
    assert.throws(() => dec.push('{"type":"ADDED"\n'), /invalid watch event/);
    assert.throws(() => new WatchDecoder().push('{"type":"NOPE","object":{}}\n'), /invalid watch event/);
  });

  it('an ERROR event with a 410 Status becomes an expired ApiError', () => {
    const [ev] = new WatchDecoder().push(`${JSON.stringify({
      type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 1 (5)' },
    })}\n`);
    assert.throws(() => toObjectEvent(ev!), (e: unknown) => isExpired(e) && isApiError(e, 'Expired') && e.message === 'too old resource version: 1 (5)');
    const [other] = new WatchDecoder().push(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500, reason: 'InternalError', message: 'boom' } })}\n`);
    assert.throws(() => toObjectEvent(other!), (e: unknown) => isApiError(e, 'InternalError') && !isExpired(e));
  });
});

describe('watchStreamFromReadable', () => {
  it('yields events across arbitrary chunks and ends when the body ends', async () => {
    const body = new PassThrough();
    let aborted = 0;
    const w = watchStreamFromReadable<{ metadata: { name: string } }>(body, () => { aborted++; });
    const all = line('ADDED', 'a', '1') + line('BOOKMARK', '', '7');
    body.write(all.slice(0, 10));
    body.write(all.slice(10, 60));
    body.end(all.slice(60));
    const got: WatchObjectEvent<{ metadata: { name: string } }>[] = [];
    for await (const ev of w) got.push(ev);
    assert.deepEqual(got.map((e) => e.type), ['ADDED', 'BOOKMARK']);
    assert.ok(aborted >= 1, 'request torn down at the end');
  });

  it('an ERROR 410 event ends iteration with an expired error', async () => {
    const body = new PassThrough();
    const w = watchStreamFromReadable(body, () => {});
    body.write(line('ADDED', 'a', '1'));
    body.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'gone' } })}\n`);
    const seen: string[] = [];
    await assert.rejects((async () => { for await (const ev of w) seen.push(ev.type); })(), (e: unknown) => isExpired(e));
    assert.deepEqual(seen, ['ADDED']);
  });

  it('close() ends a pending iteration without an error', async () => {
    const body = new PassThrough();
    const w = watchStreamFromReadable(body, () => {});
    const done = (async () => { const out: string[] = []; for await (const ev of w) out.push(ev.type); return out; })();
    body.write(line('ADDED', 'a', '1'));
    await new Promise((r) => setTimeout(r, 10));
    w.close();
    assert.deepEqual(await done, ['ADDED']);
  });
});

describe('PushWatchStream', () => {
  it('buffers, delivers in order, ends, and runs onClose once', async () => {
    let closed = 0;
    const s = new PushWatchStream<{ n: number }>(() => { closed++; });
    s.push({ type: 'ADDED', object: { n: 1 } });
    s.push({ type: 'MODIFIED', object: { n: 2 } });
    s.end();
    s.push({ type: 'MODIFIED', object: { n: 3 } });
    const got: number[] = [];
    for await (const ev of s) got.push(ev.object.n);
    assert.deepEqual(got, [1, 2]);
    s.close();
    assert.equal(closed, 1);
  });
});
