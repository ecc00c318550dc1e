/**
 * The node's heartbeat Lease `kube-node-lease/<node>` (upstream
 * component-helpers/apimachinery/lease/controller.go): created if missing (holderIdentity =
 * node name, leaseDurationSeconds 40, ownerReference to the Node once its UID is known) and
 * renewed every `renewIntervalMs` (10 s) by an update with the last seen resourceVersion.
 * A failed renewal is retried after 200 ms doubling to 7 s (re-reading the Lease, so a
 * conflict heals), then the normal interval resumes. The node lifecycle controller reads
 * renewTime to decide whether the node is alive.
 */
import type { Lease } from '@tskube/api';
import { isApiError, microTime } from '@tskube/api';
import { Backoff as RetryBackoff, Resources, sleep, type Client } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import { errorMessage } from '../format.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;

export interface NodeLeaseOptions {
  client: Client;
  nodeName: string;
  /** The Node's UID, for the ownerReference (undefined until registered). */
  nodeUid: () => string | undefined;
  clock: Clock;
  logger: Logger;
  renewIntervalMs: number;
}

export class NodeLease {
  private lease: Lease | undefined;
  private readonly log: Logger;

  constructor(private readonly o: NodeLeaseOptions) {
    this.log = o.logger.child({ subsystem: 'lease', node: o.nodeName });
  }

  private desired(base: Lease | undefined): Lease {
    const uid = this.o.nodeUid();
    const lease: Lease = base ? structuredClone(base) : {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name: this.o.nodeName, namespace: NODE_LEASE_NAMESPACE },
    };
    lease.spec = {
      ...lease.spec,
      holderIdentity: this.o.nodeName,
      leaseDurationSeconds: LEASE_DURATION_SECONDS,
      renewTime: microTime(new Date(this.o.clock.now())),
    };
    if (uid && !(lease.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)) {
      lease.metadata = { ...lease.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid }] };
    }
    return lease;
  }

  /** Creates or renews the lease once. */
  async renew(): Promise<Lease> {
    const leases = this.o.client.resource(Resources.leases);
    if (!this.lease) {
      try {
        this.lease = await leases.get(NODE_LEASE_NAMESPACE, this.o.nodeName);
      } catch (err) {
        if (!isApiError(err, 'NotFound')) throw err;
        this.lease = await leases.create(NODE_LEASE_NAMESPACE, this.desired(undefined));
        return this.lease;
      }
    }
    try {
      this.lease = await leases.update(this.desired(this.lease));
      return this.lease;
    } catch (err) {
      this.lease = undefined; // re-read next time (conflict, or deleted)
      throw err;
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    const retry = new RetryBackoff(200, 7000, 0);
    while (!signal.aborted) {
      try {
        await this.renew();
        retry.reset();
        await sleep(this.o.renewIntervalMs, signal);
      } catch (err) {
        const wait = retry.next();
        this.log.warn('lease renewal failed', { err: errorMessage(err), retryInMs: wait });
        await sleep(wait, signal);
      }
    }
  }
}
