/**
 * Error texts in the wording of Go's net package, because upstream probe messages (and so
 * the Unhealthy events users grep for) embed them: "dial tcp 10.0.0.5:80: connect:
 * connection refused", "dial tcp 10.0.0.5:80: i/o timeout".
 */

/** Go's net.JoinHostPort: IPv6 literals in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** A dial failure to `addr` ("host:port") as Go's net.Dial reports it. */
export function dialErrorText(err: unknown, addr: string): string {
  switch (errnoCode(err)) {
    case 'ECONNREFUSED': return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH': return `dial tcp ${addr}: connect: no route to host`;
    case 'ENETUNREACH': return `dial tcp ${addr}: connect: network is unreachable`;
    case 'ETIMEDOUT': return `dial tcp ${addr}: i/o timeout`;
    case 'ECONNRESET': return `read tcp ${addr}: read: connection reset by peer`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return `dial tcp: lookup ${addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')}: no such host`;
    default: return err instanceof Error ? err.message : String(err);
  }
}

/** Go's codes.Code.String() for gRPC status codes. */
const CODE_NAMES: Record<number, string> = {
  0: 'OK', 1: 'Canceled', 2: 'Unknown', 3: 'InvalidArgument', 4: 'DeadlineExceeded', 5: 'NotFound', 6: 'AlreadyExists',
  7: 'PermissionDenied', 8: 'ResourceExhausted', 9: 'FailedPrecondition', 10: 'Aborted', 11: 'OutOfRange',
  12: 'Unimplemented', 13: 'Internal', 14: 'Unavailable', 15: 'DataLoss', 16: 'Unauthenticated',
};

/** A gRPC error as grpc-go prints it: "rpc error: code = NotFound desc = …". */
export function rpcErrorText(code: number, message: string): string {
  return `rpc error: code = ${CODE_NAMES[code] ?? `Code(${code})`} desc = ${message}`;
}
