/** Defaulting and validation for the smaller kinds: Node, Namespace, Event, Lease, Binding. */
import type { Node, Namespace, Event, Binding } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { field, type FieldError } from '../errors.js';
import { isQualifiedName, isDNS1123Subdomain } from '../validation.js';
import { isValidQuantity } from '../quantity.js';

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** upstream SetDefaults_NodeStatus: allocatable defaults to capacity. */
export function defaultNode(node: Node): void {
  const status = node.status as { capacity?: Record<string, string>; allocatable?: Record<string, string> } | undefined;
  if (status?.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
}

export function validateNode(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  (node.spec?.taints ?? []).forEach((t, i) => {
    const p = `spec.taints[${i}]`;
    if (!t.key) errs.push(field.required(`${p}.key`));
    else for (const m of isQualifiedName(t.key)) errs.push(field.invalid(`${p}.key`, t.key, m));
    if (!TAINT_EFFECTS.includes(t.effect)) errs.push(field.notSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
  });
  for (const k of ['capacity', 'allocatable'] as const) {
    for (const [name, q] of Object.entries(node.status?.[k] ?? {})) {
      if (!isValidQuantity(q)) errs.push(field.invalid(`status.${k}[${name}]`, q, 'must be a valid quantity'));
    }
  }
  return errs;
}

export function defaultNamespace(ns: Namespace): void {
  ns.spec ??= {};
  ns.spec.finalizers ??= ['kubernetes'];
}

export function validateNamespace(ns: Namespace): FieldError[] {
  const errs: FieldError[] = [];
  (ns.spec?.finalizers ?? []).forEach((f, i) => {
    for (const m of isQualifiedName(f)) errs.push(field.invalid(`spec.finalizers[${i}]`, f, m));
  });
  return errs;
}

export function validateEvent(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  const io = ev.involvedObject;
  if (!io) return [field.required('involvedObject')];
  const ns = ev.metadata?.namespace ?? '';
  if (io.namespace && io.namespace !== ns) errs.push(field.invalid('involvedObject.namespace', io.namespace, 'does not match event.namespace'));
  if (ev.type && !['Normal', 'Warning'].includes(ev.type)) errs.push(field.notSupported('type', ev.type, ['Normal', 'Warning']));
  if (ev.count !== undefined && ev.count < 0) errs.push(field.invalid('count', ev.count, 'must be greater than or equal to 0'));
  return errs;
}

export function validateLease(l: Lease): FieldError[] {
  const errs: FieldError[] = [];
  const s = l.spec;
  if (s?.leaseDurationSeconds !== undefined && s.leaseDurationSeconds <= 0) errs.push(field.invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
  if (s?.leaseTransitions !== undefined && s.leaseTransitions < 0) errs.push(field.invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0'));
  return errs;
}

export function validateBinding(b: Binding): FieldError[] {
  const errs: FieldError[] = [];
  if (!b.target?.name) errs.push(field.required('target.name'));
  else for (const m of isDNS1123Subdomain(b.target.name)) errs.push(field.invalid('target.name', b.target.name, m));
  if (b.target?.kind && b.target.kind !== 'Node') errs.push(field.notSupported('target.kind', b.target.kind, ['Node']));
  return errs;
}
