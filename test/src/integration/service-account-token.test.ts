/**
 * Service accounts end to end against a real apiserver (etcd + apiserver in this process, the
 * ServiceAccount admission plugin on), the serviceaccount-controller and root-ca-cert-publisher,
 * an in-process kubelet on real Docker, and the pinned kubectl 1.32:
 * - a pod gets serviceAccountName default and the kube-api-access-xxxxx projected volume; its
 *   container reads the namespace, ca.crt and the token from
 *   /var/run/secrets/kubernetes.io/serviceaccount, and the token is a JWT for
 *   system:serviceaccount:<ns>:default bound to the pod, which the apiserver accepts;
 * - `kubectl --token=$(kubectl create token default) auth whoami` shows the service account;
 *   a token of a deleted service account is refused (401);
 * - a pod naming a missing service account is refused with upstream's 403.
 * Needs Docker with POD_IMAGE/PAUSE_IMAGE, the etcd binary and kubectl 1.32; removes every
 * container it made (tskube.cluster=<scope>) in `after`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadKubeconfig } from '@tskube/client';
import { POD_IMAGE } from '../support/docker.js';
import { Kubectl, eventually } from '../support/kubectl.js';
import { startKubeletStack, type KubeletStack } from '../support/kubelet-stack.js';
const MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

function jwtPayload(token: string): Record<string, unknown> {
  const parts = token.trim().split('.');
  assert.equal(parts.length, 3, `not a JWT: ${token.slice(0, 40)}`);
  return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('service account admission, projected token and token authentication (real apiserver, Docker, kubectl 1.32)', () => {
  let stack: KubeletStack;
  let k: Kubectl;
  let tokenKubeconfig: string;
  let nodeName: string;

  before(async () => {
    stack = await startKubeletStack({
      name: 'sa-it', rootDir: true, timing: { resyncMs: 3000, objectCacheTtlMs: 1000 },
      // the ServiceAccount admission plugin on, with what it needs: accounts and the root CA published
      apiServer: { disableAdmissionPlugins: [] },
      controllerManager: { controllers: ['serviceaccount-controller', 'root-ca-cert-publisher'] },
    });
    ({ nodeName, kubectl: k } = stack);
    const { api, dir } = stack;
    const kc = loadKubeconfig(api.kubeconfigs.kubelet);
    // a kubeconfig with the cluster only: the bearer token is the sole credential
    tokenKubeconfig = join(dir, 'token.kubeconfig');
    writeFileSync(tokenKubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: api.url, 'certificate-authority-data': kc.ca!.toString('base64') } }],
      users: [{ name: 'u', user: {} }], contexts: [{ name: 'c', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
    }));
    await eventually('default service account and kube-root-ca.crt in default', async () =>
      (await k.run(['get', 'serviceaccount/default', 'configmap/kube-root-ca.crt'])).code === 0, 30_000, 200);
  });

  after(async () => {
    await stack?.stop();
  });

  const kubectl = (args: string[], input?: string) => k.ok(args, input === undefined ? {} : { input });
  const asToken = (token: string, args: string[]) => new Kubectl(tokenKubeconfig, undefined, '1.32').run(['--token', token, ...args]);

  it('a pod reads its namespace, CA and a pod-bound token that the apiserver accepts', async () => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'reader', namespace: 'default' },
      spec: {
        nodeName, terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: POD_IMAGE, command: ['sh', '-c', `cat ${MOUNT}/namespace; echo; head -1 ${MOUNT}/ca.crt; echo "token=$(cat ${MOUNT}/token)"; exec sleep 3600`] }],
      },
    }));
    const spec = JSON.parse(await kubectl(['get', 'pod', 'reader', '-o', 'jsonpath={.spec}'])) as {
      serviceAccountName: string; volumes: { name: string; projected?: unknown }[]; containers: { volumeMounts: unknown[] }[];
    };
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(spec.volumes.length, 1);
    assert.match(spec.volumes[0]!.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(spec.containers[0]!.volumeMounts, [{ name: spec.volumes[0]!.name, mountPath: MOUNT, readOnly: true }]);

    const out = await eventually('pod logs with the token', async () => {
      const r = await k.run(['logs', 'reader']);
      return r.code === 0 && /token=\S+/.test(r.stdout) ? r.stdout : undefined;
    }, 60_000, 500);
    const lines = out.split('\n');
    assert.equal(lines[0], 'default');
    assert.equal(lines[1], '-----BEGIN CERTIFICATE-----');
    const token = /token=(\S+)/.exec(out)![1]!;
    const claims = jwtPayload(token);
    assert.equal(claims.sub, 'system:serviceaccount:default:default');
    assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
    const podUid = (await kubectl(['get', 'pod', 'reader', '-o', 'jsonpath={.metadata.uid}'])).trim();
    assert.deepEqual((claims['kubernetes.io'] as { pod: unknown }).pod, { name: 'reader', uid: podUid });
    assert.equal(Number(claims.exp) - Number(claims.iat), 3607);

    const who = await asToken(token, ['auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    const info = (JSON.parse(who.stdout) as { status: { userInfo: { username: string; groups: string[]; extra: Record<string, string[]> } } }).status.userInfo;
    assert.equal(info.username, 'system:serviceaccount:default:default');
    assert.deepEqual(info.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    assert.deepEqual(info.extra['authentication.kubernetes.io/pod-name'], ['reader']);
    assert.deepEqual(info.extra['authentication.kubernetes.io/pod-uid'], [podUid]);
  });

  it('kubectl --token=$(kubectl create token default) auth whoami shows the service account; a deleted account\'s token is refused', async () => {
    const token = (await kubectl(['create', 'token', 'default'])).trim();
    const who = await asToken(token, ['auth', 'whoami']);
    assert.equal(who.code, 0, who.stderr);
    stack.log.info('kubectl auth whoami', { stdout: who.stdout });
    assert.match(who.stdout, /^ATTRIBUTE\s+VALUE$/m);
    assert.match(who.stdout, /^Username\s+system:serviceaccount:default:default$/m);
    assert.match(who.stdout, /^Groups\s+\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]$/m);
    // the same token can read the API (the apiserver authorizes every authenticated user)
    const pods = await asToken(token, ['get', 'pods', '-o', 'name']);
    assert.equal(pods.code, 0, pods.stderr);
    assert.match(pods.stdout, /^pod\/reader$/m);

    await kubectl(['create', 'serviceaccount', 'builder']);
    const builder = (await kubectl(['create', 'token', 'builder'])).trim();
    assert.equal((await asToken(builder, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout, 'system:serviceaccount:default:builder');
    await kubectl(['delete', 'serviceaccount', 'builder']);
    const refused = await eventually('token of a deleted account refused', async () => {
      const r = await asToken(builder, ['auth', 'whoami']);
      return r.code !== 0 ? r : undefined;
    }, 10_000, 200);
    assert.match(refused.stderr, /Unauthorized/);
    const garbage = await asToken(`${token.slice(0, -4)}AAAA`, ['auth', 'whoami']);
    assert.notEqual(garbage.code, 0);
    assert.match(garbage.stderr, /Unauthorized/);
  });

  it('a pod naming a missing service account is refused with 403', async () => {
    const r = await k.run(['run', 'orphan', `--image=${POD_IMAGE}`, '--overrides', JSON.stringify({ spec: { serviceAccountName: 'nope' } })]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pods "orphan" is forbidden: error looking up service account default\/nope: serviceaccount "nope" not found/);
  });
});
