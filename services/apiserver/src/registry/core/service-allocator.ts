/**
 * Storage-backed allocation of Service ClusterIPs and NodePorts.
 *
 * Every allocated value is one record under /registry/ranges/serviceips/<ip> or
 * /registry/ranges/servicenodeports/<port> naming the Service that holds it (shaped like
 * upstream's networking.k8s.io IPAddress). Claiming a value is `storage.create` of its record,
 * which is an atomic create-if-absent (an etcd transaction on the key's create revision), so two
 * concurrent claims of one value can never both succeed: no double allocation, whatever the
 * interleaving, and no shared bitmap to contend on. Releasing deletes the record only while it
 * still names the same Service (a delete precondition run inside the storage transaction).
 *
 * A crash between claiming and storing the Service leaves a record with no owner; the repair
 * pass (services.ts) removes such records once they are older than a grace period and records
 * values Services hold that have no record.
 *
 * Dynamic allocation tries random values in the upper band of the range first (upstream's
 * static-subrange split), then walks the whole range from a random start, so a nearly full range
 * still finds its last free values; a full range is `range is full`.
 */
import { randomInt } from 'node:crypto';
import { rfc3339, type KubeObject, type StoredObject } from '@tskube/api';
import { isStorageError, type Storage } from '@tskube/storage';
import type { IPRange, OffsetRange, PortRange } from './service-ranges.js';

export const IP_RECORD_PREFIX = '/registry/ranges/serviceips/';
export const PORT_RECORD_PREFIX = '/registry/ranges/servicenodeports/';

/** The Service a value belongs to. */
export interface ServiceRef { namespace: string; name: string }

export type AllocationFailure = 'allocated' | 'notInRange' | 'full';

/** A value could not be allocated; `message` is upstream's wording. */
export class AllocationError extends Error {
  constructor(readonly reason: AllocationFailure, message: string) {
    super(message);
    this.name = 'AllocationError';
  }
}

interface RecordSpec { parentRef: { group: string; resource: string; namespace: string; name: string } }

export function parentOf(rec: StoredObject): ServiceRef | undefined {
  const p = (rec as unknown as { spec?: RecordSpec }).spec?.parentRef;
  return p ? { namespace: p.namespace, name: p.name } : undefined;
}

const sameRef = (a: ServiceRef | undefined, b: ServiceRef) => !!a && a.namespace === b.namespace && a.name === b.name;

/** Random probes in the preferred band before the exhaustive walk. */
const RANDOM_PROBES = 16;

/** Allocates values of one range (IPs of one family, or node ports) through storage records. */
abstract class RangeAllocator<V extends string | number> {
  constructor(protected readonly storage: Storage, protected readonly range: OffsetRange, private readonly prefix: string, private readonly now: () => Date) {}

  protected abstract valueAt(offset: number): V;
  protected abstract offsetOf(v: V): number | undefined;
  protected abstract notInRange(v: V): AllocationError;
  protected abstract allocatedError(): AllocationError;
  protected abstract record(v: V, owner: ServiceRef): KubeObject;
  protected abstract keyName(v: V): string;

  key(v: V): string {
    return this.prefix + this.keyName(v);
  }

  /** Claims `v` for `owner`; dryRun only checks that it is free. Throws AllocationError. */
  async claim(v: V, owner: ServiceRef, dryRun = false): Promise<V> {
    if (this.offsetOf(v) === undefined) throw this.notInRange(v);
    if (dryRun) {
      if (await this.exists(v)) throw this.allocatedError();
      return v;
    }
    try {
      await this.storage.create(this.key(v), this.record(v, owner));
      return v;
    } catch (e) {
      if (isStorageError(e, 'KeyExists')) throw this.allocatedError();
      throw e;
    }
  }

  /** Allocates a free value for `owner`. Throws AllocationError('full') when none is left. */
  async next(owner: ServiceRef, dryRun = false): Promise<V> {
    const { size, staticBand } = this.range;
    if (size <= 0) throw new AllocationError('full', 'range is full');
    const upper = size - staticBand;
    for (let i = 0; i < RANDOM_PROBES && upper > 0; i++) {
      const v = this.valueAt(staticBand + randomInt(upper));
      const got = await this.tryTake(v, owner, dryRun);
      if (got !== undefined) return got;
    }
    // Exhaustive: everything recorded now, then walk upper band, then static band.
    const taken = new Set((await this.list()).map((r) => r.metadata.name));
    const start = upper > 0 ? randomInt(upper) : 0;
    const order = (function* () {
      for (let i = 0; i < upper; i++) yield staticBand + ((start + i) % upper);
      for (let i = 0; i < staticBand; i++) yield i;
    })();
    for (const off of order) {
      const v = this.valueAt(off);
      if (taken.has(this.keyName(v))) continue;
      const got = await this.tryTake(v, owner, dryRun);
      if (got !== undefined) return got;
    }
    throw new AllocationError('full', 'range is full');
  }

  private async tryTake(v: V, owner: ServiceRef, dryRun: boolean): Promise<V | undefined> {
    try {
      return await this.claim(v, owner, dryRun);
    } catch (e) {
      if (e instanceof AllocationError && e.reason === 'allocated') return undefined;
      throw e;
    }
  }

  private async exists(v: V): Promise<boolean> {
    try {
      await this.storage.get(this.key(v));
      return true;
    } catch (e) {
      if (isStorageError(e, 'KeyNotFound')) return false;
      throw e;
    }
  }

  /**
   * Frees `v` if it is still held by `owner` (a value re-allocated to someone else meanwhile
   * stays). Missing records are fine: release is idempotent.
   */
  async release(v: V, owner: ServiceRef): Promise<void> {
    try {
      await this.storage.delete(this.key(v), {
        validateDeletion: (cur) => {
          if (!sameRef(parentOf(cur), owner)) throw new NotOwner();
        },
      });
    } catch (e) {
      if (e instanceof NotOwner || isStorageError(e, 'KeyNotFound')) return;
      throw e;
    }
  }

  /** Every record of this range. */
  async list(): Promise<StoredObject[]> {
    return (await this.storage.list(this.prefix)).items;
  }

  /** Removes a record unconditionally unless it changed since `rv` (repair). */
  async forget(name: string, resourceVersion: string): Promise<void> {
    try {
      await this.storage.delete(this.prefix + name, { preconditions: { resourceVersion } });
    } catch (e) {
      if (isStorageError(e, 'KeyNotFound') || isStorageError(e, 'Conflict')) return;
      throw e;
    }
  }

  protected meta(name: string): KubeObject['metadata'] {
    return { name, creationTimestamp: rfc3339(this.now()) };
  }
}

class NotOwner extends Error {}

/** ClusterIPs of one family. Values are canonical IP strings. */
export class IPAllocator extends RangeAllocator<string> {
  constructor(storage: Storage, readonly ipRange: IPRange, now: () => Date = () => new Date()) {
    super(storage, ipRange, IP_RECORD_PREFIX, now);
  }
  protected valueAt(offset: number): string { return this.ipRange.ipAt(offset); }
  protected offsetOf(ip: string): number | undefined { return this.ipRange.offsetOf(ip); }
  protected keyName(ip: string): string { return this.ipRange.canonical(ip); }
  protected notInRange(): AllocationError {
    return new AllocationError('notInRange', `provided IP is not in the valid range. The range of valid IPs is ${this.ipRange.cidr}`);
  }
  protected allocatedError(): AllocationError { return new AllocationError('allocated', 'provided IP is already allocated'); }
  protected record(ip: string, owner: ServiceRef): KubeObject {
    const name = this.ipRange.canonical(ip);
    return {
      apiVersion: 'networking.k8s.io/v1', kind: 'IPAddress',
      metadata: { ...this.meta(name), labels: { 'ipaddress.kubernetes.io/ip-family': this.ipRange.family, 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' } },
      spec: { parentRef: { group: '', resource: 'services', namespace: owner.namespace, name: owner.name } },
    };
  }
  override async claim(ip: string, owner: ServiceRef, dryRun = false): Promise<string> {
    if (this.ipRange.offsetOf(ip) === undefined) throw this.notInRange();
    return super.claim(this.ipRange.canonical(ip), owner, dryRun);
  }
}

/** NodePorts (shared by every protocol, like upstream). */
export class PortAllocator extends RangeAllocator<number> {
  constructor(storage: Storage, readonly portRange: PortRange, now: () => Date = () => new Date()) {
    super(storage, portRange, PORT_RECORD_PREFIX, now);
  }
  protected valueAt(offset: number): number { return this.portRange.base + offset; }
  protected offsetOf(port: number): number | undefined { return this.portRange.offsetOf(port); }
  protected keyName(port: number): string { return String(port); }
  protected notInRange(): AllocationError {
    return new AllocationError('notInRange', `provided port is not in the valid range. The range of valid ports is ${this.portRange.toString()}`);
  }
  protected allocatedError(): AllocationError { return new AllocationError('allocated', 'provided port is already allocated'); }
  protected record(port: number, owner: ServiceRef): KubeObject {
    return {
      apiVersion: 'tskube.io/v1', kind: 'ServiceNodePortAllocation', metadata: this.meta(String(port)),
      spec: { parentRef: { group: '', resource: 'services', namespace: owner.namespace, name: owner.name } },
    };
  }
}
