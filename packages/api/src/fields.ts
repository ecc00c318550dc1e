/**
 * Field selectors (`?fieldSelector=spec.nodeName=n1,status.phase!=Failed`). Only `=`, `==`
 * and `!=` exist; which fields are selectable is decided per resource by the apiserver.
 */
import { badRequest } from './errors.js';

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/** Splits on unescaped commas; upstream allows `\,` `\=` `\\` escapes in values. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) { cur += c + s[i + 1]; i++; continue; }
    if (c === ',') { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(input: string | undefined): FieldSelector {
  if (!input || input.trim() === '') return [];
  const reqs: FieldRequirement[] = [];
  for (const term of splitTerms(input)) {
    if (term === '') continue;
    let m = /^([^=!]+)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    const [, f, op, v] = m;
    m = null;
    reqs.push({ field: f!.trim(), op: op === '!=' ? '!=' : '=', value: unescape(v!) });
  }
  return reqs;
}

/** `fields` maps each selectable field to the object's value (missing = ""). */
export function fieldsMatch(sel: FieldSelector, fields: Readonly<Record<string, string>>): boolean {
  for (const r of sel) {
    const v = fields[r.field] ?? '';
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

export function fieldSelectorString(sel: FieldSelector): string {
  return sel.map((r) => `${r.field}${r.op}${r.value.replace(/([\\,=])/g, '\\$1')}`).join(',');
}
