import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { defaultPod, podQOSClass, validatePod, validatePodUpdate } from './pod.js';
import { fieldErrorString } from '../errors.js';

const pod = (spec: Record<string, unknown>): Pod => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }], ...spec } } as Pod);

test('defaulting follows upstream SetDefaults', () => {
  const p = pod({
    containers: [
      { name: 'a', image: 'busybox', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } }, readinessProbe: { httpGet: { port: 80 } } },
      { name: 'b', image: 'busybox:1.36' },
      { name: 'c', image: 'busybox:latest' },
      { name: 'd', image: 'repo/img@sha256:abc' },
    ],
  });
  defaultPod(p);
  const [a, b, c, d] = p.spec!.containers;
  assert.deepEqual([a!.imagePullPolicy, b!.imagePullPolicy, c!.imagePullPolicy, d!.imagePullPolicy], ['Always', 'IfNotPresent', 'Always', 'IfNotPresent']);
  assert.equal(a!.ports![0]!.protocol, 'TCP');
  assert.deepEqual(a!.resources!.requests, { cpu: '1' }, 'requests default to limits');
  assert.deepEqual(a!.readinessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.equal(p.spec!.restartPolicy, 'Always');
  assert.equal(p.spec!.dnsPolicy, 'ClusterFirst');
  assert.equal(p.spec!.terminationGracePeriodSeconds, 30);
  assert.equal(p.spec!.schedulerName, 'default-scheduler');
  assert.equal(a!.terminationMessagePath, '/dev/termination-log');
});

test('validation reports every problem with its field path and upstream wording', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['no containers', { containers: [] }, ['spec.containers: Required value']],
    ['missing image', { containers: [{ name: 'c' }] }, ['spec.containers[0].image: Required value']],
    ['duplicate names', { containers: [{ name: 'c', image: 'i' }, { name: 'c', image: 'i' }] }, ['spec.containers[1].name: Duplicate value: "c"']],
    ['bad name', { containers: [{ name: 'C_1', image: 'i' }] }, ['spec.containers[0].name: Invalid value: "C_1": a lowercase RFC 1123 label']],
    ['port out of range', { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 70000 }] }] }, ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['bad protocol', { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, protocol: 'HTTP' }] }] }, ['spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"']],
    ['requests above limits', { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }, ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1']],
    ['bad quantity', { containers: [{ name: 'c', image: 'i', resources: { requests: { memory: '1GB' } } }] }, ['spec.containers[0].resources.requests[memory]: Invalid value: "1GB": quantities must match']],
    ['unknown volume', { containers: [{ name: 'c', image: 'i', volumeMounts: [{ name: 'v', mountPath: '/v' }] }] }, ['spec.containers[0].volumeMounts[0].name: Not found: "v"']],
    ['restart policy', { restartPolicy: 'Sometimes' }, ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    ['volume without source', { volumes: [{ name: 'v' }] }, ['spec.volumes[0]: Required value: must specify a volume type']],
    ['toleration Exists with value', { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }, ["spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'"]],
    ['probe without handler', { containers: [{ name: 'c', image: 'i', livenessProbe: { periodSeconds: 5 } }] }, ['spec.containers[0].livenessProbe: Required value: must specify a handler type']],
    ['fine', {}, []],
  ];
  for (const [name, spec, want] of cases) {
    const got = validatePod(pod(spec)).map(fieldErrorString);
    assert.equal(got.length, want.length, `${name}: ${JSON.stringify(got)}`);
    want.forEach((w, i) => assert.ok(got[i]!.startsWith(w), `${name}: got ${got[i]}, want prefix ${w}`));
  }
});

test('pod updates may change images but not other spec fields', () => {
  const old = pod({});
  defaultPod(old);
  const image = structuredClone(old); image.spec!.containers[0]!.image = 'busybox:2';
  assert.deepEqual(validatePodUpdate(image, old), []);
  const cmd = structuredClone(old); cmd.spec!.containers[0]!.command = ['sh'];
  const errs = validatePodUpdate(cmd, old);
  assert.equal(errs.length, 1);
  assert.equal(errs[0]!.field, 'spec');
  assert.match(errs[0]!.detail!, /pod updates may not change fields other than/);
  const tol = structuredClone(old); tol.spec!.tolerations = [...(old.spec!.tolerations ?? []), { key: 'x', operator: 'Exists' }];
  assert.deepEqual(validatePodUpdate(tol, old), [], 'tolerations may be added');
});

test('QoS class from requests and limits', () => {
  const c = (resources: Record<string, unknown>) => ({ containers: [{ name: 'c', image: 'i', resources }] }) as Pod['spec'];
  assert.equal(podQOSClass(c({})), 'BestEffort');
  assert.equal(podQOSClass(c({ requests: { cpu: '100m' } })), 'Burstable');
  assert.equal(podQOSClass(c({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })), 'Guaranteed');
});
