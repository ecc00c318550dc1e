import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nullLogger } from '@tskube/log';
import { ManualClock } from '../clock.js';
import { FakeRuntime, LABEL_POD_UID, type ContainerConfig, type PodSandboxConfig } from '../cri/index.js';
import { ContainerGC, DEFAULT_GC_POLICY, planContainerGC, type GCContainer, type GCPolicy, type GCSandbox } from './container-gc.js';

const dead = (id: string, podUid: string, name: string, createdAt: number, sandboxId = `s-${podUid}`): GCContainer =>
  ({ id, podUid, name, running: false, createdAt, sandboxId });
const live = (id: string, podUid: string, name: string, createdAt: number, sandboxId = `s-${podUid}`): GCContainer =>
  ({ ...dead(id, podUid, name, createdAt, sandboxId), running: true });
const sandbox = (id: string, podUid: string, createdAt: number, ready = false): GCSandbox => ({ id, podUid, ready, createdAt });

interface Case {
  name: string;
  containers?: GCContainer[];
  sandboxes?: GCSandbox[];
  policy?: Partial<GCPolicy>;
  removedPods?: string[];
  now?: number;
  want: { containers: string[]; sandboxes?: string[] };
}

const cases: Case[] = [
  {
    name: 'defaults: one dead container kept per (pod, container), oldest removed first; running never',
    containers: [live('r', 'p', 'app', 40), dead('d3', 'p', 'app', 30), dead('d2', 'p', 'app', 20), dead('d1', 'p', 'app', 10)],
    want: { containers: ['d1', 'd2'] },
  },
  {
    name: 'units are per container name',
    containers: [dead('a2', 'p', 'a', 20), dead('a1', 'p', 'a', 10), dead('b1', 'p', 'b', 5)],
    want: { containers: ['a1'] },
  },
  {
    name: 'crash loop: the newest dead instance stays, the one before goes',
    containers: [dead('new', 'p', 'app', 20), dead('old', 'p', 'app', 10)],
    want: { containers: ['old'] },
  },
  {
    name: 'a removed pod loses every dead container and its inactive sandboxes',
    containers: [dead('x2', 'gone', 'app', 20, 's1'), dead('x1', 'gone', 'app', 10, 's1'), dead('y', 'p', 'app', 5)],
    sandboxes: [sandbox('s1', 'gone', 1), sandbox('s0', 'gone', 0), sandbox('s-p', 'p', 0)],
    removedPods: ['gone'],
    want: { containers: ['x1', 'x2'], sandboxes: ['s0', 's1'] },
  },
  {
    name: 'a removed pod keeps a sandbox that still holds a running container',
    containers: [live('r', 'gone', 'app', 10, 's1')],
    sandboxes: [sandbox('s1', 'gone', 1)],
    removedPods: ['gone'],
    want: { containers: [], sandboxes: [] },
  },
  {
    name: 'a live pod keeps its newest sandbox even when not ready; older inactive ones go; ready or used ones stay',
    containers: [dead('c-old', 'p', 'app', 3, 'sb-used')],
    sandboxes: [sandbox('sb-new', 'p', 10), sandbox('sb-ready', 'p', 8, true), sandbox('sb-used', 'p', 5), sandbox('sb-dead', 'p', 2)],
    want: { containers: [], sandboxes: ['sb-dead'] },
  },
  {
    name: 'a sandbox freed by this round\'s container removal goes in the same round',
    containers: [live('r', 'p', 'app', 30, 'sb2'), dead('d2', 'p', 'app', 20, 'sb1'), dead('d1', 'p', 'app', 10, 'sb1')],
    sandboxes: [sandbox('sb2', 'p', 25, true), sandbox('sb1', 'p', 5)],
    policy: { maxPerPodContainer: 0 },
    want: { containers: ['d1', 'd2'], sandboxes: ['sb1'] },
  },
  {
    name: 'minAge: younger dead containers are not evictable',
    containers: [dead('young', 'p', 'app', 95), dead('mid', 'p', 'app', 50), dead('old', 'p', 'app', 10)],
    policy: { minAgeMs: 10 },
    now: 100,
    want: { containers: ['old'] },
  },
  {
    name: 'maxPerPodContainer -1: no per-unit limit',
    containers: [dead('d2', 'p', 'app', 20), dead('d1', 'p', 'app', 10)],
    policy: { maxPerPodContainer: -1 },
    want: { containers: [] },
  },
  {
    name: 'maxContainers: units cut evenly (min 1), then the oldest overall',
    containers: [
      dead('a3', 'p', 'a', 30), dead('a2', 'p', 'a', 20), dead('a1', 'p', 'a', 10),
      dead('b2', 'q', 'b', 25), dead('b1', 'q', 'b', 15),
      dead('c1', 'r', 'c', 5),
    ],
    policy: { maxPerPodContainer: -1, maxContainers: 2 },
    want: { containers: ['a1', 'a2', 'b1', 'c1'] },
  },
];

describe('planContainerGC (upstream kuberuntime_gc policy)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const plan = planContainerGC({
        containers: c.containers ?? [], sandboxes: c.sandboxes ?? [], now: c.now ?? 1000,
        policy: { ...DEFAULT_GC_POLICY, ...c.policy }, podRemoved: (uid) => (c.removedPods ?? []).includes(uid),
      });
      assert.deepEqual(plan.containers, c.want.containers);
      assert.deepEqual(plan.sandboxes, c.want.sandboxes ?? []);
    });
  }
});

describe('ContainerGC on the fake runtime', () => {
  it('removes the dead instances beyond the budget and the sandboxes of removed pods', async () => {
    const rt = new FakeRuntime({ nodeName: 'n1', clusterName: 'c' });
    const sbConfig = (uid: string): PodSandboxConfig => ({
      metadata: { name: uid, namespace: 'default', uid, attempt: 0 }, hostname: uid, log_directory: '', dns_config: null,
      port_mappings: [], labels: { [LABEL_POD_UID]: uid }, annotations: {}, linux: null,
    } as unknown as PodSandboxConfig);
    const ctConfig = (uid: string, attempt: number): ContainerConfig => ({
      metadata: { name: 'app', attempt }, image: { image: 'local/busybox:1' }, command: ['sh', '-c', 'exit 1'], args: [],
      labels: { [LABEL_POD_UID]: uid }, annotations: {},
    } as unknown as ContainerConfig);
    const keep = (await rt.runPodSandbox({ config: sbConfig('keep') })).pod_sandbox_id;
    const ids: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = (await rt.createContainer({ pod_sandbox_id: keep, config: ctConfig('keep', attempt), sandbox_config: sbConfig('keep') })).container_id;
      await rt.startContainer({ container_id: id });
      await rt.stopContainer({ container_id: id, timeout: 0 });
      ids.push(id);
      // distinct creation times: "newest" is by creation time (ties would fall to the random IDs)
      await new Promise((r) => setTimeout(r, 3));
    }
    const gone = (await rt.runPodSandbox({ config: sbConfig('gone') })).pod_sandbox_id;
    const goneCt = (await rt.createContainer({ pod_sandbox_id: gone, config: ctConfig('gone', 0), sandbox_config: sbConfig('gone') })).container_id;
    await rt.stopPodSandbox({ pod_sandbox_id: gone });

    const gc = new ContainerGC({ runtime: rt, clock: new ManualClock(Date.now() + 1000), logger: nullLogger() });
    const done = await gc.collect((uid) => uid === 'gone');
    assert.deepEqual(new Set(done.containers), new Set([ids[0], ids[1], goneCt]));
    assert.deepEqual(done.sandboxes, [gone]);
    const left = (await rt.listContainers({})).containers.map((c) => c.id);
    assert.deepEqual(left, [ids[2]], 'only the newest dead instance of the live pod');
    assert.deepEqual((await rt.listPodSandbox({})).items.map((s) => s.id), [keep]);
    assert.deepEqual(await gc.collect((uid) => uid === 'gone'), { containers: [], sandboxes: [] }, 'a second round has nothing to do');
  });
});
