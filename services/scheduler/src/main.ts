/** tskube-scheduler: configuration, logger, client, then the scheduler (design habit 1). */
import { createClientFromKubeconfig } from '@tskube/client';
import { fatal, newMetricsRegistry, shutdownSignal } from '@tskube/component';
import { createLogger } from '@tskube/log';
import { loadConfig } from './config.js';
import { buildScheduler } from './scheduler.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ component: 'scheduler', level: config.logLevel });
  const client = createClientFromKubeconfig(config.kubeconfig, { component: 'scheduler', logger });
  const scheduler = buildScheduler({
    client, logger, schedulerName: config.schedulerName, leaderElect: config.leaderElect,
    healthPort: config.healthPort, metrics: newMetricsRegistry('scheduler'),
  });
  const reason = await scheduler.start(shutdownSignal(logger));
  client.close();
  // Upstream exits non-zero when it loses the lease, so that it restarts as a candidate.
  process.exit(reason === 'leadership-lost' ? 1 : 0);
}

main().catch((err: unknown) => fatal('scheduler', err));
