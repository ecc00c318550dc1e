/**
 * A small SPDY/3.1 session, limited to what port-forward (portforward.k8s.io) and
 * remotecommand (exec/attach, remotecommand-spdy.ts) need:
 * the client opens streams (SYN_STREAM with headers), the server accepts them (SYN_REPLY),
 * both send DATA with FIN half-closes; RST_STREAM aborts a stream; PING is echoed; GOAWAY
 * ends the session. SETTINGS, HEADERS and the client's WINDOW_UPDATEs are read and ignored
 * (we never hold data back for the peer's window); we send a per-stream WINDOW_UPDATE for
 * every DATA frame consumed, so a peer that does count windows never stalls.
 *
 * Hand-written because the only npm implementation (spdy-transport) is built for HTTP over
 * SPDY (it expects :method/:path headers and answers with HTTP semantics) and unmaintained;
 * port-forward needs just the framing below (draft-mbelshe-httpbis-spdy-00 §2.2–2.6).
 *
 * Header blocks are zlib-compressed with the SPDY/3 dictionary (§2.6.10.1); each
 * direction keeps one compression context for the whole session, as the spec requires.
 */
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

/** The SPDY/3 header compression dictionary, §2.6.10.1: length-prefixed words, then a tail. */
export const SPDY_DICTIONARY: Buffer = (() => {
  const words = [
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
    'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
    'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
    'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
    'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
    'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
    'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie',
    'keep-alive', 'origin',
  ];
  const tail = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505'
    + '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized'
    + '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable'
    + 'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT'
    + 'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,'
    + 'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  const parts: Buffer[] = [];
  for (const w of words) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
})();

export const SPDY_VERSION = 3;
export const FrameType = {
  SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9,
} as const;
export const FLAG_FIN = 0x01;
/** RST_STREAM status codes used here. */
export const RstStatus = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5 } as const;

export type Frame =
  | { control: false; streamId: number; flags: number; data: Buffer }
  | { control: true; type: number; flags: number; data: Buffer };

/** Splits a byte stream into frames (8-byte header: control bit, version/stream id, type, flags, 24-bit length). */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUIntBE(5, 3);
      if (this.buf.length < 8 + len) break;
      const flags = this.buf[4]!;
      const data = this.buf.subarray(8, 8 + len);
      const word = this.buf.readUInt32BE(0);
      if (word & 0x80000000) {
        const version = (word >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new Error(`unsupported SPDY version ${version}`);
        out.push({ control: true, type: word & 0xffff, flags, data: Buffer.from(data) });
      } else {
        out.push({ control: false, streamId: word & 0x7fffffff, flags, data: Buffer.from(data) });
      }
      this.buf = this.buf.subarray(8 + len);
    }
    return out;
  }
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE((0x8000 << 16 | SPDY_VERSION << 16 | type) >>> 0, 0);
  h.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([h, payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((flags & 0xff) << 24 | data.length) >>> 0, 4);
  return Buffer.concat([h, data]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

/** Name/value block encoding (§2.6.10), before compression. Names are lowercase; repeated values join with NUL. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const entries = Object.entries(headers);
  const parts = [u32(entries.length)];
  for (const [k, v] of entries) {
    const name = Buffer.from(k.toLowerCase());
    const value = Buffer.from(v);
    parts.push(u32(name.length), name, u32(value.length), value);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  const n = block.readUInt32BE(off); off += 4;
  for (let i = 0; i < n; i++) {
    const kl = block.readUInt32BE(off); off += 4;
    const k = block.subarray(off, off + kl).toString(); off += kl;
    const vl = block.readUInt32BE(off); off += 4;
    const v = block.subarray(off, off + vl).toString(); off += vl;
    out[k.toLowerCase()] = v.split('\0')[0] ?? '';
  }
  return out;
}

/** One zlib context in one direction, fed block by block with a sync flush after each. */
class ZContext {
  private readonly z: zlib.Inflate | zlib.Deflate;
  private readonly out: Buffer[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  constructor(kind: 'inflate' | 'deflate') {
    this.z = kind === 'inflate' ? zlib.createInflate({ dictionary: SPDY_DICTIONARY }) : zlib.createDeflate({ dictionary: SPDY_DICTIONARY });
    this.z.on('data', (c: Buffer) => this.out.push(c));
  }

  /** Processes `input`; resolves with everything the context produced for it. Calls are serialised. */
  run(input: Buffer): Promise<Buffer> {
    const next = this.chain.then(() => new Promise<Buffer>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.z.once('error', onError);
      this.z.write(input);
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.z.off('error', onError);
        // 'data' for the flushed output is emitted before the flush callback.
        setImmediate(() => resolve(Buffer.concat(this.out.splice(0))));
      });
    }));
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void { this.z.close(); }
}

/** A stream the peer opened; a Duplex of its DATA. end() sends FIN; destroy() sends RST_STREAM (CANCEL) if still open. */
export class SpdyStream extends Duplex {
  localClosed = false;
  remoteClosed = false;

  constructor(readonly id: number, readonly headers: Readonly<Record<string, string>>, private readonly session: SpdySession) {
    super({ allowHalfOpen: true });
  }

  override _read(): void { /* pushed by the session */ }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.localClosed) { cb(); return; }
    this.session.sendData(this.id, chunk, false).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.localClosed) { cb(); return; }
    this.localClosed = true;
    this.session.sendData(this.id, Buffer.alloc(0), true).then(() => { this.session.maybeForget(this); cb(); }, cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.localClosed || !this.remoteClosed) this.session.reset(this.id, RstStatus.CANCEL);
    this.localClosed = true;
    this.remoteClosed = true;
    this.session.maybeForget(this);
    cb(err);
  }
}

/**
 * A SPDY/3.1 session on `conn`. Server side: `onStream` gets every stream the peer opens,
 * already accepted with an empty SYN_REPLY. Client side (tests, the conformance suite):
 * {@link openStream} opens odd-numbered streams and waits for the peer's SYN_REPLY. The
 * session ends (all streams destroyed, `closed` resolves, pending opens reject) when `conn`
 * ends, on GOAWAY, or on a protocol error.
 */
export class SpdySession {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly parser = new FrameParser();
  private readonly inflate = new ZContext('inflate');
  private readonly deflate = new ZContext('deflate');
  /** Outgoing frames in order (SYN_REPLY needs async compression before it may be written). */
  private writes: Promise<unknown> = Promise.resolve();
  private incoming: Promise<unknown> = Promise.resolve();
  private ended = false;
  private nextStreamId = 1;
  /** Streams we opened that wait for the peer's SYN_REPLY. */
  private readonly awaitingReply = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  readonly closed: Promise<void>;

  constructor(private readonly conn: Duplex, private readonly onStream: (s: SpdyStream) => void, private readonly onError: (err: Error) => void = () => {}) {
    this.closed = new Promise<void>((resolve) => {
      conn.on('data', (chunk: Buffer) => {
        let frames: Frame[];
        try { frames = this.parser.push(chunk); } catch (err) { this.fail(err as Error); return; }
        for (const f of frames) this.incoming = this.incoming.then(() => this.handle(f)).catch((err: Error) => this.fail(err));
      });
      const finish = (): void => { void this.incoming.then(() => { this.shutdown(); resolve(); }); };
      conn.on('end', finish);
      conn.on('close', finish);
      conn.on('error', () => { this.shutdown(); resolve(); });
    });
  }

  private fail(err: Error): void {
    this.onError(err);
    this.shutdown();
    this.conn.destroy();
  }

  private shutdown(): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of this.streams.values()) {
      // A stream the peer had finished keeps what it buffered (its reader still sees the
      // data, then the end); any other is aborted.
      const finishedByPeer = s.remoteClosed;
      s.localClosed = true;
      s.remoteClosed = true;
      if (finishedByPeer) s.end();
      else s.destroy();
    }
    this.streams.clear();
    for (const w of this.awaitingReply.values()) w.reject(new Error('SPDY session ended before the stream was accepted'));
    this.awaitingReply.clear();
    this.inflate.close();
    this.deflate.close();
  }

  private write(frame: Buffer | Promise<Buffer>): Promise<void> {
    const next = this.writes.then(async () => {
      const f = await frame;
      if (this.ended || !this.conn.writable) return;
      if (!this.conn.write(f)) await new Promise<void>((r) => { this.conn.once('drain', r); this.conn.once('close', r); });
    });
    this.writes = next.catch(() => undefined);
    return next;
  }

  private async handle(f: Frame): Promise<void> {
    if (this.ended) return;
    if (!f.control) {
      const s = this.streams.get(f.streamId);
      if (!s || s.remoteClosed) { await this.reset(f.streamId, RstStatus.INVALID_STREAM); return; }
      if (f.data.length) {
        s.push(f.data);
        await this.write(controlFrame(FrameType.WINDOW_UPDATE, 0, u32(f.streamId, f.data.length)));
      }
      if (f.flags & FLAG_FIN) { s.remoteClosed = true; s.push(null); this.maybeForget(s); }
      return;
    }
    switch (f.type) {
      case FrameType.SYN_STREAM: {
        const id = f.data.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.inflate.run(f.data.subarray(10)));
        if (this.streams.has(id)) { await this.reset(id, RstStatus.PROTOCOL_ERROR); return; }
        const s = new SpdyStream(id, headers, this);
        this.streams.set(id, s);
        const block = this.deflate.run(encodeHeaderBlock({}));
        await this.write(block.then((b) => controlFrame(FrameType.SYN_REPLY, 0, Buffer.concat([u32(id), b]))));
        if (f.flags & FLAG_FIN) { s.remoteClosed = true; s.push(null); }
        this.onStream(s);
        return;
      }
      case FrameType.SYN_REPLY: {
        const id = f.data.readUInt32BE(0) & 0x7fffffff;
        await this.inflate.run(f.data.subarray(4)); // keeps the shared context in step
        this.awaitingReply.get(id)?.resolve();
        this.awaitingReply.delete(id);
        return;
      }
      case FrameType.HEADERS:
        // Keep the shared inflate context in step even though the headers are unused.
        await this.inflate.run(f.data.subarray(4));
        return;
      case FrameType.RST_STREAM: {
        const s = this.streams.get(f.data.readUInt32BE(0) & 0x7fffffff);
        if (s) { s.localClosed = true; s.remoteClosed = true; this.streams.delete(s.id); s.destroy(); }
        const id = f.data.readUInt32BE(0) & 0x7fffffff;
        this.awaitingReply.get(id)?.reject(new Error(`stream ${id} refused with RST_STREAM status ${f.data.readUInt32BE(4)}`));
        this.awaitingReply.delete(id);
        return;
      }
      case FrameType.PING:
        await this.write(controlFrame(FrameType.PING, 0, f.data.subarray(0, 4)));
        return;
      case FrameType.GOAWAY:
        this.shutdown();
        this.conn.end();
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE, unknown: ignored
    }
  }

  /** DATA for a stream, split into frames of at most 32 KiB; FIN with `fin`. */
  async sendData(streamId: number, data: Buffer, fin: boolean): Promise<void> {
    const MAX = 32 * 1024;
    for (let off = 0; off < data.length || (fin && off === 0); off += MAX) {
      const piece = data.subarray(off, off + MAX);
      const last = off + MAX >= data.length;
      await this.write(dataFrame(streamId, fin && last ? FLAG_FIN : 0, piece));
      if (data.length === 0) break;
    }
  }

  reset(streamId: number, status: number): Promise<void> {
    const s = this.streams.get(streamId);
    if (s) this.streams.delete(streamId);
    return this.write(controlFrame(FrameType.RST_STREAM, 0, u32(streamId, status)));
  }

  maybeForget(s: SpdyStream): void {
    if (s.localClosed && s.remoteClosed) this.streams.delete(s.id);
  }

  /**
   * Client side: opens a stream with `headers` (SYN_STREAM) and resolves once the peer
   * accepts it (SYN_REPLY); rejects on RST_STREAM or the end of the session.
   */
  async openStream(headers: Record<string, string>): Promise<SpdyStream> {
    if (this.ended) throw new Error('SPDY session has ended');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const s = new SpdyStream(id, headers, this);
    this.streams.set(id, s);
    const accepted = new Promise<void>((resolve, reject) => this.awaitingReply.set(id, { resolve, reject }));
    // Compress now, in call order: the deflate context must see blocks in the order they are sent.
    const block = this.deflate.run(encodeHeaderBlock(headers));
    await this.write(block.then((b) => controlFrame(FrameType.SYN_STREAM, 0, Buffer.concat([u32(id, 0), Buffer.from([0, 0]), b]))));
    await accepted;
    return s;
  }

  /** GOAWAY and close the connection. */
  async close(): Promise<void> {
    if (this.ended) return;
    await this.write(controlFrame(FrameType.GOAWAY, 0, u32(0, 0)));
    this.shutdown();
    this.conn.end();
  }
}
