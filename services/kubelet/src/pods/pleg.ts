/**
 * Pod lifecycle event generator (upstream pleg/generic.go): relists every sandbox and
 * container of this node (two CRI calls) once per period, groups them by pod UID, and
 * reports the UIDs whose set of objects or states changed since the previous relist, so the
 * pod workers re-sync just those pods (a container exited, a sandbox died, …). The latest
 * relist also tells the kubelet which pods exist in the runtime (adoption, orphans) and
 * feeds the running-pods/containers gauges.
 */
import { sleep } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, type ContainerRuntime } from '../cri/index.js';
import { errorMessage } from '../format.js';

export interface RuntimePodSummary {
  uid: string;
  name: string;
  namespace: string;
  readySandboxes: number;
  /** Container count per CRI state (created, running, exited, unknown). */
  containers: Record<string, number>;
}

export interface Relist {
  at: number;
  pods: Map<string, RuntimePodSummary>;
}

export interface PlegOptions {
  runtime: ContainerRuntime;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /** Called for every UID whose runtime objects changed (including ones that vanished). */
  onChange: (uid: string) => void;
  /** Called after every successful relist. */
  onRelist?: (r: Relist) => void;
}

const STATE_NAMES: Record<string, string> = {
  CONTAINER_CREATED: 'created', CONTAINER_RUNNING: 'running', CONTAINER_EXITED: 'exited', CONTAINER_UNKNOWN: 'unknown',
};

export class Pleg {
  private fingerprints = new Map<string, string>();
  private latest: Relist | undefined;
  private readonly log: Logger;

  constructor(private readonly o: PlegOptions) {
    this.log = o.logger.child({ subsystem: 'pleg' });
  }

  get last(): Relist | undefined {
    return this.latest;
  }

  /** Healthy while the last successful relist is recent (upstream: 3 min). */
  healthy(maxAgeMs = 180_000): boolean {
    return this.latest !== undefined && this.o.clock.now() - this.latest.at < maxAgeMs;
  }

  async relist(): Promise<Relist> {
    const [sb, ct] = await Promise.all([this.o.runtime.listPodSandbox({}), this.o.runtime.listContainers({})]);
    const pods = new Map<string, RuntimePodSummary>();
    const prints = new Map<string, string[]>();
    const summary = (labels: Record<string, string>): RuntimePodSummary | undefined => {
      const uid = labels[LABEL_POD_UID];
      if (!uid) return undefined;
      let p = pods.get(uid);
      if (!p) {
        p = { uid, name: labels[LABEL_POD_NAME] ?? '', namespace: labels[LABEL_POD_NAMESPACE] ?? '', readySandboxes: 0, containers: {} };
        pods.set(uid, p);
        prints.set(uid, []);
      }
      return p;
    };
    for (const s of sb.items) {
      const p = summary(s.labels);
      if (!p) continue;
      if (s.state === 'SANDBOX_READY') p.readySandboxes++;
      prints.get(p.uid)!.push(`s:${s.id}:${s.state}`);
    }
    for (const c of ct.containers) {
      const p = summary(c.labels);
      if (!p) continue;
      const st = STATE_NAMES[c.state] ?? 'unknown';
      p.containers[st] = (p.containers[st] ?? 0) + 1;
      prints.get(p.uid)!.push(`c:${c.id}:${c.state}`);
    }
    const next = new Map<string, string>();
    for (const [uid, list] of prints) next.set(uid, list.sort().join('|'));
    const changed: string[] = [];
    for (const [uid, fp] of next) if (this.fingerprints.get(uid) !== fp) changed.push(uid);
    for (const uid of this.fingerprints.keys()) if (!next.has(uid)) changed.push(uid);
    this.fingerprints = next;
    this.latest = { at: this.o.clock.now(), pods };
    this.o.onRelist?.(this.latest);
    for (const uid of changed) this.o.onChange(uid);
    return this.latest;
  }

  /** Relists every interval until `signal` aborts. A failed relist is logged and retried. */
  async run(signal: AbortSignal): Promise<void> {
    let failing = false;
    while (!signal.aborted) {
      try {
        await this.relist();
        if (failing) this.log.info('relist recovered', {});
        failing = false;
      } catch (err) {
        if (!failing) this.log.warn('relist failed', { err: errorMessage(err) });
        failing = true;
      }
      await sleep(this.o.intervalMs, signal);
    }
  }
}
