/**
 * GET /metrics/resource (upstream kubelet's resource metrics endpoint, what metrics-server
 * scrapes by default): the Summary's CPU and memory as Prometheus text, every sample with an
 * explicit timestamp (ms) of its reading, metric names, help texts and labels as upstream:
 * node_cpu_usage_seconds_total, node_memory_working_set_bytes, pod_cpu_usage_seconds_total,
 * pod_memory_working_set_bytes, container_cpu_usage_seconds_total,
 * container_memory_working_set_bytes, container_start_time_seconds, resource_scrape_error.
 *
 * Hand-written rather than prom-client: prom-client has no per-sample timestamps, and these
 * are a snapshot rendered per request, not long-lived instruments.
 */
import type { CPUStats, MemoryStats, Summary } from './summary.js';

interface Family { name: string; help: string; type: 'counter' | 'gauge'; samples: string[] }

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Go's strconv 'g'-like float formatting as Prometheus clients write it. */
function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(15)));
}

const ms = (time: string): number => Date.parse(time);

export function renderResourceMetrics(s: Summary, opts: { scrapeError?: boolean } = {}): string {
  const fam = (name: string, help: string, type: Family['type']): Family => ({ name, help, type, samples: [] });
  const nodeCpu = fam('node_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the node in core-seconds', 'counter');
  const nodeMem = fam('node_memory_working_set_bytes', '[STABLE] Current working set of the node in bytes', 'gauge');
  const podCpu = fam('pod_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', 'counter');
  const podMem = fam('pod_memory_working_set_bytes', '[STABLE] Current working set of the pod in bytes', 'gauge');
  const cCpu = fam('container_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the container in core-seconds', 'counter');
  const cMem = fam('container_memory_working_set_bytes', '[STABLE] Current working set of the container in bytes', 'gauge');
  const cStart = fam('container_start_time_seconds', '[STABLE] Start time of the container since unix epoch in seconds', 'gauge');
  const scrape = fam('resource_scrape_error', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', 'gauge');

  const cpu = (f: Family, l: Record<string, string>, c: CPUStats | undefined): void => {
    if (c?.usageCoreNanoSeconds !== undefined) f.samples.push(`${f.name}${labels(l)} ${num(c.usageCoreNanoSeconds / 1e9)} ${ms(c.time)}`);
  };
  const mem = (f: Family, l: Record<string, string>, m: MemoryStats | undefined): void => {
    if (m?.workingSetBytes !== undefined) f.samples.push(`${f.name}${labels(l)} ${num(m.workingSetBytes)} ${ms(m.time)}`);
  };
  cpu(nodeCpu, {}, s.node.cpu);
  mem(nodeMem, {}, s.node.memory);
  for (const p of s.pods) {
    const pl = { namespace: p.podRef.namespace, pod: p.podRef.name };
    cpu(podCpu, pl, p.cpu);
    mem(podMem, pl, p.memory);
    for (const c of p.containers) {
      const cl = { container: c.name, ...pl };
      cpu(cCpu, cl, c.cpu);
      mem(cMem, cl, c.memory);
      const start = ms(c.startTime);
      if (Number.isFinite(start)) cStart.samples.push(`${cStart.name}${labels(cl)} ${num(start / 1000)} ${start}`);
    }
  }
  scrape.samples.push(`${scrape.name} ${opts.scrapeError ? 1 : 0}`);
  // Upstream's order: sorted by family name.
  const families = [cCpu, cMem, cStart, nodeCpu, nodeMem, podCpu, podMem, scrape].sort((a, b) => a.name.localeCompare(b.name));
  return families
    .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.samples].join('\n'))
    .join('\n') + '\n';
}
