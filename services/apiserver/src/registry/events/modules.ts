/** events.k8s.io/v1 resource modules. */
import type { ResourceModule } from '../module.js';
import { eventsV1Conversion, eventsV1Strategy } from './events.js';

export const EVENTS_MODULES: ResourceModule[] = [
  { group: 'events.k8s.io', kind: 'Event', strategy: eventsV1Strategy, conversion: eventsV1Conversion },
];
