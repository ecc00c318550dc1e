/** tskube-controller-manager: configuration, logger, client, then the controller-manager (design habit 1). */
import { createClientFromKubeconfig, loadKubeconfig } from '@tskube/client';
import { fatal, newMetricsRegistry, shutdownSignal } from '@tskube/component';
import { createLogger } from '@tskube/log';
import { loadConfig } from './config.js';
import { buildControllerManager } from './controller-manager.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ component: 'controller-manager', level: config.logLevel });
  const client = createClientFromKubeconfig(config.kubeconfig, { component: 'controller-manager', logger });
  const rootCA = loadKubeconfig(config.kubeconfig).ca?.toString('utf8');
  const cm = buildControllerManager({ client, logger, config, rootCA, registry: newMetricsRegistry('controller-manager') });
  const reason = await cm.start(shutdownSignal(logger));
  client.close();
  if (reason === 'leadership-lost') {
    // As upstream: a process that lost the Lease exits, and its restart campaigns again.
    logger.error('leader election lost');
    process.exit(1);
  }
  process.exit(0);
}

main().catch((err: unknown) => fatal('controller-manager', err));
