/**
 * Runs one probe of a container and reports it (upstream prober/prober.go): picks the
 * handler (exec, httpGet, tcpSocket, grpc), retries up to 3 times while the handler errors
 * (a result that is merely a failure is not retried), and records events with upstream
 * wording on the container (Warning):
 * - Unhealthy "Liveness probe failed: <output>" for a failure;
 * - Unhealthy "Readiness probe errored and resulted in unknown state: <error>" when every
 *   try errored (the worker then discards the result);
 * - ProbeWarning "Startup probe warning: <output>" for a success with a warning (an HTTP
 *   redirect to another host).
 * A container without a probe of that type is a success. Exec commands get `$(VAR)`
 * expanded from the container's literal env values only, as upstream.
 */
import type { Container, Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { Reason, type KubeletEvents } from '../events.js';
import { errorMessage } from '../format.js';
import { expandVars } from '../pods/container-config.js';
import { doExecProbe, type ExecRunner } from './exec.js';
import { doGrpcProbe } from './grpc.js';
import { doHttpProbe, httpGetRequest, resolveContainerPort } from './http.js';
import { probeTypeName, type ProbeOutcome, type ProbeType, type Result } from './results.js';
import { doTcpProbe } from './tcp.js';

type ReadonlyPod = DeepReadonly<Pod>;

/** core/v1 Probe. */
export type Probe = NonNullable<Container['livenessProbe']>;

/** Upstream maxProbeRetries. */
export const MAX_PROBE_RETRIES = 3;

export interface ProbeTarget {
  pod: ReadonlyPod;
  container: DeepReadonly<Container>;
  /** Runtime container ID (without the "docker://" prefix). */
  containerId: string;
  /** The pod's IP (status.podIP); "" when unknown. */
  podIP: string;
}

export interface ProbeRunResult {
  result: Result;
  /** Every try errored: the result must be thrown away (upstream returns an error). */
  errored: boolean;
}

/** Runs probes; the kubelet's is {@link Prober}, simulated nodes may pass their own. */
export interface ProbeRunner {
  probe(type: ProbeType, target: ProbeTarget): Promise<ProbeRunResult>;
}

export function probeOf(container: DeepReadonly<Container>, type: ProbeType): DeepReadonly<Probe> | undefined {
  return type === 'liveness' ? container.livenessProbe : type === 'readiness' ? container.readinessProbe : container.startupProbe;
}

/** upstream ExpandContainerCommandOnlyStatic: $(VAR) from the literal env values (valueFrom counts as ""). */
export function expandStatic(cmd: readonly string[], container: DeepReadonly<Container>): string[] {
  const vars = new Map<string, string>();
  for (const e of container.env ?? []) vars.set(e.name, e.value ?? '');
  return cmd.map((s) => expandVars(s, vars));
}

export interface ProberOptions {
  runtime: ExecRunner;
  events: KubeletEvents;
}

export class Prober implements ProbeRunner {
  constructor(private readonly o: ProberOptions) {}

  async probe(type: ProbeType, t: ProbeTarget): Promise<ProbeRunResult> {
    const spec = probeOf(t.container, type);
    if (!spec) return { result: 'Success', errored: false };
    const name = probeTypeName(type);
    let outcome: ProbeOutcome = 'unknown';
    let output = '';
    let error: unknown;
    for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
      try {
        ({ outcome, output } = await this.run(spec, t));
        error = undefined;
        break;
      } catch (err) {
        error = err;
        outcome = 'unknown';
      }
    }
    const event = (reason: string, message: string): void =>
      this.o.events.container(t.pod, 'regular', t.container.name, 'Warning', reason, message);
    if (error !== undefined) {
      event(Reason.Unhealthy, `${name} probe errored and resulted in ${outcome} state: ${errorMessage(error)}`);
      return { result: 'Failure', errored: true };
    }
    switch (outcome) {
      case 'success':
        return { result: 'Success', errored: false };
      case 'warning':
        event(Reason.ProbeWarning, `${name} probe warning: ${output}`);
        return { result: 'Success', errored: false };
      case 'failure':
        event(Reason.Unhealthy, `${name} probe failed: ${output}`);
        return { result: 'Failure', errored: false };
      default:
        return { result: 'Failure', errored: false };
    }
  }

  /** upstream runProbe: one try. Throws when the probe cannot even be attempted (bad port, exec error). */
  private async run(p: DeepReadonly<Probe>, t: ProbeTarget): Promise<{ outcome: ProbeOutcome; output: string }> {
    const timeoutSeconds = p.timeoutSeconds && p.timeoutSeconds > 0 ? p.timeoutSeconds : 1;
    if (p.exec) return doExecProbe(this.o.runtime, t.containerId, expandStatic(p.exec.command ?? [], t.container), timeoutSeconds);
    if (p.httpGet) return doHttpProbe(httpGetRequest(p.httpGet, t.container, t.podIP, 'probe'), timeoutSeconds * 1000);
    if (p.tcpSocket) {
      const port = resolveContainerPort(p.tcpSocket.port, t.container);
      return doTcpProbe(p.tcpSocket.host || t.podIP, port, timeoutSeconds * 1000);
    }
    if (p.grpc) return doGrpcProbe(t.podIP, p.grpc.port, p.grpc.service ?? '', timeoutSeconds * 1000);
    return { outcome: 'unknown', output: '' };
  }
}

/** A runner whose probes all succeed at once: for simulated nodes, whose pod IPs lead nowhere. */
export const succeedingProbeRunner: ProbeRunner = {
  probe: async () => ({ result: 'Success', errored: false }),
};
