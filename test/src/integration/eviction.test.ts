/**
 * Node allocatable and node-pressure eviction on real Docker: a real apiserver, the kubelet
 * in-process with the host stats source (statfs of its root directory, /proc, CRI stats), the
 * node lifecycle controller in-process, and the pinned kubectl 1.32.
 *
 * - allocatable = capacity − system reserved − kube reserved − hard eviction thresholds;
 * - a real eviction on disk: the nodefs.available threshold is set 512Mi below what the
 *   kubelet's filesystem has free when the test starts, and a pod writes 1.5Gi into an
 *   emptyDir. Other processes share this machine, so the margins are wide: background writes
 *   would have to take 512Mi within the test to raise the condition early, or free 1Gi to
 *   hide the pod's write, or take 512Mi to keep the condition after the eviction gave the
 *   space back. Disk is steadier than memory here (other tests allocate and free hundreds of
 *   MiB at a time);
 * - then: DiskPressure True with upstream's reason, the disk-pressure NoSchedule taint, the
 *   writer (not the idle pod) Failed/Evicted with upstream's message and event, its emptyDir
 *   removed, a BestEffort pod rejected at admission, and, after the (shortened) transition
 *   period, DiskPressure False and the taint gone.
 *
 * Needs Docker with POD_IMAGE and PAUSE_IMAGE, the etcd binary and kubectl.1.32. Every
 * container carries tskube.cluster=<scope> and is removed in `after`.
 */
import assert from 'node:assert/strict';
import { existsSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseQuantity, type Node, type Pod } from '@tskube/api';
import { Resources, type Client } from '@tskube/client';
import { canonicalQuantity, parseThresholdConfig } from '@tskube/kubelet';
import { POD_IMAGE } from '../support/docker.js';
import { eventually, Kubectl } from '../support/kubectl.js';
import { NS, startKubeletStack, type KubeletStack } from '../support/kubelet-stack.js';
const Mi = 2 ** 20;
const Gi = 2 ** 30;
/** Pressure starts this far below the free space measured at the start. */
const MARGIN = 512 * Mi;
/** What the writer puts into its emptyDir. */
const WRITE_MI = 1536;
const TRANSITION_MS = 10_000;

describe('node allocatable and disk-pressure eviction (Docker, kubectl 1.32)', () => {
  let stack: KubeletStack;
  let admin: Client;
  let nodeName: string;
  let rootDir: string;
  let thresholdText: string;
  let capacityBytes: number;
  let k: Kubectl;

  const pods = () => admin.resource(Resources.pods);
  const node = (): Promise<Node> => admin.resource(Resources.nodes).get(nodeName);
  const condition = async (type: string) => (await node()).status?.conditions?.find((c) => c.type === type);
  const hasTaint = async (key: string): Promise<boolean> => ((await node()).spec?.taints ?? []).some((t) => t.key === key && t.effect === 'NoSchedule');

  before(async () => {
    // the kubelet's nodefs is the filesystem of its root directory: <stack dir>/root, and the
    // stack makes its directory in tmpdir(), so (until the root is made) tmpdir()'s filesystem
    const fs = statfsSync(tmpdir());
    capacityBytes = fs.blocks * fs.bsize;
    const available = fs.bavail * fs.bsize;
    if (available < WRITE_MI * Mi + 2 * Gi) throw new Error(`the test needs ${WRITE_MI}Mi + 2Gi free under ${tmpdir()}, has ${Math.floor(available / Mi)}Mi`);
    thresholdText = canonicalQuantity(`${Math.floor((available - MARGIN) / Mi)}Mi`);

    stack = await startKubeletStack({
      name: 'eviction-it', rootDir: true,
      settings: {
        systemReserved: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '1Gi', pid: '1000' },
        kubeReserved: { cpu: '50m', memory: '128Mi' },
        eviction: {
          thresholds: parseThresholdConfig({ hard: `memory.available<100Mi,nodefs.available<${thresholdText}` }),
          pressureTransitionPeriodMs: TRANSITION_MS, maxPodGracePeriodSeconds: 0, monitoringIntervalMs: 1000,
        },
      },
      deps: { evictionStats: 'host' },
      timing: { nodeStatusIntervalMs: 1000 },
      controllerManager: { controllers: ['node-lifecycle-controller'] },
    });
    ({ admin, nodeName, kubectl: k } = stack);
    rootDir = stack.rootDir!;
    await stack.ensureDefaultServiceAccount();
  });

  after(async () => {
    await stack?.stop();
  });

  it('allocatable = capacity − system reserved − kube reserved − hard eviction thresholds', async () => {
    const n = await node();
    const cap = n.status!.capacity!;
    const alloc = n.status!.allocatable!;
    assert.equal(parseQuantity(cap['ephemeral-storage']!), Math.floor(capacityBytes / 1024) * 1024, 'nodefs: the root directory\'s filesystem');
    assert.equal(parseQuantity(alloc.cpu!), parseQuantity(cap.cpu!) - 0.15);
    assert.equal(parseQuantity(alloc.memory!), parseQuantity(cap.memory!) - 256 * Mi - 128 * Mi - 100 * Mi);
    assert.equal(parseQuantity(alloc['ephemeral-storage']!), Math.max(0, parseQuantity(cap['ephemeral-storage']!) - Gi - parseQuantity(thresholdText)));
    assert.equal(alloc.pods, cap.pods);
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) assert.equal((await condition(type))?.status, 'False', type);
  });

  it('a pod filling its emptyDir is evicted; DiskPressure and its taint; a BestEffort pod rejected; all clear after the transition period', async (t) => {
    const mk = (name: string, command: string, volumes = false, requests?: Record<string, string>): Pod => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
      spec: {
        nodeName, terminationGracePeriodSeconds: 30,
        containers: [{
          name: 'main', image: POD_IMAGE, command: ['sh', '-c', command],
          ...(volumes ? { volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] } : {}),
          ...(requests ? { resources: { requests, limits: requests } } : {}),
        }],
        ...(volumes ? { volumes: [{ name: 'scratch', emptyDir: {} }] } : {}),
      },
    });
    await pods().create(NS, mk('idle', 'exec sleep 3600', false, { memory: '32Mi', cpu: '10m' }));
    // The writer waits for /scratch/go (made below, once "no pressure yet" is checked): started
    // at once, its dd could cross the threshold before that check.
    await pods().create(NS, mk('writer', `while [ ! -e /scratch/go ]; do sleep 0.2; done; dd if=/dev/zero of=/scratch/fill bs=1M count=${WRITE_MI} && sync && echo written; exec sleep 3600`, true));
    await eventually('both Running', async () => (await pods().get(NS, 'idle')).status?.phase === 'Running'
      && (await pods().get(NS, 'writer')).status?.phase === 'Running', 60_000, 250);
    assert.equal((await condition('DiskPressure'))?.status, 'False', 'no pressure before the write (background noise would show here)');
    const writer = await pods().get(NS, 'writer');
    const uid = writer.metadata!.uid!;
    const emptyDir = join(rootDir, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'scratch');
    assert.ok(existsSync(emptyDir));
    writeFileSync(join(emptyDir, 'go'), '');

    const evicted = await eventually('writer Failed', async () => {
      const p = await pods().get(NS, 'writer');
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 60_000, 250);
    const msg = evicted.status?.message ?? '';
    assert.equal(evicted.status?.reason, 'Evicted');
    const m = /^The node was low on resource: ephemeral-storage\. Threshold quantity: (\S+), available: (\S+)\. $/.exec(msg);
    assert.ok(m, msg);
    assert.equal(m[1], thresholdText);
    assert.ok(parseQuantity(m[2]!) < parseQuantity(thresholdText), msg);
    const dt = evicted.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.deepEqual([dt?.status, dt?.reason, dt?.message], ['True', 'TerminationByKubelet', msg]);
    assert.equal(evicted.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137, 'killed without a grace period');
    assert.equal((await pods().get(NS, 'idle')).status?.phase, 'Running', 'only the writer was evicted');
    await eventually('the evicted pod\'s emptyDir removed', async () => !existsSync(emptyDir), 30_000, 250);
    assert.ok(existsSync(join(rootDir, 'pods', uid, 'containers')), 'the rest of the pod directory stays until the pod is deleted');

    const pressure = await eventually('DiskPressure True', async () => {
      const c = await condition('DiskPressure');
      return c?.status === 'True' ? c : undefined;
    }, 15_000, 200);
    assert.deepEqual([pressure.reason, pressure.message], ['KubeletHasDiskPressure', 'kubelet has disk pressure']);
    await eventually('disk-pressure taint', () => hasTaint('node.kubernetes.io/disk-pressure'), 15_000, 200);

    // admission while the condition is held (the space is back, the transition period is not over)
    await pods().create(NS, mk('late', 'exec sleep 3600'));
    const rejected = await eventually('late rejected', async () => {
      const p = await pods().get(NS, 'late');
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 15_000, 200);
    assert.equal(rejected.status?.reason, 'Evicted');
    assert.equal(rejected.status?.message, 'Pod was rejected: The node had condition: [DiskPressure]. ');
    assert.equal(rejected.status?.qosClass, 'BestEffort');
    assert.equal((await condition('DiskPressure'))?.status, 'True', 'still held when the pod was rejected');

    const getPods = await k.ok(['get', 'pods', '-o', 'wide']);
    t.diagnostic(`kubectl get pods -o wide\n${getPods}`);
    assert.match(getPods, /^writer\s+0\/1\s+Error\s+/m);
    assert.match(getPods, /^late\s+0\/1\s+Evicted\s+/m);
    const events = await k.ok(['get', 'events', '--field-selector', 'reason=Evicted', '-o', 'custom-columns=OBJECT:.involvedObject.name,TYPE:.type,REASON:.reason,MESSAGE:.message']);
    t.diagnostic(`kubectl get events --field-selector reason=Evicted\n${events}`);
    assert.ok(events.includes(`writer   Warning   Evicted   ${msg.trimEnd()}`), events);
    assert.ok(events.includes('late     Warning   Evicted   The node had condition: [DiskPressure].'), events);
    const nodeEvents = await k.ok(['get', 'events', '--field-selector', `involvedObject.name=${nodeName}`, '-o', 'custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message']);
    t.diagnostic(`kubectl get events (node)\n${nodeEvents}`);
    assert.match(nodeEvents, /Warning\s+EvictionThresholdMet\s+Attempting to reclaim ephemeral-storage/);
    assert.match(nodeEvents, new RegExp(`Normal\\s+NodeHasDiskPressure\\s+Node ${nodeName} status is now: NodeHasDiskPressure`));
    t.diagnostic(`kubectl describe node (conditions, taints)\n${(await k.ok(['describe', 'node', nodeName])).split('\n').filter((l) => /Taints:|Pressure|Ready |Allocatable|Capacity|ephemeral-storage|^\s+memory|^\s+cpu/.test(l)).join('\n')}`);

    await eventually('DiskPressure False after the transition period', async () => (await condition('DiskPressure'))?.status === 'False', TRANSITION_MS + 20_000, 500);
    await eventually('disk-pressure taint removed', async () => !(await hasTaint('node.kubernetes.io/disk-pressure')), 15_000, 250);
    assert.equal((await pods().get(NS, 'idle')).status?.phase, 'Running');
    const after = await k.ok(['get', 'node', nodeName, '-o', 'jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}{"\\n"}{end}']);
    t.diagnostic(`conditions after the transition period\n${after}`);
    assert.match(after, /DiskPressure=False KubeletHasNoDiskPressure/);
  });
});
