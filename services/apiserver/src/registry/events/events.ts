/**
 * events.k8s.io/v1 Events: a second view of the core/v1 Events (same storage prefix, stored in
 * the core/v1 shape, so both APIs see each other's writes). The conversion maps the renamed
 * fields; validation is upstream's for requests in events.k8s.io/v1 (run on the core shape);
 * objects keep the core Events' TTL.
 */
import {
  eventFromCore, eventToCore, eventsV1SelectableFields, typed, validateEventsV1Create, validateEventsV1Update,
  type CoreEvent, type KubeObject,
} from '@tskube/api';
import { plainStrategy, type Strategy } from '../strategy.js';
import type { Conversion } from '../module.js';
import { EVENT_TTL_SECONDS } from '../core/others.js';
import { eventsV1Table } from '../core/tables.js';

/** The served object is events.k8s.io/v1; anything already in the core shape passes through. */
const asCore = (o: KubeObject): CoreEvent => typed<CoreEvent>(o.apiVersion === 'v1' ? o : eventToCore(o));

export const eventsV1Conversion: Conversion = {
  toStorage: (o) => (o.apiVersion === 'v1' ? o : eventToCore(o)),
  fromStorage: (o) => (o.apiVersion === 'events.k8s.io/v1' ? o : eventFromCore(o)),
};

export const eventsV1Strategy: Strategy = {
  ...plainStrategy,
  validate: (o) => validateEventsV1Create(asCore(o)),
  validateUpdate: (o, old) => validateEventsV1Update(asCore(o), asCore(old)),
  ttlSeconds: EVENT_TTL_SECONDS,
  selectableFields: (o) => eventsV1SelectableFields(o),
  table: eventsV1Table,
};
