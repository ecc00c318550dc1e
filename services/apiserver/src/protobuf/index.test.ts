import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, decodeBody, type GroupVersionKind } from '@tskube/api';
import { decodeProtobuf, kubernetesProtos, PROTOBUF_MAGIC, PROTOBUF_MEDIA_TYPE } from './index.js';
import type { CapturedRequest } from './testdata/captured.js';
import { EXPECTED, EXPECTED_1_33 } from './testdata/expected.js';
import { KUBECTL_1_32 } from './testdata/kubectl-1.32.js';
import { KUBECTL_1_33 } from './testdata/kubectl-1.33.js';

const root = kubernetesProtos();
const Unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
const ANY: GroupVersionKind = { group: '', version: 'v1', kind: 'ConfigMap' };

function envelope(typeMeta: { apiVersion?: string; kind?: string } | undefined, raw: Uint8Array, extra: Record<string, string> = {}): Buffer {
  const msg = Unknown.fromObject({ ...(typeMeta ? { typeMeta } : {}), raw, ...extra });
  return Buffer.concat([PROTOBUF_MAGIC, Unknown.encode(msg).finish()]);
}

function encode(name: string, obj: Record<string, unknown>): Uint8Array {
  const t = root.lookupType(name);
  return t.encode(t.fromObject(obj)).finish();
}

function apiError(code: number, reason: string, message?: RegExp) {
  return (e: unknown) => e instanceof ApiError && e.code === code && e.reason === reason && (!message || message.test(e.message));
}

// ---- the envelope --------------------------------------------------------------------------

test('envelope: apiVersion and kind come from typeMeta, the object from raw', () => {
  const raw = encode('k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'c' }, data: { a: 'b' } });
  assert.deepEqual(decodeProtobuf(envelope({ apiVersion: 'v1', kind: 'ConfigMap' }, raw), ANY),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
});

test('envelope without typeMeta: decoded as the endpoint kind, no apiVersion/kind added', () => {
  const raw = encode('k8s.io.api.apps.v1.Deployment', { metadata: { name: 'd' }, spec: { replicas: 2 } });
  assert.deepEqual(decodeProtobuf(envelope(undefined, raw), { group: 'apps', version: 'v1', kind: 'Deployment' }),
    { metadata: { name: 'd' }, spec: { replicas: 2 } });
});

test('envelope kind differing from the endpoint is decoded as sent (the handler rejects the mismatch)', () => {
  const raw = encode('k8s.io.api.core.v1.Secret', { metadata: { name: 's' } });
  assert.deepEqual(decodeProtobuf(envelope({ apiVersion: 'v1', kind: 'Secret' }, raw), ANY), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } });
});

test('DeleteOptions decode under any group version', () => {
  const raw = encode('k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions', { propagationPolicy: 'Orphan', gracePeriodSeconds: 0 });
  for (const apiVersion of ['v1', 'meta.k8s.io/v1', 'apps/v1']) {
    const v = decodeProtobuf(envelope({ apiVersion, kind: 'DeleteOptions' }, raw), { group: 'meta.k8s.io', version: 'v1', kind: 'DeleteOptions' });
    assert.deepEqual(v, { apiVersion, kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Orphan' });
  }
});

test('a DELETE body that is not DeleteOptions → 400', () => {
  const raw = encode('k8s.io.api.core.v1.Namespace', { metadata: { name: 'n' } });
  assert.throws(() => decodeProtobuf(envelope({ apiVersion: 'v1', kind: 'Namespace' }, raw), { group: 'meta.k8s.io', version: 'v1', kind: 'DeleteOptions' }),
    apiError(400, 'BadRequest', /must be of type DeleteOptions/));
});

const errorCases: { name: string; body: () => Buffer; check: (e: unknown) => boolean }[] = [
  { name: 'no magic prefix → 400 with upstream wording', body: () => Buffer.from('{"kind":"ConfigMap"}'),
    check: apiError(400, 'BadRequest', /^provided data does not appear to be a protobuf message, expected prefix \[107 56 115 0\]$/) },
  { name: 'empty body → 400', body: () => Buffer.alloc(0), check: apiError(400, 'BadRequest') },
  { name: 'truncated envelope → 400', body: () => envelope({ apiVersion: 'v1', kind: 'ConfigMap' }, encode('k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'x' } })).subarray(0, 12),
    check: apiError(400, 'BadRequest', /envelope could not be decoded/) },
  { name: 'truncated object → 400 naming the kind', body: () => envelope({ apiVersion: 'v1', kind: 'ConfigMap' }, encode('k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'xyz' } }).subarray(0, 4)),
    check: apiError(400, 'BadRequest', /protobuf body of ConfigMap could not be decoded/) },
  { name: 'a kind without protobuf definition → 415 UnsupportedMediaType', body: () => envelope({ apiVersion: 'apps/v1', kind: 'StatefulSet' }, new Uint8Array(0)),
    check: apiError(415, 'UnsupportedMediaType', /accepted media types include: application\/json, application\/yaml$/) },
  { name: 'an unknown group version of a known kind → 415', body: () => envelope({ apiVersion: 'apps/v1beta1', kind: 'Deployment' }, new Uint8Array(0)),
    check: apiError(415, 'UnsupportedMediaType') },
  { name: 'a content encoding → 415', body: () => envelope({ apiVersion: 'v1', kind: 'ConfigMap' }, new Uint8Array(0), { contentEncoding: 'gzip' }),
    check: apiError(415, 'UnsupportedMediaType') },
  { name: 'an embedded JSON content type → 415', body: () => envelope({ apiVersion: 'v1', kind: 'ConfigMap' }, new Uint8Array(0), { contentType: 'application/json' }),
    check: apiError(415, 'UnsupportedMediaType') },
];

for (const c of errorCases) {
  test(`errors: ${c.name}`, () => {
    assert.throws(() => decodeProtobuf(c.body(), ANY), c.check);
  });
}

test('an explicit protobuf content type in the envelope is accepted', () => {
  const raw = encode('k8s.io.api.core.v1.Namespace', { metadata: { name: 'n' } });
  assert.deepEqual(decodeProtobuf(envelope({ apiVersion: 'v1', kind: 'Namespace' }, raw, { contentType: PROTOBUF_MEDIA_TYPE }), ANY),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
});

// ---- real kubectl requests -----------------------------------------------------------------

function gvkOf(v: Record<string, unknown>): GroupVersionKind {
  const apiVersion = String(v.apiVersion);
  const i = apiVersion.indexOf('/');
  return { group: i < 0 ? '' : apiVersion.slice(0, i), version: apiVersion.slice(i + 1), kind: String(v.kind) };
}

const suites: { version: string; captured: readonly CapturedRequest[]; expected: Record<string, unknown> }[] = [
  { version: '1.32', captured: KUBECTL_1_32, expected: EXPECTED },
  { version: '1.33', captured: KUBECTL_1_33, expected: EXPECTED_1_33 },
];

for (const { version, captured, expected } of suites) {
  test(`kubectl ${version}: every recorded command sent protobuf (except drain's eviction, which is JSON)`, () => {
    for (const c of captured) {
      const want = c.name === 'eviction' ? 'application/json' : PROTOBUF_MEDIA_TYPE;
      assert.equal(c.contentType, want, `${c.command}`);
    }
    assert.ok(captured.length >= 30, 'the capture covers every generator');
  });

  for (const c of captured.filter((x) => x.contentType === PROTOBUF_MEDIA_TYPE)) {
    test(`kubectl ${version} ${c.name}: \`${c.command}\` decodes to the JSON body`, () => {
      const v = decodeProtobuf(Buffer.from(c.body, 'base64'), ANY) as Record<string, unknown>;
      assert.deepEqual(v, expected[c.name]);
      // and the result is a valid body for the ordinary (strict) JSON path
      const target = v.kind === 'DeleteOptions' ? 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions' : gvkOf(v);
      const decoded = decodeBody(v, target, { fieldValidation: 'Strict' });
      assert.deepEqual(decoded.warnings, []);
    });
  }
}

test('every recorded fixture has an expectation and vice versa', () => {
  const names = new Set(KUBECTL_1_32.filter((c) => c.contentType === PROTOBUF_MEDIA_TYPE).map((c) => c.name));
  assert.deepEqual([...names].sort(), Object.keys(EXPECTED).sort());
});
