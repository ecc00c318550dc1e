import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Endpoints, Secret } from 'kubernetes-types/core/v1.js';
import {
  defaultEndpoints, defaultSecret, validateConfigMap, validateConfigMapUpdate, validateEndpoints, validateSecret,
  validateSecretUpdate, MAX_CONFIG_SIZE,
} from './core-config.js';
import { fieldErrorString, type FieldError } from '../errors.js';

const strings = (errs: FieldError[]) => errs.map(fieldErrorString);
function expectPrefixes(name: string, got: string[], want: string[]) {
  assert.equal(got.length, want.length, `${name}: ${JSON.stringify(got)}`);
  want.forEach((w, i) => assert.ok(got[i]!.startsWith(w), `${name}: got ${got[i]}, want prefix ${w}`));
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('configmaps: keys, data/binaryData overlap, the 1 MiB limit', () => {
  const cases: [string, ConfigMap, string[]][] = [
    ['valid', { data: { 'app.properties': 'a=b', KEY_1: 'x' }, binaryData: { 'bin.dat': b64('\u0000\u0001') } }, []],
    ['bad key', { data: { 'a/b': 'x' } }, ["data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'"]],
    ['dot-dot key', { data: { '..x': 'y' } }, ["data[..x]: Invalid value: \"..x\": must not start with '..'"]],
    ['same key in both', { data: { k: 'x' }, binaryData: { k: b64('y') } }, ['data[k]: Invalid value: "k": duplicate of key present in binaryData']],
    ['too large', { data: { a: 'x'.repeat(MAX_CONFIG_SIZE), b: 'y' } }, [': Too long: may not be more than 1048576 bytes']],
  ];
  for (const [name, cm, want] of cases) expectPrefixes(name, strings(validateConfigMap(cm)), want);
});

test('immutable configmaps and secrets keep their data', () => {
  const old: ConfigMap = { immutable: true, data: { a: '1' } };
  expectPrefixes('cm', strings(validateConfigMapUpdate({ immutable: false, data: { a: '2' } }, old)), [
    'immutable: Forbidden: field is immutable when `immutable` is set', 'data: Forbidden: field is immutable when `immutable` is set',
  ]);
  assert.deepEqual(validateConfigMapUpdate({ immutable: true, data: { a: '1' }, metadata: { labels: { x: 'y' } } }, old), []);
  const s: Secret = { type: 'Opaque', immutable: true, data: { a: b64('1') } };
  expectPrefixes('secret', strings(validateSecretUpdate({ type: 'kubernetes.io/basic-auth', immutable: true, data: { a: b64('1'), username: b64('u') } }, s)), [
    'type: Invalid value: "kubernetes.io/basic-auth": field is immutable', 'data: Forbidden: field is immutable when `immutable` is set',
  ]);
});

test('secrets: type default, stringData merged into data and dropped', () => {
  const s: Secret = { data: { a: b64('old'), b: b64('keep') }, stringData: { a: 'new', c: 'plain' } };
  defaultSecret(s);
  assert.equal(s.type, 'Opaque');
  assert.equal(s.stringData, undefined);
  assert.deepEqual(s.data, { a: b64('new'), b: b64('keep'), c: b64('plain') });
});

test('secrets: type-specific required keys', () => {
  const cases: [string, Secret, string[]][] = [
    ['opaque', { type: 'Opaque', data: {} }, []],
    ['tls', { type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c') } }, ['data[tls.key]: Required value']],
    ['basic-auth', { type: 'kubernetes.io/basic-auth', data: {} }, ['data[username]: Required value', 'data[password]: Required value']],
    ['basic-auth password only', { type: 'kubernetes.io/basic-auth', data: { password: b64('p') } }, []],
    ['ssh', { type: 'kubernetes.io/ssh-auth', data: {} }, ['data[ssh-privatekey]: Required value']],
    ['dockerconfigjson not json', { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('nope') } }, ['data[.dockerconfigjson]: Invalid value: "<secret contents redacted>"']],
    ['dockerconfigjson', { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths":{}}') } }, []],
    ['sa token', { type: 'kubernetes.io/service-account-token', data: {} }, ['metadata.annotations[kubernetes.io/service-account.name]: Required value']],
    ['bad key', { type: 'Opaque', data: { 'a b': b64('x') } }, ['data[a b]: Invalid value: "a b"']],
  ];
  for (const [name, s, want] of cases) expectPrefixes(name, strings(validateSecret(s)), want);
});

test('endpoints: addresses, special IPs, ports', () => {
  const cases: [string, Endpoints, string[]][] = [
    ['valid', { subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ port: 80 }] }] }, []],
    ['no addresses', { subsets: [{ ports: [{ port: 80 }] }] }, ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`']],
    ['loopback', { subsets: [{ addresses: [{ ip: '127.0.0.1' }] }] }, ['subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range']],
    ['bad ip', { subsets: [{ addresses: [{ ip: 'x' }] }] }, ['subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address, (e.g.', 'subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address']],
    ['named ports', { subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ port: 80 }, { port: 0, name: 'b' }] }] },
      ['subsets[0].ports[0].name: Required value', 'subsets[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive']],
  ];
  for (const [name, ep, want] of cases) {
    defaultEndpoints(ep);
    expectPrefixes(name, strings(validateEndpoints(ep)), want);
  }
});
