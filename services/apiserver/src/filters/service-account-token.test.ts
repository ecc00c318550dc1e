import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { KubeObject } from '@tskube/api';
import { SERVICE_ACCOUNT_ISSUER, ServiceAccountTokenSigner } from '../registry/core/token.js';
import { ServiceAccountTokenAuthenticator, type BoundKind } from './service-account-token.js';
import { UnionAuthenticator, type Authenticator } from './authentication.js';

const signer = new ServiceAccountTokenSigner();
const other = new ServiceAccountTokenSigner();
const NOW = new Date('2025-01-01T00:00:00Z');
const iat = Math.floor(NOW.getTime() / 1000);

type Objects = Partial<Record<BoundKind, Record<string, KubeObject>>>;
const obj = (name: string, uid: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name, uid, ...extra } });

function authn(objects: Objects, audiences = [SERVICE_ACCOUNT_ISSUER]): ServiceAccountTokenAuthenticator {
  return new ServiceAccountTokenAuthenticator({
    publicKey: () => signer.publicKeyPem(), issuers: [SERVICE_ACCOUNT_ISSUER], audiences, now: () => NOW,
    lookup: async (kind, _ns, name) => objects[kind]?.[name] ?? null,
  });
}
const req = (authorization?: string): IncomingMessage => ({ headers: authorization ? { authorization } : {} }) as unknown as IncomingMessage;

function claims(o: { kube?: Record<string, unknown>; aud?: string[]; exp?: number; iss?: string; sub?: string } = {}): Record<string, unknown> {
  return {
    aud: o.aud ?? [SERVICE_ACCOUNT_ISSUER], iat, nbf: iat, exp: o.exp ?? iat + 3600, iss: o.iss ?? SERVICE_ACCOUNT_ISSUER, jti: 'j-1',
    sub: o.sub ?? 'system:serviceaccount:ns:default',
    'kubernetes.io': { namespace: 'ns', serviceaccount: { name: 'default', uid: 'sa-uid' }, ...(o.kube ?? {}) },
  };
}

const world: Objects = {
  ServiceAccount: { default: obj('default', 'sa-uid') },
  Pod: { web: obj('web', 'pod-uid'), gone: obj('gone', 'pod-uid', { deletionTimestamp: '2024-12-31T23:58:00Z' }), leaving: obj('leaving', 'pod-uid', { deletionTimestamp: '2024-12-31T23:59:30Z' }) },
  Node: { n1: obj('n1', 'node-uid') },
};

test('a valid token authenticates as the service account with upstream groups and extras', async () => {
  const token = await signer.sign(claims({ kube: { pod: { name: 'web', uid: 'pod-uid' }, node: { name: 'n1', uid: 'node-uid' } } }));
  const u = await authn(world).authenticate(req(`Bearer ${token}`));
  assert.deepEqual(u, {
    username: 'system:serviceaccount:ns:default', uid: 'sa-uid',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
    extra: {
      'authentication.kubernetes.io/pod-name': ['web'], 'authentication.kubernetes.io/pod-uid': ['pod-uid'],
      'authentication.kubernetes.io/node-name': ['n1'], 'authentication.kubernetes.io/node-uid': ['node-uid'],
      'authentication.kubernetes.io/credential-id': ['JTI=j-1'],
    },
  });
});

test('requests that are not ours are passed on (null)', async () => {
  const a = authn(world);
  assert.equal(await a.authenticate(req()), null);
  assert.equal(await a.authenticate(req('Basic abc')), null);
  assert.equal(await a.authenticate(req('Bearer not-a-jwt')), null);
  assert.equal(await a.authenticate(req(`Bearer ${await signer.sign(claims({ iss: 'https://elsewhere' }))}`)), null);
});

test('bad tokens are refused (throw)', async () => {
  const cases: { name: string; token: () => Promise<string>; objects?: Objects; want: RegExp }[] = [
    { name: 'other key', token: () => other.sign(claims()), want: /signature/ },
    { name: 'expired', token: () => signer.sign(claims({ exp: iat - 120 })), want: /exp/ },
    { name: 'wrong audience', token: () => signer.sign(claims({ aud: ['vault'] })), want: /token audiences \["vault"\] is invalid/ },
    { name: 'service account gone', token: () => signer.sign(claims()), objects: { ...world, ServiceAccount: {} }, want: /serviceaccount "default" not found/ },
    { name: 'service account recreated', token: () => signer.sign(claims()), objects: { ...world, ServiceAccount: { default: obj('default', 'new') } }, want: /service account UID \(new\) does not match claim \(sa-uid\)/ },
    { name: 'service account being deleted', token: () => signer.sign(claims()), objects: { ...world, ServiceAccount: { default: obj('default', 'sa-uid', { deletionTimestamp: '2024-12-31T00:00:00Z' }) } }, want: /has been deleted/ },
    { name: 'bound pod gone', token: () => signer.sign(claims({ kube: { pod: { name: 'nope', uid: 'pod-uid' } } })), want: /pods "nope" not found/ },
    { name: 'bound pod recreated', token: () => signer.sign(claims({ kube: { pod: { name: 'web', uid: 'old' } } })), want: /pod UID \(pod-uid\) does not match claim \(old\)/ },
    { name: 'bound pod deleted over 60 s ago', token: () => signer.sign(claims({ kube: { pod: { name: 'gone', uid: 'pod-uid' } } })), want: /pod ns\/gone has been deleted/ },
    { name: 'bound node gone', token: () => signer.sign(claims({ kube: { node: { name: 'n2', uid: 'x' } } })), want: /nodes "n2" not found/ },
    { name: 'subject mismatch', token: () => signer.sign(claims({ sub: 'system:serviceaccount:ns:admin' })), want: /does not match/ },
  ];
  for (const c of cases) {
    await assert.rejects(authn(c.objects ?? world).authenticate(req(`Bearer ${await c.token()}`)), c.want, c.name);
  }
  // a pod deleted less than a minute ago still authenticates
  const leaving = await signer.sign(claims({ kube: { pod: { name: 'leaving', uid: 'pod-uid' } } }));
  assert.equal((await authn(world).authenticate(req(`Bearer ${leaving}`)))?.username, 'system:serviceaccount:ns:default');
});

test('the union tries every authenticator and fails only when none succeeds', async () => {
  const ok: Authenticator = { authenticate: () => ({ username: 'cert-user', groups: [] }) };
  const bad: Authenticator = { authenticate: async () => { throw new Error('bad token'); } };
  const none: Authenticator = { authenticate: () => null };
  assert.equal((await new UnionAuthenticator([bad, ok]).authenticate(req()))?.username, 'cert-user');
  assert.equal(await new UnionAuthenticator([none, none]).authenticate(req()), null);
  await assert.rejects(new UnionAuthenticator([none, bad]).authenticate(req()), /bad token/);
});
