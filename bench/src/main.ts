/**
 * tskube benchmarks. Each prints its figures next to a baseline measured in the same run.
 *
 *   npm run bench -w @tskube/bench -- pod-startup [pods=50] [rounds=3] [probe=1]
 *   npm run bench -w @tskube/bench -- kubelet-resources [pods=50] [windows=3] [window=20] [probes=0]
 *   npm run bench -w @tskube/bench -- exec [sessions=200] [rounds=3] [kubectl=10]
 *   npm run bench -w @tskube/bench -- compose-up [warm=3] [cold=1]
 *   npm run bench -w @tskube/bench -- api [creates=2000] [pods=10000] [watchers=100] [events=1000] [rounds=5]
 *   npm run bench -w @tskube/bench -- scheduler [pods=1000] [rounds=3] [small=100] [large=1000]
 *   npm run bench -w @tskube/bench -- deployment [nodes=1000] [replicas=1000] [scale=10000] [delay=0]
 *
 * Needs what the end-to-end tests need (Docker, compose, the offline images env loaded);
 * scheduler and deployment need only etcd (they run simulated nodes).
 */
import { podStartup } from './pod-startup.js';
import { kubeletResources } from './kubelet-resources.js';
import { execBench } from './exec.js';
import { composeUpTimes } from './compose-up.js';
import { loadImageEnv } from '@tskube/test/support/compose';
import { apiBench } from './api.js';
import { schedulerBench } from './scheduler.js';
import { deploymentBench } from './deployment.js';

loadImageEnv();

function arg(args: string[], key: string, dflt: number): number {
  const a = args.find((x) => x.startsWith(`${key}=`));
  return a ? Number(a.slice(key.length + 1)) : dflt;
}

const [name, ...rest] = process.argv.slice(2);
const benches: Record<string, () => Promise<void>> = {
  'pod-startup': () => podStartup({ pods: arg(rest, 'pods', 50), rounds: arg(rest, 'rounds', 3), probe: arg(rest, 'probe', 1) === 1 }),
  'kubelet-resources': () => kubeletResources({
    pods: arg(rest, 'pods', 50), windows: arg(rest, 'windows', 3), window: arg(rest, 'window', 20), probes: arg(rest, 'probes', 0) === 1,
  }),
  exec: () => execBench({ sessions: arg(rest, 'sessions', 200), rounds: arg(rest, 'rounds', 3), kubectl: arg(rest, 'kubectl', 10) }),
  'compose-up': () => composeUpTimes({ warm: arg(rest, 'warm', 3), cold: arg(rest, 'cold', 1) }),
  api: () => apiBench({
    creates: arg(rest, 'creates', 2000), pods: arg(rest, 'pods', 10_000), watchers: arg(rest, 'watchers', 100),
    events: arg(rest, 'events', 1000), rounds: arg(rest, 'rounds', 5),
  }),
  scheduler: () => schedulerBench({
    pods: arg(rest, 'pods', 1000), rounds: arg(rest, 'rounds', 3), nodes: [arg(rest, 'small', 100), arg(rest, 'large', 1000)],
  }),
  deployment: () => deploymentBench({
    nodes: arg(rest, 'nodes', 1000), replicas: arg(rest, 'replicas', 1000), scale: arg(rest, 'scale', 10_000), startDelayMs: arg(rest, 'delay', 0),
  }),
};
const run = name ? benches[name] : undefined;
if (!run) {
  process.stderr.write(`usage: npm run bench -w @tskube/bench -- <${Object.keys(benches).join('|')}> [key=value …]\n`);
  process.exit(2);
}
run().catch((e: unknown) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
