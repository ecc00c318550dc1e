/**
 * Resource arithmetic as the scheduler sees it (upstream framework.Resource and
 * component-helpers resource.PodRequests).
 *
 * Units: cpu in millicores (rounded up, as Quantity.MilliValue), every other resource in whole
 * units (bytes for memory and ephemeral-storage; rounded up, as Quantity.Value). A malformed
 * quantity counts as 0 (the apiserver validates quantities; the scheduler must not crash on one).
 */
import { milliValue, unitValue } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { ReadonlyPod } from './types.js';

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

/** Requests the scheduler assumes for a container that sets none, for scoring only (upstream schedutil). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

type QuantityMap = DeepReadonly<Record<string, string | number>> | undefined;

/** A resource name → amount map in scheduler units (see module doc). */
export type ResourceList = Map<string, number>;

/** Scalar resources: extended (`example.com/gpu`), prefixed native (`kubernetes.io/x`), hugepages, attachable volumes. */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('requests.')) return false;
  return name.includes('/') || name.startsWith('hugepages-') || name.startsWith('attachable-volumes-');
}

function amount(name: string, q: string | number): number {
  try {
    return name === CPU ? milliValue(q) : unitValue(q);
  } catch {
    return 0;
  }
}

/** A quantity map (`{cpu: "100m"}`) in scheduler units. */
export function toResourceList(q: QuantityMap): ResourceList {
  const out: ResourceList = new Map();
  for (const [name, v] of Object.entries(q ?? {})) out.set(name, amount(name, v));
  return out;
}

function addInto(dst: ResourceList, src: ResourceList): void {
  for (const [k, v] of src) dst.set(k, (dst.get(k) ?? 0) + v);
}

function maxInto(dst: ResourceList, src: ResourceList): void {
  for (const [k, v] of src) dst.set(k, Math.max(dst.get(k) ?? 0, v));
}

export interface PodRequestsOptions {
  /**
   * Requests to assume for containers that set none of cpu / memory (scoring uses
   * DEFAULT_MILLI_CPU_REQUEST / DEFAULT_MEMORY_REQUEST so that best-effort pods still count).
   */
  nonMissing?: { cpu: number; memory: number };
}

/**
 * What a pod asks of a node: the sum over its containers (plus restartable "sidecar" init
 * containers, which run alongside them), or the largest single init container step if that
 * is bigger, plus the pod's overhead. Upstream `resource.PodRequests`; pod-level
 * `spec.resources` (PodLevelResources, alpha in 1.32) is not considered.
 */
export function podRequests(pod: ReadonlyPod, opts: PodRequestsOptions = {}): ResourceList {
  const spec = pod.spec;
  const withDefaults = (q: QuantityMap): ResourceList => {
    const r = toResourceList(q);
    if (opts.nonMissing) {
      if (!r.has(CPU)) r.set(CPU, opts.nonMissing.cpu);
      if (!r.has(MEMORY)) r.set(MEMORY, opts.nonMissing.memory);
    }
    return r;
  };
  const reqs: ResourceList = new Map();
  for (const c of spec?.containers ?? []) addInto(reqs, withDefaults(c.resources?.requests));
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of spec?.initContainers ?? []) {
    const own = withDefaults(c.resources?.requests);
    let step: ResourceList;
    if (c.restartPolicy === 'Always') {
      // A sidecar keeps running: it adds to the steady state and to every later init step.
      addInto(reqs, own);
      addInto(sidecars, own);
      step = new Map(sidecars);
    } else {
      step = new Map(own);
      addInto(step, sidecars);
    }
    maxInto(initMax, step);
  }
  maxInto(reqs, initMax);
  if (spec?.overhead) addInto(reqs, toResourceList(spec.overhead));
  return reqs;
}

/** Aggregated amounts (upstream framework.Resource). Mutable: owned by one NodeInfo. */
export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  allowedPodNumber = 0;
  readonly scalar = new Map<string, number>();

  static fromList(list: ResourceList): Resource {
    const r = new Resource();
    r.add(list);
    return r;
  }

  /** Adds (sign 1) or subtracts (sign -1) a resource list. */
  add(list: ResourceList, sign: 1 | -1 = 1): void {
    for (const [name, v] of list) {
      switch (name) {
        case CPU: this.milliCPU += sign * v; break;
        case MEMORY: this.memory += sign * v; break;
        case EPHEMERAL_STORAGE: this.ephemeralStorage += sign * v; break;
        case PODS: this.allowedPodNumber += sign * v; break;
        default:
          if (isScalarResourceName(name)) this.scalar.set(name, (this.scalar.get(name) ?? 0) + sign * v);
      }
    }
  }

  /** The amount of `name` in scheduler units (0 when absent). */
  get(name: string): number {
    switch (name) {
      case CPU: return this.milliCPU;
      case MEMORY: return this.memory;
      case EPHEMERAL_STORAGE: return this.ephemeralStorage;
      case PODS: return this.allowedPodNumber;
      default: return this.scalar.get(name) ?? 0;
    }
  }

  clone(): Resource {
    const r = new Resource();
    r.milliCPU = this.milliCPU;
    r.memory = this.memory;
    r.ephemeralStorage = this.ephemeralStorage;
    r.allowedPodNumber = this.allowedPodNumber;
    for (const [k, v] of this.scalar) r.scalar.set(k, v);
    return r;
  }
}
