/**
 * Builds the StructuredFieldManager for an apiserver's registry: which kinds have a /status
 * subresource (their main resource never owns status) and each kind's scheme defaults (so
 * that updaters own the defaults of what they wrote, as upstream's decoding does).
 */
import type { GroupVersionKind, KubeObject } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { ApiRegistry } from '../registry/index.js';
import { StructuredFieldManager } from './field-manager.js';

export function fieldManagerFor(registry: ApiRegistry, log?: Logger): StructuredFieldManager {
  const key = (g: GroupVersionKind) => `${g.group}/${g.version}/${g.kind}`;
  const hasStatus = new Map<string, boolean>();
  const defaulters = new Map<string, ((o: KubeObject) => void) | null>();
  const defOf = (gvk: GroupVersionKind) => registry.resources.find((d) => d.group === gvk.group && d.version === gvk.version && d.kind === gvk.kind);
  return new StructuredFieldManager({
    ...(log ? { log } : {}),
    hasStatus(gvk) {
      const k = key(gvk);
      let v = hasStatus.get(k);
      if (v === undefined) {
        const def = defOf(gvk);
        v = !!def && registry.lookup(def, 'status') !== undefined;
        hasStatus.set(k, v);
      }
      return v;
    },
    defaulter(gvk, obj) {
      const k = key(gvk);
      let d = defaulters.get(k);
      if (d === undefined) {
        d = null;
        if (defOf(gvk)) {
          try {
            const strategy = registry.store(gvk.kind, gvk.group, gvk.version).strategy;
            if (strategy.applyDefaults) d = (o) => strategy.applyDefaults!(o);
          } catch { /* no generic store for this kind: no defaults */ }
        }
        defaulters.set(k, d);
      }
      d?.(obj);
    },
  });
}
