import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, Pod, Secret } from '@tskube/api';
import type * as m from '../cri/index.js';
import { CriError, Code } from '../cri/index.js';
import { ImageManager } from './images.js';
import { DockerKeyring, imageLocation, normalizeRegistryKey, secretEntries } from './pull-secrets.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function configJson(auths: Record<string, Record<string, string>>, name = 'regcred'): Secret {
  return { metadata: { name }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } };
}

function dockercfg(entries: Record<string, Record<string, string>>, name = 'old'): Secret {
  return { metadata: { name }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify(entries)) } };
}

describe('image pull secrets: keyring', () => {
  const locations: Array<[string, { host: string; path: string }]> = [
    ['busybox', { host: 'docker.io', path: 'library/busybox' }],
    ['busybox:1.36', { host: 'docker.io', path: 'library/busybox' }],
    ['team/app:2', { host: 'docker.io', path: 'team/app' }],
    ['registry.example.com/team/app:2', { host: 'registry.example.com', path: 'team/app' }],
    ['registry.example.com:5000/app@sha256:abcd', { host: 'registry.example.com:5000', path: 'app' }],
    ['localhost/app', { host: 'localhost', path: 'app' }],
  ];
  for (const [image, want] of locations) {
    it(`imageLocation(${image})`, () => assert.deepEqual(imageLocation(image), want));
  }

  const keys: Array<[string, string]> = [
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['docker.io/team', 'docker.io/team'],
    ['http://Registry.Example.com:5000/', 'registry.example.com:5000'],
    ['*.example.com/team', '*.example.com/team'],
  ];
  for (const [raw, want] of keys) {
    it(`normalizeRegistryKey(${raw})`, () => assert.equal(normalizeRegistryKey(raw), want));
  }

  it('reads both secret types; auth fills username/password; other secrets are ignored', () => {
    assert.deepEqual(secretEntries(configJson({ 'r.example.com': { auth: b64('alice:s3cret') } })), [
      { key: 'r.example.com', auth: { server_address: 'r.example.com', username: 'alice', password: 's3cret', auth: b64('alice:s3cret') } },
    ]);
    assert.deepEqual(secretEntries(dockercfg({ 'https://index.docker.io/v1/': { username: 'bob', password: 'pw', email: 'b@x' } })), [
      { key: 'docker.io', auth: { server_address: 'https://index.docker.io/v1/', username: 'bob', password: 'pw' } },
    ]);
    assert.deepEqual(secretEntries({ metadata: { name: 'x' }, type: 'Opaque', data: { '.dockerconfigjson': b64('{}') } }), []);
    assert.deepEqual(secretEntries({ metadata: { name: 'x' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('not json') } }), []);
  });

  const matching: Array<{ name: string; image: string; want: string[] }> = [
    { name: 'Docker Hub image, hub credentials', image: 'busybox:1', want: ['hub'] },
    { name: 'exact registry', image: 'r.example.com/app:1', want: ['r'] },
    { name: 'path prefix wins over the bare host (most specific first)', image: 'r.example.com/team/app:1', want: ['team', 'r'] },
    { name: 'path prefix does not match a sibling', image: 'r.example.com/teamx/app:1', want: ['r'] },
    { name: 'wildcard host label', image: 'eu.mirror.io/app', want: ['wild'] },
    { name: 'wildcard needs the same depth', image: 'a.eu.mirror.io/app', want: [] },
    { name: 'port must match', image: 'r.example.com:5000/app', want: ['r5000'] },
    { name: 'no match: anonymous', image: 'quay.io/app', want: [] },
  ];
  const keyring = new DockerKeyring([
    configJson({
      'r.example.com': { username: 'r', password: 'x' },
      'r.example.com/team': { username: 'team', password: 'x' },
      '*.mirror.io': { username: 'wild', password: 'x' },
      'r.example.com:5000': { username: 'r5000', password: 'x' },
    }),
    dockercfg({ 'https://index.docker.io/v1/': { username: 'hub', password: 'x' } }),
  ]);
  for (const c of matching) {
    it(`credentialsFor: ${c.name}`, () => {
      assert.deepEqual(keyring.credentialsFor(c.image).map((a) => a.username), c.want);
    });
  }
});

/** A runtime whose pulls are recorded and fail for the listed passwords. */
function fakeImages(opts: { badPasswords?: string[]; pullError?: CriError } = {}) {
  const pulls: Array<m.AuthConfig | null | undefined> = [];
  let present = false;
  const runtime = {
    imageStatus: async (): Promise<m.ImageStatusResponse> => ({
      image: present ? { id: 'sha256:img', repo_tags: ['r.example.com/app:1'], repo_digests: [], size: 4_321_000, uid: { value: 1000 }, username: '', spec: null, pinned: false } : null,
      info: {},
    }),
    pullImage: async (req: m.PullImageRequest): Promise<m.PullImageResponse> => {
      pulls.push(req.auth);
      if (opts.pullError) throw opts.pullError;
      if (req.auth?.password && opts.badPasswords?.includes(req.auth.password)) {
        throw new CriError(Code.PERMISSION_DENIED, `pull image "${req.image.image}": unauthorized: authentication required`);
      }
      present = true;
      return { image_ref: 'sha256:img' };
    },
  };
  const events: Array<{ obj: string; type: string; reason: string; message: string }> = [];
  const rec = {
    pod: (_p: unknown, type: string, reason: string, message: string) => { events.push({ obj: 'pod', type, reason, message }); },
    container: (_p: unknown, _k: unknown, name: string, type: string, reason: string, message: string) => { events.push({ obj: name, type, reason, message }); },
  };
  return { runtime, pulls, events, rec };
}

function podWith(secrets: string[]): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'r.example.com/app:1' }], imagePullSecrets: secrets.map((name) => ({ name })) },
  };
}

describe('image pulls with imagePullSecrets (ImageManager)', () => {
  const secretStore = (secrets: Secret[]) => ({
    secret: async (_ns: string, name: string) => secrets.find((s) => s.metadata?.name === name) ?? null,
  });
  let t = 1_000_000;
  const clock = { now: () => (t += 1234) };

  it('passes the matching credentials to PullImage and reports Pulling/Pulled with the image size', async () => {
    const f = fakeImages();
    const mgr = new ImageManager({ runtime: f.runtime, events: f.rec, clock, secrets: secretStore([configJson({ 'r.example.com': { auth: b64('alice:pw') } })]) });
    const pod = podWith(['regcred']);
    const c: Container = pod.spec!.containers[0]!;
    const res = await mgr.ensureImage(pod, c, 'regular');
    assert.deepEqual(res, { ok: true, imageRef: 'sha256:img', user: { uid: 1000 } });
    assert.deepEqual(f.pulls, [{ server_address: 'r.example.com', username: 'alice', password: 'pw', auth: b64('alice:pw') }]);
    assert.deepEqual(f.events.map((e) => `${e.reason}: ${e.message}`), [
      'Pulling: Pulling image "r.example.com/app:1"',
      'Pulled: Successfully pulled image "r.example.com/app:1" in 1.234s (1.234s including waiting). Image size: 4321000 bytes.',
    ]);
  });

  it('tries each matching credential until one works', async () => {
    const f = fakeImages({ badPasswords: ['wrong'] });
    const mgr = new ImageManager({
      runtime: f.runtime, events: f.rec, clock,
      secrets: secretStore([configJson({ 'r.example.com': { username: 'a', password: 'wrong' } }, 'one'), configJson({ 'r.example.com': { username: 'b', password: 'right' } }, 'two')]),
    });
    const pod = podWith(['one', 'two']);
    const res = await mgr.ensureImage(pod, pod.spec!.containers[0]!, 'regular');
    assert.equal(res.ok, true);
    assert.deepEqual(f.pulls.map((a) => a?.username), ['a', 'b']);
  });

  it('a missing secret: FailedToRetrieveImagePullSecret, the pull goes on anonymously', async () => {
    const f = fakeImages();
    const mgr = new ImageManager({ runtime: f.runtime, events: f.rec, clock, secrets: secretStore([]) });
    const pod = podWith(['gone']);
    assert.equal((await mgr.ensureImage(pod, pod.spec!.containers[0]!, 'regular')).ok, true);
    assert.deepEqual(f.pulls, [undefined]);
    assert.deepEqual(f.events[0], {
      obj: 'pod', type: 'Warning', reason: 'FailedToRetrieveImagePullSecret',
      message: 'Unable to retrieve some image pull secrets (gone); attempting to pull the image may not succeed.',
    });
  });

  it('a failed pull: Failed event, ErrImagePull with the runtime message, then ImagePullBackOff', async () => {
    const err = new CriError(Code.NOT_FOUND, 'pull image "r.example.com/app:1": manifest unknown');
    const f = fakeImages({ pullError: err });
    const mgr = new ImageManager({ runtime: f.runtime, events: f.rec, clock });
    const pod = podWith([]);
    const first = await mgr.ensureImage(pod, pod.spec!.containers[0]!, 'regular');
    assert.deepEqual(first, { ok: false, reason: 'ErrImagePull', message: err.message });
    assert.deepEqual(f.events.at(-1), { obj: 'app', type: 'Warning', reason: 'Failed', message: `Failed to pull image "r.example.com/app:1": ${err.message}` });
    const second = await mgr.ensureImage(pod, pod.spec!.containers[0]!, 'regular');
    assert.deepEqual(second, { ok: false, reason: 'ImagePullBackOff', message: 'Back-off pulling image "r.example.com/app:1"' });
    assert.equal(f.pulls.length, 1, 'no pull while in backoff');
    assert.deepEqual(f.events.at(-1), { obj: 'app', type: 'Normal', reason: 'BackOff', message: 'Back-off pulling image "r.example.com/app:1"' });
  });
});
