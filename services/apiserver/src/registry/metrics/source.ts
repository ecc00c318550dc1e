/**
 * Where the metrics API's figures come from: the Summary API (/stats/summary) of every Ready
 * node's kubelet, fetched through the apiserver's kubelet client (the
 * apiserver-kubelet-client certificate), as metrics-server scrapes it.
 *
 * - Fetches run concurrently, each bounded by `timeoutMs` (default 5 s); an unreachable or
 *   failing kubelet is skipped (logged) and its node and pods have no metrics this round.
 * - Results are cached for `resolutionMs` (default 10 s, metrics-server's default
 *   --metric-resolution is 15 s): requests within that time share one scrape (also one
 *   in flight), so `kubectl top` against many nodes does not scrape on every call.
 */
import type { Node } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { KubeletClient } from '../../kubelet-client.js';
import { asNodeSummary, type NodeSummary } from './convert.js';

export interface Scrape {
  /** When the scrape finished (ms). */
  at: number;
  /** node name → its summary (reachable Ready nodes only). */
  summaries: Map<string, NodeSummary>;
}

export interface SummarySource {
  /** The current scrape (cached; see the module doc). Never rejects for a single node's failure. */
  scrape(): Promise<Scrape>;
  /** Sample window the figures are reported with, ms. */
  readonly resolutionMs: number;
}

export interface KubeletSummarySourceOptions {
  listNodes(): Promise<Node[]>;
  kubelets: Pick<KubeletClient, 'get'>;
  logger: Logger;
  resolutionMs?: number;
  timeoutMs?: number;
  /** Largest summary body read, bytes (default 32 MiB). */
  maxBytes?: number;
  now?: () => number;
}

const isReady = (n: Node): boolean => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export class KubeletSummarySource implements SummarySource {
  readonly resolutionMs: number;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private last: Scrape | undefined;
  private inflight: Promise<Scrape> | undefined;

  constructor(private readonly o: KubeletSummarySourceOptions) {
    this.resolutionMs = o.resolutionMs ?? 10_000;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.maxBytes = o.maxBytes ?? 32 * 1024 * 1024;
    this.now = o.now ?? Date.now;
  }

  scrape(): Promise<Scrape> {
    if (this.last && this.now() - this.last.at < this.resolutionMs) return Promise.resolve(this.last);
    this.inflight ??= this.scrapeAll().then((s) => { this.last = s; return s; }).finally(() => { this.inflight = undefined; });
    return this.inflight;
  }

  private async scrapeAll(): Promise<Scrape> {
    const nodes = (await this.o.listNodes()).filter(isReady);
    const summaries = new Map<string, NodeSummary>();
    await Promise.all(nodes.map(async (node) => {
      const name = node.metadata?.name ?? '';
      try {
        summaries.set(name, await this.fetch(node));
      } catch (err) {
        this.o.logger.warn('scraping kubelet stats failed', { node: name, err: err instanceof Error ? err.message : String(err) });
      }
    }));
    return { at: this.now(), summaries };
  }

  private async fetch(node: Node): Promise<NodeSummary> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const res = await this.o.kubelets.get(node, '/stats/summary?only_cpu_and_memory=true', signal);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res) {
      const b = c as Buffer;
      size += b.length;
      if (size > this.maxBytes) { res.destroy(); throw new Error(`summary larger than ${this.maxBytes} bytes`); }
      chunks.push(b);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    if ((res.statusCode ?? 500) !== 200) throw new Error(`kubelet answered ${res.statusCode}: ${body.slice(0, 200).trim()}`);
    const summary = asNodeSummary(JSON.parse(body));
    if (!summary) throw new Error('kubelet answered something that is not a stats summary');
    return summary;
  }
}
