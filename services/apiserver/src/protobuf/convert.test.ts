import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSchemaRegistry, type OpenApiSchema } from '@tskube/api';
import protobuf from 'protobufjs';
import { MAX_DEPTH, ProtobufDecodeError, ProtobufJsonConverter, unknownFieldKey } from './convert.js';
import { kubernetesProtos } from './proto-root.js';

const root = kubernetesProtos();
const reg = defaultSchemaRegistry();
const converter = new ProtobufJsonConverter(reg);

/** Encodes `obj` (protobufjs field names) as the message `name`; set fields are written even when zero, as Go does. */
function encode(name: string, obj: Record<string, unknown>): Uint8Array {
  const t = root.lookupType(name);
  return t.encode(t.fromObject(obj)).finish();
}

/** Converts `obj` encoded as `message` with the schema of `schemaName`. */
function roundTrip(message: string, schemaName: string, obj: Record<string, unknown>): unknown {
  return converter.toJson(root.lookupType(message), encode(message, obj), reg.require(schemaName));
}

const CORE = 'k8s.io.api.core.v1';
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const S = (n: string) => `io.k8s.api.core.v1.${n}`;

// ---- zero values: omitempty, pointers, required ----------------------------------------------

const zeroCases: { name: string; message: string; schema: string; in: Record<string, unknown>; want: unknown }[] = [
  {
    name: 'ObjectMeta: empty strings, 0 and the zero Time (an empty message) are unset; empty map values are kept',
    message: `${CORE}.ConfigMap`, schema: S('ConfigMap'),
    in: { metadata: { name: '', generateName: 'x-', namespace: '', generation: 0, creationTimestamp: {}, labels: { a: '' } } },
    want: { metadata: { generateName: 'x-', labels: { a: '' } } },
  },
  {
    name: 'pointer scalars keep their zero value (replicas: 0), plain ones do not (paused: false)',
    message: 'k8s.io.api.apps.v1.DeploymentSpec', schema: 'io.k8s.api.apps.v1.DeploymentSpec',
    in: { replicas: 0, paused: false, minReadySeconds: 0, revisionHistoryLimit: 0, progressDeadlineSeconds: 600 },
    want: { replicas: 0, revisionHistoryLimit: 0, progressDeadlineSeconds: 600 },
  },
  {
    name: 'pointer bool false is kept (Secret.immutable); empty bytes in a map stay an empty base64 string',
    message: `${CORE}.Secret`, schema: S('Secret'),
    in: { immutable: false, type: '', data: { k: new Uint8Array(0), b: Buffer.from([0, 255]) } },
    want: { immutable: false, data: { k: '', b: 'AP8=' } },
  },
  {
    name: 'required fields keep zero values (ServicePort.port 0); a zero non-pointer IntOrString is unset',
    message: `${CORE}.ServicePort`, schema: S('ServicePort'),
    in: { name: '', protocol: 'TCP', port: 0, targetPort: { type: 0, intVal: 0, strVal: '' }, nodePort: 0 },
    want: { protocol: 'TCP', port: 0 },
  },
  {
    name: 'a required string keeps "" (Container.name); lists of strings keep empty elements',
    message: `${CORE}.Container`, schema: S('Container'),
    in: { name: '', image: 'busybox', command: ['sh', ''], stdin: false, tty: false, terminationMessagePath: '' },
    want: { name: '', image: 'busybox', command: ['sh', ''] },
  },
  {
    name: 'a pointer IntOrString keeps 0 (PodDisruptionBudgetSpec.minAvailable)',
    message: 'k8s.io.api.policy.v1.PodDisruptionBudgetSpec', schema: 'io.k8s.api.policy.v1.PodDisruptionBudgetSpec',
    in: { minAvailable: { type: 0, intVal: 0, strVal: '' } },
    want: { minAvailable: 0 },
  },
  {
    name: 'non-pointer structs are kept even when empty (resources: {}), like Go JSON',
    message: `${CORE}.Container`, schema: S('Container'),
    in: { name: 'c', resources: {} },
    want: { name: 'c', resources: {} },
  },
];

for (const c of zeroCases) {
  test(`zero values: ${c.name}`, () => {
    assert.deepEqual(roundTrip(c.message, c.schema, c.in), c.want);
  });
}

// ---- custom JSON forms, inlined structs, json_name ------------------------------------------

const formCases: { name: string; message: string; schema: string; in: Record<string, unknown>; want: unknown }[] = [
  {
    name: 'IntOrString: type 0 → number, type 1 → string',
    message: `${CORE}.ServicePort`, schema: S('ServicePort'),
    in: { port: 80, targetPort: { type: 1, strVal: 'http' } },
    want: { port: 80, targetPort: 'http' },
  },
  {
    name: 'Time → RFC 3339 in UTC, seconds precision (nanos dropped as Go does)',
    message: `${META}.ObjectMeta`, schema: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    in: { name: 'x', creationTimestamp: { seconds: 1_700_000_000, nanos: 999_000_000 }, deletionGracePeriodSeconds: 0 },
    want: { name: 'x', creationTimestamp: '2023-11-14T22:13:20Z', deletionGracePeriodSeconds: 0 },
  },
  {
    name: 'managedFields: FieldsV1 bytes → JSON, OwnerReference pointer bools kept',
    message: `${META}.ObjectMeta`, schema: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    in: {
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true, blockOwnerDeletion: false }],
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: { seconds: 0 }, fieldsType: 'FieldsV1', fieldsV1: { Raw: Buffer.from('{"f:data":{".":{}}}') } }],
      finalizers: ['a/b'],
    },
    want: {
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true, blockOwnerDeletion: false }],
      finalizers: ['a/b'],
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '1970-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {} } } }],
    },
  },
  {
    name: 'Quantity → its string; ResourceList map values',
    message: `${CORE}.ResourceRequirements`, schema: S('ResourceRequirements'),
    in: { limits: { cpu: { string: '500m' } }, requests: { memory: { string: '64Mi' } } },
    want: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
  },
  {
    name: 'inlined structs: Volume.volumeSource, Probe.handler, SecretKeySelector.localObjectReference',
    message: `${CORE}.PodSpec`, schema: S('PodSpec'),
    in: {
      volumes: [{ name: 'v', volumeSource: { emptyDir: {} } }],
      containers: [{
        name: 'c',
        livenessProbe: { handler: { httpGet: { path: '/h', port: { type: 1, strVal: 'http' } } }, periodSeconds: 3 },
        env: [{ name: 'E', valueFrom: { secretKeyRef: { localObjectReference: { name: 's' }, key: 'k' } } }],
      }],
    },
    want: {
      volumes: [{ name: 'v', emptyDir: {} }],
      containers: [{
        name: 'c',
        env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
        livenessProbe: { httpGet: { path: '/h', port: 'http' }, periodSeconds: 3 },
      }],
    },
  },
  {
    name: 'json_name: BoundObjectReference.uID is "uid" in JSON; pointer int64 expirationSeconds',
    message: 'k8s.io.api.authentication.v1.TokenRequestSpec', schema: 'io.k8s.api.authentication.v1.TokenRequestSpec',
    in: { audiences: ['a'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uID: 'u-1' } },
    want: { audiences: ['a'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'u-1' } },
  },
  {
    name: 'string_list: ExtraValue {items} → array of strings',
    message: 'k8s.io.api.authorization.v1.SubjectAccessReviewSpec', schema: 'io.k8s.api.authorization.v1.SubjectAccessReviewSpec',
    in: { user: 'u', extra: { scopes: { items: ['a', 'b'] }, none: { items: [] } } },
    want: { user: 'u', extra: { scopes: ['a', 'b'], none: [] } },
  },
  {
    name: 'DeleteOptions: pointer gracePeriodSeconds 0 and preconditions',
    message: `${META}.DeleteOptions`, schema: 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
    in: { gracePeriodSeconds: 0, propagationPolicy: 'Foreground', preconditions: { uid: 'u', resourceVersion: '' }, dryRun: ['All'] },
    want: { gracePeriodSeconds: 0, preconditions: { uid: 'u', resourceVersion: '' }, propagationPolicy: 'Foreground', dryRun: ['All'] },
  },
  {
    name: 'LabelSelector with requirements (set-based)',
    message: `${META}.LabelSelector`, schema: 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
    in: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }, { key: 'x', operator: 'Exists' }] },
    want: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }, { key: 'x', operator: 'Exists' }] },
  },
];

for (const c of formCases) {
  test(`JSON forms: ${c.name}`, () => {
    assert.deepEqual(roundTrip(c.message, c.schema, c.in), c.want);
  });
}

// ---- one message per family (meta, core, apps, batch, rbac, autoscaling, policy, authz, authn) --

const familyCases: { family: string; message: string; schema: string; in: Record<string, unknown>; want: unknown }[] = [
  { family: 'core Namespace', message: `${CORE}.Namespace`, schema: S('Namespace'),
    in: { metadata: { name: 'n' }, spec: { finalizers: ['kubernetes'] } }, want: { metadata: { name: 'n' }, spec: { finalizers: ['kubernetes'] } } },
  { family: 'core Service', message: `${CORE}.Service`, schema: S('Service'),
    in: { metadata: { name: 's' }, spec: { type: 'NodePort', clusterIP: '', ports: [{ port: 80, nodePort: 30000, targetPort: { type: 0, intVal: 8080 } }], selector: { a: 'b' }, sessionAffinity: '', externalTrafficPolicy: '', allocateLoadBalancerNodePorts: false } },
    want: { metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080, nodePort: 30000 }], selector: { a: 'b' }, type: 'NodePort', allocateLoadBalancerNodePorts: false } } },
  { family: 'core ServiceAccount', message: `${CORE}.ServiceAccount`, schema: S('ServiceAccount'),
    in: { metadata: { name: 'sa' }, secrets: [{ name: 'x' }], automountServiceAccountToken: false }, want: { metadata: { name: 'sa' }, secrets: [{ name: 'x' }], automountServiceAccountToken: false } },
  { family: 'apps Deployment strategy', message: 'k8s.io.api.apps.v1.DeploymentStrategy', schema: 'io.k8s.api.apps.v1.DeploymentStrategy',
    in: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: { type: 1, strVal: '25%' }, maxSurge: { type: 0, intVal: 0 } } },
    want: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } } },
  { family: 'batch CronJob', message: 'k8s.io.api.batch.v1.CronJobSpec', schema: 'io.k8s.api.batch.v1.CronJobSpec',
    in: { schedule: '@daily', suspend: false, concurrencyPolicy: '', jobTemplate: { spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never' } } } } },
    want: { schedule: '@daily', jobTemplate: { spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never' } } } }, suspend: false } },
  { family: 'rbac RoleBinding', message: 'k8s.io.api.rbac.v1.RoleBinding', schema: 'io.k8s.api.rbac.v1.RoleBinding',
    in: { metadata: { name: 'rb' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'a', namespace: '' }], roleRef: { apiGroup: '', kind: 'Role', name: 'r' } },
    want: { metadata: { name: 'rb' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'a' }], roleRef: { apiGroup: '', kind: 'Role', name: 'r' } } },
  { family: 'rbac ClusterRole', message: 'k8s.io.api.rbac.v1.ClusterRole', schema: 'io.k8s.api.rbac.v1.ClusterRole',
    in: { rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], nonResourceURLs: [] }] }, want: { rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] } },
  { family: 'autoscaling/v1 HPA', message: 'k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerSpec', schema: 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec',
    in: { scaleTargetRef: { kind: 'Deployment', name: 'd', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 0 },
    want: { scaleTargetRef: { kind: 'Deployment', name: 'd', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 0 } },
  { family: 'policy Eviction', message: 'k8s.io.api.policy.v1.Eviction', schema: 'io.k8s.api.policy.v1.Eviction',
    in: { metadata: { name: 'p', namespace: 'ns' }, deleteOptions: { gracePeriodSeconds: 30 } }, want: { metadata: { name: 'p', namespace: 'ns' }, deleteOptions: { gracePeriodSeconds: 30 } } },
  { family: 'authorization SelfSubjectAccessReview', message: 'k8s.io.api.authorization.v1.SelfSubjectAccessReview', schema: 'io.k8s.api.authorization.v1.SelfSubjectAccessReview',
    in: { spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: '', group: '', version: '', subresource: '', name: '' } }, status: { allowed: false, denied: false, reason: '' } },
    want: { spec: { resourceAttributes: { verb: 'list', resource: 'pods' } }, status: { allowed: false } } },
  { family: 'authentication SelfSubjectReview', message: 'k8s.io.api.authentication.v1.SelfSubjectReview', schema: 'io.k8s.api.authentication.v1.SelfSubjectReview',
    in: { metadata: {}, status: { userInfo: { username: '', groups: [] } } }, want: { metadata: {}, status: { userInfo: {} } } },
];

for (const c of familyCases) {
  test(`message family: ${c.family}`, () => {
    assert.deepEqual(roundTrip(c.message, c.schema, c.in), c.want);
  });
}

// ---- wire-level details: unknown fields, packed repeated, malformed input -------------------

test('undeclared fields: zero values are dropped, others become an unknown JSON field', () => {
  const cm = encode(`${CORE}.ConfigMap`, { metadata: { name: 'x' } });
  const zero = protobuf.Writer.create().uint32((98 << 3) | 0).uint32(0).uint32((99 << 3) | 2).string('').finish();
  const nonZero = protobuf.Writer.create().uint32((99 << 3) | 2).string('surprise').finish();
  const type = root.lookupType(`${CORE}.ConfigMap`);
  assert.deepEqual(converter.toJson(type, Buffer.concat([cm, zero]), reg.require(S('ConfigMap'))), { metadata: { name: 'x' } });
  const withUnknown = converter.toJson(type, Buffer.concat([cm, nonZero]), reg.require(S('ConfigMap'))) as Record<string, unknown>;
  assert.equal(typeof withUnknown[unknownFieldKey(99)], 'string');
  assert.deepEqual(withUnknown.metadata, { name: 'x' });
});

test('repeated scalars decode packed and unpacked', () => {
  const type = root.lookupType(`${CORE}.PodSecurityContext`);
  const id = type.fields.supplementalGroups!.id;
  const unpacked = type.encode(type.fromObject({ supplementalGroups: [1, 2, 3000000000] })).finish();
  const inner = protobuf.Writer.create().int64(1).int64(2).int64(3000000000).finish();
  const packed = protobuf.Writer.create().uint32((id << 3) | 2).bytes(inner).finish();
  const schema = reg.require(S('PodSecurityContext'));
  assert.deepEqual(converter.toJson(type, unpacked, schema), { supplementalGroups: [1, 2, 3000000000] });
  assert.deepEqual(converter.toJson(type, packed, schema), { supplementalGroups: [1, 2, 3000000000] });
});

test('negative int32 and large int64 values', () => {
  const type = root.lookupType(`${CORE}.PodSpec`);
  const bytes = type.encode(type.fromObject({ activeDeadlineSeconds: 2 ** 40, priority: -5 })).finish();
  assert.deepEqual(converter.toJson(type, bytes, reg.require(S('PodSpec'))), { activeDeadlineSeconds: 2 ** 40, priority: -5 });
});

const malformedCases: { name: string; bytes: () => Uint8Array; want: RegExp }[] = [
  { name: 'truncated sub-message', bytes: () => encode(`${CORE}.ConfigMap`, { metadata: { name: 'abcdef' } }).slice(0, -2), want: /malformed protobuf data|index out of range/ },
  { name: 'wrong wire type for a string field', bytes: () => protobuf.Writer.create().uint32((1 << 3) | 0).uint32(7).finish(), want: /wrong wire type 0 for field metadata/ },
  { name: 'field number 0', bytes: () => Uint8Array.from([0x00, 0x01]), want: /illegal field number 0/ },
  { name: 'bad varint', bytes: () => Uint8Array.from([0x90, 0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), want: /invalid varint/ },
  { name: 'wire type 3 (groups)', bytes: () => Uint8Array.from([(5 << 3) | 3]), want: /wire type 3/ },
  { name: 'FieldsV1 that is not JSON', bytes: () => encode(`${CORE}.ConfigMap`, { metadata: { managedFields: [{ fieldsV1: { Raw: Buffer.from('{nope') } }] } }), want: /does not hold JSON/ },
];

for (const c of malformedCases) {
  test(`malformed: ${c.name} → ProtobufDecodeError`, () => {
    assert.throws(() => converter.toJson(root.lookupType(`${CORE}.ConfigMap`), c.bytes(), reg.require(S('ConfigMap'))),
      (e: unknown) => e instanceof ProtobufDecodeError && c.want.test(e.message));
  });
}

// A test-only message set exercising the option-driven forms no served kind uses yet.
const extra = protobuf.parse(`
  syntax = "proto2";
  package t;
  message MicroTime { option (tskube.json) = "micro_time"; optional int64 seconds = 1; optional int32 nanos = 2; }
  message Duration { option (tskube.json) = "duration"; optional int64 duration = 1; }
  message Raw { option (tskube.json) = "raw_extension"; optional bytes raw = 1; }
  message Node { optional Node child = 1; optional string name = 2; }
  message All {
    optional MicroTime eventTime = 1;
    optional Duration timeout = 2;
    optional Raw object = 3;
    optional double ratio = 4;
    optional sint64 delta = 5;
    optional bool flag = 6 [(tskube.go_pointer) = true];
  }
`, { keepCase: true }).root;
extra.resolveAll();

test('option-driven forms: MicroTime, Duration, RawExtension, double, sint64, pointer bool', () => {
  const t = extra.lookupType('t.All');
  const bytes = t.encode(t.fromObject({
    eventTime: { seconds: 1_700_000_000, nanos: 123_456_789 }, timeout: { duration: 5_400_000_000_000 },
    object: { raw: Buffer.from('{"kind":"Pod"}') }, ratio: 0.5, delta: -3, flag: false,
  })).finish();
  const schema: OpenApiSchema = { type: 'object', properties: {} };
  assert.deepEqual(converter.toJson(t, bytes, schema), {
    eventTime: '2023-11-14T22:13:20.123456Z', timeout: '1h30m0s', object: { kind: 'Pod' }, ratio: 0.5, delta: -3, flag: false,
  });
});

test(`nesting deeper than ${MAX_DEPTH} levels is refused, shallower is fine`, () => {
  const t = extra.lookupType('t.Node');
  // built by hand: protobufjs's own encoder stops at its recursion limit
  const nest = (n: number): Uint8Array => {
    let b = protobuf.Writer.create().uint32((2 << 3) | 2).string('leaf').finish();
    for (let i = 0; i < n; i++) b = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(b).finish();
    return b;
  };
  assert.doesNotThrow(() => converter.toJson(t, nest(MAX_DEPTH - 1)));
  assert.throws(() => converter.toJson(t, nest(MAX_DEPTH + 5)),
    (e: unknown) => e instanceof ProtobufDecodeError && /nested deeper/.test(e.message));
});
