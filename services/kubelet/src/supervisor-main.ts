/**
 * tskube node entry (compose's kubelet service): supervises the container runtime service
 * (runtime-main.js) and the kubelet (main.js, told by TSKUBE_RUNTIME_EXTERNAL=true to
 * connect to that runtime instead of starting one in-process) as two processes; see
 * supervisor.ts for restarts and the stop order. SIGTERM/SIGINT stop the kubelet first
 * (graceful node shutdown), then the runtime; the process exits with the kubelet's code.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fatal, shutdownSignal } from '@tskube/component';
import { createLogger, parseLogLevel } from '@tskube/log';
import { Supervisor } from './supervisor.js';

function main(): void {
  const log = createLogger({ component: 'supervisor', level: parseLogLevel(process.env.TSKUBE_LOG_LEVEL) });
  const dir = dirname(fileURLToPath(import.meta.url));
  const node = process.execPath;
  const supervisor = new Supervisor({
    logger: log,
    children: [
      { name: 'runtime', command: node, args: [join(dir, 'runtime-main.js')], env: process.env },
      { name: 'kubelet', command: node, args: [join(dir, 'main.js')], env: { ...process.env, TSKUBE_RUNTIME_EXTERNAL: 'true' } },
    ],
  });
  const signal = shutdownSignal(log);
  supervisor.start();
  signal.addEventListener('abort', () => {
    supervisor.stop('SIGTERM').then((code) => process.exit(code), (err: unknown) => fatal('supervisor', err));
  }, { once: true });
}

try {
  main();
} catch (err) {
  fatal('supervisor', err);
}
