import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { rfc3339, type Node, type Pod, type Toleration } from '@tskube/api';
import { Resources } from '@tskube/client';
import { harness, type Harness } from '../testing.js';
import { TaintEvictionController, tolerationTimeMs } from './taint-eviction-controller.js';

const UNREACHABLE = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const };
const DEFAULT_TOLERATION: Toleration = { key: UNREACHABLE.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };

function pod(name: string, tolerations: Toleration[] | undefined, nodeName = 'n1'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'c', image: 'i' }], tolerations }, status: { phase: 'Running' } };
}

describe('tolerationTimeMs', () => {
  const cases: { name: string; tolerations?: Toleration[]; taints: { key: string; effect: 'NoExecute'; value?: string }[]; want: number }[] = [
    { name: 'no taints', taints: [], want: Infinity },
    { name: 'untolerated', taints: [UNREACHABLE], want: 0 },
    { name: 'default 300 s', tolerations: [DEFAULT_TOLERATION], taints: [UNREACHABLE], want: 300_000 },
    { name: 'forever (no seconds)', tolerations: [{ operator: 'Exists' }], taints: [UNREACHABLE], want: Infinity },
    { name: 'zero seconds = now', tolerations: [{ ...DEFAULT_TOLERATION, tolerationSeconds: 0 }], taints: [UNREACHABLE], want: 0 },
    { name: 'shortest wins', tolerations: [DEFAULT_TOLERATION, { key: 'x', operator: 'Equal', value: 'y', effect: 'NoExecute', tolerationSeconds: 10 }],
      taints: [UNREACHABLE, { key: 'x', value: 'y', effect: 'NoExecute' }], want: 10_000 },
    { name: 'one of two untolerated', tolerations: [DEFAULT_TOLERATION], taints: [UNREACHABLE, { key: 'x', effect: 'NoExecute' }], want: 0 },
    { name: 'value mismatch', tolerations: [{ key: 'x', operator: 'Equal', value: 'z' }], taints: [{ key: 'x', value: 'y', effect: 'NoExecute' }], want: 0 },
  ];
  for (const tc of cases) {
    it(tc.name, () => assert.equal(tolerationTimeMs(pod('p', tc.tolerations), tc.taints), tc.want));
  }
});

describe('TaintEvictionController', () => {
  let h: Harness;
  let c: TaintEvictionController;
  beforeEach(() => {
    h = harness();
    c = new TaintEvictionController({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now });
  });
  afterEach(async () => { await h.stop(); });

  function seedNode(timeAdded: Date): void {
    const n: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { taints: [{ ...UNREACHABLE, timeAdded: rfc3339(timeAdded) }] } };
    h.fake.seed({ group: '', plural: 'nodes' }, n);
  }
  // Bound pods are deleted gracefully: the kubelet finishes it.
  const exists = async (name: string) => (await h.fake.resource(Resources.pods).list({ namespace: 'default' })).items.some((p) => p.metadata?.name === name && !p.metadata.deletionTimestamp);

  it('evicts untolerating pods at once and tolerating ones when their tolerationSeconds ran out', async () => {
    seedNode(new Date(h.clock.now().getTime() - 100_000));
    h.fake.seed({ group: '', plural: 'pods' }, pod('bare', undefined));
    h.fake.seed({ group: '', plural: 'pods' }, pod('tolerant', [DEFAULT_TOLERATION]));
    h.fake.seed({ group: '', plural: 'pods' }, pod('forever', [{ operator: 'Exists' }]));
    await h.start();
    assert.equal(await c.reconcile('default/bare'), undefined);
    assert.equal(await exists('bare'), false);
    assert.deepEqual(await c.reconcile('default/tolerant'), { requeueAfter: 200_000 });
    assert.equal(await c.reconcile('default/forever'), undefined);
    h.clock.advance(200_000);
    await c.reconcile('default/tolerant');
    assert.equal(await exists('tolerant'), false);
    assert.equal(await exists('forever'), true);
    assert.deepEqual(h.recorder.events.map((e) => [e.object, e.reason, e.message]), [
      ['default/bare', 'TaintManagerEviction', 'Marking for deletion Pod default/bare'],
      ['default/tolerant', 'TaintManagerEviction', 'Marking for deletion Pod default/tolerant'],
    ]);
    const updates = h.fake.actions.filter((a) => a.verb === 'update' && a.subresource === 'status');
    const cond = (updates[0]!.body as Pod).status?.conditions?.find((x) => x.type === 'DisruptionTarget');
    assert.equal(cond?.reason, 'DeletionByTaintManager');
  });
});
