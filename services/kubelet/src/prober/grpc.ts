/**
 * gRPC probe (upstream pkg/probe/grpc): grpc.health.v1.Health/Check on host:port without
 * TLS, User-Agent kube-probe/1.32, within the timeout. Outputs follow upstream's wording:
 * - no connection within the timeout (Go dials with WithBlock, so a refused connection is
 *   retried until then): `timeout: failed to connect service "H:P" within 1s: context deadline exceeded`;
 * - UNIMPLEMENTED: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): …`;
 * - DEADLINE_EXCEEDED: `timeout: health rpc did not complete within 1s`;
 * - other errors: `error: health rpc probe failed: rpc error: code = NotFound desc = …`;
 * - a status other than SERVING: `service unhealthy (responded with "NOT_SERVING")`;
 * - SERVING: success, "service healthy".
 * The health service definition comes from grpc-health-check (grpc-node's own package).
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { goDuration } from '../format.js';
import { KUBE_VERSION } from './http.js';
import { joinHostPort, rpcErrorText } from './net-errors.js';
import type { ProbeOutcome } from './results.js';

const HealthClient = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'number';
}

export async function doGrpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<{ outcome: ProbeOutcome; output: string }> {
  const addr = joinHostPort(host, port);
  const within = goDuration(timeoutMs);
  const deadline = new Date(Date.now() + timeoutMs);
  const client = new HealthClient(addr, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': `kube-probe/${KUBE_VERSION}`,
    'grpc.enable_retries': 0,
  });
  try {
    const connected = await new Promise<Error | undefined>((resolve) => client.waitForReady(deadline, (err) => resolve(err ?? undefined)));
    if (connected) {
      return { outcome: 'failure', output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${within}: context deadline exceeded` };
    }
    const res = await new Promise<{ err?: unknown; status?: unknown }>((resolve) => {
      const check = client['Check'] as unknown as (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status?: unknown }) => void) => void;
      check.call(client, { service }, new grpc.Metadata(), { deadline }, (err, r) => resolve(err ? { err } : { status: r?.status }));
    });
    if (res.err !== undefined) {
      if (isServiceError(res.err)) {
        if (res.err.code === grpc.status.UNIMPLEMENTED) {
          return { outcome: 'failure', output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${res.err.details}` };
        }
        if (res.err.code === grpc.status.DEADLINE_EXCEEDED) {
          return { outcome: 'failure', output: `timeout: health rpc did not complete within ${within}` };
        }
        return { outcome: 'failure', output: `error: health rpc probe failed: ${rpcErrorText(res.err.code, res.err.details)}` };
      }
      return { outcome: 'failure', output: `error: health rpc probe failed: ${String(res.err)}` };
    }
    const status = typeof res.status === 'string' ? res.status : String(res.status);
    if (status !== 'SERVING') return { outcome: 'failure', output: `service unhealthy (responded with ${JSON.stringify(status)})` };
    return { outcome: 'success', output: 'service healthy' };
  } finally {
    client.close();
  }
}
