/**
 * The result of running a plugin (upstream framework/interface.go `Status`).
 *
 * "Does not fit" is a value, not an exception: a Filter answers `Status.unschedulable(reason)`
 * and the framework aggregates the reasons of every node into the FitError message. Exceptions
 * are reserved for bugs; the framework turns one thrown by a plugin into an `Error` status.
 *
 * Plugins may return `undefined` for success (upstream's nil *Status).
 */

export enum Code {
  /** The plugin ran correctly and found the pod schedulable (for Filter: the node fits). */
  Success = 'Success',
  /** An internal or transient failure (API error, bug); the pod is retried with backoff. */
  Error = 'Error',
  /** The pod does not fit, but preemption (removing lower-priority pods) might change that. */
  Unschedulable = 'Unschedulable',
  /** The pod does not fit and preemption would not help (taint, selector, node too small). */
  UnschedulableAndUnresolvable = 'UnschedulableAndUnresolvable',
  /** PreFilter/PreScore: the plugin has nothing to do for this pod; its Filter/Score is skipped. Bind: not mine. */
  Skip = 'Skip',
}

export class Status {
  private static readonly ok = new Status(Code.Success, []);

  /**
   * @param code what happened
   * @param reasons short, node-independent sentences; they are counted across nodes, so they
   *   must not contain node names ("Insufficient cpu", not "node n1 has too little cpu")
   * @param plugin the plugin that produced it (set by the framework)
   * @param error the underlying error for `Error` statuses
   */
  private constructor(
    readonly code: Code,
    readonly reasons: readonly string[],
    readonly plugin = '',
    readonly error?: unknown,
  ) {}

  static success(): Status { return Status.ok; }
  static unschedulable(...reasons: string[]): Status { return new Status(Code.Unschedulable, reasons); }
  static unresolvable(...reasons: string[]): Status { return new Status(Code.UnschedulableAndUnresolvable, reasons); }
  static skip(): Status { return new Status(Code.Skip, []); }
  static of(code: Code, ...reasons: string[]): Status { return code === Code.Success && reasons.length === 0 ? Status.ok : new Status(code, reasons); }

  /** An `Error` status carrying `err` (upstream AsStatus); its reason is the error's message. */
  static fromError(err: unknown): Status {
    return new Status(Code.Error, [err instanceof Error ? err.message : String(err)], '', err);
  }

  /** The same status attributed to `plugin`. */
  withPlugin(plugin: string): Status {
    return plugin === this.plugin || this.code === Code.Success ? this : new Status(this.code, this.reasons, plugin, this.error);
  }

  /** The reasons joined by ", " (upstream Status.Message). */
  get message(): string { return this.reasons.join(', '); }

  isSuccess(): boolean { return this.code === Code.Success; }
  isSkip(): boolean { return this.code === Code.Skip; }
  /** Unschedulable or UnschedulableAndUnresolvable: the pod was turned down, nothing broke. */
  isRejected(): boolean { return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable; }
}

/** Plugins may answer `undefined` for success; this normalises it. */
export function orSuccess(s: Status | undefined): Status {
  return s ?? Status.success();
}
