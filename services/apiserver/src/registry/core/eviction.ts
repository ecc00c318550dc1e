/**
 * POST pods/<name>/eviction (policy/v1 Eviction, upstream pkg/registry/core/pod/storage/eviction.go):
 * deletes the pod with the Eviction's deleteOptions unless a PodDisruptionBudget forbids it, and
 * answers 201 with a Success Status (what `kubectl drain` expects).
 *
 * PDB check: pods that are terminal, Pending or already being deleted skip it. Otherwise the one
 * PDB in the namespace whose selector matches the pod must allow a disruption: its status must
 * be current (observedGeneration ≥ generation), then disruptionsAllowed is decremented and the
 * pod recorded in status.disruptedPods in one compare-and-swap write of the PDB, before the pod
 * is deleted. 429 TooManyRequests when the budget forbids (kubectl retries), 403 for a
 * negative budget, 500 when several PDBs match. Without the policy group the check is skipped.
 */
import {
  ApiError, badRequest, forbidden, fromLabelSelector, invalid, matches, rfc3339, tooManyRequests, typed, validateDeleteOptions,
  type DeleteOptions as ApiDeleteOptions, type Eviction, type KubeObject, type Pod, type PodDisruptionBudget, type ResourceDef,
} from '@tskube/api';
import type { Creater, DeleteOptions, RequestContext } from '../rest.js';
import type { Store } from '../store.js';

/** upstream MaxDisruptedPodSize */
const MAX_DISRUPTED_PODS = 2000;
/** Seconds kubectl is told to wait before retrying a blocked eviction. */
const RETRY_AFTER_SECONDS = 10;

function canIgnorePDB(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp;
}

function podReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function budgetError(message: string, cause: string): ApiError {
  const e = tooManyRequests(message, RETRY_AFTER_SECONDS);
  e.status.details = { ...e.status.details, causes: [{ reason: 'DisruptionBudget', message: cause }] };
  return e;
}

export interface EvictionRestOptions {
  pods: Store;
  /** The PodDisruptionBudget store, or undefined when policy/v1 is not served. Looked up per request. */
  pdbs(): Store | undefined;
  now?: () => Date;
}

export class EvictionRest implements Creater {
  readonly kind = { group: 'policy', version: 'v1', kind: 'Eviction' };
  constructor(readonly def: ResourceDef, private readonly o: EvictionRestOptions) {}

  async create(ctx: RequestContext, obj: KubeObject, name?: string): Promise<KubeObject> {
    const ev = typed<Eviction>(obj);
    const podName = name ?? '';
    if (ev.metadata?.name && ev.metadata.name !== podName) throw badRequest('name in URL does not match name in Eviction object');
    const opts = (ev.deleteOptions ?? {}) as ApiDeleteOptions;
    const errs = validateDeleteOptions(opts);
    if (errs.length) throw invalid({ group: 'policy', kind: 'Eviction' }, podName, errs);
    const dctx: RequestContext = { ...ctx, dryRun: ctx.dryRun || (opts.dryRun ?? []).includes('All') };
    const pod = typed<Pod>(await this.o.pods.get(dctx, podName));
    if (!canIgnorePDB(pod)) await this.checkBudget(dctx, pod);
    const del: DeleteOptions = {
      ...(typeof opts.gracePeriodSeconds === 'number' ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
      ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy as DeleteOptions['propagationPolicy'] } : {}),
      ...(typeof opts.orphanDependents === 'boolean' ? { orphanDependents: opts.orphanDependents } : {}),
      preconditions: {
        uid: opts.preconditions?.uid ?? pod.metadata!.uid!,
        ...(opts.preconditions?.resourceVersion ? { resourceVersion: opts.preconditions.resourceVersion } : {}),
      },
    };
    await this.o.pods.delete(dctx, podName, del);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }

  private async checkBudget(ctx: RequestContext, pod: Pod): Promise<void> {
    const store = this.o.pdbs();
    if (!store) return;
    const list = await store.list(ctx, {});
    const matching = list.items.filter((item) => {
      const sel = fromLabelSelector(typed<PodDisruptionBudget>(item).spec?.selector);
      return !!sel && sel.length > 0 && matches(sel, pod.metadata?.labels);
    });
    if (!matching.length) return;
    if (matching.length > 1) {
      throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    }
    const pdbName = matching[0]!.metadata!.name!;
    const podName = pod.metadata!.name!;
    await store.mutate(ctx, pdbName, (cur) => {
      const pdb = typed<PodDisruptionBudget>(structuredClone(cur)) as PodDisruptionBudget & { status: NonNullable<PodDisruptionBudget['status']> };
      pdb.status ??= { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
      const st = pdb.status;
      // an unready pod may go without using up the budget while enough pods are healthy
      if (!podReady(pod)) {
        const policy = pdb.spec?.unhealthyPodEvictionPolicy ?? 'IfHealthyBudget';
        if (policy === 'AlwaysAllow' || (st.currentHealthy >= st.desiredHealthy && st.desiredHealthy > 0)) return cur;
      }
      if ((st.observedGeneration ?? 0) < (cur.metadata.generation ?? 0)) {
        throw budgetError("Cannot evict pod as it would violate the pod's disruption budget.", `The disruption budget ${pdbName} is still being processed by the server.`);
      }
      if (st.disruptionsAllowed < 0) throw forbidden('pdb disruptions allowed is negative');
      if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
        throw forbidden('DisruptedPods map too big - too many evictions not confirmed by PDB controller');
      }
      if (st.disruptionsAllowed === 0) {
        throw budgetError("Cannot evict pod as it would violate the pod's disruption budget.",
          `The disruption budget ${pdbName} needs ${st.desiredHealthy} healthy pods and has ${st.currentHealthy} currently`);
      }
      st.disruptionsAllowed--;
      if (st.disruptionsAllowed === 0) {
        st.conditions = [...(st.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed'), {
          type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '',
          lastTransitionTime: rfc3339(), observedGeneration: cur.metadata.generation ?? 0,
        }];
      }
      st.disruptedPods = { ...(st.disruptedPods ?? {}), [podName]: rfc3339((this.o.now ?? (() => new Date()))()) };
      return pdb as unknown as KubeObject;
    });
  }
}
