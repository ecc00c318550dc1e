/**
 * TCP probe (upstream pkg/probe/tcp): success when a connection to host:port opens within
 * the timeout (it is closed at once); otherwise a failure whose output is the dial error in
 * Go's wording ("dial tcp 10.0.0.5:80: connect: connection refused", "… i/o timeout").
 */
import net from 'node:net';
import { dialErrorText, joinHostPort } from './net-errors.js';
import type { ProbeOutcome } from './results.js';

export function doTcpProbe(host: string, port: number, timeoutMs: number): Promise<{ outcome: ProbeOutcome; output: string }> {
  const addr = joinHostPort(host, port);
  return new Promise((resolve) => {
    let done = false;
    const socket = net.connect({ host, port });
    const finish = (outcome: ProbeOutcome, output: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, output });
    };
    const timer = setTimeout(() => finish('failure', `dial tcp ${addr}: i/o timeout`), timeoutMs);
    socket.once('connect', () => finish('success', ''));
    socket.once('error', (err) => finish('failure', dialErrorText(err, addr)));
  });
}
