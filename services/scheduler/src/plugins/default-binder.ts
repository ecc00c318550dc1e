/**
 * DefaultBinder (upstream plugins/defaultbinder): `POST pods/{name}/binding` with a Binding
 * whose target is the node. The apiserver sets spec.nodeName and PodScheduled=True, once; a
 * second binding is a 409 Conflict. API errors come back as an Error status carrying the
 * ApiError, so the caller can tell a conflict from a transient failure.
 */
import type { Binding } from '@tskube/api';
import { Resources } from '@tskube/client';
import type { BindPlugin, CycleState } from '../framework/interface.js';
import type { Handle } from '../framework/registry.js';
import { Status } from '../framework/status.js';
import type { ReadonlyPod } from '../framework/types.js';
import { Names } from './names.js';

export class DefaultBinder implements BindPlugin {
  readonly name = Names.DefaultBinder;

  constructor(private readonly handle: Handle) {}

  async bind(_state: CycleState, pod: ReadonlyPod, nodeName: string, signal?: AbortSignal): Promise<Status | undefined> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const binding: Binding = {
      apiVersion: 'v1', kind: 'Binding',
      metadata: { namespace: ns, name, ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}) },
      target: { kind: 'Node', name: nodeName },
    };
    try {
      await this.handle.client.resource(Resources.pods).createSubresource(ns, name, 'binding', binding, { signal });
      return undefined;
    } catch (e) {
      return Status.fromError(e);
    }
  }
}
