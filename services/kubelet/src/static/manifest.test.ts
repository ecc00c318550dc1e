import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import {
  CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION, CONFIG_SOURCE_ANNOTATION, ManifestError, isMirrorPod, isMirrorPodOf, isStaticPod,
  mirrorPodFor, parseManifest, staticPodFromManifest, staticPodUid,
} from './manifest.js';

const YAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  containers:
  - name: main
    image: local/busybox:1
    command: [sleep, "3600"]
`;
const JSON_TEXT = JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } },
  spec: { containers: [{ name: 'main', image: 'local/busybox:1', command: ['sleep', '3600'] }] },
});
const NOW = Date.parse('2024-05-01T10:00:00Z');

describe('parseManifest', () => {
  it('YAML and JSON give the same pod', () => {
    assert.deepEqual(parseManifest(YAML, 'a.yaml'), parseManifest(JSON_TEXT, 'a.json'));
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not YAML', 'a: [', /^f: couldn't parse as pod/],
    ['a list', '- 1', /not an object/],
    ['another kind', 'apiVersion: v1\nkind: Service\nmetadata: {name: x}', /want a v1 Pod/],
    ['another group', 'apiVersion: apps/v1\nkind: Pod\nmetadata: {name: x}', /want a v1 Pod/],
    ['no name', 'apiVersion: v1\nkind: Pod\nspec: {containers: [{name: a, image: b}]}', /metadata.name: Required value/],
    ['no containers', 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: []}', /spec.containers: Required value/],
  ];
  for (const [name, text, re] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseManifest(text, 'f'), (e: unknown) => e instanceof ManifestError && re.test(e.message));
    });
  }
});

describe('staticPodFromManifest (upstream applyDefaults)', () => {
  const manifest = parseManifest(YAML, '/etc/kubernetes/manifests/web.yaml');
  const pod = staticPodFromManifest(manifest, { nodeName: 'node-1', file: '/etc/kubernetes/manifests/web.yaml', now: NOW });

  it('names it <name>-<node>, namespace default, bound to the node, Pending', () => {
    assert.equal(pod.metadata?.name, 'web-node-1');
    assert.equal(pod.metadata?.namespace, 'default');
    assert.equal(pod.spec?.nodeName, 'node-1');
    assert.equal(pod.status?.phase, 'Pending');
    assert.deepEqual(pod.metadata?.labels, { app: 'web' });
  });

  it('UID = config.hash = md5 hex, stable for the same content, node and file', () => {
    assert.match(pod.metadata?.uid ?? '', /^[0-9a-f]{32}$/);
    assert.equal(pod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION], pod.metadata?.uid);
    assert.equal(pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION], 'file');
    assert.equal(pod.metadata?.annotations?.['kubernetes.io/config.seen'], '2024-05-01T10:00:00Z');
    const again = staticPodFromManifest(parseManifest(JSON_TEXT, 'x'), { nodeName: 'node-1', file: '/etc/kubernetes/manifests/web.yaml', now: NOW + 1000 });
    assert.equal(again.metadata?.uid, pod.metadata?.uid, 'same pod, same UID, whatever the format or time');
  });

  const variants: Array<[string, () => string]> = [
    ['another node', () => staticPodUid(manifest, 'node-2', '/etc/kubernetes/manifests/web.yaml')],
    ['another file', () => staticPodUid(manifest, 'node-1', '/etc/kubernetes/manifests/web2.yaml')],
    ['an edit', () => staticPodUid(parseManifest(YAML.replace('3600', '3601'), 'f'), 'node-1', '/etc/kubernetes/manifests/web.yaml')],
  ];
  for (const [name, uid] of variants) {
    it(`${name} gives another UID`, () => assert.notEqual(uid(), pod.metadata?.uid));
  }

  it('a UID in the manifest is kept', () => {
    const m: Pod = { ...manifest, metadata: { ...manifest.metadata, uid: 'given' } };
    assert.equal(staticPodFromManifest(m, { nodeName: 'n', file: 'f', now: NOW }).metadata?.uid, 'given');
  });

  it('tolerates every NoExecute taint; API defaults applied', () => {
    assert.deepEqual(pod.spec?.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
    assert.equal(pod.spec?.restartPolicy, 'Always');
    assert.equal(pod.spec?.terminationGracePeriodSeconds, 30);
    assert.equal(pod.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
  });

  it('refuses a pod that fails validation, naming the file', () => {
    const m = parseManifest(YAML.replace('name: main', 'name: Main_1'), 'f');
    assert.throws(() => staticPodFromManifest(m, { nodeName: 'n', file: '/m/bad.yaml', now: NOW }), /^Error: \/m\/bad.yaml: invalid pod: spec.containers\[0\].name/);
  });

  it('isStaticPod / isMirrorPod', () => {
    assert.equal(isStaticPod(pod), true);
    assert.equal(isStaticPod(manifest), false);
    assert.equal(isMirrorPod(pod), false);
  });
});

describe('mirrorPodFor (upstream CreateMirrorPod)', () => {
  const pod = staticPodFromManifest(parseManifest(YAML, 'f'), { nodeName: 'n1', file: '/m/web.yaml', now: NOW });
  const mirror = mirrorPodFor(pod, { name: 'n1', uid: 'node-uid' });

  it('carries config.mirror = hash, an ownerReference to the Node, no uid and no status', () => {
    assert.equal(mirror.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION], pod.metadata?.uid);
    assert.equal(mirror.metadata?.annotations?.[CONFIG_HASH_ANNOTATION], pod.metadata?.uid);
    assert.equal(mirror.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION], 'file');
    assert.deepEqual(mirror.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid' }]);
    assert.equal(mirror.metadata?.uid, undefined);
    assert.equal(mirror.status, undefined);
    assert.equal(mirror.metadata?.name, 'web-n1');
    assert.deepEqual(mirror.spec, pod.spec);
  });

  it('isMirrorPodOf: same name and hash', () => {
    assert.equal(isMirrorPod(mirror), true);
    assert.equal(isMirrorPodOf(mirror, pod), true);
    const edited = staticPodFromManifest(parseManifest(YAML.replace('3600', '1'), 'f'), { nodeName: 'n1', file: '/m/web.yaml', now: NOW });
    assert.equal(isMirrorPodOf(mirror, edited), false);
  });
});
