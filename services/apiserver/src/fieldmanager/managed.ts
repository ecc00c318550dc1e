/**
 * metadata.managedFields on the wire ↔ field sets per manager (upstream
 * k8s.io/apimachinery/pkg/util/managedfields/internal: managedfields.go, conflict.go).
 *
 * A manager is identified by the JSON of its entry without time, fields and fieldsType (and
 * without apiVersion for appliers), so one entry exists per (manager, operation, subresource)
 * and, for updates, per apiVersion. The identifier is also what conflicts name.
 */
import { ApiError, isObject } from '@tskube/api';
import { FieldSet, pathString, type PE } from './fieldpath.js';

/** A metav1.ManagedFieldsEntry as JSON. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

export interface VersionedSet {
  readonly set: FieldSet;
  readonly apiVersion: string;
  /** Owned through an Apply (else through Updates). */
  readonly applied: boolean;
}

/** manager identifier → owned fields. */
export type ManagedFields = Map<string, VersionedSet>;

export interface Managed {
  fields: ManagedFields;
  /** manager identifier → RFC 3339 time of its last change (absent for some entries). */
  times: Map<string, string>;
}

export function emptyManaged(): Managed {
  return { fields: new Map(), times: new Map() };
}

export function cloneManaged(m: Managed): Managed {
  return { fields: new Map(m.fields), times: new Map(m.times) };
}

/** The identifier of a manager (Go's JSON encoding of the entry's identifying fields). */
export function managerIdentifier(e: { manager: string; operation: 'Apply' | 'Update'; apiVersion?: string; subresource?: string }): string {
  const o: Record<string, string> = {};
  if (e.manager) o.manager = e.manager;
  o.operation = e.operation;
  if (e.operation === 'Update' && e.apiVersion) o.apiVersion = e.apiVersion;
  if (e.subresource) o.subresource = e.subresource;
  return JSON.stringify(o);
}

interface ParsedIdentifier { manager: string; operation: string; apiVersion?: string; subresource?: string }

function parseIdentifier(id: string): ParsedIdentifier | undefined {
  try {
    const v: unknown = JSON.parse(id);
    if (!isObject(v)) return undefined;
    return {
      manager: typeof v.manager === 'string' ? v.manager : '',
      operation: typeof v.operation === 'string' ? v.operation : '',
      ...(typeof v.apiVersion === 'string' ? { apiVersion: v.apiVersion } : {}),
      ...(typeof v.subresource === 'string' ? { subresource: v.subresource } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Reads managedFields as a client or storage sent them. Throws an Error (not an ApiError) for
 * anything upstream cannot decode: a non-list, an operation other than Apply/Update, an
 * empty apiVersion, a fieldsType other than FieldsV1, malformed fields.
 */
export function decodeManagedFields(entries: unknown): Managed {
  const out = emptyManaged();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((raw, i) => {
    if (!isObject(raw)) throw new Error(`managed fields entry ${i} must be an object`);
    const e = raw as ManagedFieldsEntry;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (!e.apiVersion) throw new Error('apiVersion must not be empty');
    if (e.fieldsType === undefined || e.fieldsType === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType "${e.fieldsType}" in managed fields entry ${i}`);
    const id = managerIdentifier({
      manager: typeof e.manager === 'string' ? e.manager : '', operation: e.operation, apiVersion: e.apiVersion,
      ...(typeof e.subresource === 'string' && e.subresource ? { subresource: e.subresource } : {}),
    });
    const set = e.fieldsV1 === undefined || e.fieldsV1 === null ? FieldSet.EMPTY : FieldSet.fromFieldsV1(e.fieldsV1);
    out.fields.set(id, { set, apiVersion: e.apiVersion, applied: e.operation === 'Apply' });
    if (typeof e.time === 'string' && e.time) out.times.set(id, e.time);
    else out.times.delete(id);
  });
  return out;
}

/** `managedFields: []` or `[{}]` in a request: the client asks to drop all of them. */
export function isResetManagedFields(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  if (v.length === 0) return true;
  return v.length === 1 && isObject(v[0]) && Object.keys(v[0]).length === 0;
}

function seconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The wire form, sorted like upstream: Apply entries before Update entries, then by time
 * (seconds), manager, apiVersion and subresource. Undefined when nobody owns anything.
 */
export function encodeManagedFields(m: Managed): ManagedFieldsEntry[] | undefined {
  if (m.fields.size === 0) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const [id, vs] of m.fields) {
    const p = parseIdentifier(id) ?? { manager: id, operation: vs.applied ? 'Apply' : 'Update' };
    const time = m.times.get(id);
    const e: ManagedFieldsEntry = {
      manager: p.manager,
      operation: vs.applied ? 'Apply' : 'Update',
      apiVersion: vs.apiVersion,
      ...(time ? { time } : {}),
      fieldsType: 'FieldsV1',
      fieldsV1: vs.set.toFieldsV1(),
      ...(p.subresource ? { subresource: p.subresource } : {}),
    };
    if (!e.manager) delete e.manager;
    out.push(e);
  }
  out.sort((p, q) =>
    cmpStr(p.operation!, q.operation!) || seconds(p.time) - seconds(q.time) || cmpStr(p.manager ?? '', q.manager ?? '')
    || cmpStr(p.apiVersion ?? '', q.apiVersion ?? '') || cmpStr(p.subresource ?? '', q.subresource ?? ''));
  return out;
}

/** How conflicts name a manager: `"kubectl" with subresource "scale" using apps/v1`. */
export function printManager(id: string): string {
  const p = parseIdentifier(id);
  if (!p) return JSON.stringify(id);
  let s = JSON.stringify(p.manager);
  if (p.subresource) s += ` with subresource ${JSON.stringify(p.subresource)}`;
  if (p.operation === 'Update') s += ` using ${p.apiVersion ?? ''}`;
  return s;
}

export interface Conflict {
  /** Manager identifier. */
  manager: string;
  path: PE[];
}

/** Thrown by the updater when an apply changes fields other managers own (and force is off). */
export class ConflictsError extends Error {
  constructor(readonly conflicts: Conflict[]) {
    super(`${conflicts.length} conflict(s)`);
    this.name = 'ConflictsError';
  }
}

/** Conflicts of each manager's set, managers in identifier order, paths in set order. */
export function conflictsFromManagers(sets: Map<string, FieldSet>): Conflict[] {
  const out: Conflict[] = [];
  for (const id of [...sets.keys()].sort(cmpStr)) {
    for (const path of sets.get(id)!.paths()) out.push({ manager: id, path });
  }
  return out;
}

/** The 409 upstream answers (NewApplyConflict): reason Conflict, one FieldManagerConflict cause per field. */
export function applyConflictError(conflicts: readonly Conflict[]): ApiError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const l = byManager.get(c.manager) ?? [];
      l.push(pathString(c.path));
      byManager.set(c.manager, l);
    }
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort(cmpStr)) {
      lines.push(`conflicts with ${printManager(id)}:`);
      for (const p of byManager.get(id)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}
