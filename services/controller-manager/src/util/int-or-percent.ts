/** Int-or-percent values (upstream apimachinery intstr). Pure. */

export type IntOrPercent = number | string;

/**
 * `v` scaled against `total` (upstream intstr.GetScaledValueFromIntOrPercent): a number is
 * itself, "N%" is N% of total rounded up (`roundUp`) or down, undefined is `dflt`. Throws on
 * a string that is not a percentage ("invalid value for IntOrString: …", as upstream).
 */
export function scaledValue(v: IntOrPercent | undefined, total: number, roundUp: boolean, dflt: IntOrPercent = 0): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(-?\d+)%$/.exec(x);
  if (!m) {
    const why = x.endsWith('%') ? `invalid value "${x.slice(0, -1)}": strconv.Atoi: parsing "${x.slice(0, -1)}": invalid syntax` : 'invalid type: string is not a percentage';
    throw new Error(`invalid value for IntOrString: ${why}`);
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
