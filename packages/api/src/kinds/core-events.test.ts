import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import { eventFromCore, eventToCore, eventsV1SelectableFields, legacyValidateEvent, validateEventsV1Create, validateEventsV1Update } from './core-events.js';
import { defaultTokenRequest, validateDeleteOptions, validateTokenRequest, type TokenRequest } from './core-subresources.js';
import { fieldErrorString, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';

const strings = (errs: FieldError[]) => errs.map(fieldErrorString);

const core: KubeObject = {
  apiVersion: 'v1', kind: 'Event',
  metadata: { name: 'web.17a', namespace: 'default', uid: 'u1', resourceVersion: '5' },
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'p1', apiVersion: 'v1', fieldPath: 'spec.containers{c}' },
  reason: 'Pulled', message: 'Container image pulled', source: { component: 'kubelet', host: 'node-1' },
  firstTimestamp: '2024-05-01T10:00:00Z', lastTimestamp: '2024-05-01T10:01:00Z', count: 3, type: 'Normal',
  eventTime: null as unknown as string, reportingComponent: 'kubelet', reportingInstance: 'node-1', action: 'Pull',
  related: { kind: 'Node', name: 'node-1' }, series: { count: 3, lastObservedTime: '2024-05-01T10:01:00.000000Z' },
};

test('core/v1 ↔ events.k8s.io/v1: every field maps and round-trips', () => {
  const v1 = eventFromCore(core);
  assert.deepEqual(v1, {
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: core.metadata, reason: 'Pulled', type: 'Normal', eventTime: null,
    series: core.series, action: 'Pull', related: core.related, reportingInstance: 'node-1',
    regarding: core.involvedObject, note: 'Container image pulled', deprecatedSource: { component: 'kubelet', host: 'node-1' },
    deprecatedFirstTimestamp: '2024-05-01T10:00:00Z', deprecatedLastTimestamp: '2024-05-01T10:01:00Z', deprecatedCount: 3,
    reportingController: 'kubelet',
  });
  assert.deepEqual(eventToCore(v1), core);
  const fields = eventsV1SelectableFields(core);
  assert.equal(fields['regarding.name'], 'web');
  assert.equal(fields.reportingController, 'kubelet');
  assert.equal(fields.source, 'kubelet');
  assert.deepEqual(eventsV1SelectableFields(v1), fields, 'either shape gives the same fields');
});

test('events.k8s.io/v1 create validation is strict; core events only pass the legacy rules', () => {
  const fresh = eventToCore({
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e', namespace: 'default' },
    eventTime: '2024-05-01T10:00:00.000000Z', reportingController: 'example.com/ctl', reportingInstance: 'ctl-1', action: 'Sync', reason: 'Synced',
    type: 'Normal', regarding: { kind: 'Pod', name: 'web', namespace: 'default' }, note: 'ok',
  }) as unknown as CoreEvent;
  assert.deepEqual(validateEventsV1Create(fresh), []);
  const bad = { ...fresh, type: 'Fatal', eventTime: undefined, count: 2, action: '', series: { count: 1 } } as unknown as CoreEvent;
  assert.deepEqual(strings(validateEventsV1Create(bad)), [
    'series.count: Invalid value: "": should be at least 2', 'series.lastObservedTime: Required value', 'eventTime: Required value',
    'type: Invalid value: "": has invalid value: Fatal', 'count: Invalid value: "": needs to be unset',
  ]);
  // through the core API an old-style event needs no reporting fields
  assert.deepEqual(legacyValidateEvent(core as unknown as CoreEvent), []);
  const mismatched = { ...core, involvedObject: { kind: 'Pod', namespace: 'other', name: 'web' } } as unknown as CoreEvent;
  assert.deepEqual(strings(legacyValidateEvent(mismatched)), ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
  const changed = { ...fresh, message: 'changed', series: { count: 2, lastObservedTime: '2024-05-01T10:02:00.000000Z' } } as unknown as CoreEvent;
  assert.deepEqual(strings(validateEventsV1Update(changed, fresh)), ['message: Invalid value: "changed": field is immutable']);
});

test('TokenRequest: one hour by default, at least 10 minutes, at most 2^32 s; DeleteOptions', () => {
  const tr: TokenRequest = { spec: { audiences: [] } };
  defaultTokenRequest(tr);
  assert.equal(tr.spec.expirationSeconds, 3600);
  assert.deepEqual(strings(validateTokenRequest({ spec: { audiences: [], expirationSeconds: 60 } })), ['spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes']);
  assert.deepEqual(strings(validateTokenRequest({ spec: { audiences: [], expirationSeconds: 2 ** 33 } })), ['spec.expirationSeconds: Invalid value: 8589934592: may not specify a duration larger than 2^32 seconds']);
  assert.deepEqual(strings(validateDeleteOptions({ propagationPolicy: 'Sideways', dryRun: ['Some'] })), [
    'propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"',
    'dryRun: Unsupported value: ["Some"]: supported values: "All"',
  ]);
  assert.deepEqual(strings(validateDeleteOptions({ propagationPolicy: 'Orphan', orphanDependents: true })), ['propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set']);
});
