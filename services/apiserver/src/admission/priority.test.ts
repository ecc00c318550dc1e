import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES, isApiError, type KubeObject, type Pod, type PriorityClass, type ResourceDef } from '@tskube/api';
import type { AdmissionAttributes } from './admission.js';
import { Priority } from './priority.js';

const podDef = RESOURCES.find((r) => r.group === '' && r.kind === 'Pod') as ResourceDef;
const pc = (name: string, value: number, o: Partial<PriorityClass> = {}): PriorityClass =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...o });

function plugin(classes: PriorityClass[]): Priority {
  return new Priority({ get: async (n) => classes.find((c) => c.metadata?.name === n) ?? null, list: async () => classes });
}

/** A pod as it reaches admission: already defaulted (priority 0 without a class name, PreemptLowerPriority). */
function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  const s = { containers: [{ name: 'c', image: 'x' }], preemptionPolicy: 'PreemptLowerPriority', ...spec };
  if (s.priority === undefined && !s.priorityClassName) s.priority = 0;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: s };
}

function attrs(obj: Pod, operation: 'CREATE' | 'UPDATE' = 'CREATE', old?: Pod): AdmissionAttributes {
  return {
    operation, resource: podDef, subresource: '', namespace: 'default', name: 'p', object: obj as unknown as KubeObject,
    ...(old ? { oldObject: old as unknown as KubeObject } : {}), user: { username: 'u', groups: [] }, dryRun: false,
  };
}

test('Priority admission resolves priorityClassName and the global default, refusing mismatches with 403', async () => {
  const classes = [pc('high', 1000, { preemptionPolicy: 'PreemptLowerPriority' }), pc('batch', 10, { preemptionPolicy: 'Never' }), pc('dflt', 100, { globalDefault: true })];
  const cases: { name: string; classes?: PriorityClass[]; pod: Pod; want?: { priority: number; policy?: string; className?: string }; error?: string }[] = [
    { name: 'named class', pod: pod({ priorityClassName: 'high' }), want: { priority: 1000, policy: 'PreemptLowerPriority', className: 'high' } },
    { name: 'named class with Never', pod: pod({ priorityClassName: 'batch' }), want: { priority: 10, policy: 'Never', className: 'batch' } },
    { name: 'global default', pod: pod(), want: { priority: 100, policy: 'PreemptLowerPriority', className: 'dflt' } },
    { name: 'no default class: 0', classes: [pc('high', 1000)], pod: pod(), want: { priority: 0, policy: 'PreemptLowerPriority' } },
    { name: 'lowest of several defaults', classes: [pc('d1', 50, { globalDefault: true }), pc('d2', 5, { globalDefault: true })], pod: pod(), want: { priority: 5, className: 'd2' } },
    { name: 'missing class', pod: pod({ priorityClassName: 'nope' }), error: 'pods "p" is forbidden: no PriorityClass with name nope was found' },
    {
      name: 'explicit priority that differs', pod: pod({ priorityClassName: 'high', priority: 7 }),
      error: 'pods "p" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name',
    },
    { name: 'explicit priority that agrees', pod: pod({ priorityClassName: 'high', priority: 1000 }), want: { priority: 1000 } },
    {
      name: 'explicit preemptionPolicy that differs', pod: pod({ priorityClassName: 'high', preemptionPolicy: 'Never' }),
      error: 'pods "p" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name',
    },
  ];
  for (const c of cases) {
    const a = attrs(c.pod);
    const run = plugin(c.classes ?? classes).admit(a);
    if (c.error) {
      await assert.rejects(run, (e: unknown) => isApiError(e, 'Forbidden') && (e as Error).message === c.error, c.name);
      continue;
    }
    await run;
    const spec = (a.object as unknown as Pod).spec!;
    assert.equal(spec.priority, c.want!.priority, c.name);
    if (c.want!.policy) assert.equal(spec.preemptionPolicy, c.want!.policy, c.name);
    if (c.want!.className) assert.equal(spec.priorityClassName, c.want!.className, c.name);
  }
});

test('Priority admission keeps the old priority on update and ignores other resources', async () => {
  const old = pod({ priorityClassName: 'high', priority: 1000 });
  const next = pod({ priorityClassName: 'high' });
  delete next.spec!.priority;
  await plugin([]).admit(attrs(next, 'UPDATE', old));
  assert.equal(next.spec?.priority, 1000);
  const svcDef = RESOURCES.find((r) => r.kind === 'Service') as ResourceDef;
  await plugin([]).admit({ ...attrs(pod({ priorityClassName: 'nope' })), resource: svcDef });
});
