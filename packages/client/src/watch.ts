/**
 * Watch streams. The wire format is newline-delimited JSON events
 * (`{"type":"ADDED","object":{…}}\n`); chunk boundaries may fall anywhere, even inside a
 * multi-byte UTF-8 character.
 *
 * A `WatchStream` is an async iterable of ADDED / MODIFIED / DELETED / BOOKMARK events. An
 * ERROR event ends it by throwing an `ApiError` built from the event's Status; for an
 * expired resourceVersion (code 410) `isExpired(err)` is true, the same as for a watch
 * request answered with HTTP 410. The stream ends normally when the server closes it
 * (timeoutSeconds, shutdown) or after `close()`.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { ApiError, isObject, type WatchEvent, type WatchEventType } from '@tskube/api';
import { apiErrorFromStatus, isStatus } from './errors.js';

export type ObjectEventType = Exclude<WatchEventType, 'ERROR'>;

/** What a `WatchStream` yields. BOOKMARK objects carry only kind, apiVersion and metadata.resourceVersion. */
export interface WatchObjectEvent<T> {
  type: ObjectEventType;
  object: T;
}

/**
 * One watch. Iterate it once; `close()` is idempotent and makes a pending or later
 * iteration finish without an error.
 */
export interface WatchStream<T> extends AsyncIterable<WatchObjectEvent<T>> {
  close(): void;
}

const EVENT_TYPES: ReadonlySet<string> = new Set<WatchEventType>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/**
 * Incremental decoder of the watch wire format. `push` returns the events completed by a
 * chunk, `end` the last one if the stream did not end with a newline. Throws on a line that
 * is not a watch event. Hand-written rather than `readline` so it is a pure push parser
 * (testable chunk by chunk, no extra async hop).
 */
export class WatchDecoder {
  private readonly utf8 = new StringDecoder('utf8');
  private pending = '';

  push(chunk: Buffer | string): WatchEvent<unknown>[] {
    this.pending += typeof chunk === 'string' ? chunk : this.utf8.write(chunk);
    const out: WatchEvent<unknown>[] = [];
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      const ev = parseLine(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  end(): WatchEvent<unknown>[] {
    const rest = this.pending + this.utf8.end();
    this.pending = '';
    const ev = parseLine(rest);
    return ev ? [ev] : [];
  }
}

function parseLine(line: string): WatchEvent<unknown> | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`invalid watch event (not JSON: ${(e as Error).message}): ${text.slice(0, 200)}`);
  }
  if (!isObject(v) || typeof v.type !== 'string' || !EVENT_TYPES.has(v.type) || !isObject(v.object)) {
    throw new Error(`invalid watch event (want {"type","object"}): ${text.slice(0, 200)}`);
  }
  return { type: v.type as WatchEventType, object: v.object };
}

/** The object event for `ev`, or the `ApiError` an ERROR event stands for (thrown). */
export function toObjectEvent<T>(ev: WatchEvent<unknown>): WatchObjectEvent<T> {
  if (ev.type === 'ERROR') {
    if (isStatus(ev.object)) throw apiErrorFromStatus(ev.object);
    throw new ApiError(500, 'InternalError', `watch ERROR event without a Status: ${JSON.stringify(ev.object).slice(0, 200)}`);
  }
  return { type: ev.type, object: ev.object as T };
}

/**
 * A WatchStream over an HTTP response body. `abort` tears the request down (called on
 * close, on error and when iteration stops early).
 */
export function watchStreamFromReadable<T>(body: Readable, abort: () => void): WatchStream<T> {
  let closed = false;
  let iterated = false;
  async function* events(): AsyncGenerator<WatchObjectEvent<T>> {
    const dec = new WatchDecoder();
    try {
      for await (const chunk of body as AsyncIterable<Buffer | string>) {
        if (closed) return;
        for (const ev of dec.push(chunk)) yield toObjectEvent<T>(ev);
      }
      if (closed) return;
      for (const ev of dec.end()) yield toObjectEvent<T>(ev);
    } catch (e) {
      if (closed) return;
      throw e;
    } finally {
      abort();
    }
  }
  return {
    [Symbol.asyncIterator]() {
      if (iterated) throw new Error('a watch stream can be iterated only once');
      iterated = true;
      return events();
    },
    close() {
      if (closed) return;
      closed = true;
      abort();
      body.destroy();
    },
  };
}

/**
 * An in-memory WatchStream fed by `push` (the fake client and tests use it). Events are
 * buffered until read. `fail(err)` makes iteration throw `err` after the buffered events.
 */
export class PushWatchStream<T> implements WatchStream<T> {
  private readonly buf: WatchObjectEvent<T>[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private failure: unknown;
  private closed = false;

  /** `onClose` runs once, when the consumer closes or stops iterating. */
  constructor(private readonly onClose?: () => void) {}

  /** Queues an event; an ERROR event becomes `fail(ApiError)`. Ignored after end/close. */
  push(ev: WatchEvent<T> | WatchObjectEvent<T>): void {
    if (this.ended || this.closed) return;
    if (ev.type === 'ERROR') {
      try { toObjectEvent(ev as WatchEvent<unknown>); } catch (e) { this.fail(e); }
      return;
    }
    this.buf.push({ type: ev.type, object: ev.object });
    this.wake();
  }

  /** Ends the stream with an error (after the buffered events). */
  fail(err: unknown): void {
    if (this.ended || this.closed) return;
    this.failure = err ?? new Error('watch failed');
    this.ended = true;
    this.wake();
  }

  /** Ends the stream normally (after the buffered events), as a server closing it would. */
  end(): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    this.wake();
  }

  get isClosed(): boolean { return this.closed || this.ended; }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buf.length = 0;
    this.wake();
    this.onClose?.();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchObjectEvent<T>> {
    try {
      for (;;) {
        if (this.closed) return;
        const ev = this.buf.shift();
        if (ev) { yield ev; continue; }
        if (this.ended) {
          if (this.failure !== undefined) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => { this.waiter = resolve; });
      }
    } finally {
      this.close();
    }
  }
}
