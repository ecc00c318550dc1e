/** tskube kubelet: config, logger, identity, the runtime service (in-process, or its own process with TSKUBE_RUNTIME_EXTERNAL), then the kubelet (design habit 1). */
import { readFileSync } from 'node:fs';
import Dockerode from 'dockerode';
import { createClientFromKubeconfig, loadKubeconfig } from '@tskube/client';
import { fatal, newMetricsRegistry, shutdownSignal } from '@tskube/component';
import { createLogger } from '@tskube/log';
import { loadConfig } from './config.js';
import { inspectSelf, resolveIdentity } from './host/identity.js';
import { buildKubelet, defaultRootDir } from './kubelet.js';
import { connectRuntimeService, startRuntimeService } from './runtime-service.js';
import { exitWithParent } from './supervisor.js';
import { loadSimConfig } from './sim/config.js';
import { runSimulatedNodes } from './sim/main-sim.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ component: 'kubelet', level: config.logLevel });
  exitWithParent(log);
  const signal = shutdownSignal(log);
  const sim = loadSimConfig();
  if (sim) {
    // TSKUBE_SIMULATED_NODES: no Docker, no runtime service; N in-memory nodes (sim/).
    await runSimulatedNodes(config, sim, log, signal);
    process.exit(0);
  }
  const kc = loadKubeconfig(config.kubeconfig);
  const ca = config.caFile ? readFileSync(config.caFile) : kc.ca;
  if (!kc.cert || !kc.key) throw new Error(`kubeconfig ${config.kubeconfig}: the kubelet needs a client certificate and key (also its serving pair)`);
  if (!ca) throw new Error(`no cluster CA: set TSKUBE_CA_FILE or put certificate-authority-data in ${config.kubeconfig}`);

  const docker = new Dockerode();
  const self = await inspectSelf(docker, log);
  const id = resolveIdentity(config, self);
  const nodeLog = log.child({ node: id.nodeName });
  // TSKUBE_RUNTIME_EXTERNAL: the runtime is its own process (runtime-main.js, supervisor-main.js).
  const service = config.runtimeExternal ? undefined : await startRuntimeService({
    kind: config.runtime, socketPath: config.runtimeSocket, nodeName: id.nodeName, clusterName: config.clusterName,
    podNetwork: id.podNetwork, pauseImage: config.pauseImage, docker, logger: nodeLog,
  });
  const runtime = await connectRuntimeService(config.runtimeSocket, signal, nodeLog);
  if (!runtime) process.exit(0);
  const client = createClientFromKubeconfig(config.kubeconfig, { component: 'kubelet', logger: nodeLog });
  const kubelet = buildKubelet({
    settings: {
      nodeName: id.nodeName, nodeIP: id.nodeIP, bindAddress: config.bindAddress, kubeletPort: config.kubeletPort,
      healthPort: config.healthPort, nodeCpu: config.nodeCpu, nodeMemory: config.nodeMemory, maxPods: config.maxPods,
      shutdownRemovePods: config.shutdownRemovePods, shutdownGraceSeconds: config.shutdownGraceSeconds,
      rootDir: config.rootDir ?? defaultRootDir(config.clusterName, id.nodeName, config.rootBase),
      staticPodPath: config.staticPodPath,
      systemReserved: config.systemReserved, kubeReserved: config.kubeReserved, eviction: config.eviction,
    },
    client, runtime, logger: log, tls: { cert: kc.cert, key: kc.key, ca }, registry: newMetricsRegistry('kubelet'),
    // node-pressure eviction reads this machine; a fake runtime's pods use nothing real
    evictionStats: config.runtime === 'docker' ? 'host' : undefined,
  });
  await kubelet.start(signal);
  runtime.close();
  await service?.close();
  client.close();
  process.exit(0);
}

main().catch((err: unknown) => fatal('kubelet', err));
