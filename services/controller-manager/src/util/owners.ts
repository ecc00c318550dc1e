/** Owner-reference helpers over read-only (cached) objects. */
import type { ObjectMeta, OwnerReference } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

type Meta = ObjectMeta | DeepReadonly<ObjectMeta> | undefined;
type WithMeta = { readonly metadata?: Meta };

/** The owner reference with controller=true, if any (upstream metav1.GetControllerOf). */
export function controllerOf(obj: WithMeta): DeepReadonly<OwnerReference> | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** The group of an ownerReference's apiVersion ("apps/v1" → "apps", "v1" → ""). */
export function groupOf(apiVersion: string | undefined): string {
  const v = apiVersion ?? '';
  const i = v.indexOf('/');
  return i < 0 ? '' : v.slice(0, i);
}

export function versionOf(apiVersion: string | undefined): string {
  const v = apiVersion ?? '';
  const i = v.indexOf('/');
  return i < 0 ? v : v.slice(i + 1);
}

/** A controller reference to `owner` (upstream metav1.NewControllerRef): controller and blockOwnerDeletion set. */
export function newControllerRef(owner: WithMeta, gvk: { apiVersion: string; kind: string }): OwnerReference {
  return {
    apiVersion: gvk.apiVersion, kind: gvk.kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '',
    controller: true, blockOwnerDeletion: true,
  };
}
