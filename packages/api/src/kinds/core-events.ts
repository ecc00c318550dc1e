/**
 * events.k8s.io/v1 Events: the field mapping to and from core/v1 Events (both APIs serve the
 * same stored objects, kept in the core/v1 shape) and upstream's version-aware validation
 * (pkg/apis/core/validation/events.go). Validation runs on the core shape, so its field paths
 * are the core names (involvedObject, message, firstTimestamp …), as upstream reports them.
 */
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import { field, type FieldError } from '../errors.js';
import { jsonEqual } from '../meta.js';
import { isDNS1123Subdomain, isQualifiedName } from '../validation.js';
import type { KubeObject } from '../types.js';

export type { CoreEvent, EventsV1Event };

type Obj = Record<string, unknown>;

/** core/v1 name → events.k8s.io/v1 name, for every field whose name differs. */
const RENAMES: readonly [string, string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reportingComponent', 'reportingController'],
];
/** Fields with the same name in both versions. */
const SHARED = ['metadata', 'reason', 'type', 'eventTime', 'series', 'action', 'related', 'reportingInstance'];

function rename(from: Obj, apiVersion: string, pairs: readonly [string, string][]): KubeObject {
  const out: Obj = { apiVersion, kind: 'Event' };
  for (const k of SHARED) if (from[k] !== undefined) out[k] = structuredClone(from[k]);
  for (const [a, b] of pairs) if (from[a] !== undefined) out[b] = structuredClone(from[a]);
  return out as KubeObject;
}

/** events.k8s.io/v1 → core/v1 (the stored shape). Every v1 field has a core counterpart. */
export function eventToCore(ev: KubeObject): KubeObject {
  const out = rename(ev as Obj, 'v1', RENAMES.map(([a, b]) => [b, a] as [string, string]));
  (out as Obj).involvedObject ??= {};
  return out;
}

/** core/v1 → events.k8s.io/v1. `eventTime` is always present (null when unset), as upstream serves it. */
export function eventFromCore(ev: KubeObject): KubeObject {
  const out = rename(ev as Obj, 'events.k8s.io/v1', RENAMES) as Obj;
  out.eventTime ??= null;
  out.regarding ??= {};
  return out as KubeObject;
}

/** Field-selector values of an event in either shape (upstream EventToSelectableFields of events/v1). */
export function eventsV1SelectableFields(obj: KubeObject): Record<string, string> {
  const v1 = (obj.apiVersion === 'events.k8s.io/v1' ? obj : eventFromCore(obj)) as unknown as EventsV1Event;
  const r = v1.regarding ?? {};
  return {
    'regarding.kind': r.kind ?? '', 'regarding.namespace': r.namespace ?? '', 'regarding.name': r.name ?? '',
    'regarding.uid': r.uid ?? '', 'regarding.apiVersion': r.apiVersion ?? '', 'regarding.resourceVersion': r.resourceVersion ?? '',
    'regarding.fieldPath': r.fieldPath ?? '', reason: v1.reason ?? '', reportingController: v1.reportingController ?? '',
    source: v1.deprecatedSource?.component || v1.reportingController || '', type: v1.type ?? '',
  };
}

const REPORTING_INSTANCE_MAX = 128;
const ACTION_MAX = 128;
const REASON_MAX = 128;
const NOTE_MAX = 1024;

/** Rules every event passes, whatever API wrote it (upstream legacyValidateEvent). */
export function legacyValidateEvent(ev: CoreEvent): FieldError[] {
  const errs: FieldError[] = [];
  const ns = ev.metadata?.namespace ?? '';
  const io = ev.involvedObject ?? {};
  if (!ev.eventTime) {
    if (!io.namespace) {
      if (ns !== '' && ns !== 'default') errs.push(field.invalid('involvedObject.namespace', io.namespace ?? '', 'does not match event.namespace'));
    } else if (ns !== io.namespace) {
      errs.push(field.invalid('involvedObject.namespace', io.namespace, 'does not match event.namespace'));
    }
  } else {
    if (!io.namespace && ns !== 'default' && ns !== 'kube-system') {
      errs.push(field.invalid('involvedObject.namespace', io.namespace ?? '', 'does not match event.namespace'));
    }
    const rc = ev.reportingComponent ?? '';
    if (!rc) errs.push(field.required('reportingController'));
    for (const m of isQualifiedName(rc)) errs.push(field.invalid('reportingController', rc, m));
    const ri = ev.reportingInstance ?? '';
    if (!ri) errs.push(field.required('reportingInstance'));
    if (ri.length > REPORTING_INSTANCE_MAX) errs.push(field.invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_MAX} characters`));
    const action = ev.action ?? '';
    if (!action) errs.push(field.required('action'));
    if (action.length > ACTION_MAX) errs.push(field.invalid('action', '', `can have at most ${ACTION_MAX} characters`));
    const reason = ev.reason ?? '';
    if (!reason) errs.push(field.required('reason'));
    if (reason.length > REASON_MAX) errs.push(field.invalid('reason', '', `can have at most ${REASON_MAX} characters`));
    if ((ev.message ?? '').length > NOTE_MAX) errs.push(field.invalid('message', '', `can have at most ${NOTE_MAX} characters`));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(field.invalid('namespace', ns, m));
  return errs;
}

function validateSeries(ev: CoreEvent): FieldError[] {
  const errs: FieldError[] = [];
  if (ev.series) {
    if ((ev.series.count ?? 0) < 2) errs.push(field.invalid('series.count', '', 'should be at least 2'));
    if (!ev.series.lastObservedTime) errs.push(field.required('series.lastObservedTime'));
  }
  return errs;
}

/** Create through events.k8s.io/v1: the legacy rules plus the strict ones (upstream ValidateEventCreate). */
export function validateEventsV1Create(ev: CoreEvent): FieldError[] {
  const errs = [...legacyValidateEvent(ev), ...validateSeries(ev)];
  if (!ev.eventTime) errs.push(field.required('eventTime'));
  if (ev.type !== 'Normal' && ev.type !== 'Warning') errs.push(field.invalid('type', '', `has invalid value: ${ev.type ?? ''}`));
  if (ev.firstTimestamp) errs.push(field.invalid('firstTimestamp', '', 'needs to be unset'));
  if (ev.lastTimestamp) errs.push(field.invalid('lastTimestamp', '', 'needs to be unset'));
  if (ev.count) errs.push(field.invalid('count', '', 'needs to be unset'));
  if (ev.source?.component || ev.source?.host) errs.push(field.invalid('source', '', 'needs to be unset'));
  return errs;
}

/** Update through events.k8s.io/v1: only the series may change (upstream ValidateEventUpdate). */
export function validateEventsV1Update(next: CoreEvent, old: CoreEvent): FieldError[] {
  const errs = legacyValidateEvent(next);
  if (!jsonEqual(next.series, old.series)) errs.push(...validateSeries(next));
  const same = (k: keyof CoreEvent, path = k as string) => {
    const a = (next as unknown as Obj)[k as string];
    const b = (old as unknown as Obj)[k as string];
    const empty = (v: unknown) => v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as Obj).length === 0);
    if (!(jsonEqual(a, b) || (empty(a) && empty(b)))) errs.push(field.invalid(path, a ?? null, 'field is immutable'));
  };
  same('involvedObject'); same('reason'); same('message'); same('source'); same('firstTimestamp'); same('lastTimestamp');
  same('count'); same('reason'); same('type'); same('eventTime'); same('action'); same('related');
  same('reportingComponent', 'reportingController'); same('reportingInstance');
  return errs;
}
