/**
 * Label selectors: the string syntax of `?labelSelector=` (equality- and set-based, as
 * upstream `labels.Parse`), the structured `LabelSelector` of specs, and matching.
 */
import type { LabelSelector } from './types.js';
import { badRequest } from './errors.js';

export type SelectorOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!';

export interface Requirement {
  key: string;
  op: SelectorOp;
  values: string[];
}

/** An empty selector matches everything. */
export type Selector = readonly Requirement[];

export type Labels = Readonly<Record<string, string>> | undefined;

export function matches(sel: Selector, labels: Labels): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = has ? l[r.key] : undefined;
    switch (r.op) {
      case '=': if (!has || v !== r.values[0]) return false; break;
      case '!=': if (has && v === r.values[0]) return false; break;
      case 'in': if (!has || !r.values.includes(v!)) return false; break;
      case 'notin': if (has && r.values.includes(v!)) return false; break;
      case 'exists': if (!has) return false; break;
      case '!': if (has) return false; break;
    }
  }
  return true;
}

const KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function tokenize(s: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === ',' || c === '(' || c === ')') { tokens.push(c); i++; continue; }
    if (s.startsWith('!=', i) || s.startsWith('==', i)) { tokens.push(s.slice(i, i + 2)); i += 2; continue; }
    if (c === '=' || c === '!') { tokens.push(c); i++; continue; }
    let j = i;
    while (j < s.length && !' \t,()=!'.includes(s[j]!)) j++;
    tokens.push(s.slice(i, j));
    i = j;
  }
  return tokens;
}

/** Parses `a=b,c!=d,e in (x,y),!f,g`; throws a 400 ApiError on bad syntax. */
export function parseSelector(input: string | undefined): Selector {
  if (!input || input.trim() === '') return [];
  const t = tokenize(input);
  let p = 0;
  const fail = (why: string): never => { throw badRequest(`unable to parse requirement: ${why}`); };
  const peek = () => t[p];
  const next = () => t[p++];
  const reqs: Requirement[] = [];
  const checkKey = (k: string) => {
    if (!KEY_RE.test(k) || k.length > 317) fail(`invalid label key "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  };
  const checkValue = (v: string) => {
    if (!VALUE_RE.test(v) || v.length > 63) fail(`invalid label value: "${v}": at key: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  };
  for (;;) {
    let tok = next();
    if (tok === undefined) fail('found \'\', expected: identifier');
    if (tok === '!') {
      const key = next();
      if (key === undefined || ',()=!'.includes(key)) fail(`found '${key ?? ''}', expected: identifier after '!'`);
      checkKey(key!);
      reqs.push({ key: key!, op: '!', values: [] });
    } else {
      const key = tok!;
      checkKey(key);
      tok = peek();
      if (tok === undefined || tok === ',') {
        reqs.push({ key, op: 'exists', values: [] });
      } else if (tok === '=' || tok === '==' || tok === '!=') {
        next();
        let value = peek();
        if (value === undefined || value === ',') value = ''; else next();
        checkValue(value);
        reqs.push({ key, op: tok === '!=' ? '!=' : '=', values: [value] });
      } else if (tok === 'in' || tok === 'notin') {
        next();
        if (next() !== '(') fail(`found '${t[p - 1] ?? ''}', expected: '('`);
        const values: string[] = [];
        for (;;) {
          const v = next();
          if (v === undefined) fail("found '', expected: ')'");
          if (v === ')') break;
          if (v === ',') continue;
          checkValue(v!);
          values.push(v!);
        }
        reqs.push({ key, op: tok, values });
      } else {
        fail(`found '${tok}', expected: in, notin, =, ==, !=, or end of string`);
      }
    }
    const sep = next();
    if (sep === undefined) break;
    if (sep !== ',') fail(`found '${sep}', expected: ',' or 'end of string'`);
  }
  return reqs;
}

/** Converts a spec's LabelSelector. `undefined`/null selects nothing (upstream semantics). */
export function fromLabelSelector(ls: LabelSelector | undefined | null): Selector | null {
  if (!ls) return null;
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of ls.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In': reqs.push({ key: e.key, op: 'in', values: e.values ?? [] }); break;
      case 'NotIn': reqs.push({ key: e.key, op: 'notin', values: e.values ?? [] }); break;
      case 'Exists': reqs.push({ key: e.key, op: 'exists', values: [] }); break;
      case 'DoesNotExist': reqs.push({ key: e.key, op: '!', values: [] }); break;
      default: throw badRequest(`"${e.operator}" is not a valid label selector operator`);
    }
  }
  return reqs;
}

/** Renders a selector back to the query-string syntax (`a=b,c in (x,y)`). */
export function selectorString(sel: Selector): string {
  return sel.map((r) => {
    switch (r.op) {
      case '=': return `${r.key}=${r.values[0]}`;
      case '!=': return `${r.key}!=${r.values[0]}`;
      case 'in': return `${r.key} in (${[...r.values].sort().join(',')})`;
      case 'notin': return `${r.key} notin (${[...r.values].sort().join(',')})`;
      case 'exists': return r.key;
      case '!': return `!${r.key}`;
    }
  }).join(',');
}

export function labelSelectorString(ls: LabelSelector | undefined): string {
  const sel = fromLabelSelector(ls);
  return sel ? selectorString(sel) : '';
}
