/**
 * PrioritySort: the active queue's order. Higher `spec.priority` first; among equal
 * priorities, the pod that entered the queue earlier (upstream queuesort.PrioritySort).
 */
import type { QueueSortPlugin, QueuedPodView } from '../framework/interface.js';
import { podPriority } from '../framework/types.js';
import { Names } from './names.js';

export class PrioritySort implements QueueSortPlugin {
  readonly name = Names.PrioritySort;

  less(a: QueuedPodView, b: QueuedPodView): boolean {
    const pa = podPriority(a.pod);
    const pb = podPriority(b.pod);
    return pa > pb || (pa === pb && a.timestamp < b.timestamp);
  }
}
