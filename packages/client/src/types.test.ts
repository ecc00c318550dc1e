// Compile-time contract of the typed accessors (a regression here fails `tsc -b`), plus the runtime shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESOURCES, type Node, type Pod } from '@tskube/api';
import type { ClusterResourceClient, ResourceClient } from './client.js';
import { FakeClient } from './fake.js';
import { Resources, clusterType, namespacedType } from './types.js';

describe('typed resource access', () => {
  it('infers object types and scope from descriptors', async () => {
    const client = new FakeClient();
    const pods: ResourceClient<Pod> = client.resource(Resources.pods);
    const nodes: ClusterResourceClient<Node> = client.resource(Resources.nodes);
    const literal: ResourceClient<Pod> = client.resource<Pod>({ group: '', version: 'v1', plural: 'pods', namespaced: true });
    const fromDef: ResourceClient<Pod> = client.resource(namespacedType<Pod>(RESOURCES.find((r) => r.plural === 'pods')!));
    const nodesFromDef: ClusterResourceClient<Node> = client.resource(clusterType<Node>(RESOURCES.find((r) => r.plural === 'nodes')!));
    assert.throws(() => namespacedType(RESOURCES.find((r) => r.plural === 'nodes')!), /cluster-scoped/);

    await nodes.create({ metadata: { name: 'n1' } });
    const n: Node = await nodesFromDef.get('n1');
    assert.equal(n.metadata?.name, 'n1');
    // @ts-expect-error cluster-scoped resources take no namespace
    await assert.rejects(async () => nodes.get('default', 'n1'));
    // @ts-expect-error a namespaced get needs a namespace and a name
    await assert.rejects(async () => pods.get('web'));
    // @ts-expect-error JSON patches are operation lists
    await assert.rejects(async () => pods.patch('default', 'web', { a: 1 }, 'json'));

    const scoped = literal.namespace('default');
    await scoped.create({ metadata: { name: 'web' } });
    assert.equal((await fromDef.get('default', 'web')).metadata?.namespace, 'default');
    assert.equal(scoped.boundNamespace, 'default');
    assert.equal(nodes.boundNamespace, undefined);
  });
});
