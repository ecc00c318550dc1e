import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { defaultPod, podQOSClass, validatePod, validatePodEphemeralContainersUpdate, validatePodUpdate } from './pod.js';
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

const debug = (extra: Record<string, unknown> = {}) => ({ name: 'dbg', image: 'busybox:1', ...extra });

test('ephemeral containers: defaulted like containers, validated with upstream paths and wording', () => {
  const p = pod({ ephemeralContainers: [debug({ image: 'busybox', resources: { limits: { cpu: '1' } } })] });
  defaultPod(p);
  const ec = p.spec!.ephemeralContainers![0]!;
  assert.deepEqual([ec.imagePullPolicy, ec.terminationMessagePath, ec.terminationMessagePolicy], ['Always', '/dev/termination-log', 'File']);
  assert.equal(ec.resources!.requests, undefined, 'no requests from limits for ephemeral containers');
  // `pod` has container "c"; these specs are checked as on the subresource (validatePodSpec)
  const cases: [string, Record<string, unknown>[], string[]][] = [
    ['fine', [debug({ targetContainerName: 'c', stdin: true, tty: true, env: [{ name: 'A', value: 'b' }], securityContext: { privileged: true } })], []],
    ['ports', [debug({ ports: [{ containerPort: 80 }] })], ['spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container']],
    ['probes, lifecycle, resources, restartPolicy, resizePolicy', [debug({
      lifecycle: { preStop: { exec: { command: ['x'] } } }, readinessProbe: { exec: { command: ['x'] } }, livenessProbe: { exec: { command: ['x'] } },
      startupProbe: { exec: { command: ['x'] } }, resources: { requests: { cpu: '1' } }, restartPolicy: 'Always',
      resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }],
    })], [
      'spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].resizePolicy: Forbidden',
      'spec.ephemeralContainers[0].restartPolicy: Forbidden',
      'spec.ephemeralContainers[0].livenessProbe: Forbidden',
      'spec.ephemeralContainers[0].readinessProbe: Forbidden',
      'spec.ephemeralContainers[0].startupProbe: Forbidden',
      'spec.ephemeralContainers[0].lifecycle: Forbidden',
    ]],
    ['empty resources are the zero value', [debug({ resources: {} })], []],
    ['name taken by a container', [debug({ name: 'c' })], ['spec.ephemeralContainers[0].name: Duplicate value: "c"']],
    ['names unique among ephemeral containers', [debug(), debug()], ['spec.ephemeralContainers[1].name: Duplicate value: "dbg"']],
    ['target must be a container', [debug({ targetContainerName: 'nope' })], ['spec.ephemeralContainers[0].targetContainerName: Not found: "nope"']],
    ['target may not be another ephemeral container', [debug(), debug({ name: 'two', targetContainerName: 'dbg' })], ['spec.ephemeralContainers[1].targetContainerName: Not found: "dbg"']],
    ['common checks apply', [debug({ name: 'Bad_Name', image: '' })], ['spec.ephemeralContainers[0].name: Invalid value: "Bad_Name"', 'spec.ephemeralContainers[0].image: Required value']],
    ['no subPath mounts', [debug({ volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }] })], ['spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container']],
  ];
  for (const [name, ecs, want] of cases) {
    const spec = pod({ volumes: [{ name: 'v', emptyDir: {} }], ephemeralContainers: ecs });
    const got = validatePodEphemeralContainersUpdate(spec, pod({})).map(fieldErrorString);
    assert.equal(got.length, want.length, `${name}: ${JSON.stringify(got)}`);
    want.forEach((w, i) => assert.ok(got[i]!.startsWith(w), `${name}: got ${got[i]}, want prefix ${w}`));
  }
});

test('ephemeral containers: forbidden on create, only added through the subresource, never through a pod update', () => {
  assert.deepEqual(validatePod(pod({ ephemeralContainers: [debug()] })).map(fieldErrorString), ['spec.ephemeralContainers: Forbidden: cannot be set on create']);
  const old = pod({ ephemeralContainers: [debug()] });
  defaultPod(old);
  const added = structuredClone(old); added.spec!.ephemeralContainers!.push(debug({ name: 'two' }));
  defaultPod(added);
  assert.deepEqual(validatePodEphemeralContainersUpdate(added, old), []);
  const reordered = structuredClone(added); reordered.spec!.ephemeralContainers!.reverse();
  assert.deepEqual(validatePodEphemeralContainersUpdate(reordered, old), [], 'order does not matter (patches do not keep it)');
  const sameButEmptyList = structuredClone(old); sameButEmptyList.spec!.ephemeralContainers![0]!.env = [];
  assert.deepEqual(validatePodEphemeralContainersUpdate(sameButEmptyList, old), [], 'an empty list equals an absent one');
  const removed = structuredClone(old); removed.spec!.ephemeralContainers = [];
  assert.deepEqual(validatePodEphemeralContainersUpdate(removed, old).map(fieldErrorString),
    ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed\n']);
  const changed = structuredClone(old); changed.spec!.ephemeralContainers![0]!.image = 'busybox:2';
  assert.deepEqual(validatePodEphemeralContainersUpdate(changed, old).map(fieldErrorString),
    ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be changed\n']);
  const mirror = pod({}); mirror.metadata!.annotations = { 'kubernetes.io/config.mirror': 'abc' };
  assert.deepEqual(validatePodEphemeralContainersUpdate(pod({ ephemeralContainers: [debug()] }), mirror).map(fieldErrorString),
    [': Forbidden: static pods do not support ephemeral containers']);
  // the main resource: a changed ephemeralContainers list is just a forbidden spec change
  const viaUpdate = validatePodUpdate(added, old);
  assert.deepEqual(viaUpdate.map((e) => e.field), ['spec']);
  assert.match(viaUpdate[0]!.detail!, /^pod updates may not change fields other than `spec.containers\[\*\].image`/);
});

test('QoS class from requests and limits', () => {
  const c = (resources: Record<string, unknown>) => ({ containers: [{ name: 'c', image: 'i', resources }] }) as Pod['spec'];
  assert.equal(podQOSClass(c({})), 'BestEffort');
  assert.equal(podQOSClass(c({ requests: { cpu: '100m' } })), 'Burstable');
  assert.equal(podQOSClass(c({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })), 'Guaranteed');
});
