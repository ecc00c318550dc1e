/** Error helpers: aggregation (upstream utilerrors.NewAggregate) and Status causes. */
import { isApiError } from '@tskube/api';

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * One error standing for several: undefined for none, the error itself for one, otherwise
 * an Error whose message lists them like upstream's aggregate (`[a, b]`).
 */
export function aggregate(errs: readonly unknown[]): Error | undefined {
  if (errs.length === 0) return undefined;
  if (errs.length === 1) return errs[0] instanceof Error ? errs[0] : new Error(String(errs[0]));
  return new AggregateError(errs, `[${errs.map(errorMessage).join(', ')}]`);
}

/** The ApiError's Status carries a cause with this reason (upstream HasStatusCause). */
export function hasStatusCause(e: unknown, reason: string): boolean {
  return isApiError(e) && (e.status.details?.causes ?? []).some((c) => c.reason === reason);
}
