/**
 * Storage on etcd v3 (the `etcd3` client). Keys are stored as JSON values; an object's
 * resourceVersion is the key's mod_revision. Every write is a compare-and-swap transaction,
 * so a write is acknowledged only once etcd committed it.
 */
import { Etcd3, GRPCUnavailableError, GRPCDeadlineExceededError, type IKeyValue, type IRequestOp, type Watcher, type IOptions } from 'etcd3';
import type { KubeObject, StoredObject } from '@tskube/api';
import { mutableMeta } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type {
  DeleteOptions, GetOptions, ListOptions, ListResult, Storage, StorageWatch, TryUpdate, UpdateOptions, WatchOptions,
} from './interface.js';
import { StorageError, exists, notFound, isStorageError } from './errors.js';
import {
  EventQueue, checkPreconditions, copyJson, decode, decodeContinue, encode, encodeContinue, filterEvent, parseRevision, sameContent,
} from './util.js';

export interface EtcdStorageOptions {
  /** e.g. ['http://127.0.0.1:2379'] */
  endpoints: string[];
  logger: Logger;
  /** Deadline for each unary call (ms). */
  callTimeoutMs?: number;
  /** etcd's default request size limit is 1.5 MiB. */
  maxValueBytes?: number;
}

const DEFAULT_MAX_VALUE = 1.5 * 1024 * 1024;

/** The first key after every key with this prefix (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) { const out = Buffer.from(b.subarray(0, i + 1)); out[i] = b[i]! + 1; return out; }
  }
  return Buffer.from([0]);
}

function rev(s: string | number): number { return Number(s); }

/** Marks an error as the caller's own, so that wrap() does not translate it. */
class CallbackError extends Error {
  constructor(override readonly cause: unknown) { super('callback failed'); }
}

async function callback<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new CallbackError(e);
  }
}

export class EtcdStorage implements Storage {
  private readonly client: Etcd3;
  private readonly log: Logger;
  private readonly maxValue: number;
  /** Leases are shared by writes with a TTL granted within the same minute (like upstream's lease manager). */
  private lease: { id: string; grantedAt: number; ttl: number } | null = null;

  constructor(opts: EtcdStorageOptions) {
    const timeout = opts.callTimeoutMs ?? 10_000;
    const options: IOptions = {
      hosts: opts.endpoints,
      dialTimeout: 5_000,
      // A list of every pod is one range response of many MiB; grpc-js refuses more than
      // 4 MiB by default. Upstream's etcd client lifts the limit the same way.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    };
    this.client = new Etcd3(options);
    this.log = opts.logger;
    this.maxValue = opts.maxValueBytes ?? DEFAULT_MAX_VALUE;
  }

  /**
   * Translates client errors into the storage vocabulary (design habit 4). Errors thrown by
   * callers' callbacks (tryUpdate, validateDeletion) pass through untouched.
   */
  private wrap(key: string, e: unknown): unknown {
    if (e instanceof CallbackError) return e.cause;
    if (isStorageError(e)) return e;
    const msg = e instanceof Error ? e.message : String(e);
    if (/required revision has been compacted/.test(msg)) return new StorageError('Expired', key, msg);
    // A watch that etcd cancels (compaction overtook it) must be restarted from a fresh list.
    if (/Watcher canceled/.test(msg)) return new StorageError('Expired', key, msg);
    if (/required revision is a future revision/.test(msg)) return new StorageError('InvalidArgument', key, 'Too large resource version');
    // etcd refusing a write over its request size limit (--max-request-bytes)
    if (/request is too large/i.test(msg)) return new StorageError('TooLarge', key, msg);
    if (e instanceof GRPCUnavailableError || e instanceof GRPCDeadlineExceededError || /unavailable|deadline|ECONNREFUSED|No connection established|circuit/i.test(msg)) {
      return new StorageError('Unreachable', key, `etcd is unreachable: ${msg}`);
    }
    return new StorageError('Internal', key, msg);
  }

  private checkSize(key: string, data: string): void {
    if (Buffer.byteLength(data) > this.maxValue) {
      throw new StorageError('TooLarge', key, `object is ${Buffer.byteLength(data)} bytes; etcd accepts at most ${this.maxValue}`);
    }
  }

  private async leaseFor(ttlSeconds: number): Promise<string> {
    const now = Date.now();
    if (this.lease && now - this.lease.grantedAt < 60_000 && this.lease.ttl >= ttlSeconds) return this.lease.id;
    // The extra minute covers writes that reuse the lease during that minute.
    const l = this.client.lease(ttlSeconds + 60, { autoKeepAlive: false });
    const id = await l.grant();
    this.lease = { id, grantedAt: now, ttl: ttlSeconds };
    return id;
  }

  private async putOp(key: string, obj: KubeObject, ttlSeconds?: number): Promise<IRequestOp> {
    const data = encode(obj);
    this.checkSize(key, data);
    const lease = ttlSeconds ? await this.leaseFor(ttlSeconds) : undefined;
    return { request_put: { key: Buffer.from(key), value: Buffer.from(data), ...(lease ? { lease } : {}) } };
  }

  async create(key: string, obj: KubeObject, opts: { ttlSeconds?: number } = {}): Promise<StoredObject> {
    try {
      const put = await this.putOp(key, obj, opts.ttlSeconds);
      const res = await this.client.if(key, 'Create', '==', 0).then(put).commit();
      if (!res.succeeded) throw exists(key);
      const out = copyJson(obj) as StoredObject;
      mutableMeta(out).resourceVersion = String(rev(res.header.revision));
      return out;
    } catch (e) {
      throw this.wrap(key, e);
    }
  }

  private async getKv(key: string, revision?: number): Promise<{ kv: IKeyValue | undefined; header: number }> {
    const b = this.client.get(key);
    if (revision) b.revision(revision);
    const res = await b.exec();
    return { kv: res.kvs[0], header: rev(res.header.revision) };
  }

  async get(key: string, opts: GetOptions = {}): Promise<StoredObject> {
    try {
      parseRevision(key, opts.resourceVersion);
      const { kv } = await this.getKv(key);
      if (!kv) throw notFound(key);
      return decode(key, kv.value, rev(kv.mod_revision));
    } catch (e) {
      throw this.wrap(key, e);
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    try {
      let startKey = prefix;
      let revision: number | undefined;
      if (opts.continue) {
        const c = decodeContinue(prefix, opts.continue);
        startKey = c.startKey;
        revision = c.rv;
      } else if (opts.resourceVersionMatch === 'Exact') {
        revision = parseRevision(prefix, opts.resourceVersion);
        if (!revision) throw new StorageError('InvalidArgument', prefix, 'resourceVersionMatch=Exact needs a resourceVersion');
      } else {
        parseRevision(prefix, opts.resourceVersion);
      }
      const end = prefixEnd(prefix);
      const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
      const items: StoredObject[] = [];
      const keys: string[] = [];
      let readRev = revision;
      let more = false;
      let lastKey = '';
      let remaining: number | undefined;
      // With a predicate, keep reading pages until `limit` matches were found (upstream does too).
      for (;;) {
        const b = this.client.getAll().inRange({ start: Buffer.from(startKey), end });
        if (readRev) b.revision(readRev);
        if (limit) b.limit(limit);
        const res = await b.exec();
        readRev ??= rev(res.header.revision);
        more = res.more;
        let consumed = 0;
        for (const kv of res.kvs) {
          consumed++;
          lastKey = kv.key.toString();
          const obj = decode(lastKey, kv.value, rev(kv.mod_revision));
          if (!opts.predicate || opts.predicate(obj)) { items.push(obj); keys.push(lastKey); }
          if (limit && items.length >= limit) break;
        }
        if (consumed < res.kvs.length) more = true;
        if (!opts.predicate && limit) remaining = Number(res.count) - consumed;
        if (!limit || items.length >= limit || !more) break;
        startKey = lastKey + '\x00';
      }
      const out: ListResult = { items, keys, resourceVersion: String(readRev) };
      if (limit && more) {
        out.continue = encodeContinue(readRev, (lastKey + '\x00').slice(prefix.length));
        if (remaining !== undefined && remaining > 0) out.remainingItemCount = remaining;
      }
      return out;
    } catch (e) {
      throw this.wrap(prefix, e);
    }
  }

  async guaranteedUpdate(key: string, tryUpdate: TryUpdate, opts: UpdateOptions = {}): Promise<StoredObject> {
    try {
      for (;;) {
        const { kv } = await this.getKv(key);
        const current = kv ? decode(key, kv.value, rev(kv.mod_revision)) : null;
        if (!current && !opts.ignoreNotFound) throw notFound(key);
        if (current) checkPreconditions(key, opts.preconditions, current);
        const next = await callback(() => tryUpdate(current ? copyJson(current) : null));
        if (current && sameContent(next, current)) return current;
        const put = await this.putOp(key, next, opts.ttlSeconds);
        const cmp = current ? this.client.if(key, 'Mod', '==', rev(kv!.mod_revision)) : this.client.if(key, 'Create', '==', 0);
        const res = await cmp.then(put).commit();
        if (!res.succeeded) continue; // changed underneath: recompute from the fresh state
        const out = copyJson(next) as StoredObject;
        mutableMeta(out).resourceVersion = String(rev(res.header.revision));
        return out;
      }
    } catch (e) {
      throw this.wrap(key, e);
    }
  }

  async delete(key: string, opts: DeleteOptions = {}): Promise<StoredObject> {
    try {
      for (;;) {
        const { kv } = await this.getKv(key);
        if (!kv) throw notFound(key);
        const current = decode(key, kv.value, rev(kv.mod_revision));
        checkPreconditions(key, opts.preconditions, current);
        if (opts.validateDeletion) { const v = opts.validateDeletion; await callback(() => v(current)); }
        const res = await this.client.if(key, 'Mod', '==', rev(kv.mod_revision))
          .then({ request_delete_range: { key: Buffer.from(key) } }).commit();
        if (!res.succeeded) continue;
        mutableMeta(current).resourceVersion = String(rev(res.header.revision));
        return current;
      }
    } catch (e) {
      throw this.wrap(key, e);
    }
  }

  async watch(prefix: string, opts: WatchOptions = {}): Promise<StorageWatch> {
    const q = new EventQueue();
    let startRev: number;
    try {
      const fromRev = parseRevision(prefix, opts.resourceVersion);
      if (!fromRev) {
        // "Get state and start at most recent": the current objects as ADDED, then changes.
        const exact = !prefix.endsWith('/');
        const b = exact ? this.client.getAll().inRange({ start: Buffer.from(prefix), end: Buffer.from(prefix + '\x00') })
          : this.client.getAll().inRange({ start: Buffer.from(prefix), end: prefixEnd(prefix) });
        const res = await b.exec();
        for (const kv of res.kvs) {
          const key = kv.key.toString();
          const obj = decode(key, kv.value, rev(kv.mod_revision));
          if (!opts.predicate || opts.predicate(obj)) q.push({ type: 'ADDED', object: obj, key });
        }
        startRev = rev(res.header.revision) + 1;
      } else {
        startRev = fromRev + 1;
        // etcd cancels a watch below the compacted revision without a usable reason; probe
        // with a read at that revision so the caller gets a clear Expired (410) up front.
        await this.client.get(prefix).revision(fromRev).exec().catch((e: unknown) => {
          // A revision from the future is fine for a watch: it just waits for it.
          if (!/future revision/.test(String(e))) throw e;
        });
      }
    } catch (e) {
      throw this.wrap(prefix, e);
    }
    const builder = this.client.watch().withPreviousKV().startRevision(String(startRev));
    if (prefix.endsWith('/')) builder.prefix(prefix); else builder.key(prefix);
    let watcher: Watcher;
    try {
      watcher = await builder.create();
    } catch (e) {
      throw this.wrap(prefix, e);
    }
    const onKv = (type: 'put' | 'delete') => (kv: IKeyValue, prev?: IKeyValue) => {
      try {
        const key = kv.key.toString();
        if (type === 'delete') {
          if (!prev) return; // a delete of a key whose previous value was compacted: nothing to show
          const last = decode(key, prev.value, rev(kv.mod_revision));
          const ev = filterEvent('delete', last, undefined, opts.predicate);
          if (ev) q.push({ ...ev, key });
          return;
        }
        const obj = decode(key, kv.value, rev(kv.mod_revision));
        const isCreate = kv.create_revision === kv.mod_revision;
        const before = !isCreate && prev ? decode(key, prev.value, rev(prev.mod_revision)) : undefined;
        const ev = filterEvent('put', obj, before, opts.predicate);
        if (ev) q.push({ ...ev, type: isCreate && ev.type === 'MODIFIED' ? 'ADDED' : ev.type, key });
      } catch (e) {
        this.log.error('cannot decode watch event', { prefix, err: e });
      }
    };
    watcher.on('put', onKv('put'));
    watcher.on('delete', onKv('delete'));
    if (opts.allowBookmarks) {
      // A response without events is an etcd progress notification (the client asks for them
      // on every watch): etcd sends it only to a watcher that has been sent every event up to
      // header.revision, through the same channel as the events, so it is a safe bookmark.
      watcher.on('data', (res: { events: unknown[]; header: { revision: string } }) => {
        if (res.events.length === 0) q.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(rev(res.header.revision)) } } });
      });
    }
    watcher.on('error', (err: Error) => {
      q.end(this.wrap(prefix, err));
      void watcher.cancel().catch(() => undefined);
    });
    watcher.on('end', () => q.end());
    q.setOnStop(() => { void watcher.cancel().catch(() => undefined); });
    return q;
  }

  async currentRevision(): Promise<number> {
    try {
      const res = await this.client.get('/__tskube_revision_probe').exec();
      return rev(res.header.revision);
    } catch (e) {
      throw this.wrap('', e);
    }
  }

  async ping(): Promise<void> {
    await this.currentRevision();
  }

  /** Test helper: compacts history up to `revision` (what etcd's auto-compaction does). */
  async compact(revision: number): Promise<void> {
    await this.client.kv.compact({ revision: String(revision), physical: true });
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
