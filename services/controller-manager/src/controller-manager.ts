/**
 * The controller-manager's wiring (upstream cmd/kube-controller-manager/app): a health and
 * metrics endpoint, leader election on the Lease kube-system/kube-controller-manager, and,
 * while leading, one shared informer factory and the selected controllers.
 *
 *   const cm = buildControllerManager({ client, logger, config, registry });
 *   const reason = await cm.start(signal);   // 'shutdown' or 'leadership-lost'
 *
 * Every leadership term gets fresh informers, queues and controllers, so nothing from a
 * previous term leaks into the next (upstream exits instead; main.ts does too).
 * Readiness (/readyz) = leading (or not electing) and every informer synced.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import {
  InformerFactory, LeaderElector, WorkQueue, createEventRecorder, sleep, type Client, type EventRecorder,
  type LeaderElectionOptions,
} from '@tskube/client';
import { startHealthServer } from '@tskube/component';
import type { Logger } from '@tskube/log';
import type { ControllerManagerConfig } from './config.js';
import type { Controller, ControllerContext, ControllerSettings } from './controller.js';
import { ALL_CONTROLLERS, selectControllers } from './controllers.js';
import { ControllerManagerMetrics } from './metrics.js';

export const LEADER_ELECTION_NAMESPACE = 'kube-system';
export const LEADER_ELECTION_NAME = 'kube-controller-manager';

export interface ControllerManagerDeps {
  client: Client;
  logger: Logger;
  config: ControllerManagerConfig;
  /** Where the metrics go (served on /metrics); default a fresh registry. */
  registry?: Registry;
  /** The known controllers (default: all of controllers.ts); config.controllers selects among them. */
  controllers?: readonly Controller[];
  now?: () => Date;
  /** Leader election identity; default `<hostname>_<uuid>`. */
  identity?: string;
  /** The cluster CA (PEM) for kube-root-ca.crt (upstream --root-ca-file; main.ts: the kubeconfig's CA). */
  rootCA?: string;
  /** Leader election timings (upstream defaults 15 s / 10 s / 2 s). */
  leaderElection?: Pick<LeaderElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>;
}

export type StopReason = 'shutdown' | 'leadership-lost';

export interface ControllerManager {
  /** Names of the controllers this instance runs. */
  readonly enabled: readonly string[];
  /**
   * Serves health and metrics, then runs the controllers (while leading). Resolves once
   * everything stopped: 'shutdown' after `signal` aborted, 'leadership-lost' when the Lease
   * was lost (the process should exit, as upstream's does). Call once.
   */
  start(signal: AbortSignal): Promise<StopReason>;
  /** The health endpoint's port once `start` has bound it. */
  readonly healthPort: number | undefined;
  /** Leading (or not electing) and every informer synced. */
  isReady(): boolean;
}

export function buildControllerManager(deps: ControllerManagerDeps): ControllerManager {
  const { client, config } = deps;
  const log = deps.logger;
  const now = deps.now ?? (() => new Date());
  const controllers = selectControllers(config.controllers, deps.controllers ?? ALL_CONTROLLERS);
  const registry = deps.registry ?? new Registry();
  const metrics = new ControllerManagerMetrics(registry);
  const settings: ControllerSettings = {
    nodeMonitorGracePeriodMs: config.nodeMonitorGracePeriodSeconds * 1000,
    nodeStartupGracePeriodMs: config.nodeStartupGracePeriodSeconds * 1000,
    rootCA: deps.rootCA,
    ...(config.hpa ? {
      hpa: {
        syncPeriodMs: config.hpa.syncPeriodSeconds * 1000,
        downscaleStabilizationMs: config.hpa.downscaleStabilizationSeconds * 1000,
        tolerance: config.hpa.tolerance,
        cpuInitializationPeriodMs: config.hpa.cpuInitializationPeriodSeconds * 1000,
        initialReadinessDelayMs: config.hpa.initialReadinessDelaySeconds * 1000,
      },
    } : {}),
  };
  let leading = false;
  let synced = false;
  let healthPort: number | undefined;

  /** One leadership term: shared informers, every controller, until `signal` aborts. */
  async function runControllers(parent: AbortSignal): Promise<void> {
    // Every informer, queue and wait listens on this signal: more than Node's default 10 listeners is expected.
    const term = new AbortController();
    setMaxListeners(0, term.signal);
    if (parent.aborted) term.abort();
    else parent.addEventListener('abort', () => term.abort(), { once: true });
    const signal = term.signal;
    const informers = new InformerFactory({ client, logger: log });
    const recorders: EventRecorder[] = [];
    const context = (c: Controller): ControllerContext => ({
      client, informers, signal, now, settings, metrics,
      logger: log.child({ controller: c.name }),
      recorder: (component) => {
        // Scaling a Deployment by thousands records an event per pod created: queue, don't drop.
        const r = createEventRecorder({ client, component, logger: log, now, maxQueued: 10_000 });
        recorders.push(r);
        return r;
      },
      newQueue: (name) => new WorkQueue<string>({ name, metrics: metrics.queue }),
      waitForCacheSync: () => {
        informers.start(signal);
        return informers.waitForSync(signal);
      },
    });
    log.info('starting controllers', { controllers: controllers.map((c) => c.name) });
    const runs = controllers.map((c) => c.start(context(c)).catch((e: unknown) => {
      log.error('controller failed', { controller: c.name, err: e });
    }));
    informers.start(signal);
    void informers.waitForSync(signal).then((ok) => {
      if (ok && !signal.aborted) {
        synced = true;
        log.info('caches synced');
      }
    });
    await Promise.all(runs);
    synced = false;
    await informers.stopped();
    // Events recorded last are worth a short wait, not a hang.
    await Promise.race([Promise.all(recorders.map((r) => r.flush())), sleep(2000)]);
    log.info('controllers stopped');
  }

  return {
    enabled: controllers.map((c) => c.name),
    get healthPort() { return healthPort; },
    isReady: () => leading && synced,

    async start(signal: AbortSignal): Promise<StopReason> {
      const health = await startHealthServer({
        port: config.healthPort, registry, logger: log,
        readiness: [{
          name: 'informer-sync',
          check: () => {
            if (!leading) throw new Error('not leading');
            if (!synced) throw new Error('informers have not synced');
          },
        }],
      });
      healthPort = health.port;
      log.info('health endpoint listening', { port: health.port });
      try {
        if (!config.leaderElect) {
          leading = true;
          await runControllers(signal);
          return 'shutdown';
        }
        let term: Promise<void> = Promise.resolve();
        await new LeaderElector({
          client, namespace: LEADER_ELECTION_NAMESPACE, name: LEADER_ELECTION_NAME,
          identity: deps.identity ?? `${hostname()}_${randomUUID()}`,
          logger: log, releaseOnCancel: true, ...deps.leaderElection,
          onStartedLeading: (leaderSignal) => {
            leading = true;
            term = runControllers(leaderSignal);
          },
          onStoppedLeading: () => { leading = false; },
        }).run(signal);
        await term;
        return signal.aborted ? 'shutdown' : 'leadership-lost';
      } finally {
        leading = false;
        await health.close();
      }
    },
  };
}
