/**
 * The kubelet API's stats and metrics routes (upstream pkg/kubelet/server/stats and
 * server.go):
 *   GET /stats/summary[?only_cpu_and_memory=true]  → the Summary JSON (stats/summary.ts)
 *   GET /metrics/resource                          → resource metrics, Prometheus text
 *   GET /metrics                                   → the kubelet's own metrics registry
 * A failing runtime is a 500 with the error text.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '@tskube/log';
import type { Registry } from 'prom-client';
import { errorMessage } from '../format.js';
import { renderResourceMetrics } from '../stats/resource-metrics.js';
import type { Summary } from '../stats/summary.js';

export interface StatsContext {
  /** A fresh Summary (the collector decides how fresh; see stats/collector.ts). */
  summary(): Promise<Summary>;
  /** The kubelet's metrics; absent: /metrics is 404. */
  registry?: Registry;
  logger: Logger;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** Serves `pathname` if it is a stats route; false when it is not one. */
export async function serveStats(pathname: string, res: ServerResponse, ctx: StatsContext): Promise<boolean> {
  const path = pathname.replace(/\/+$/, '');
  if (path !== '/stats/summary' && path !== '/metrics/resource' && path !== '/metrics') return false;
  if (path === '/metrics') {
    if (!ctx.registry) return false;
    const body = await ctx.registry.metrics();
    res.writeHead(200, { 'Content-Type': ctx.registry.contentType });
    res.end(body);
    return true;
  }
  let summary: Summary;
  try {
    summary = await ctx.summary();
  } catch (err) {
    ctx.logger.warn('collecting stats failed', { path, err: errorMessage(err) });
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`Internal Error: failed to get node stats: ${errorMessage(err)}\n`);
    return true;
  }
  if (path === '/stats/summary') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(summary));
  } else {
    res.writeHead(200, { 'Content-Type': PROMETHEUS_TEXT });
    res.end(renderResourceMetrics(summary));
  }
  return true;
}
