/**
 * Unit-test support (not a test file): a FakeClient with an informer factory over it, an
 * event recorder that keeps events in memory, and `eventually` for asynchronous
 * convergence. Informers deep-freeze their caches, so a controller that writes to a cached
 * object fails its test.
 */
import { RESOURCES, conflict, isObject, jsonEqual, labelSelectorString, rfc3339, type LabelSelector, type Namespace } from '@tskube/api';
import {
  FakeClient, InformerFactory, type ApiObject, type DeepReadonly, type DeleteOptions, type EventRecorder, type EventType,
  type FakeClientOptions, type GetOptions, type RawOptions, type ResourceRef, type WriteOptions,
} from '@tskube/client';
import { nullLogger, type Logger } from '@tskube/log';

const NAMESPACES = { group: '', plural: 'namespaces' };

/**
 * The FakeClient plus the two apiserver behaviours the controllers here depend on and the
 * fake does not model: DELETE with propagationPolicy Orphan/Foreground adds the `orphan` /
 * `foregroundDeletion` finalizer (the other one removed), a namespace whose spec.finalizers
 * is not empty is only marked Terminating by DELETE, and PUT …/namespaces/<n>/finalize sets
 * spec.finalizers (removing a terminating namespace once none is left); PUT
 * …/deployments/<n>/status also writes metadata.annotations; GET and PUT of the `scale`
 * subresource of resources that have one (autoscaling/v1 Scale: spec.replicas, status.replicas
 * and the selector as a string; a PUT changes only spec.replicas, 409 on a stale
 * resourceVersion).
 */
export class ApiFakeClient extends FakeClient {
  private readonly clock: () => Date;

  constructor(opts: FakeClientOptions = {}) {
    super(opts);
    this.clock = opts.now ?? (() => new Date());
  }

  override async get(ref: ResourceRef, opts?: GetOptions): Promise<unknown> {
    if (ref.subresource !== 'scale' || !hasScale(ref)) return super.get(ref, opts);
    return toScale(await super.get({ ...ref, subresource: undefined }, opts) as ScalableObject);
  }

  private async updateScale(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown> {
    const cur = await this.get({ ...ref, subresource: undefined }) as ScalableObject;
    const scale = (isObject(obj) ? obj : {}) as { metadata?: { resourceVersion?: string }; spec?: { replicas?: number } };
    const rv = scale.metadata?.resourceVersion;
    if (rv && rv !== cur.metadata?.resourceVersion) throw conflict({ group: ref.rt.group, resource: ref.rt.plural }, ref.name ?? '');
    const next = { ...cur, spec: { ...cur.spec, replicas: scale.spec?.replicas ?? 0 } };
    return toScale(await super.update({ ...ref, subresource: undefined }, next, opts) as ScalableObject);
  }

  override async delete(ref: ResourceRef, opts?: DeleteOptions): Promise<void> {
    const policy = opts?.propagationPolicy;
    const add = policy === 'Orphan' ? 'orphan' : policy === 'Foreground' ? 'foregroundDeletion' : undefined;
    const isNamespace = ref.rt.plural === 'namespaces' && !ref.rt.group;
    if ((add || isNamespace) && ref.name && !opts?.dryRun) {
      const cur = await this.get({ ...ref, subresource: undefined }) as ApiObject & Namespace;
      if (opts?.preconditions?.uid && opts.preconditions.uid !== cur.metadata?.uid) return super.delete(ref, opts);
      if (isNamespace && cur.spec?.finalizers?.length) {
        this.seed(NAMESPACES, {
          ...cur, metadata: { ...cur.metadata, deletionTimestamp: cur.metadata?.deletionTimestamp ?? rfc3339(this.clock()) },
          status: { ...cur.status, phase: 'Terminating' },
        });
        return;
      }
      if (add) {
        const other = add === 'orphan' ? 'foregroundDeletion' : 'orphan';
        const fins = [...new Set([...(cur.metadata?.finalizers ?? []).filter((f) => f !== other), add])];
        this.seed({ group: ref.rt.group, plural: ref.rt.plural }, { ...cur, metadata: { ...cur.metadata, finalizers: fins } });
      }
    }
    return super.delete(ref, opts);
  }

  /**
   * The fake removes any object with a deletionTimestamp and no metadata.finalizers on its
   * next write; a terminating namespace stays while spec.finalizers is not empty.
   */
  override async update(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown> {
    if (ref.subresource === 'scale' && hasScale(ref)) return this.updateScale(ref, obj, opts);
    if (ref.rt.plural === 'deployments' && ref.rt.group === 'apps' && ref.subresource === 'status') return this.updateDeploymentStatus(ref, obj, opts);
    if (ref.rt.plural !== 'namespaces' || ref.rt.group || !ref.name) return super.update(ref, obj, opts);
    const cur = await this.get({ ...ref, subresource: undefined }) as Namespace;
    if (!cur.metadata?.deletionTimestamp || !cur.spec?.finalizers?.length) return super.update(ref, obj, opts);
    this.actions.push({ verb: 'update', resource: 'namespaces', group: '', name: ref.name, ...(ref.subresource ? { subresource: ref.subresource } : {}), body: structuredClone(obj) });
    const cand = obj as Namespace;
    const rv = cand.metadata?.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion) throw conflict({ group: '', resource: 'namespaces' }, ref.name);
    const next: Namespace = ref.subresource === 'status'
      ? { ...cur, status: cand.status }
      : { ...cand, metadata: { ...cand.metadata, uid: cur.metadata.uid, deletionTimestamp: cur.metadata.deletionTimestamp }, spec: cur.spec, status: cur.status };
    return this.seed(NAMESPACES, next);
  }

  /**
   * deployments/status also writes metadata.annotations, as upstream's status strategy keeps
   * the object's metadata (the Deployment controller records the revision that way).
   */
  private async updateDeploymentStatus(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown> {
    const out = await super.update(ref, obj, opts) as ApiObject;
    const want = isObject(obj) && isObject(obj.metadata) ? obj.metadata.annotations : undefined;
    if (jsonEqual(want, out.metadata?.annotations) || opts?.dryRun) return out;
    const next = { ...out, metadata: { ...out.metadata, annotations: want } };
    return super.update({ ...ref, subresource: undefined }, next, opts);
  }

  override async raw<R = unknown>(method: string, path: string, opts?: RawOptions): Promise<R> {
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/finalize$/.exec(path);
    if (!m || method.toUpperCase() !== 'PUT') return super.raw<R>(method, path, opts);
    const body = (typeof opts?.body === 'string' ? JSON.parse(opts.body) : opts?.body) as unknown;
    const spec = isObject(body) && isObject(body.spec) ? body.spec : {};
    const finalizers = Array.isArray(spec.finalizers) ? spec.finalizers.filter((f): f is string => typeof f === 'string') : [];
    const name = decodeURIComponent(m[1]!);
    const ref: ResourceRef = { rt: { group: '', version: 'v1', plural: 'namespaces', namespaced: false }, name };
    const cur = await this.get(ref) as Namespace;
    const next: Namespace = { ...cur, spec: { ...cur.spec, finalizers } };
    if (!finalizers.length) delete next.spec!.finalizers;
    const stored = this.seed(NAMESPACES, next);
    if (cur.metadata?.deletionTimestamp && !finalizers.length && !cur.metadata.finalizers?.length) await super.delete(ref);
    return stored as R;
  }
}

/** A workload with spec.replicas (and a LabelSelector, or an RC's label map, as spec.selector). */
interface ScalableObject {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string };
  spec?: { replicas?: number; selector?: unknown };
  status?: { replicas?: number };
}

function hasScale(ref: ResourceRef): boolean {
  return RESOURCES.some((r) => r.group === ref.rt.group && r.plural === ref.rt.plural && r.subresources.some((x) => x.name === 'scale'));
}

function toScale(o: ScalableObject): unknown {
  const sel = o.spec?.selector;
  const selector = isObject(sel) && (sel.matchLabels !== undefined || sel.matchExpressions !== undefined)
    ? labelSelectorString(sel as LabelSelector)
    : isObject(sel) ? Object.entries(sel).map(([k, v]) => `${k}=${String(v)}`).join(',') : '';
  const m = o.metadata ?? {};
  return {
    apiVersion: 'autoscaling/v1', kind: 'Scale',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector },
  };
}

export interface RecordedEvent {
  /** namespace/name or name of the involved object. */
  object: string;
  kind: string;
  type: EventType;
  reason: string;
  message: string;
}

export class MemoryRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event(obj: ApiObject | DeepReadonly<ApiObject>, type: EventType, reason: string, message: string): void {
    const m = obj.metadata;
    this.events.push({ object: m?.namespace ? `${m.namespace}/${m.name ?? ''}` : m?.name ?? '', kind: obj.kind ?? '', type, reason, message });
  }
  async flush(): Promise<void> {}
  reasons(): string[] { return this.events.map((e) => e.reason); }
}

export interface Harness {
  fake: ApiFakeClient;
  informers: InformerFactory;
  recorder: MemoryRecorder;
  logger: Logger;
  /** The fake clock (ms); advance with `clock.advance(ms)`. */
  clock: { now(): Date; advance(ms: number): void; set(ms: number): void };
  /** Starts the informers and waits for them to sync. */
  start(): Promise<void>;
  /** Stops the informers: the caches stay as they are (a watch that lags forever). */
  freezeCaches(): Promise<void>;
  /** Aborts everything started. */
  stop(): Promise<void>;
  signal: AbortSignal;
}

export function harness(startMs = Date.parse('2025-01-01T00:00:00Z')): Harness {
  let t = startMs;
  const clock = { now: () => new Date(t), advance: (ms: number) => { t += ms; }, set: (ms: number) => { t = ms; } };
  const fake = new ApiFakeClient({ now: clock.now });
  const logger = nullLogger();
  const informers = new InformerFactory({ client: fake, logger, freeze: true, backoff: { initialMs: 5, maxMs: 20 } });
  const informerStop = new AbortController();
  const all = new AbortController();
  return {
    fake, informers, recorder: new MemoryRecorder(), logger, clock, signal: all.signal,
    async start() {
      informers.start(informerStop.signal);
      if (!(await informers.waitForSync(informerStop.signal))) throw new Error('informers did not sync');
    },
    async freezeCaches() {
      informerStop.abort();
      await informers.stopped();
    },
    async stop() {
      informerStop.abort();
      all.abort();
      await informers.stopped();
      fake.close();
    },
  };
}

/** Retries `fn` (an assertion) until it passes or `timeoutMs` elapses; then throws its last error. */
export async function eventually(fn: () => void | Promise<void>, timeoutMs = 3000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

/** Lets pending watch events reach the informers (a few macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
