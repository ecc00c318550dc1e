/**
 * Where the metrics API's figures come from: the Summary API (/stats/summary) of every Ready
 * node's kubelet, fetched through the apiserver's kubelet client (the
 * apiserver-kubelet-client certificate), as metrics-server scrapes it, kept in a
 * {@link MetricsStore} (store.ts: last and previous points per node, rates, staleness).
 *
 * - Scraping is on demand, in rounds: a request starts a round when the previous one started
 *   at least `resolutionMs` ago (default 10 s; metrics-server's --metric-resolution defaults
 *   to 15 s); requests meanwhile share the stored figures, or the round in flight.
 * - A round lists the Ready nodes (other nodes' points are forgotten) and fetches every
 *   node's summary concurrently, each bounded by `timeoutMs` (default 90 % of the resolution,
 *   metrics-server's scrape timeout). The round ends when every fetch has; no other round
 *   starts before.
 * - A successful fetch is stored as soon as it lands. A failed one (unreachable, non-200,
 *   timeout, not a summary) is logged and leaves the node's previous points in the store
 *   (served until they are `maxStaleMs` old, default 3 resolutions), so a slow or failing
 *   kubelet does not blank its pods, and never the other nodes'.
 * - A request waits for its round at most `waitMs` (default 5 s) and then answers from the
 *   store: a fetch still running lands in the store for later requests, so one slow kubelet
 *   does not hold every request for its timeout.
 */
import type { Node } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { KubeletClient } from '../../kubelet-client.js';
import { asNodeSummary, type NodeSummary } from './convert.js';
import { MetricsStore } from './store.js';

export interface Scrape {
  /** When this view of the store was taken (ms). */
  at: number;
  /** node name → its summary, with the rates the store filled in (Ready nodes with fresh enough points only). */
  summaries: Map<string, NodeSummary>;
}

export interface SummarySource {
  /** The current figures (see the module doc). Never rejects for a single node's failure. */
  scrape(): Promise<Scrape>;
  /** Nominal sample window of the kubelet's own rates, ms. */
  readonly resolutionMs: number;
}

export interface KubeletSummarySourceOptions {
  listNodes(): Promise<Node[]>;
  kubelets: Pick<KubeletClient, 'get'>;
  logger: Logger;
  resolutionMs?: number;
  /** Per-node fetch timeout, ms (default 90 % of the resolution). */
  timeoutMs?: number;
  /** Longest a request waits for a round, ms (default 5000). */
  waitMs?: number;
  /** Oldest stored points still served, ms (default 3 × the resolution). */
  maxStaleMs?: number;
  /** Largest summary body read, bytes (default 32 MiB). */
  maxBytes?: number;
  now?: () => number;
}

const isReady = (n: Node): boolean => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export class KubeletSummarySource implements SummarySource {
  readonly resolutionMs: number;
  private readonly timeoutMs: number;
  private readonly waitMs: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly store: MetricsStore;
  /** When the latest round started (ms). */
  private roundStartedAt: number | undefined;
  private round: Promise<void> | undefined;

  constructor(private readonly o: KubeletSummarySourceOptions) {
    this.resolutionMs = o.resolutionMs ?? 10_000;
    this.timeoutMs = o.timeoutMs ?? Math.round(this.resolutionMs * 0.9);
    this.waitMs = o.waitMs ?? 5000;
    this.maxBytes = o.maxBytes ?? 32 * 1024 * 1024;
    this.now = o.now ?? Date.now;
    this.store = new MetricsStore({ maxStaleMs: o.maxStaleMs ?? 3 * this.resolutionMs });
  }

  async scrape(): Promise<Scrape> {
    if (!this.round && (this.roundStartedAt === undefined || this.now() - this.roundStartedAt >= this.resolutionMs)) {
      this.roundStartedAt = this.now();
      this.round = this.runRound().finally(() => { this.round = undefined; });
    }
    if (this.round) await this.waitFor(this.round);
    return { at: this.now(), summaries: this.store.summaries(this.now()) };
  }

  /** Waits for `p` at most `waitMs`; rejects only when `p` does (listing the nodes failed). */
  private async waitFor(p: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.waitMs); });
    try {
      await Promise.race([p, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async runRound(): Promise<void> {
    let nodes: Node[];
    try {
      nodes = (await this.o.listNodes()).filter(isReady);
    } catch (err) {
      this.roundStartedAt = undefined; // try again on the next request
      throw err;
    }
    this.store.retain(new Set(nodes.map((n) => n.metadata?.name ?? '')));
    await Promise.all(nodes.map((node) => this.fetchNode(node)));
  }

  /** Fetches and stores one node's summary; never rejects (a failure is logged). */
  private async fetchNode(node: Node): Promise<void> {
    const name = node.metadata?.name ?? '';
    try {
      this.store.put(name, await this.fetch(node), this.now());
    } catch (err) {
      const stored = this.store.storedAt(name);
      this.o.logger.warn('scraping kubelet stats failed', {
        node: name, err: err instanceof Error ? err.message : String(err),
        ...(stored !== undefined ? { servingPointsAgeMs: this.now() - stored } : {}),
      });
    }
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
