/**
 * The JSON forms Go gives the few Kubernetes types with custom marshallers, computed from
 * their protobuf fields: metav1.Time, metav1.MicroTime (RFC 3339 in UTC) and metav1.Duration
 * (Go's time.Duration.String()).
 */

const MAX_DATE_MS = 8.64e15; // the range of a JS Date

function utcDate(seconds: bigint, nanos: number): Date | undefined {
  const ms = Number(seconds) * 1000 + Math.floor(nanos / 1e6);
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return undefined;
  return new Date(ms);
}

/**
 * metav1.Time as Go's JSON writes it: RFC 3339, UTC, whole seconds (Go's unmarshaller drops
 * the nanoseconds). Undefined for a time out of range. (The zero time, which Go writes as
 * an empty message and JSON null, is the caller's business: it has no seconds to pass.)
 */
export function timeJson(seconds: bigint, _nanos: number): string | undefined {
  const d = utcDate(seconds, 0);
  return d?.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339, UTC, exactly six fractional digits. */
export function microTimeJson(seconds: bigint, nanos: number): string | undefined {
  const d = utcDate(seconds, 0);
  if (!d) return undefined;
  const micros = String(Math.floor(nanos / 1000)).padStart(6, '0');
  return d.toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
}

/** Fraction digits of `v` (< 10^prec) without trailing zeros, with the dot; '' when zero. */
function frac(v: bigint, prec: number): string {
  if (v === 0n) return '';
  return `.${v.toString().padStart(prec, '0').replace(/0+$/, '')}`;
}

/**
 * Go's time.Duration.String() for a count of nanoseconds: "0s", "1.5s", "1m30s", "1h0m0s",
 * "250ms", "1.5µs", "7ns"; negative durations get a leading "-".
 */
export function goDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const neg = nanos < 0n;
  const u = neg ? -nanos : nanos;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${u / 1000n}${frac(u % 1000n, 3)}µs`;
    else out = `${u / 1_000_000n}${frac(u % 1_000_000n, 6)}ms`;
  } else {
    const secs = u / 1_000_000_000n;
    out = `${secs % 60n}${frac(u % 1_000_000_000n, 9)}s`;
    const mins = secs / 60n;
    if (mins > 0n) {
      out = `${mins % 60n}m${out}`;
      const hours = mins / 60n;
      if (hours > 0n) out = `${hours}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}
