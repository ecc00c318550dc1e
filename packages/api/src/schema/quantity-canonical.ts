/**
 * Canonical form of a resource quantity, as upstream serializes a decoded
 * k8s.io/apimachinery/pkg/api/resource.Quantity: what a client reads back after writing
 * `cpu: 0.5` (→ "500m"), `cpu: 1000m` (→ "1"), `memory: 1024Mi` (→ "1Gi"), `1000` (→ "1k").
 *
 * Rules (from upstream ParseQuantity / CanonicalizeBytes):
 * - the suffix picks the format: none or n,u,m,k,M,G,T,P,E → DecimalSI; Ki..Ei → BinarySI;
 *   e<N>/E<N> → DecimalExponent;
 * - the value is rounded up (away from zero) to a multiple of 1n; BinarySI magnitudes are capped
 *   at 2^63-1;
 * - BinarySI values with |v| < 1024 or a fractional part are written as DecimalSI; otherwise
 *   the largest power of 1024 that divides the value picks the suffix;
 * - decimal values move all factors of ten into the exponent, then lower it to a multiple of
 *   three; DecimalSI writes the SI suffix of that exponent (we cap at E, upstream would write
 *   no suffix past E), DecimalExponent writes `e<exp>`.
 * Arithmetic is exact (BigInt): value = mantissa × 10^exp10.
 */

const FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const NUMERIC = 'unable to parse numeric part of quantity';
const SUFFIX = "unable to parse quantity's suffix";

/** A malformed quantity; the message is upstream's. */
export class QuantityFormatError extends Error {}

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

const DEC_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BIN_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DEC_BY_EXP = new Map(Object.entries(DEC_SUFFIX).map(([s, e]) => [e, s]));
const BIN_BY_EXP = new Map([[0, ''], ...Object.entries(BIN_SUFFIX).map(([s, e]) => [e / 10, s] as [number, string])]);
const SUFFIX_CHARS = 'eEinumkKMGTP';

function interpret(suffix: string): { base: 10 | 2; exp: number; format: Format } {
  if (suffix in DEC_SUFFIX) return { base: 10, exp: DEC_SUFFIX[suffix]!, format: 'DecimalSI' };
  if (suffix in BIN_SUFFIX) return { base: 2, exp: BIN_SUFFIX[suffix]!, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    return { base: 10, exp: Number(suffix.slice(1)), format: 'DecimalExponent' };
  }
  throw new QuantityFormatError(SUFFIX);
}

/** Splits like upstream parseQuantityString: sign, integer digits, fraction digits, suffix. */
function split(str: string): { negative: boolean; num: string; denom: string; suffix: string } {
  let pos = 0;
  const end = str.length;
  let negative = false;
  if (str[0] === '-') { negative = true; pos++; } else if (str[0] === '+') pos++;
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { negative, num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && str[i]! >= '0' && str[i]! <= '9') i++;
  const num = str.slice(pos, i) || '0';
  pos = i;
  let denom = '';
  if (pos < end && str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && str[i]! >= '0' && str[i]! <= '9') i++;
    denom = str.slice(pos, i);
    pos = i;
  }
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos]!)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && str[pos]! >= '0' && str[pos]! <= '9') pos++;
  if (pos < end) throw new QuantityFormatError(FORMAT_WRONG);
  return { negative, num, denom, suffix: str.slice(suffixStart) };
}

const TEN = 10n;
const MAX_INT64 = 2n ** 63n - 1n;
const pow10 = (n: number): bigint => TEN ** BigInt(n);
const abs = (b: bigint): bigint => (b < 0n ? -b : b);

/**
 * The canonical string of a quantity given as a string (as in JSON `"500m"`) or a number (as in
 * JSON `0.5`; formatted with String(), so 1e21 reads "1e+21"). Throws QuantityFormatError
 * with upstream's message when malformed.
 */
export function canonicalQuantity(input: string | number): string {
  const str = typeof input === 'number' ? String(input) : input.trim();
  if (str.length === 0) throw new QuantityFormatError(FORMAT_WRONG);
  if (str === '0') return '0';
  const { negative, num, denom, suffix } = split(str);
  const { base, exp, format: parsedFormat } = interpret(suffix);
  let format = parsedFormat;

  // value = mantissa × 10^e10 (exact)
  let mantissa = BigInt(num + denom);
  let e10 = -denom.length;
  if (base === 10) e10 += exp;
  else mantissa *= 2n ** BigInt(exp);
  if (negative) mantissa = -mantissa;

  // Round up (away from zero) to nano.
  if (e10 < -9 && mantissa !== 0n) {
    const div = pow10(-9 - e10);
    const q = abs(mantissa) / div;
    const r = abs(mantissa) % div;
    const m = r === 0n ? q : q + 1n;
    mantissa = mantissa < 0n ? -m : m;
    e10 = -9;
  }
  if (mantissa === 0n) return '0';

  // Upstream caps binary quantities at the int64 maximum (magnitude).
  if (format === 'BinarySI' && abs(mantissa) * (e10 >= 0 ? pow10(e10) : 1n) > MAX_INT64 * (e10 >= 0 ? 1n : pow10(-e10))) {
    mantissa = mantissa < 0n ? -MAX_INT64 : MAX_INT64;
    e10 = 0;
  }

  if (format === 'BinarySI') {
    const isInteger = e10 >= 0 || mantissa % pow10(-e10) === 0n;
    const intValue = isInteger ? (e10 >= 0 ? mantissa * pow10(e10) : mantissa / pow10(-e10)) : 0n;
    if (!isInteger || abs(intValue) < 1024n) {
      format = 'DecimalSI';
    } else {
      let v = intValue;
      let k = 0;
      while (k < 6 && v % 1024n === 0n) { v /= 1024n; k++; }
      return `${v}${BIN_BY_EXP.get(k)!}`;
    }
  }

  // Decimal: move factors of ten into the exponent, then lower it to a multiple of three.
  while (mantissa % TEN === 0n) { mantissa /= TEN; e10++; }
  while (((e10 % 3) + 3) % 3 !== 0) { mantissa *= TEN; e10--; }
  if (format === 'DecimalExponent') return e10 === 0 ? `${mantissa}` : `${mantissa}e${e10}`;
  while (e10 > 18) { mantissa *= 1000n; e10 -= 3; }
  const sfx = DEC_BY_EXP.get(e10);
  if (sfx === undefined) throw new QuantityFormatError(NUMERIC); // unreachable: e10 ∈ [-9, 18], multiple of 3
  return `${mantissa}${sfx}`;
}
