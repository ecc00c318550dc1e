/**
 * Container lifecycle hooks (upstream pkg/kubelet/lifecycle/handlers.go): runs a postStart
 * or preStop handler of a container and reports failure with upstream's message, which the
 * pod syncer keeps as the container's waiting message (postStart) or logs (preStop); events
 * carry only "PostStartHook failed" / "PreStopHook failed", as upstream, so hook output
 * never leaks into events.
 *
 * - exec: CRI ExecSync without a timeout of its own (the caller bounds preStop by the grace
 *   period); a non-zero exit fails: `command 'sh -c exit 1' exited with 1: <stderr>`.
 * - httpGet: GET with User-Agent kube-lifecycle/1.32, host default the pod IP, port by
 *   number or name; only transport errors fail (any HTTP status counts as delivered).
 * - sleep: waits the given seconds (cut short when `signal` aborts).
 * Left out: upstream's retry of an https hook over http when the server answers plain HTTP.
 */
import type { Container, Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { errorMessage, podFullName } from '../format.js';
import { runInContainer, type ExecRunner } from '../prober/exec.js';
import { httpGet, httpGetRequest } from '../prober/http.js';

/** A postStart/preStop handler (core/v1 LifecycleHandler). */
export type LifecycleHandler = NonNullable<NonNullable<Container['lifecycle']>['postStart']>;

export interface HookTarget {
  pod: DeepReadonly<Pod>;
  container: DeepReadonly<Container>;
  containerId: string;
  /** The pod's IPs (the sandbox's), for httpGet without a host. */
  podIPs: readonly string[];
}

export type HookResult = { ok: true } | { ok: false; message: string };

/** Go's %v of a []string: [sh -c exit 1]. */
function goSlice(xs: readonly string[]): string {
  return `[${xs.join(' ')}]`;
}

export class HookRunner {
  constructor(private readonly runtime: ExecRunner) {}

  async run(t: HookTarget, handler: DeepReadonly<LifecycleHandler>, signal?: AbortSignal): Promise<HookResult> {
    const where = `for Container ${JSON.stringify(t.container.name)} in Pod ${JSON.stringify(podFullName(t.pod.metadata))}`;
    if (handler.exec) {
      const cmd = handler.exec.command ?? [];
      let output = '';
      let err: string | undefined;
      try {
        const r = await runInContainer(this.runtime, t.containerId, cmd, 0);
        output = Buffer.concat([r.stdout, r.stderr]).toString('utf8');
        if (r.exitCode !== 0) err = `command '${cmd.join(' ')}' exited with ${r.exitCode}: ${r.stderr.toString('utf8')}`;
      } catch (e) {
        err = errorMessage(e);
      }
      if (err === undefined) return { ok: true };
      return { ok: false, message: `Exec lifecycle hook (${goSlice(cmd)}) ${where} failed - error: ${err}, message: ${JSON.stringify(output)}` };
    }
    if (handler.httpGet) {
      try {
        const host = handler.httpGet.host || t.podIPs[0];
        if (!host) throw new Error('failed to find networking container: the pod has no IP');
        await httpGet(httpGetRequest(handler.httpGet, t.container, host, 'lifecycle'), 0);
        return { ok: true };
      } catch (e) {
        return { ok: false, message: `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${where} failed - error: ${errorMessage(e)}` };
      }
    }
    if (handler.sleep) {
      const ms = Math.max(0, handler.sleep.seconds) * 1000;
      await new Promise<void>((resolve) => {
        if (signal?.aborted) { resolve(); return; }
        const timer = setTimeout(done, ms);
        function done(): void { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); }
        signal?.addEventListener('abort', done, { once: true });
      });
      return { ok: true };
    }
    return { ok: false, message: 'Cannot run handler: invalid handler: no exec, httpGet or sleep action' };
  }
}
