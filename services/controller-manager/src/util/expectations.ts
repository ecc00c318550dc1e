/**
 * Controller expectations (upstream pkg/controller ControllerExpectations and
 * UIDTrackingControllerExpectations).
 *
 * A controller that creates or deletes children records how many creations (and which
 * deletions, by child key) it expects to observe before it trusts its informer cache again.
 * Informer event handlers report what they observe; until every expected event arrived (or
 * the record is older than the TTL, 5 minutes upstream) `satisfied(key)` is false and the
 * controller must not act on the cache, which may not show its own writes yet. This is what
 * stops a slow watch from causing duplicate pods.
 *
 * Event handlers mutate this bookkeeping directly (the one sanctioned exception to "handlers
 * only enqueue keys", as upstream): it records observations, never decisions.
 */

interface Record {
  add: number;
  del: number;
  /** Child keys whose deletion is expected. */
  deleting: Set<string>;
  /** When the expectations were set (ms, from the injected clock). */
  at: number;
}

export interface ExpectationsOptions {
  /** Clock in ms. */
  now?: () => number;
  /** Records older than this count as satisfied (upstream ExpectationsTimeout: 5 min). */
  ttlMs?: number;
}

export class Expectations {
  private readonly records = new Map<string, Record>();
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(opts: ExpectationsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.ttlMs = opts.ttlMs ?? 5 * 60_000;
  }

  /**
   * True when the controller may act on its cache for `key`: there is no record, every
   * expected creation and deletion has been observed, or the record expired.
   */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.now() - r.at > this.ttlMs;
  }

  /** Replaces the record: `count` creations expected, no deletions. */
  expectCreations(key: string, count: number): void {
    this.records.set(key, { add: count, del: 0, deleting: new Set(), at: this.now() });
  }

  /** Replaces the record: the deletion of each of `childKeys` is expected, no creations. */
  expectDeletions(key: string, childKeys: readonly string[]): void {
    this.records.set(key, { add: 0, del: childKeys.length, deleting: new Set(childKeys), at: this.now() });
  }

  /**
   * Replaces the record: `add` creations and the deletion of each of `childKeys` expected
   * (upstream SetExpectations, for controllers that create and delete in one round: DaemonSet).
   */
  expect(key: string, add: number, childKeys: readonly string[]): void {
    this.records.set(key, { add, del: childKeys.length, deleting: new Set(childKeys), at: this.now() });
  }

  /** One expected creation happened (or will never happen: a create that failed). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r) r.add--;
  }

  /** `childKey` is gone (or being deleted); counts only if its deletion was expected, and only once. */
  deletionObserved(key: string, childKey: string): void {
    const r = this.records.get(key);
    if (r && r.deleting.delete(childKey)) r.del--;
  }

  /** Forgets `key` (its owner was deleted). */
  delete(key: string): void {
    this.records.delete(key);
  }

  /** The pending counts, for logs and tests. */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.records.get(key);
    return r ? { add: r.add, del: r.del } : undefined;
  }
}
