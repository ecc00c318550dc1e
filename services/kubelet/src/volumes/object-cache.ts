/**
 * ConfigMaps and Secrets as the kubelet reads them for env sources and volumes (upstream
 * pkg/kubelet/configmap and pkg/kubelet/secret managers).
 *
 * Strategy: a GET through the apiserver on use, cached per object for `ttlMs` (upstream's
 * "Cache" change-detection strategy, not its default per-object "Watch"). Why: a pod sync
 * reads each referenced object once per sync anyway (containers started, volumes refreshed
 * at least every resync), the staleness bound is the same (resync period + TTL), and it
 * needs no watch connection per referenced object, which matters for simulated nodes and
 * for a control plane where every watch costs a goroutine-equivalent in the apiserver. The
 * TTL makes the containers and volumes of one sync (and pods sharing an object) share a GET.
 *
 * Contract: `configMap`/`secret` resolve the object, or `null` when the API says 404 (cached
 * like an object, so a ConfigMap created later is seen after at most `ttlMs`). Other errors
 * reject and are not cached. Concurrent calls for the same object share one request.
 * Returned objects are shared: read-only.
 */
import { isApiError, type ConfigMap, type Secret } from '@tskube/api';
import { Resources, type Client, type DeepReadonly } from '@tskube/client';

/** What env sources and volume plugins read objects through (a fake in unit tests). */
export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<DeepReadonly<ConfigMap> | null>;
  secret(namespace: string, name: string): Promise<DeepReadonly<Secret> | null>;
}

interface Entry<T> { at: number; value: Promise<T | null> }

export interface ObjectCacheOptions {
  client: Client;
  /** How long a read object (or a 404) is reused; default 5 s. */
  ttlMs?: number;
  now?: () => number;
}

export class ObjectCache implements ObjectSource {
  private readonly entries = new Map<string, Entry<unknown>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly o: ObjectCacheOptions) {
    this.ttlMs = o.ttlMs ?? 5000;
    this.now = o.now ?? Date.now;
  }

  configMap(namespace: string, name: string): Promise<DeepReadonly<ConfigMap> | null> {
    return this.get(`configmaps/${namespace}/${name}`, () => this.o.client.resource(Resources.configMaps).get(namespace, name));
  }

  secret(namespace: string, name: string): Promise<DeepReadonly<Secret> | null> {
    return this.get(`secrets/${namespace}/${name}`, () => this.o.client.resource(Resources.secrets).get(namespace, name));
  }

  private get<T>(key: string, fetch: () => Promise<T>): Promise<T | null> {
    const now = this.now();
    const hit = this.entries.get(key) as Entry<T> | undefined;
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = fetch().then((obj) => obj, (err: unknown) => {
      if (isApiError(err, 'NotFound')) return null;
      this.entries.delete(key);
      throw err;
    });
    this.entries.set(key, { at: now, value });
    // Drop expired entries now and then so objects of deleted pods do not pile up.
    if (this.entries.size > 256) for (const [k, e] of this.entries) if (now - e.at >= this.ttlMs) this.entries.delete(k);
    return value;
  }
}
