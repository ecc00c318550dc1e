/**
 * tskube benchmarks. Each prints its figures next to a baseline measured in the same run.
 *
 *   npm run bench -w @tskube/bench -- pod-startup [pods=20] [rounds=3]
 *   npm run bench -w @tskube/bench -- compose-up [warm=3] [cold=1]
 *   npm run bench -w @tskube/bench -- api [creates=2000] [pods=10000] [watchers=100] [events=1000] [rounds=5]
 *
 * Needs what the end-to-end tests need (Docker, compose, the offline images env loaded).
 */
import { podStartup } from './pod-startup.js';
import { composeUpTimes } from './compose-up.js';
import { loadImageEnv } from '@tskube/test/support/compose';
import { apiBench } from './api.js';

loadImageEnv();

function arg(args: string[], key: string, dflt: number): number {
  const a = args.find((x) => x.startsWith(`${key}=`));
  return a ? Number(a.slice(key.length + 1)) : dflt;
}

const [name, ...rest] = process.argv.slice(2);
const benches: Record<string, () => Promise<void>> = {
  'pod-startup': () => podStartup({ pods: arg(rest, 'pods', 20), rounds: arg(rest, 'rounds', 3) }),
  'compose-up': () => composeUpTimes({ warm: arg(rest, 'warm', 3), cold: arg(rest, 'cold', 1) }),
  api: () => apiBench({
    creates: arg(rest, 'creates', 2000), pods: arg(rest, 'pods', 10_000), watchers: arg(rest, 'watchers', 100),
    events: arg(rest, 'events', 1000), rounds: arg(rest, 'rounds', 5),
  }),
};
const run = name ? benches[name] : undefined;
if (!run) {
  process.stderr.write(`usage: npm run bench -w @tskube/bench -- <${Object.keys(benches).join('|')}> [key=value …]\n`);
  process.exit(2);
}
run().catch((e: unknown) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
