/**
 * The CRI layer's one error type. Every runtime implementation (Docker, fake) and the gRPC
 * client throw {@link CriError}; the gRPC server turns it into a status with the same code
 * and message, and the client turns that status back into the same CriError. So a caller
 * sees identical errors whether it talks to a runtime directly or over the socket.
 */
import { status } from '@grpc/grpc-js';

/** gRPC status codes (numeric enum: `Code.NOT_FOUND === 5`). */
export { status as Code };
export type CodeValue = status;

export class CriError extends Error {
  override readonly name = 'CriError';
  /** gRPC status code. */
  readonly code: status;

  constructor(code: status, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** The code's name, e.g. "NOT_FOUND". */
  get codeName(): string {
    return status[this.code] ?? `CODE_${this.code}`;
  }
}

export function isCriError(err: unknown, code?: status): err is CriError {
  return err instanceof CriError && (code === undefined || err.code === code);
}

export function notFound(kind: 'container' | 'sandbox' | 'image', id: string): CriError {
  return new CriError(status.NOT_FOUND, `${kind} "${id}" not found`);
}

export function invalidArgument(message: string): CriError {
  return new CriError(status.INVALID_ARGUMENT, message);
}
