/**
 * Event recorder (client-go tools/record, legacy core/v1 Events).
 *
 * `event(obj, type, reason, message)` never blocks and never throws: the event is queued and
 * written in the background, in order. A repeat of the same (involved object, type, reason,
 * message) within 10 minutes of the first occurrence PATCHes the existing Event (count + 1,
 * lastTimestamp) instead of creating a new one; if that Event is gone, a new one is created.
 * Write failures are logged once per event and dropped. `flush()` waits until everything
 * queued so far is written (tests, shutdown).
 */
import type { Event, ObjectReference } from '@tskube/api';
import { isApiError, rfc3339 } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { Client } from './client.js';
import { Resources, type ApiObject, type DeepReadonly } from './types.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /**
   * Records an event about `obj` (which needs kind, apiVersion and metadata.name; informer
   * and client objects have them). Cluster-scoped objects get their events in "default".
   */
  event(obj: ApiObject | DeepReadonly<ApiObject>, type: EventType, reason: string, message: string, opts?: EventOptions): void;
  /** Resolves when every event recorded so far has been written (or failed). */
  flush(): Promise<void>;
}

/** Per-event extras. */
export interface EventOptions {
  /**
   * involvedObject.fieldPath: the part of the object the event is about, e.g. the kubelet's
   * `spec.containers{web}`. Part of the aggregation key.
   */
  fieldPath?: string;
}

export interface EventRecorderOptions {
  client: Client;
  /** source.component and reportingComponent, e.g. "default-scheduler", "kubelet". */
  component: string;
  /** source.host (kubelets set their node name). */
  host?: string;
  /** reportingInstance; default `host` or the component. */
  instance?: string;
  logger: Logger;
  /** Aggregation window; default 10 minutes. */
  aggregateWindowMs?: number;
  /** Queue bound; events beyond it are dropped (logged once per burst). Default 1000. */
  maxQueued?: number;
  /** Event writes in flight at once (default 8). */
  writers?: number;
  now?: () => Date;
}

interface Pending {
  /** Aggregation key: events with the same key become one Event with a count. */
  key: string;
  ref: ObjectReference;
  type: EventType;
  reason: string;
  message: string;
  at: Date;
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
  firstAt: number;
}

export function createEventRecorder(opts: EventRecorderOptions): EventRecorder {
  return new Recorder(opts);
}

const MAX_MESSAGE = 1024;

class Recorder implements EventRecorder {
  private readonly queue: Pending[] = [];
  private readonly seen = new Map<string, Seen>();
  private draining: Promise<void> | undefined;
  private lastNanos = 0n;
  private droppedLogged = false;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly window: number;

  constructor(private readonly opts: EventRecorderOptions) {
    this.log = opts.logger.child({ recorder: opts.component });
    this.now = opts.now ?? (() => new Date());
    this.window = opts.aggregateWindowMs ?? 10 * 60 * 1000;
  }

  event(obj: ApiObject | DeepReadonly<ApiObject>, type: EventType, reason: string, message: string, opts?: EventOptions): void {
    try {
      const m = obj.metadata;
      if (!m?.name) {
        this.log.warn('event dropped: object has no name', { reason });
        return;
      }
      const ref: ObjectReference = {
        apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, namespace: m.namespace,
        uid: m.uid, resourceVersion: m.resourceVersion,
        ...(opts?.fieldPath ? { fieldPath: opts.fieldPath } : {}),
      };
      if (this.queue.length >= (this.opts.maxQueued ?? 1000)) {
        if (!this.droppedLogged) this.log.warn('event queue full, dropping events', { reason, object: m.name });
        this.droppedLogged = true;
        return;
      }
      this.droppedLogged = false;
      const msg = message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE) : message;
      const key = JSON.stringify([ref.apiVersion, ref.kind, ref.namespace, ref.name, ref.uid, ref.fieldPath, type, reason, msg]);
      this.queue.push({ key, ref, type, reason, message: msg, at: this.now() });
      this.draining ??= this.drain();
    } catch (e) {
      this.log.error('event dropped', { err: e, reason });
    }
  }

  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Writes queued events with up to `writers` requests in flight (one at a time was too slow
   * for a scheduler's burst of FailedScheduling events: the queue filled and events were
   * dropped). Events with the same aggregation key are written in order, never concurrently, so
   * the count patch of a repeat always finds the Event its first occurrence created.
   */
  private async drain(): Promise<void> {
    // Start on a later turn: the caller (often an informer handler or reconcile) is not delayed at all.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const inFlight = new Set<string>();
    const writer = async (): Promise<void> => {
      for (;;) {
        const i = this.queue.findIndex((q) => !inFlight.has(q.key));
        if (i < 0) return;
        const [p] = this.queue.splice(i, 1);
        inFlight.add(p!.key);
        try {
          await this.write(p!);
        } catch (e) {
          this.log.warn('event write failed', {
            err: e, reason: p!.reason, object: `${p!.ref.namespace ? `${p!.ref.namespace}/` : ''}${p!.ref.name}`, kind: p!.ref.kind,
          });
        } finally {
          inFlight.delete(p!.key);
        }
      }
    };
    try {
      // Writers that found only in-flight keys exit; loop until the queue is really empty.
      while (this.queue.length > 0) {
        await Promise.all(Array.from({ length: this.opts.writers ?? 8 }, writer));
      }
    } finally {
      this.draining = undefined;
    }
  }

  /** `<object name>.<unix nanos in hex>`, strictly increasing within this recorder. */
  private eventName(objName: string, at: Date): string {
    let nanos = BigInt(at.getTime()) * 1_000_000n;
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return `${objName}.${nanos.toString(16).padStart(16, '0')}`;
  }

  private async write(p: Pending): Promise<void> {
    const events = this.opts.client.resource(Resources.events);
    const namespace = p.ref.namespace || 'default';
    const key = p.key;
    const stamp = rfc3339(p.at);
    const prev = this.seen.get(key);
    if (prev && p.at.getTime() - prev.firstAt < this.window) {
      try {
        await events.patch(prev.namespace, prev.name, { count: prev.count + 1, lastTimestamp: stamp }, 'merge');
        prev.count++;
        return;
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
        // The aggregated Event was deleted (TTL); start a new one.
      }
    }
    this.pruneSeen(p.at.getTime());
    const ev: Event = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name: this.eventName(p.ref.name ?? 'unknown', p.at), namespace },
      involvedObject: p.ref,
      reason: p.reason,
      message: p.message,
      type: p.type,
      source: { component: this.opts.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance ?? this.opts.host ?? this.opts.component,
    };
    const created = await events.create(namespace, ev);
    this.seen.set(key, { namespace, name: created.metadata?.name ?? ev.metadata!.name!, count: 1, firstAt: p.at.getTime() });
  }

  /** Forgets aggregation entries older than the window, so the map stays bounded. */
  private pruneSeen(nowMs: number): void {
    if (this.seen.size < 4096) return;
    for (const [k, s] of this.seen) if (nowMs - s.firstAt >= this.window) this.seen.delete(k);
  }
}
