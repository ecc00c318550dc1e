/**
 * Quantities printed the way upstream's resource.Quantity.String() prints them, because the
 * eviction messages and the Node's allocatable embed them ("Threshold quantity: 100Mi,
 * available: 81920Ki", "request is 0", allocatable "1900m"). @tskube/api parses quantities
 * into numbers but has no canonical printer; this is the small part of upstream's
 * canonicalisation the kubelet needs (integers and milli/micro/nano values, both formats).
 *
 * - BinarySI (bytes): the largest power of 1024 that divides the value exactly (Ki … Ei);
 *   no suffix when none does ("1536"). Values within (-1024, 1024) and fractions print as
 *   DecimalSI, as upstream does.
 * - DecimalSI (cores, counts): the largest power of 1000 dividing an integer (k … E), else
 *   the smallest of m, u, n that makes the value whole ("1900m").
 */
import { parseQuantity } from '@tskube/api';

export type QuantityFormat = 'BinarySI' | 'DecimalSI';

const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const DECIMAL_UP = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const DECIMAL_DOWN: Array<[string, number]> = [['m', 1e3], ['u', 1e6], ['n', 1e9]];

function decimal(v: number): string {
  if (v === 0) return '0';
  const sign = v < 0 ? '-' : '';
  const abs = Math.abs(v);
  if (Number.isInteger(abs)) {
    let n = abs;
    let i = 0;
    while (i < DECIMAL_UP.length - 1 && n % 1000 === 0) { n /= 1000; i++; }
    return `${sign}${n}${DECIMAL_UP[i]}`;
  }
  for (const [suffix, scale] of DECIMAL_DOWN) {
    const scaled = Math.round(abs * scale * 1e6) / 1e6;
    if (Number.isInteger(scaled)) return `${sign}${scaled}${suffix}`;
  }
  // upstream rounds sub-nano precision up to the next nano unit
  return `${sign}${Math.ceil(abs * 1e9)}n`;
}

/** `v` printed as upstream Quantity.String() with the given format. */
export function formatQuantity(v: number, format: QuantityFormat): string {
  if (format === 'DecimalSI' || !Number.isInteger(v) || Math.abs(v) < 1024) return decimal(v);
  const sign = v < 0 ? '-' : '';
  let n = Math.abs(v);
  let i = 0;
  while (i < BINARY_SUFFIXES.length - 1 && n % 1024 === 0) { n /= 1024; i++; }
  return `${sign}${n}${BINARY_SUFFIXES[i]}`;
}

/** The format upstream keeps for a parsed quantity string: BinarySI for Ki…Ei, else DecimalSI. */
export function formatOf(q: string): QuantityFormat {
  return /(Ki|Mi|Gi|Ti|Pi|Ei)$/.test(q.trim()) ? 'BinarySI' : 'DecimalSI';
}

/** A quantity string in its canonical form ("1024Mi" → "1Gi", "0.5" → "500m"). */
export function canonicalQuantity(q: string): string {
  return formatQuantity(parseQuantity(q), formatOf(q));
}
