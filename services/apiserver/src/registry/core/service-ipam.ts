/**
 * What a Service create or update allocates and releases (upstream
 * pkg/registry/core/service/storage/alloc.go): IP family defaulting against the configured
 * ranges, ClusterIPs, NodePorts and the health-check NodePort. Each call returns an
 * AllocationTxn: `revert()` gives back what it claimed (the write failed), `commit()` frees what
 * the new object no longer holds (the write succeeded). Both are idempotent.
 */
import {
  field, internalError, invalid, isHeadless, ipFamilyOf, needsClusterIP, needsHealthCheck, needsNodePort, serviceClusterIPs,
  serviceNodePorts, shouldAllocateNodePorts, validateServiceClusterIPsRelatedFields, type FieldError, type MutableService,
} from '@tskube/api';
import type { Storage } from '@tskube/storage';
import { AllocationError, IPAllocator, PortAllocator, type ServiceRef } from './service-allocator.js';
import type { IPFamily, IPRange, PortRange } from './service-ranges.js';

const SERVICE = { group: '', kind: 'Service' };
const other = (f: IPFamily): IPFamily => (f === 'IPv4' ? 'IPv6' : 'IPv4');
const familyOf = (ip: string): IPFamily => (ipFamilyOf(ip) === 6 ? 'IPv6' : 'IPv4');

/** Claimed values to give back on failure, and freed values to give back on success. */
export class AllocationTxn {
  private readonly onRevert: (() => Promise<void>)[] = [];
  private readonly onCommit: (() => Promise<void>)[] = [];
  private done = false;

  claimed(undo: () => Promise<void>): void { this.onRevert.push(undo); }
  releaseOnCommit(release: () => Promise<void>): void { this.onCommit.push(release); }

  async revert(): Promise<void> {
    if (this.done) return;
    this.done = true;
    for (const f of this.onRevert.reverse()) await f().catch(() => undefined);
  }

  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    for (const f of this.onCommit) await f().catch(() => undefined);
  }
}

export interface ServiceIPAMOptions {
  storage: Storage;
  ranges: readonly IPRange[];
  nodePorts: PortRange;
  now?: () => Date;
}

export class ServiceIPAM {
  readonly families: IPFamily[];
  readonly ipAllocators = new Map<IPFamily, IPAllocator>();
  readonly ports: PortAllocator;

  constructor(o: ServiceIPAMOptions) {
    this.families = o.ranges.map((r) => r.family);
    for (const r of o.ranges) this.ipAllocators.set(r.family, new IPAllocator(o.storage, r, o.now));
    this.ports = new PortAllocator(o.storage, o.nodePorts, o.now);
  }

  /** The first address of the primary range (the `kubernetes` Service's ClusterIP). */
  firstIP(): string {
    return this.ipAllocators.get(this.families[0]!)!.ipRange.ipAt(0);
  }

  private dualStack(): boolean { return this.families.length > 1; }

  /**
   * Defaults ipFamilyPolicy and ipFamilies from the cluster's ranges and checks that requested
   * families and IPs are configured (upstream initIPFamilyFields). Throws 422.
   */
  initIPFamilyFields(svc: MutableService, old: MutableService | null): void {
    const s = (svc.spec ??= {});
    if (s.type === 'ExternalName') return;
    if (s.ipFamilyPolicy === undefined) {
      if (old?.spec?.ipFamilyPolicy !== undefined) s.ipFamilyPolicy = old.spec.ipFamilyPolicy;
      else if (s.clusterIP === 'None' && !Object.keys(s.selector ?? {}).length) s.ipFamilyPolicy = 'RequireDualStack';
      else s.ipFamilyPolicy = 'SingleStack';
    }
    const pre = validateServiceClusterIPsRelatedFields(svc);
    if (pre.length) throw invalid(SERVICE, svc.metadata?.name ?? '', pre);
    const errs: FieldError[] = [];
    if (old) {
      if (s.ipFamilyPolicy === 'SingleStack') {
        const sameIPs = (old.spec?.clusterIP ?? '') === (s.clusterIP ?? '') && JSON.stringify(old.spec?.clusterIPs ?? []) === JSON.stringify(s.clusterIPs ?? []);
        if (sameIPs && (s.clusterIPs?.length ?? 0) > 1) s.clusterIPs = s.clusterIPs!.slice(0, 1);
        if (JSON.stringify(old.spec?.ipFamilies ?? []) === JSON.stringify(s.ipFamilies ?? []) && (s.ipFamilies?.length ?? 0) > 1) s.ipFamilies = s.ipFamilies!.slice(0, 1);
      } else {
        if ((s.clusterIPs?.length ?? 0) < (old.spec?.clusterIPs?.length ?? 0)) {
          errs.push(field.invalid('spec.ipFamilyPolicy', s.ipFamilyPolicy, "must be 'SingleStack' to release the secondary cluster IP"));
        }
        if ((s.ipFamilies?.length ?? 0) < (old.spec?.ipFamilies?.length ?? 0)) {
          errs.push(field.invalid('spec.ipFamilyPolicy', s.ipFamilyPolicy, "must be 'SingleStack' to release the secondary IP family"));
        }
      }
    }
    if (s.ipFamilyPolicy === 'SingleStack') {
      if (s.clusterIPs?.length === 2) errs.push(field.invalid('spec.ipFamilyPolicy', s.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
      if (s.ipFamilies?.length === 2) errs.push(field.invalid('spec.ipFamilyPolicy', s.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
    }
    const families = [...(s.ipFamilies ?? [])];
    for (const [i, ip] of (s.clusterIPs ?? []).entries()) {
      if (ip === 'None') break;
      const fam = familyOf(ip);
      if (i >= families.length) {
        if (!this.ipAllocators.has(fam)) errs.push(field.invalid(`spec.clusterIPs[${i}]`, s.clusterIPs, `${fam} is not configured on this cluster`));
        else families.push(fam);
      }
    }
    if (families.length) s.ipFamilies = families;
    if (errs.length) throw invalid(SERVICE, svc.metadata?.name ?? '', errs);
    if (s.clusterIP === 'None' && !Object.keys(s.selector ?? {}).length) {
      // headless and selectorless: may carry families the cluster does not serve
      if (!s.ipFamilies?.length) s.ipFamilies = [this.families[0]!];
      if (s.ipFamilies.length < 2 && s.ipFamilyPolicy !== 'SingleStack') s.ipFamilies = [...s.ipFamilies, other(s.ipFamilies[0] as IPFamily)];
      return;
    }
    if (s.ipFamilyPolicy === 'RequireDualStack' && !this.dualStack()) {
      errs.push(field.invalid('spec.ipFamilyPolicy', s.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
    }
    (s.ipFamilies ?? []).forEach((f, i) => {
      if (!this.ipAllocators.has(f as IPFamily)) errs.push(field.invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
    });
    if (errs.length) throw invalid(SERVICE, svc.metadata?.name ?? '', errs);
    if (!s.ipFamilies?.length) s.ipFamilies = [this.families[0]!];
    if (s.ipFamilyPolicy !== 'SingleStack' && s.ipFamilies.length === 1 && this.dualStack()) s.ipFamilies = [...s.ipFamilies, other(s.ipFamilies[0] as IPFamily)];
  }

  private ref(svc: MutableService): ServiceRef {
    return { namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' };
  }

  /** Allocates each family's IP (requested or next) into clusterIPs, from index `from` on. */
  private async allocIPs(svc: MutableService, txn: AllocationTxn, dryRun: boolean, from = 0): Promise<void> {
    const s = svc.spec!;
    const fams = (s.ipFamilies ?? []) as IPFamily[];
    const ips = [...(s.clusterIPs ?? [])];
    const owner = this.ref(svc);
    for (let i = from; i < fams.length; i++) {
      const alloc = this.ipAllocators.get(fams[i]!)!;
      const wanted = ips[i] ?? '';
      let got: string;
      try {
        got = wanted ? await alloc.claim(wanted, owner, dryRun) : await alloc.next(owner, dryRun);
      } catch (e) {
        if (!(e instanceof AllocationError)) throw e;
        if (e.reason === 'full') throw internalError(new Error(`failed to allocate a serviceIP: ${e.message}`));
        throw invalid(SERVICE, owner.name, [field.invalid('spec.clusterIPs', s.clusterIPs ?? [], `failed to allocate IP ${wanted}: ${e.message}`)]);
      }
      if (!dryRun) txn.claimed(() => alloc.release(got, owner));
      ips[i] = got;
    }
    s.clusterIPs = ips;
    s.clusterIP = ips[0];
  }

  private async claimPort(svc: MutableService, port: number, path: string, txn: AllocationTxn, dryRun: boolean): Promise<void> {
    const owner = this.ref(svc);
    try {
      await this.ports.claim(port, owner, dryRun);
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      throw invalid(SERVICE, owner.name, [field.invalid(path, port, e.message)]);
    }
    if (!dryRun) txn.claimed(() => this.ports.release(port, owner));
  }

  private async nextPort(svc: MutableService, txn: AllocationTxn, dryRun: boolean, what = 'a nodePort'): Promise<number> {
    const owner = this.ref(svc);
    try {
      const p = await this.ports.next(owner, dryRun);
      if (!dryRun) txn.claimed(() => this.ports.release(p, owner));
      return p;
    } catch (e) {
      if (e instanceof AllocationError) throw internalError(new Error(`failed to allocate ${what}: ${e.message}`));
      throw e;
    }
  }

  /** NodePorts of a new NodePort/LoadBalancer Service (upstream initNodePorts). */
  private async initNodePorts(svc: MutableService, txn: AllocationTxn, dryRun: boolean): Promise<void> {
    const ports = svc.spec?.ports ?? [];
    const byServicePort = new Map<number, number>();
    for (const [i, p] of ports.entries()) {
      if (!p.nodePort && !shouldAllocateNodePorts(svc)) continue;
      const have = byServicePort.get(p.port);
      if (!have) {
        const requested = ports.find((q) => q.port === p.port && q.nodePort)?.nodePort;
        if (requested) {
          await this.claimPort(svc, requested, `spec.ports[${i}].nodePort`, txn, dryRun);
          p.nodePort = requested;
        } else {
          p.nodePort = await this.nextPort(svc, txn, dryRun);
        }
        byServicePort.set(p.port, p.nodePort);
      } else if (p.nodePort !== have) {
        if (!p.nodePort) p.nodePort = have;
        else await this.claimPort(svc, p.nodePort, `spec.ports[${i}].nodePort`, txn, dryRun);
      }
    }
  }

  private async allocHealthCheckPort(svc: MutableService, txn: AllocationTxn, dryRun: boolean): Promise<void> {
    const s = svc.spec!;
    if (s.healthCheckNodePort) {
      try {
        await this.ports.claim(s.healthCheckNodePort, this.ref(svc), dryRun);
        const p = s.healthCheckNodePort;
        if (!dryRun) txn.claimed(() => this.ports.release(p, this.ref(svc)));
      } catch (e) {
        if (e instanceof AllocationError) throw internalError(new Error(`failed to allocate requested HealthCheck NodePort ${s.healthCheckNodePort}: ${e.message}`));
        throw e;
      }
    } else {
      s.healthCheckNodePort = await this.nextPort(svc, txn, dryRun, 'a HealthCheck NodePort');
    }
  }

  /** Everything a new Service needs (upstream allocateCreate). Mutates `svc`. */
  async allocateCreate(svc: MutableService, dryRun: boolean): Promise<AllocationTxn> {
    const txn = new AllocationTxn();
    this.initIPFamilyFields(svc, null);
    try {
      if (needsClusterIP(svc) && !isHeadless(svc)) await this.allocIPs(svc, txn, dryRun);
      if (needsNodePort(svc)) await this.initNodePorts(svc, txn, dryRun);
      if (needsHealthCheck(svc)) await this.allocHealthCheckPort(svc, txn, dryRun);
    } catch (e) {
      await txn.revert();
      throw e;
    }
    return txn;
  }

  /** Changes between `old` and `next` (upstream allocateUpdate). Mutates `next`. */
  async allocateUpdate(next: MutableService, old: MutableService, dryRun: boolean): Promise<AllocationTxn> {
    const txn = new AllocationTxn();
    this.initIPFamilyFields(next, old);
    const owner = this.ref(old);
    const s = next.spec!;
    try {
      // ClusterIPs
      if (!needsClusterIP(old) && needsClusterIP(next)) {
        if (!isHeadless(next)) await this.allocIPs(next, txn, dryRun);
      } else if (!isHeadless(old)) {
        if (needsClusterIP(old) && !needsClusterIP(next)) {
          if (!dryRun) for (const ip of serviceClusterIPs(old)) txn.releaseOnCommit(() => this.releaseIP(ip, owner));
        } else {
          const oldFams = old.spec?.ipFamilies ?? [];
          const newFams = s.ipFamilies ?? [];
          if (oldFams.length === 1 && newFams.length === 2) {
            await this.allocIPs(next, txn, dryRun, 1);
          } else if (oldFams.length === 2 && newFams.length === 1) {
            const second = old.spec?.clusterIPs?.[1];
            if (second && !dryRun) txn.releaseOnCommit(() => this.releaseIP(second, owner));
          }
        }
      }
      // NodePorts
      const oldPorts = new Set((old.spec?.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p));
      if (needsNodePort(old) && !needsNodePort(next)) {
        if (!dryRun) for (const p of oldPorts) txn.releaseOnCommit(() => this.ports.release(p, owner));
      }
      if (needsNodePort(next)) {
        const claimedNow = new Set<number>();
        for (const [i, p] of (s.ports ?? []).entries()) {
          if (!p.nodePort && !shouldAllocateNodePorts(next)) continue;
          if (p.nodePort) {
            if (!oldPorts.has(p.nodePort) && !claimedNow.has(p.nodePort)) {
              await this.claimPort(next, p.nodePort, `spec.ports[${i}].nodePort`, txn, dryRun);
              claimedNow.add(p.nodePort);
            }
          } else {
            p.nodePort = await this.nextPort(next, txn, dryRun);
          }
        }
        const kept = new Set((s.ports ?? []).map((p) => p.nodePort));
        if (!dryRun) for (const p of oldPorts) if (!kept.has(p)) txn.releaseOnCommit(() => this.ports.release(p, owner));
      }
      // Health-check NodePort
      const had = needsHealthCheck(old);
      const needs = needsHealthCheck(next);
      if (!had && needs) await this.allocHealthCheckPort(next, txn, dryRun);
      else if (had && !needs && old.spec?.healthCheckNodePort) {
        const hc = old.spec.healthCheckNodePort;
        if (!dryRun && !(s.ports ?? []).some((p) => p.nodePort === hc)) txn.releaseOnCommit(() => this.ports.release(hc, owner));
      }
    } catch (e) {
      await txn.revert();
      throw e;
    }
    return txn;
  }

  private async releaseIP(ip: string, owner: ServiceRef): Promise<void> {
    const alloc = this.ipAllocators.get(familyOf(ip));
    if (alloc && alloc.ipRange.offsetOf(ip) !== undefined) await alloc.release(ip, owner);
  }

  /** Frees everything a deleted Service held. */
  async releaseService(svc: MutableService): Promise<void> {
    const owner = this.ref(svc);
    for (const ip of serviceClusterIPs(svc)) await this.releaseIP(ip, owner);
    for (const p of serviceNodePorts(svc)) await this.ports.release(p, owner);
  }
}
