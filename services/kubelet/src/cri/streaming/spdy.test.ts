import assert from 'node:assert/strict';
import { PassThrough, Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import {
  FLAG_FIN, FrameParser, FrameType, SPDY_DICTIONARY, SpdySession, controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock,
  type Frame, type SpdyStream,
} from './spdy.js';

/** A connected pair of in-memory duplexes. */
function pipePair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = Duplex.from({ readable: bToA, writable: aToB });
  const b = Duplex.from({ readable: aToB, writable: bToA });
  return [a, b];
}

function u32(...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, 4 * i));
  return b;
}

describe('SPDY/3.1 framing', () => {
  it('has the 1423-byte SPDY/3 dictionary', () => {
    assert.equal(SPDY_DICTIONARY.length, 1423);
    assert.equal(SPDY_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
    assert.ok(SPDY_DICTIONARY.toString('latin1').endsWith(',*,enq=0.'));
  });

  it('round-trips control and data frames, also split across chunks', () => {
    const frames = Buffer.concat([
      controlFrame(FrameType.PING, 0, u32(7)),
      dataFrame(3, FLAG_FIN, Buffer.from('hello')),
      controlFrame(FrameType.RST_STREAM, 0, u32(3, 5)),
    ]);
    assert.deepEqual([...frames.subarray(0, 8)], [0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04]);
    const p = new FrameParser();
    const got: Frame[] = [];
    for (let i = 0; i < frames.length; i += 5) got.push(...p.push(frames.subarray(i, i + 5)));
    assert.deepEqual(got, [
      { control: true, type: FrameType.PING, flags: 0, data: u32(7) },
      { control: false, streamId: 3, flags: FLAG_FIN, data: Buffer.from('hello') },
      { control: true, type: FrameType.RST_STREAM, flags: 0, data: u32(3, 5) },
    ]);
  });

  it('encodes name/value blocks with lowercase names', () => {
    const block = encodeHeaderBlock({ StreamType: 'data', port: '8080' });
    assert.deepEqual(decodeHeaderBlock(block), { streamtype: 'data', port: '8080' });
  });

  it('serves a session: SYN_STREAM → SYN_REPLY, data both ways with FIN, PING echoed', async () => {
    const [client, server] = pipePair();
    const streams: SpdyStream[] = [];
    const session = new SpdySession(server, (s) => {
      streams.push(s);
      s.on('data', (d: Buffer) => s.write(Buffer.from(d.toString().toUpperCase())));
      s.on('end', () => s.end());
    });
    // The client's compression context: one deflate stream with the dictionary, sync-flushed per block.
    const deflate = zlib.createDeflate({ dictionary: SPDY_DICTIONARY });
    const compressed = await new Promise<Buffer>((resolve) => {
      const out: Buffer[] = [];
      deflate.on('data', (c: Buffer) => out.push(c));
      deflate.write(encodeHeaderBlock({ streamtype: 'data', port: '80', requestid: '0' }));
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(() => resolve(Buffer.concat(out))));
    });
    const parser = new FrameParser();
    const received: Frame[] = [];
    client.on('data', (c: Buffer) => received.push(...parser.push(c)));
    client.write(controlFrame(FrameType.SYN_STREAM, 0, Buffer.concat([u32(1, 0), Buffer.from([0, 0]), compressed])));
    client.write(dataFrame(1, 0, Buffer.from('abc')));
    client.write(dataFrame(1, FLAG_FIN, Buffer.from('def')));
    client.write(controlFrame(FrameType.PING, 0, u32(9)));
    const deadline = Date.now() + 5000;
    while (!received.some((f) => !f.control && f.flags & FLAG_FIN) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(streams.map((s) => s.headers), [{ streamtype: 'data', port: '80', requestid: '0' }]);
    const reply = received.find((f) => f.control && f.type === FrameType.SYN_REPLY);
    assert.ok(reply && reply.control && reply.data.readUInt32BE(0) === 1, 'SYN_REPLY for stream 1');
    const data = received.filter((f): f is Extract<Frame, { control: false }> => !f.control);
    assert.equal(Buffer.concat(data.map((f) => f.data)).toString(), 'ABCDEF');
    assert.equal(data.at(-1)!.flags & FLAG_FIN, FLAG_FIN);
    assert.ok(received.some((f) => f.control && f.type === FrameType.PING && f.data.readUInt32BE(0) === 9), 'PING echoed');
    assert.ok(received.some((f) => f.control && f.type === FrameType.WINDOW_UPDATE), 'window updates for consumed data');
    client.end();
    await session.closed;
    deflate.close();
  });
});
