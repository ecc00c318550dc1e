import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { fieldErrorString } from '../errors.js';
import { SYSTEM_PRIORITY_CLASSES, defaultPriorityClass, validatePriorityClass, validatePriorityClassUpdate } from './scheduling-priorityclass.js';

const pc = (name: string, extra: Record<string, unknown> = {}): PriorityClass => {
  const p = { metadata: { name }, value: 1000, ...extra } as PriorityClass;
  defaultPriorityClass(p);
  return p;
};

test('priority classes: defaults, reserved names, the user ceiling, immutable value and policy', () => {
  assert.equal(pc('high').preemptionPolicy, 'PreemptLowerPriority');
  assert.equal(pc('zero', { value: undefined }).value, 0);
  const cases: [string, PriorityClass, string[]][] = [
    ['valid', pc('high'), []],
    ['system class as bootstrapped', structuredClone(SYSTEM_PRIORITY_CLASSES[1]!), []],
    ['reserved prefix', pc('system-mine'), ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"]],
    ['system class value', pc('system-node-critical', { value: 5 }), ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000"]],
    ['too high', pc('huge', { value: 1000000001 }), ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']],
    ['policy', pc('p', { preemptionPolicy: 'Always' }), ['preemptionPolicy: Unsupported value: "Always": supported values: "Never", "PreemptLowerPriority"']],
  ];
  for (const [name, p, want] of cases) assert.deepEqual(validatePriorityClass(p).map(fieldErrorString), want, name);
  assert.deepEqual(validatePriorityClassUpdate(pc('p', { value: 2, preemptionPolicy: 'Never' }), pc('p')).map(fieldErrorString), [
    'value: Forbidden: may not be changed in an update.', 'preemptionPolicy: Invalid value: "Never": field is immutable',
  ]);
});
