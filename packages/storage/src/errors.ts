/**
 * Storage errors: a closed set of codes (design habit 4). The apiserver's store turns them
 * into API Status errors; nothing above storage looks at etcd's own errors.
 */
export type StorageErrorCode =
  | 'KeyNotFound'
  | 'KeyExists'
  /** A precondition (uid or resourceVersion) did not hold. */
  | 'Conflict'
  /** The requested revision was compacted away (410). */
  | 'Expired'
  /** A continue token or resourceVersion that cannot be parsed. */
  | 'InvalidArgument'
  /**
   * A read asked for a revision newer than the (cached) store has seen, and waiting did not
   * help (upstream's "Too large resource version": 504 with a retry hint).
   */
  | 'ResourceVersionTooLarge'
  /** The backend cannot be reached (503). */
  | 'Unreachable'
  /** The value is larger than the backend accepts. */
  | 'TooLarge'
  | 'Internal';

export class StorageError extends Error {
  constructor(readonly code: StorageErrorCode, readonly key: string, message: string) {
    super(message);
    this.name = 'StorageError';
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

export const notFound = (key: string) => new StorageError('KeyNotFound', key, `key not found: ${key}`);
export const exists = (key: string) => new StorageError('KeyExists', key, `key exists: ${key}`);
export const expired = (key: string, rev: number, compacted: number) =>
  new StorageError('Expired', key, `too old resource version: ${rev} (${compacted})`);
export const tooLargeResourceVersion = (key: string, wanted: number, current: number) =>
  new StorageError('ResourceVersionTooLarge', key, `Too large resource version: ${wanted}, current: ${current}`);
