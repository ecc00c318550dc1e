/**
 * The storage seam (design habit 9): a key/value store of API objects with optimistic
 * concurrency, modelled on k8s.io/apiserver/pkg/storage.Interface. Implementations: etcd
 * (production) and memory (unit tests); both pass ./conformance.ts.
 *
 * resourceVersion is the store's revision at which the object was last written (etcd's
 * mod_revision), set on every object handed out; values are stored without it.
 */
import type { KubeObject, StoredObject } from '@tskube/api';

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

/** Filters objects in list and watch; `fields` of the object are the resource's to compute. */
export type Predicate = (obj: StoredObject) => boolean;

export interface GetOptions {
  /**
   * undefined/'': the latest (quorum read). '0': any state is fine (a cache may answer).
   * 'N': at least as fresh as revision N (a cache may answer once it has seen N).
   */
  resourceVersion?: string;
}

export interface ListOptions {
  /**
   * undefined/'': the latest state (quorum read). '0': any state is fine (a cache may answer).
   * 'N' with match 'Exact': the state at revision N. 'N' (NotOlderThan): at least N.
   */
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  /** Page size; 0/undefined: everything. */
  limit?: number;
  /** Opaque token from a previous page: pins the revision of the first page. */
  continue?: string;
  predicate?: Predicate;
}

export interface ListResult {
  items: StoredObject[];
  /** The storage key of each item (`keys[i]` belongs to `items[i]`), when the implementation knows them. */
  keys?: string[];
  /** Revision the list reflects. */
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export type StorageEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface StorageEvent {
  type: StorageEventType;
  /**
   * For DELETED: the last state, with resourceVersion = the deletion revision. For BOOKMARK:
   * only metadata.resourceVersion, the revision up to which the watcher has seen everything.
   */
  object: StoredObject;
  /** The storage key the event is about (not set on BOOKMARK), when the implementation knows it. */
  key?: string;
}

/** A running watch. `next()` resolves null once the watch ended (stop, or the source closed). */
export interface StorageWatch extends AsyncIterable<StorageEvent> {
  next(): Promise<StorageEvent | null>;
  stop(): void;
  /** Resolves when the watch ends; rejects with the StorageError that ended it, if any. */
  readonly done: Promise<void>;
}

export interface WatchOptions {
  /**
   * The watcher accepts BOOKMARK events (implementations may send none). A BOOKMARK carries a
   * revision up to which the watcher has received every event it is due, so it is safe to
   * resume from.
   */
  allowBookmarks?: boolean;
  /**
   * When the caller will end the watch (ms since the epoch). With allowBookmarks, an
   * implementation may send a last BOOKMARK shortly before it, as upstream's cacher does.
   */
  deadline?: number;
  /**
   * undefined/'' or '0': first an ADDED event for every current object (that matches), then
   * every change after that state. 'N': every change after revision N, no initial events.
   */
  resourceVersion?: string;
  predicate?: Predicate;
}

export interface UpdateOptions {
  preconditions?: Preconditions;
  /** When the key does not exist, call tryUpdate with null (PUT/apply that creates). */
  ignoreNotFound?: boolean;
  /** Give the new value a TTL (events). */
  ttlSeconds?: number;
}

export interface DeleteOptions {
  preconditions?: Preconditions;
  /** Runs against the current object right before the delete; throw to refuse. May run more than once. */
  validateDeletion?: (current: StoredObject) => void | Promise<void>;
}

/**
 * Computes the next state from the current one. Must be pure: it runs again when the object
 * changed underneath (optimistic concurrency). Return the current object unchanged to skip the write.
 */
export type TryUpdate = (current: StoredObject | null) => KubeObject | Promise<KubeObject>;

export interface Storage {
  /** Fails with KeyExists if the key exists. */
  create(key: string, obj: KubeObject, opts?: { ttlSeconds?: number }): Promise<StoredObject>;
  /** Fails with KeyNotFound. */
  get(key: string, opts?: GetOptions): Promise<StoredObject>;
  /** Objects under `prefix` (which must end with '/'), ordered by key. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Read-modify-write with retries on concurrent change (see TryUpdate). */
  guaranteedUpdate(key: string, tryUpdate: TryUpdate, opts?: UpdateOptions): Promise<StoredObject>;
  /** Removes the key and returns its last state. Fails with KeyNotFound. */
  delete(key: string, opts?: DeleteOptions): Promise<StoredObject>;
  /** Watches keys under `prefix` (ending with '/') or one exact key. */
  watch(prefix: string, opts?: WatchOptions): Promise<StorageWatch>;
  /** The latest revision of the whole store. */
  currentRevision(): Promise<number>;
  /** Resolves when the backend answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
