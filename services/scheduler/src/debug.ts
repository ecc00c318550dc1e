/**
 * What the scheduler decided for a pod in its latest attempt, for the debug endpoint
 *
 *   GET /debug/pods/<namespace>/<name>   (on the health port)
 *
 * which answers, as JSON, each node's Filter verdict (the first plugin that rejected it and its
 * reasons, or "passed"), each scored node's per-plugin weighted scores and total, the outcome
 * (scheduled on a node / unschedulable with the FailedScheduling message / error) and any node
 * nominated by preemption. 404 when no attempt of that pod is remembered.
 *
 * Records keep references to the attempt's own data (no copies); rendering happens on request.
 * The store is bounded (least recently recorded first out) so that it costs little at scale;
 * a deleted pod's record is dropped.
 */
import type { Diagnosis } from './framework/fit-error.js';
import type { NodePluginScores } from './framework/framework.js';
import type { Status } from './framework/status.js';

export interface AttemptRecord {
  namespace: string;
  name: string;
  uid: string;
  /** When the attempt started (ms). */
  time: number;
  /** The node names of the attempt's snapshot, in order. */
  nodes: readonly string[];
  result: 'scheduled' | 'unschedulable' | 'error';
  nodeName?: string;
  message?: string;
  nominatedNodeName?: string;
  diagnosis?: Diagnosis;
  scores?: readonly NodePluginScores[];
  /** Feasible nodes when only one fitted (it is not scored then). */
  feasible?: readonly string[];
}

export interface NodeVerdict {
  node: string;
  /** passed | rejected | not evaluated */
  filter: 'passed' | 'rejected' | 'not evaluated';
  plugin?: string;
  code?: string;
  reasons?: readonly string[];
  score?: { total: number; plugins: Record<string, number> };
}

/**
 * Records kept. Each holds its attempt's per-node scores (about half a megabyte at 1,000 nodes),
 * so the store is kept small (the scale bench showed the scheduler growing under pod churn).
 */
export const DEFAULT_DEBUG_RECORDS = 64;

export class DebugStore {
  private readonly records = new Map<string, AttemptRecord>();

  constructor(private readonly capacity = DEFAULT_DEBUG_RECORDS) {}

  record(r: AttemptRecord): void {
    if (this.capacity <= 0) return;
    const key = `${r.namespace}/${r.name}`;
    this.records.delete(key);
    this.records.set(key, r);
    while (this.records.size > this.capacity) this.records.delete(this.records.keys().next().value!);
  }

  get(namespace: string, name: string): AttemptRecord | undefined {
    return this.records.get(`${namespace}/${name}`);
  }

  delete(namespace: string, name: string): void {
    this.records.delete(`${namespace}/${name}`);
  }

  get size(): number { return this.records.size; }

  /** The JSON view of a record (see the module doc). */
  render(r: AttemptRecord): unknown {
    const scored = new Map((r.scores ?? []).map((s) => [s.name, s]));
    const feasible = new Set(r.feasible ?? []);
    const verdicts: NodeVerdict[] = r.nodes.map((node) => {
      const explicit = r.diagnosis?.nodeToStatus.getExplicit(node);
      const sc = scored.get(node);
      if (sc || feasible.has(node) || node === r.nodeName) {
        const v: NodeVerdict = { node, filter: 'passed' };
        if (sc) v.score = { total: sc.totalScore, plugins: Object.fromEntries(sc.scores.map((p) => [p.plugin, p.score])) };
        return v;
      }
      const s: Status | undefined = explicit ?? (r.diagnosis && (r.result === 'unschedulable' || r.diagnosis.nodeToStatus.absentNodesStatus.reasons.length > 0)
        ? r.diagnosis.nodeToStatus.absentNodesStatus : undefined);
      if (!s) return { node, filter: 'not evaluated' };
      return { node, filter: 'rejected', ...(s.plugin ? { plugin: s.plugin } : {}), code: s.code, reasons: s.reasons };
    });
    return {
      pod: `${r.namespace}/${r.name}`, uid: r.uid, attemptTime: new Date(r.time).toISOString(), result: r.result,
      ...(r.nodeName ? { nodeName: r.nodeName } : {}),
      ...(r.message ? { message: r.message } : {}),
      ...(r.nominatedNodeName !== undefined ? { nominatedNodeName: r.nominatedNodeName } : {}),
      ...(r.diagnosis && r.diagnosis.unschedulablePlugins.size > 0 ? { unschedulablePlugins: [...r.diagnosis.unschedulablePlugins].sort() } : {}),
      nodes: verdicts,
    };
  }
}
