/**
 * Eviction signals and thresholds (upstream pkg/kubelet/eviction/api and the parsing half of
 * helpers.go), and the kubelet's reservation syntax (upstream --system-reserved /
 * --kube-reserved). Pure.
 *
 * Syntax, as the upstream flags:
 * - thresholds: `memory.available<100Mi,nodefs.available<10%` (a quantity or a percentage of
 *   the signal's capacity; `0%` and `100%` are ignored, i.e. turn a default off);
 * - soft grace periods: `memory.available=1m30s` (a Go duration; every soft threshold needs one);
 * - minimum reclaim: `nodefs.available=500Mi` (quantity or percentage);
 * - reservations: `cpu=100m,memory=256Mi,ephemeral-storage=1Gi,pid=1000`.
 * Every error says what was wrong in upstream's words.
 */
import { QuantityError, parseQuantity } from '@tskube/api';

export const SIGNALS = [
  'memory.available', 'allocatableMemory.available', 'nodefs.available', 'nodefs.inodesFree',
  'imagefs.available', 'imagefs.inodesFree', 'pid.available',
] as const;
export type Signal = typeof SIGNALS[number];

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';
/** The order conditions are reported in (upstream reports them from a map). */
export const PRESSURE_CONDITIONS: readonly PressureCondition[] = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** What a signal starves (upstream signalToResource); "inodes" and "pids" are internal names. */
export type StarvedResource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';

export const SIGNAL_RESOURCE: Readonly<Record<Signal, StarvedResource>> = {
  'memory.available': 'memory',
  'allocatableMemory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage',
  'imagefs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

export const SIGNAL_CONDITION: Readonly<Record<Signal, PressureCondition>> = {
  'memory.available': 'MemoryPressure',
  'allocatableMemory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

/** A literal quantity (base units: bytes, inodes, pids) or a fraction of the signal's capacity. */
export type ThresholdValue =
  | { quantity: number; text: string }
  | { percentage: number };

export interface Threshold {
  signal: Signal;
  /** Always "LessThan" (upstream's only operator): met when available < value. */
  value: ThresholdValue;
  /** 0 for a hard threshold; how long a soft one must hold before pods are evicted. */
  gracePeriodMs: number;
  minReclaim?: ThresholdValue;
}

/** upstream DefaultEvictionHard (Linux). */
export const DEFAULT_EVICTION_HARD = 'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%';

/** upstream evictionPressureTransitionPeriod default (5m) and evictionMonitoringPeriod (10 s). */
export const DEFAULT_PRESSURE_TRANSITION_PERIOD_MS = 5 * 60_000;
export const DEFAULT_MONITORING_INTERVAL_MS = 10_000;

export interface EvictionConfig {
  /** Hard and soft thresholds (plus the allocatableMemory.available copy of memory.available). */
  thresholds: Threshold[];
  /** How long a pressure condition stays True after its signal last crossed a threshold. */
  pressureTransitionPeriodMs: number;
  /** Upper bound of the grace period of pods evicted for a soft threshold (seconds). */
  maxPodGracePeriodSeconds: number;
  /** How often signals are observed (upstream 10 s). */
  monitoringIntervalMs: number;
}

/** Thresholds (hard ones only) and reservations that make the Node's allocatable. */
export interface Reservations {
  systemReserved?: Readonly<Record<string, string>>;
  kubeReserved?: Readonly<Record<string, string>>;
  /** Hard eviction thresholds; undefined: {@link DEFAULT_EVICTION_HARD}. */
  evictionHard?: readonly Threshold[];
}

function isSignal(s: string): s is Signal {
  return (SIGNALS as readonly string[]).includes(s);
}

/** "key<op>value" items of a comma list; `sep` is "<" (thresholds) or "=" (the others). */
function items(text: string, sep: '<' | '='): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const at = item.indexOf(sep);
    if (at <= 0) throw new Error(`malformed pair "${item}": want key${sep}value`);
    out.push([item.slice(0, at).trim(), item.slice(at + 1).trim()]);
  }
  return out;
}

function signalOf(name: string): Signal {
  if (!isSignal(name)) throw new Error(`unsupported eviction signal ${name}`);
  return name;
}

/** upstream parsePercentage: float32(value) / 100, in float32. */
function percentage(text: string): number {
  const v = Number(text.slice(0, -1));
  if (text.length < 2 || !Number.isFinite(v)) throw new Error(`invalid percentage "${text}"`);
  return Math.fround(Math.fround(v) / 100);
}

function quantity(text: string): number {
  try {
    return parseQuantity(text);
  } catch (err) {
    if (err instanceof QuantityError) throw new Error(`invalid quantity "${text}": ${err.message}`);
    throw err;
  }
}

/** upstream parseThresholdStatement; undefined for a threshold that is switched off (0% / 100%). */
function parseStatement(signal: Signal, val: string): Threshold | undefined {
  if (val.endsWith('%')) {
    if (val === '0%' || val === '100%') return undefined;
    const p = percentage(val);
    if (p < 0) throw new Error(`eviction percentage threshold ${signal} must be >= 0%: ${val}`);
    if (p > 1) throw new Error(`eviction percentage threshold ${signal} must be <= 100%: ${val}`);
    return { signal, value: { percentage: p }, gracePeriodMs: 0 };
  }
  const q = quantity(val);
  if (q <= 0) throw new Error(`eviction threshold ${signal} must be positive: ${val}`);
  return { signal, value: { quantity: q, text: val }, gracePeriodMs: 0 };
}

/** `signal<value,…` → thresholds (hard until grace periods are attached). */
export function parseThresholdStatements(text: string): Threshold[] {
  const out: Threshold[] = [];
  for (const [name, val] of items(text, '<')) {
    const t = parseStatement(signalOf(name), val);
    if (t) out.push(t);
  }
  return out;
}

/**
 * A Go duration ("1m30s", "500ms", "2h", "10s") in ms. Hand-written (a dozen lines) rather
 * than a dependency: the npm duration parsers accept other forms ("1 hour") Go rejects.
 */
export function parseGoDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * unit[m[2]!]!;
    at = re.lastIndex;
  }
  if (at === 0 || at !== s.length) throw new Error(`time: invalid duration "${text}"`);
  return total;
}

function parseValue(signal: Signal, val: string, what: string): ThresholdValue {
  if (val.endsWith('%')) {
    const p = percentage(val);
    if (p <= 0) throw new Error(`eviction percentage ${what} ${signal} must be positive: ${val}`);
    return { percentage: p };
  }
  const q = quantity(val);
  if (q < 0) throw new Error(`negative eviction ${what} specified for ${signal}`);
  return { quantity: q, text: val };
}

export interface ThresholdSettings {
  /** Hard thresholds; undefined: {@link DEFAULT_EVICTION_HARD}; "" or "none": none. */
  hard?: string;
  soft?: string;
  softGracePeriod?: string;
  minimumReclaim?: string;
}

/**
 * upstream ParseThresholdConfig with enforceNodeAllocatable=pods (the default): hard and soft
 * thresholds (each soft one must have a grace period), minimum reclaims attached by signal,
 * and an allocatableMemory.available copy of every hard memory.available threshold.
 */
export function parseThresholdConfig(o: ThresholdSettings): Threshold[] {
  const hardText = o.hard === undefined ? DEFAULT_EVICTION_HARD : o.hard.trim() === 'none' ? '' : o.hard;
  const hard = parseThresholdStatements(hardText);
  const soft = parseThresholdStatements(o.soft ?? '');
  const grace = new Map<Signal, number>();
  for (const [name, val] of items(o.softGracePeriod ?? '', '=')) {
    const ms = parseGoDuration(val);
    if (ms < 0) throw new Error(`invalid eviction grace period specified: ${val}, must be a positive value`);
    grace.set(signalOf(name), ms);
  }
  for (const t of soft) {
    const ms = grace.get(t.signal);
    if (ms === undefined) throw new Error(`grace period must be specified for the soft eviction threshold ${t.signal}`);
    t.gracePeriodMs = ms;
  }
  const reclaim = new Map<Signal, ThresholdValue>();
  for (const [name, val] of items(o.minimumReclaim ?? '', '=')) {
    const signal = signalOf(name);
    reclaim.set(signal, parseValue(signal, val, 'minimum reclaim'));
  }
  const all = [...hard, ...soft];
  for (const t of all) {
    const r = reclaim.get(t.signal);
    if (r) t.minReclaim = r;
  }
  const allocatable = all
    .filter((t) => t.signal === 'memory.available' && t.gracePeriodMs === 0)
    .map((t): Threshold => ({ ...t, signal: 'allocatableMemory.available' }));
  return [...all, ...allocatable];
}

const RESERVABLE = ['cpu', 'memory', 'ephemeral-storage', 'pid'];

/** upstream parseResourceList of --system-reserved / --kube-reserved: `cpu=100m,memory=256Mi,…`. */
export function parseReserved(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of items(text, '=')) {
    if (!RESERVABLE.includes(k)) throw new Error(`cannot reserve "${k}" resource`);
    let q: number;
    try {
      q = parseQuantity(v);
    } catch (err) {
      throw new Error(`failed to parse quantity "${v}" for "${k}" resource: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (q < 0) throw new Error(`resource quantity for "${k}" cannot be negative: ${v}`);
    out[k] = v;
  }
  return out;
}

/** upstream GetThresholdQuantity: the literal quantity, or int64(capacity × percentage). */
export function thresholdQuantity(v: ThresholdValue, capacity: number): number {
  return 'quantity' in v ? v.quantity : Math.trunc(capacity * v.percentage);
}

export function isHardThreshold(t: Threshold): boolean {
  return t.gracePeriodMs === 0;
}

/** A stable identity for a threshold (upstream keys maps by the Threshold struct). */
export function thresholdKey(t: Threshold): string {
  const v = (x: ThresholdValue | undefined): string => (x === undefined ? '-' : 'quantity' in x ? `q${x.quantity}` : `p${x.percentage}`);
  return `${t.signal}|${v(t.value)}|${t.gracePeriodMs}|${v(t.minReclaim)}`;
}
