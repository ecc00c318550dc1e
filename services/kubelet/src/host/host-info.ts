/**
 * Facts about the machine the kubelet reports in its Node: capacity (CPU, memory, disk),
 * OS and kernel, identities (machine-id, boot-id, system UUID) and addresses. Read once at
 * start; every file read is best effort with a documented fallback, since a kubelet in a
 * container may not see /etc/machine-id or DMI data.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statfsSync, type StatsFs } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';

export interface HostFacts {
  cpuCores: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  kernelVersion: string;
  osImage: string;
  /** Kubernetes architecture name ("amd64", "arm64", …). */
  architecture: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  hostname: string;
}

function readTrim(path: string): string | undefined {
  try {
    const v = readFileSync(path, 'utf8').trim();
    return v || undefined;
  } catch {
    return undefined;
  }
}

/** Node's os.arch() in Go's GOARCH spelling. */
export function goArch(arch: string = os.arch()): string {
  switch (arch) {
    case 'x64': return 'amd64';
    case 'ia32': return '386';
    case 'arm': return 'arm';
    case 'arm64': return 'arm64';
    case 'ppc64': return 'ppc64le';
    case 's390x': return 's390x';
    default: return arch;
  }
}

/** PRETTY_NAME of /etc/os-release, else "Linux". */
export function osImage(): string {
  const text = readTrim('/etc/os-release') ?? '';
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m?.[1] || 'Linux';
}

function fakeId(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}

/** cgroup v2 memory limit of this container, when it has one. */
function cgroupMemoryLimit(): number | undefined {
  const v = readTrim('/sys/fs/cgroup/memory.max');
  if (!v || v === 'max') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** statfs of `path`, or of its nearest existing ancestor (a root directory not made yet). */
export function statfsNearest(path: string): StatsFs {
  for (let p = path; ; p = dirname(p)) {
    try {
      return statfsSync(p);
    } catch (err) {
      if (p === dirname(p)) throw err;
    }
  }
}

/**
 * Reads the host facts. `nodeName` seeds stand-in identities where the machine has none
 * (several kubelet containers on one host must still report distinct machine IDs).
 * ephemeral-storage is the size of the filesystem holding `rootDir` (upstream: nodefs, the
 * kubelet root directory's), "/" without one.
 */
export function readHostFacts(nodeName: string, rootDir = '/'): HostFacts {
  let disk = 0;
  try {
    const st = statfsNearest(rootDir);
    disk = st.blocks * st.bsize;
  } catch { /* unknown: reported as 0 */ }
  const mem = Math.min(os.totalmem(), cgroupMemoryLimit() ?? Infinity);
  return {
    cpuCores: os.availableParallelism?.() ?? os.cpus().length,
    memoryBytes: mem,
    ephemeralStorageBytes: disk,
    kernelVersion: os.release(),
    osImage: osImage(),
    architecture: goArch(),
    machineID: fakeId(`machine:${readTrim('/etc/machine-id') ?? ''}:${nodeName}`),
    systemUUID: readTrim('/sys/class/dmi/id/product_uuid') ?? uuidFrom(fakeId(`system:${nodeName}`)),
    bootID: readTrim('/proc/sys/kernel/random/boot_id') ?? uuidFrom(fakeId(`boot:${nodeName}:${Date.now()}`)),
    hostname: os.hostname(),
  };
}

function uuidFrom(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The first non-internal IPv4 address of this machine, else 127.0.0.1. */
export function firstIPv4(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
