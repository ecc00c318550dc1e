/**
 * The ranges Service ClusterIPs and NodePorts come from, as offsets: pure arithmetic, no
 * storage (see service-allocator.ts). Follows upstream's allocators: an IPv4 range excludes its
 * network and broadcast addresses, an IPv6 range its subnet-router anycast address; both keep a
 * lower "static" band that dynamic allocation uses only once the upper band is full
 * (ServiceIPStaticSubrange, ServiceNodePortStaticSubrange).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type IPFamily = 'IPv4' | 'IPv6';

/** Largest range a ClusterIP allocator may manage: 2^20 addresses (upstream's limit). */
const MAX_HOST_BITS = 20;

export interface OffsetRange {
  /** Number of allocatable values; offsets are 0 … size-1. */
  readonly size: number;
  /** Offsets below this form the static band (preferred for user-chosen values). */
  readonly staticBand: number;
}

/** upstream calculateRangeOffset: the static band is size/step, clamped to [min, max] (0 for tiny ranges). */
export function staticBandSize(size: number, min: number, max: number, step: number): number {
  if (size < min) return 0;
  return Math.min(max, Math.max(min, Math.floor(size / step)));
}

function toBigInt(bytes: number[]): bigint {
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

function fromBigInt(v: bigint, len: number): number[] {
  const out = new Array<number>(len);
  for (let i = len - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

/** A service CIDR: maps IPs to offsets and back. */
export class IPRange implements OffsetRange {
  readonly family: IPFamily;
  readonly size: number;
  readonly staticBand: number;
  private readonly first: bigint;
  private readonly bytes: number;

  constructor(readonly cidr: string) {
    const m = /^(.+)\/(\d{1,3})$/.exec(cidr.trim());
    const fam = m ? isIP(m[1]!) : 0;
    if (!m || !fam) throw new Error(`service cluster IP range "${cidr}" is not a CIDR (e.g. 10.96.0.0/12)`);
    const bits = fam === 4 ? 32 : 128;
    const prefix = Number(m[2]);
    if (prefix > bits) throw new Error(`service cluster IP range "${cidr}" has an invalid prefix length`);
    const hostBits = bits - prefix;
    if (hostBits > MAX_HOST_BITS) {
      throw new Error(`specified service cluster IP range ${cidr} is too large; for ${bits}-bit addresses, the mask must be >= ${bits - MAX_HOST_BITS}`);
    }
    this.family = fam === 4 ? 'IPv4' : 'IPv6';
    this.bytes = bits / 8;
    const network = toBigInt(ipaddr.parse(m[1]!).toByteArray()) & ~((1n << BigInt(hostBits)) - 1n);
    const total = 2 ** hostBits;
    // IPv4 excludes network and broadcast; IPv6 only the subnet-router anycast (network) address
    this.size = Math.max(0, fam === 4 ? total - 2 : total - 1);
    this.first = network + 1n;
    this.staticBand = staticBandSize(total, 16, 256, 16);
    this.cidr = `${this.format(network)}/${prefix}`;
  }

  private format(v: bigint): string {
    const addr = ipaddr.fromByteArray(fromBigInt(v, this.bytes));
    return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
  }

  /** The offset of `ip` in this range, or undefined when it is outside (or another family). */
  offsetOf(ip: string): number | undefined {
    const fam = isIP(ip);
    if ((fam === 4) !== (this.family === 'IPv4') || !fam) return undefined;
    const v = toBigInt(ipaddr.parse(ip).toByteArray());
    const off = v - this.first;
    return off >= 0n && off < BigInt(this.size) ? Number(off) : undefined;
  }

  /** The canonical text of the IP at `offset` (0 = the first usable address). */
  ipAt(offset: number): string {
    return this.format(this.first + BigInt(offset));
  }

  /** The canonical form of an IP of this family (the key it is recorded under). */
  canonical(ip: string): string {
    return this.format(toBigInt(ipaddr.parse(ip).toByteArray()));
  }
}

/** The NodePort range (upstream --service-node-port-range, default 30000-32767). */
export class PortRange implements OffsetRange {
  readonly size: number;
  readonly staticBand: number;
  constructor(readonly base: number, size: number) {
    if (!Number.isInteger(base) || !Number.isInteger(size) || base < 1 || size < 1 || base + size - 1 > 65535) {
      throw new Error(`invalid node port range ${base}+${size}`);
    }
    this.size = size;
    this.staticBand = staticBandSize(size, 16, 128, 32);
  }

  static parse(spec: string): PortRange {
    const m = /^(\d+)-(\d+)$/.exec(spec.trim());
    if (!m || Number(m[2]) < Number(m[1])) throw new Error(`node port range "${spec}" is not of the form min-max`);
    return new PortRange(Number(m[1]), Number(m[2]) - Number(m[1]) + 1);
  }

  offsetOf(port: number): number | undefined {
    const off = port - this.base;
    return Number.isInteger(port) && off >= 0 && off < this.size ? off : undefined;
  }

  toString(): string {
    return `${this.base}-${this.base + this.size - 1}`;
  }
}

export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';
export const DEFAULT_NODE_PORT_RANGE = '30000-32767';

/**
 * Parses TSKUBE_SERVICE_CLUSTER_IP_RANGE-style input: one CIDR, or two of different families
 * (dual-stack; the first is the primary family).
 */
export function parseServiceCIDRs(cidrs: readonly string[]): IPRange[] {
  const list = cidrs.length ? cidrs : [DEFAULT_SERVICE_CLUSTER_IP_RANGE];
  if (list.length > 2) throw new Error('at most two service cluster IP ranges (one per IP family) may be configured');
  const ranges = list.map((c) => new IPRange(c));
  if (ranges.length === 2 && ranges[0]!.family === ranges[1]!.family) {
    throw new Error('two service cluster IP ranges must be of different IP families (dual-stack)');
  }
  return ranges;
}
