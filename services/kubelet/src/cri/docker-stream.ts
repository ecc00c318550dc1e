/**
 * Docker's multiplexed stdout/stderr stream format (logs and exec of containers without a
 * TTY): frames of an 8-byte header — stream type (1 stdout, 2 stderr), three zero bytes,
 * big-endian uint32 payload length — followed by the payload.
 *
 * Hand-written rather than docker-modem's demuxStream because that one splits the frames
 * into two separate writable streams, which loses the order between stdout and stderr and
 * which stream each chunk came from; readLogs needs both.
 */
import type { LogStream } from './proto.js';

export interface Frame { stream: LogStream; data: Buffer }

const HEADER = 8;

/** Decodes a multiplexed stream into frames, in order. A truncated trailing frame is dropped. */
export async function* demuxFrames(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<Frame> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= HEADER) {
      const size = buf.readUInt32BE(4);
      if (buf.length < HEADER + size) break;
      const type = buf[0];
      const data = buf.subarray(HEADER, HEADER + size);
      buf = buf.subarray(HEADER + size);
      // Type 0 (stdin echo) is not output; anything else unknown is treated as stdout.
      if (type === 0 || size === 0) continue;
      yield { stream: type === 2 ? 'stderr' : 'stdout', data: Buffer.from(data) };
    }
  }
}

/** A raw (TTY) stream: everything is stdout. */
export async function* rawFrames(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<Frame> {
  for await (const piece of source) {
    const data = typeof piece === 'string' ? Buffer.from(piece) : piece;
    if (data.length > 0) yield { stream: 'stdout', data };
  }
}

/** Encodes one frame (for tests and fakes of the Docker API). */
export function encodeFrame(stream: LogStream, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const header = Buffer.alloc(HEADER);
  header[0] = stream === 'stderr' ? 2 : 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
