/**
 * In-process control-plane components for integration tests, against a `startApiServer()`:
 *
 *   const api = await startApiServer();
 *   const cm = await startControllerManager(api, { controllers: ['deployment-controller', 'replicaset-controller'] });
 *   const sched = await startScheduler(api);
 *   ...
 *   await sched.stop(); await cm.stop(); await api.stop();
 *
 * Each resolves once the component leads and (for the controller-manager) its informers have
 * synced. Logs go nowhere unless TSKUBE_TEST_LOG is set (then debug JSON on stdout).
 */
import { createClientFromKubeconfig, loadKubeconfig, type RestClient } from '@tskube/client';
import { buildControllerManager, type ControllerManager, type ControllerManagerConfig, type StopReason } from '@tskube/controller-manager';
import { createLogger, nullLogger, type Logger } from '@tskube/log';
import { buildScheduler, type Scheduler } from '@tskube/scheduler';
import type { TestApiServer } from './apiserver.js';
import { eventually } from './kubectl.js';

export function testLogger(component: string): Logger {
  return process.env.TSKUBE_TEST_LOG ? createLogger({ component, level: 'debug' }) : nullLogger();
}

export interface RunningComponent<T> {
  readonly component: T;
  readonly client: RestClient;
  /**
   * Aborts the component, waits for it to stop and closes its client; resolves with why it
   * stopped ('shutdown' after an abort, unless it had lost its leadership first). Idempotent:
   * later calls resolve with the first one's result.
   */
  stop(): Promise<StopReason>;
}

/** Wraps a started component: `stop()` aborts `ac`, awaits `done`, closes `client`, once. */
function running<T>(component: T, client: RestClient, ac: AbortController, done: Promise<StopReason>): RunningComponent<T> {
  let stopped: Promise<StopReason> | undefined;
  return {
    component, client,
    stop: () => (stopped ??= (async () => {
      ac.abort();
      const reason = await done;
      client.close();
      return reason;
    })()),
  };
}

export interface ControllerManagerTestOptions {
  /** TSKUBE_CONTROLLERS-style selection; default every controller. */
  controllers?: string[];
  /** Node monitor and startup grace periods (default 40 s / 60 s as upstream). */
  nodeGraceSeconds?: number;
  leaderElect?: boolean;
  /** Leader-election identity (several instances in one test). */
  identity?: string;
  /** The controllers' clock (ControllerContext.now), e.g. real time plus an offset the test moves. */
  now?: () => Date;
  /** The horizontal-pod-autoscaler's tunables (sync period, stabilization, …); default upstream's. */
  hpa?: ControllerManagerConfig['hpa'];
}

export async function startControllerManager(api: TestApiServer, o: ControllerManagerTestOptions = {}): Promise<RunningComponent<ControllerManager>> {
  const client = createClientFromKubeconfig(api.kubeconfigs.controllerManager, { component: 'controller-manager' });
  const cm = buildControllerManager({
    client, logger: testLogger('controller-manager'), identity: o.identity, now: o.now,
    // as main.ts: the root-ca-cert-publisher publishes the kubeconfig's CA
    rootCA: loadKubeconfig(api.kubeconfigs.controllerManager).ca?.toString('utf8'),
    config: {
      kubeconfig: api.kubeconfigs.controllerManager, healthPort: 0, logLevel: 'info', leaderElect: o.leaderElect ?? true,
      nodeMonitorGracePeriodSeconds: o.nodeGraceSeconds ?? 40, nodeStartupGracePeriodSeconds: o.nodeGraceSeconds ?? 60,
      controllers: o.controllers ?? ['*'],
      ...(o.hpa ? { hpa: o.hpa } : {}),
    },
  });
  const stop = new AbortController();
  const done = cm.start(stop.signal);
  await eventually('controller-manager ready', async () => cm.isReady(), 30_000, 100);
  return running(cm, client, stop, done);
}

export interface SchedulerTestOptions {
  leaderElect?: boolean;
}

export async function startScheduler(api: TestApiServer, o: SchedulerTestOptions = {}): Promise<RunningComponent<Scheduler>> {
  const client = createClientFromKubeconfig(api.kubeconfigs.scheduler, { component: 'scheduler' });
  const scheduler = buildScheduler({ client, logger: testLogger('scheduler'), leaderElect: o.leaderElect ?? true, healthPort: 0 });
  const stop = new AbortController();
  const done = scheduler.start(stop.signal);
  await eventually('scheduler leading', async () => scheduler.isLeader(), 30_000, 100);
  return running(scheduler, client, stop, done);
}
