/**
 * The compose stack with one real (Docker-backed) kubelet, ready for pods: its node Ready
 * without the not-ready taint and the `default` ServiceAccount present (ServiceAccount
 * admission refuses pods before it exists). Shared by the single-node benchmarks.
 */
import { createClientFromKubeconfig, Resources, type Client } from '@tskube/client';
import { composeUp, type ComposeCluster } from '@tskube/test/support/compose';
import { eventually } from '@tskube/test/support/kubectl';
import { say } from './stats.js';

export async function upOneNode(): Promise<{ cluster: ComposeCluster; client: Client }> {
  const cluster = await composeUp({ kubelets: 1 });
  try {
    say(`cluster ${cluster.project} up in ${cluster.upSeconds.toFixed(1)} s`);
    const client = createClientFromKubeconfig(cluster.kubeconfig, { component: 'bench' });
    await eventually('node Ready', async () => {
      const nodes = await client.resource(Resources.nodes).list();
      return nodes.items.some((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        && !n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready')) || null;
    }, 120_000);
    await eventually('default ServiceAccount', async () => Boolean(await client.resource(Resources.serviceAccounts).get('default', 'default')), 60_000);
    return { cluster, client };
  } catch (e) {
    await cluster.down();
    throw e;
  }
}
