import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, isApiError } from '../errors.js';
import { decodeBody, decodeObject, decodeRequestBody, ObjectDecodeError, parseFieldValidation, strictDecodingMessage, strictWarnings,
  type FieldValidation } from './decode.js';

const POD = { group: '', version: 'v1', kind: 'Pod' };
const DEPLOY = { group: 'apps', version: 'v1', kind: 'Deployment' };
const pod = (spec: unknown, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec, ...extra });

function badRequestMessage(fn: () => unknown): string {
  try { fn(); } catch (e) {
    assert.ok(isApiError(e, 'BadRequest'), `expected BadRequest, got ${String(e)}`);
    assert.equal((e as ApiError).code, 400);
    return (e as ApiError).message;
  }
  assert.fail('expected a BadRequest');
}

test('unknown fields: Strict → 400 listing them, Warn → warnings, Ignore → silent; always dropped', () => {
  const body = pod({ foo: 1, containers: [{ name: 'c', image: 'i', bar: 'x', ports: [{ containerPort: 80, baz: true }] }] },
    { metadata: { name: 'p', qux: 1 } });
  const paths = ['unknown field "metadata.qux"', 'unknown field "spec.foo"', 'unknown field "spec.containers[0].bar"',
    'unknown field "spec.containers[0].ports[0].baz"'];
  assert.equal(badRequestMessage(() => decodeBody(body, POD, { fieldValidation: 'Strict' })),
    `Pod in version "v1" cannot be handled as a Pod: strict decoding error: ${paths.join(', ')}`);
  const want = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] } };
  const cases: [FieldValidation, string[]][] = [['Warn', paths], ['Ignore', []]];
  for (const [fieldValidation, warnings] of cases) {
    const r = decodeBody(body, POD, { fieldValidation });
    assert.deepEqual(r.object, want, fieldValidation);
    assert.deepEqual(r.warnings, warnings, fieldValidation);
  }
  // The input is not modified.
  assert.equal((body.spec as { foo?: number }).foo, 1);
});

test('unknown fields deep inside maps of structs and embedded templates', () => {
  const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', nope: 1 }] }, apiVersion: 'v1' } } };
  assert.match(badRequestMessage(() => decodeBody(d, DEPLOY, { fieldValidation: 'Strict' })),
    /^Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers\[0\].nope", unknown field "spec.template.apiVersion"$/);
});

test('wrong JSON types are fatal whatever fieldValidation says, worded like Go', () => {
  const cases: [string, unknown, string][] = [
    ['string for a list', pod({ containers: 'x' }), 'json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container'],
    ['string for a struct list element', pod({ containers: ['x'] }), 'json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container'],
    ['number for a string', pod({ containers: [{ name: 1 }] }), 'json: cannot unmarshal number into Go struct field Container.spec.containers.name of type string'],
    ['fraction for an int32', pod({ containers: [{ name: 'c', ports: [{ containerPort: 1.5 }] }] }),
      'json: cannot unmarshal number 1.5 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'],
    ['int32 overflow', pod({ containers: [{ name: 'c', ports: [{ containerPort: 2 ** 31 }] }] }),
      'json: cannot unmarshal number 2147483648 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'],
    ['string for an int64', pod({ activeDeadlineSeconds: '5' }), 'json: cannot unmarshal string into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64'],
    ['number for a map value', { apiVersion: 'v1', kind: 'Pod', metadata: { labels: { a: 1 } } },
      'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string'],
    ['array for a map', { apiVersion: 'v1', kind: 'Pod', metadata: { labels: [] } },
      'json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string'],
    ['string for a struct', pod('x'), 'json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec'],
    ['bool for a string', pod({ nodeName: true }), 'json: cannot unmarshal bool into Go struct field PodSpec.spec.nodeName of type string'],
    ['string for a bool', pod({ hostNetwork: 'true' }), 'json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool'],
    ['bad quantity', pod({ containers: [{ name: 'c', resources: { limits: { cpu: 'lots' } } }] }),
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['bool quantity', pod({ containers: [{ name: 'c', resources: { limits: { cpu: true } } }] }),
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['bool int-or-string', { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80, targetPort: true }] } },
      'json: cannot unmarshal bool into Go value of type int32'],
    ['fraction int-or-string', { apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80, targetPort: 1.5 }] } },
      'json: cannot unmarshal number 1.5 into Go value of type int32'],
    ['number for a time', { apiVersion: 'v1', kind: 'Pod', metadata: { creationTimestamp: 5 } }, 'json: cannot unmarshal number into Go value of type string'],
    ['bad time', { apiVersion: 'v1', kind: 'Pod', metadata: { creationTimestamp: 'yesterday' } },
      'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'],
    ['bad base64', { apiVersion: 'v1', kind: 'Secret', data: { k: 'not base64!' } }, 'illegal base64 data at input byte 3'],
  ];
  for (const [name, body, msg] of cases) {
    const kind = (body as { kind: string }).kind;
    for (const fieldValidation of ['Strict', 'Ignore'] as const) {
      assert.equal(badRequestMessage(() => decodeBody(body, { group: '', version: 'v1', kind }, { fieldValidation })),
        `${kind} in version "v1" cannot be handled as a ${kind}: ${msg}`, `${name} (${fieldValidation})`);
    }
  }
  // A type error hides strict errors (Go returns the fatal error only).
  assert.match(badRequestMessage(() => decodeBody(pod({ foo: 1, nodeName: 1 }), POD, { fieldValidation: 'Strict' })), /cannot unmarshal number/);
});

test('null means unset; inside lists and maps it is the zero value', () => {
  const r = decodeBody({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: null, annotations: { a: null } },
    spec: { nodeName: null, containers: [null, { name: 'c', args: ['a', null], ports: null }] }, status: null }, POD, { fieldValidation: 'Strict' });
  assert.deepEqual(r.object, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations: { a: '' } },
    spec: { containers: [{}, { name: 'c', args: ['a', ''] }] } });
});

test('quantities: numbers and strings become canonical strings', () => {
  const cases: [unknown, string][] = [[1, '1'], [0.5, '500m'], ['0.5', '500m'], ['1000m', '1'], ['1024Mi', '1Gi'], [1000, '1k'], ['100m', '100m'], ['1e3', '1e3']];
  for (const [cpu, want] of cases) {
    const r = decodeBody(pod({ containers: [{ name: 'c', resources: { requests: { cpu } } }] }), POD, { fieldValidation: 'Strict' });
    const got = (r.object.spec as { containers: { resources: { requests: { cpu: string } } }[] }).containers[0]!.resources.requests.cpu;
    assert.equal(got, want, String(cpu));
  }
});

test('int-or-string accepts strings and integers; times are canonicalized to UTC', () => {
  const svc = decodeBody({ apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 'http' }] } },
    { group: '', version: 'v1', kind: 'Service' }, { fieldValidation: 'Strict' }).object;
  assert.deepEqual((svc.spec as { ports: unknown[] }).ports, [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 'http' }]);
  const d = decodeBody({ apiVersion: 'apps/v1', kind: 'Deployment', spec: { strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } } } },
    DEPLOY, { fieldValidation: 'Strict' }).object;
  assert.deepEqual((d.spec as { strategy: unknown }).strategy, { rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
  const p = decodeBody({ apiVersion: 'v1', kind: 'Pod', metadata: { creationTimestamp: '2024-05-01T12:00:00.5+02:00' } }, POD, { fieldValidation: 'Strict' }).object;
  assert.equal(p.metadata?.creationTimestamp, '2024-05-01T10:00:00Z');
  const ev = decodeBody({ apiVersion: 'v1', kind: 'Event', eventTime: '2024-05-01T10:00:00.123Z', involvedObject: {}, metadata: {} },
    { group: '', version: 'v1', kind: 'Event' }, { fieldValidation: 'Strict' }).object;
  assert.equal(ev.eventTime, '2024-05-01T10:00:00.123000Z');
});

test('opaque fields (RawExtension, FieldsV1) pass through; apiVersion/kind are always known', () => {
  const fields = { 'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } } };
  const r = decodeBody({ apiVersion: 'v1', kind: 'Pod', metadata: { managedFields: [{ manager: 'm', fieldsV1: fields }] } }, POD, { fieldValidation: 'Strict' });
  assert.deepEqual(r.object.metadata?.managedFields?.[0]?.fieldsV1, fields);
  // DeleteOptions by schema name, as kubectl sends it (no kind/apiVersion).
  const del = decodeBody({ propagationPolicy: 'Background', gracePeriodSeconds: 0 }, 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', { fieldValidation: 'Strict' });
  assert.deepEqual(del.object, { propagationPolicy: 'Background', gracePeriodSeconds: 0 });
  assert.equal(badRequestMessage(() => decodeBody({ nope: 1 }, { group: 'apps', version: 'v1', kind: 'DeleteOptions' }, { fieldValidation: 'Strict' })),
    'DeleteOptions in version "v1" cannot be handled as a DeleteOptions: strict decoding error: unknown field "nope"');
});

test('the body must be an object with string apiVersion/kind', () => {
  assert.match(badRequestMessage(() => decodeBody([], POD, { fieldValidation: 'Strict' })),
    /^the object provided is unrecognized \(must be of type Pod\): couldn't get version\/kind; json parse error: json: cannot unmarshal array into Go value of type struct/);
  assert.equal(badRequestMessage(() => decodeBody({ kind: 5 }, POD, { fieldValidation: 'Ignore' })),
    "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct field .kind of type string");
  assert.equal(badRequestMessage(() => decodeBody({ apiVersion: 'a/b/c' }, POD, { fieldValidation: 'Ignore' })), 'unexpected GroupVersion string: a/b/c');
  // The body's kind/version name the message (the caller checks them against the endpoint).
  assert.match(badRequestMessage(() => decodeBody({ apiVersion: 'v2', kind: 'Pods', x: 1 }, POD, { fieldValidation: 'Strict' })),
    /^Pods in version "v2" cannot be handled as a Pod: strict decoding error: unknown field "x"$/);
  assert.throws(() => decodeBody({}, { group: 'nope', version: 'v1', kind: 'Nope' }, { fieldValidation: 'Strict' }), /no API schema/);
});

test('duplicate fields in JSON and YAML bodies: Strict → 400, Warn → warnings, Ignore → last wins', () => {
  const json = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b","labels":{"x":"1","x":"2"}},"spec":{"foo":1}}';
  assert.equal(badRequestMessage(() => decodeRequestBody(json, POD, { fieldValidation: 'Strict' })),
    'Pod in version "v1" cannot be handled as a Pod: strict decoding error: duplicate field "metadata.name", duplicate field "metadata.labels.x", unknown field "spec.foo"');
  const warn = decodeRequestBody(json, POD, { fieldValidation: 'Warn' });
  assert.deepEqual(warn.warnings, ['duplicate field "metadata.name"', 'duplicate field "metadata.labels.x"', 'unknown field "spec.foo"']);
  assert.deepEqual(warn.object.metadata, { name: 'b', labels: { x: '2' } });
  const ignore = decodeRequestBody(Buffer.from(json), POD, { fieldValidation: 'Ignore' });
  assert.deepEqual(ignore, { object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', labels: { x: '2' } }, spec: {} }, warnings: [] });

  const yaml = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\nspec:\n  containers:\n  - name: c\n    image: i\n    image: j\n';
  assert.equal(badRequestMessage(() => decodeRequestBody(yaml, POD, { fieldValidation: 'Strict', mediaType: 'application/yaml' })),
    'Pod in version "v1" cannot be handled as a Pod: strict decoding error: yaml: unmarshal errors:\n  line 5: key "name" already set in map\n  line 10: key "image" already set in map');
  const yw = decodeRequestBody(yaml, POD, { fieldValidation: 'Warn', mediaType: 'application/yaml' });
  assert.deepEqual(yw.warnings, ['line 5: key "name" already set in map', 'line 10: key "image" already set in map']);
  assert.deepEqual(yw.object.spec, { containers: [{ name: 'c', image: 'j' }] });
});

test('YAML bodies use YAML 1.1 scalars like upstream (yes is a bool, so a type error for a string field)', () => {
  const yaml = 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    env:\n    - name: A\n      value: yes\n';
  assert.equal(badRequestMessage(() => decodeRequestBody(yaml, POD, { fieldValidation: 'Ignore', mediaType: 'application/yaml' })),
    'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal bool into Go struct field EnvVar.spec.containers.env.value of type string');
  const ok = decodeRequestBody('apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: 2024-01-01T00:00:00Z\n', POD,
    { fieldValidation: 'Strict', mediaType: 'application/apply-patch+yaml' });
  assert.equal(ok.object.metadata?.creationTimestamp, '2024-01-01T00:00:00Z');
});

test('malformed bodies are 400 with upstream wording', () => {
  const cases: [string, string | undefined, string][] = [
    ['{"apiVersion":"v1","kind":"Pod",', undefined,
      'the object provided is unrecognized (must be of type Pod): couldn\'t get version/kind; json parse error: unexpected end of JSON input ({"apiVersion":"v1","kind":"Pod ...)'],
    ['{"a" 1}', undefined, 'the object provided is unrecognized (must be of type Pod): couldn\'t get version/kind; json parse error: invalid character \'1\' after object key ({"a" 1})'],
    ['', undefined, 'the object provided is unrecognized (must be of type Pod): couldn\'t get version/kind; json parse error: unexpected end of JSON input (<empty>)'],
    ['xy', undefined, 'the object provided is unrecognized (must be of type Pod): couldn\'t get version/kind; json parse error: invalid character \'x\' looking for beginning of value (7879)'],
    ['a: [1,2\n', 'application/yaml', 'the object provided is unrecognized (must be of type Pod): error converting YAML to JSON: yaml: line 2: Flow sequence in block collection must be sufficiently indented and end with a ] (613a205b312c320a)'],
  ];
  for (const [body, mediaType, msg] of cases) {
    assert.equal(badRequestMessage(() => decodeRequestBody(body, POD, { fieldValidation: 'Strict', ...(mediaType ? { mediaType } : {}) })), msg, body);
  }
});

test('parseFieldValidation: default Warn, invalid values are 422 like upstream', () => {
  assert.equal(parseFieldValidation(undefined), 'Warn');
  assert.equal(parseFieldValidation(''), 'Warn');
  assert.equal(parseFieldValidation('Strict'), 'Strict');
  assert.equal(parseFieldValidation('Ignore'), 'Ignore');
  try {
    parseFieldValidation('strict', 'PatchOptions');
    assert.fail('expected Invalid');
  } catch (e) {
    assert.ok(isApiError(e, 'Invalid'));
    assert.equal(e.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"');
  }
});

test('decodeObject returns strict errors unjudged and throws bare Go messages (for patch handlers)', () => {
  const r = decodeObject(pod({ foo: 1, containers: [{ name: 'c', x: 1 }] }), POD, { duplicateErrors: ['duplicate field "metadata.name"'] });
  assert.deepEqual(r.strictErrors, ['duplicate field "metadata.name"', 'unknown field "spec.foo"', 'unknown field "spec.containers[0].x"']);
  assert.deepEqual(r.object.spec, { containers: [{ name: 'c' }] });
  assert.equal(strictDecodingMessage(r.strictErrors),
    'strict decoding error: duplicate field "metadata.name", unknown field "spec.foo", unknown field "spec.containers[0].x"');
  assert.deepEqual(strictWarnings(['yaml: unmarshal errors:\n  line 2: key "a" already set in map', 'unknown field "x"']),
    ['line 2: key "a" already set in map', 'unknown field "x"']);
  assert.throws(() => decodeObject(pod({ nodeName: 5 }), POD),
    (e: unknown) => e instanceof ObjectDecodeError && e.message === 'json: cannot unmarshal number into Go struct field PodSpec.spec.nodeName of type string');
  assert.throws(() => decodeObject([], POD), (e: unknown) => e instanceof ObjectDecodeError && e.message === 'json: cannot unmarshal array into Go value of type v1.Pod');
  // At most 100 strict errors, each once.
  const many: Record<string, number> = {};
  for (let i = 0; i < 150; i++) many[`f${i}`] = i;
  assert.equal(decodeObject(pod(many), POD).strictErrors.length, 100);
});
