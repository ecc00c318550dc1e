/**
 * Resource quantities ("100m", "128Mi", "1.5", "2e3"), parsed the way upstream
 * k8s.io/apimachinery/pkg/api/resource accepts them. Values are JS numbers: exact for
 * everything a node or pod can hold (below 2^53 bytes or millicores).
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY_RE = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

export class QuantityError extends Error {}

/** The quantity as a number of base units (cores, bytes); throws QuantityError when malformed. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new QuantityError('quantities must be finite');
    return q;
  }
  const m = QUANTITY_RE.exec(q.trim() === q ? q : '');
  if (!m) throw new QuantityError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  const num = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return num * BINARY[suffix]!;
  if (suffix in DECIMAL) return num * DECIMAL[suffix]!;
  return num * 10 ** Number(suffix.slice(1));
}

export function isValidQuantity(q: unknown): boolean {
  if (typeof q !== 'string' && typeof q !== 'number') return false;
  try { parseQuantity(q); return true; } catch { return false; }
}

/** Millicores (or milli-units), rounded up like upstream MilliValue. */
export function milliValue(q: string | number): number {
  return Math.ceil(Math.round(parseQuantity(q) * 1e9) / 1e6);
}

/** Whole units (bytes), rounded up like upstream Value. */
export function unitValue(q: string | number): number {
  return Math.ceil(Math.round(parseQuantity(q) * 1e3) / 1e3);
}

/** Formats bytes the way kubelets report capacity ("16318572Ki"). */
export function formatKi(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}
