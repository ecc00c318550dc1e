/**
 * tskube container runtime service: the CRI (runtime.v1 + tskube's log service) served over
 * gRPC on a unix socket by its own process, as containerd or CRI-O are for a real kubelet.
 * config → logger → identity (node name, pod network: the same discovery as the kubelet, so
 * both processes of a node agree) → serve → health/metrics → wait for SIGTERM/SIGINT.
 *
 * It keeps no state of its own: everything it knows is in Docker (labels), so a restarted
 * runtime serves the same sandboxes and containers. Started by supervisor.ts next to the
 * kubelet (compose), or alone.
 */
import Dockerode from 'dockerode';
import { fatal, newMetricsRegistry, shutdownSignal, startHealthServer } from '@tskube/component';
import { createLogger } from '@tskube/log';
import { serveRuntime } from './cri/index.js';
import { inspectSelf, resolveIdentity } from './host/identity.js';
import { loadRuntimeServiceConfig } from './runtime/config.js';
import { instrumentRuntime, newRuntimeServiceMetrics } from './runtime/metrics.js';
import { makeRuntime } from './runtime-service.js';
import { exitWithParent } from './supervisor.js';

async function main(): Promise<void> {
  const config = loadRuntimeServiceConfig();
  const log = createLogger({ component: 'runtime', level: config.logLevel });
  exitWithParent(log);
  const signal = shutdownSignal(log);
  const docker = new Dockerode();
  const self = config.runtime === 'docker' || !config.nodeName ? await inspectSelf(docker, log) : undefined;
  const id = resolveIdentity({ nodeName: config.nodeName, podNetwork: config.podNetwork }, self);
  const nodeLog = log.child({ node: id.nodeName });
  const runtime = makeRuntime({
    kind: config.runtime, socketPath: config.socketPath, nodeName: id.nodeName, clusterName: config.clusterName,
    podNetwork: id.podNetwork, pauseImage: config.pauseImage, docker, logger: nodeLog,
  });
  const registry = newMetricsRegistry('runtime');
  const server = await serveRuntime(instrumentRuntime(runtime, newRuntimeServiceMetrics(registry)), config.socketPath, nodeLog);
  const health = config.healthPort < 0 ? undefined : await startHealthServer({
    port: config.healthPort, registry, logger: nodeLog,
    // Ready while the backend answers (Docker reachable); alive as long as the process serves.
    readiness: [{
      name: 'runtime-ready',
      check: async () => {
        const conds = (await runtime.status({})).status?.conditions ?? [];
        const rt = conds.find((c) => c.type === 'RuntimeReady');
        if (!rt?.status) throw new Error(`RuntimeReady=false reason:${rt?.reason ?? ''} message:${rt?.message ?? ''}`);
      },
    }],
  });
  nodeLog.info('runtime service started', {
    runtime: config.runtime, socket: server.socketPath, healthPort: health?.port, podNetwork: id.podNetwork, pid: process.pid,
  });
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve(); else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  await runtime.close();
  await health?.close();
  nodeLog.info('runtime service stopped', {});
  process.exit(0);
}

main().catch((err: unknown) => fatal('runtime', err));
