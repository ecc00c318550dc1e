/**
 * Exec probe (upstream pkg/probe/exec and the kubelet's RunInContainer): the command runs in
 * the container through CRI ExecSync with the probe's timeout. Exit 0 is success, any other
 * exit code a failure; the output is stdout followed by stderr, at most 10 KiB. A timeout
 * (DEADLINE_EXCEEDED) is a failure with output `command "<cmd>" timed out`. Any other
 * runtime error (container not running, missing) is thrown: the prober reports it as an
 * errored probe and the worker discards the result.
 */
import type { RuntimeService } from '../cri/index.js';
import { Code, isCriError } from '../cri/index.js';
import { rpcErrorText } from './net-errors.js';
import type { ProbeOutcome } from './results.js';

/** Upstream maxReadLength of exec probe output. */
export const MAX_EXEC_OUTPUT = 10 * 1024;

export type ExecRunner = Pick<RuntimeService, 'execSync'>;

/** An exec failure that is not a non-zero exit, worded as the kubelet reports it. */
export class ExecError extends Error {}

/** The command did not finish within its timeout. */
export class ExecTimeoutError extends ExecError {}

/**
 * upstream RunInContainer: resolves with the exit code and the output; throws an
 * {@link ExecError} ("rpc error: code = … desc = …") on runtime errors, and a timeout error
 * (`timedOut`) when `timeoutSeconds` (0: none) passes.
 */
export async function runInContainer(
  runtime: ExecRunner, containerId: string, cmd: readonly string[], timeoutSeconds: number,
): Promise<{ exitCode: number; stdout: Buffer; stderr: Buffer }> {
  try {
    const r = await runtime.execSync({ container_id: containerId, cmd: [...cmd], timeout: timeoutSeconds });
    return { exitCode: r.exit_code, stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr) };
  } catch (err) {
    if (isCriError(err, Code.DEADLINE_EXCEEDED)) throw new ExecTimeoutError(`command ${JSON.stringify(cmd.join(' '))} timed out`);
    if (isCriError(err)) throw new ExecError(rpcErrorText(err.code, err.message), { cause: err });
    throw err;
  }
}


export async function doExecProbe(
  runtime: ExecRunner, containerId: string, cmd: readonly string[], timeoutSeconds: number,
): Promise<{ outcome: ProbeOutcome; output: string }> {
  try {
    const r = await runInContainer(runtime, containerId, cmd, timeoutSeconds);
    const output = Buffer.concat([r.stdout, r.stderr]).subarray(0, MAX_EXEC_OUTPUT).toString('utf8');
    return { outcome: r.exitCode === 0 ? 'success' : 'failure', output };
  } catch (err) {
    if (err instanceof ExecTimeoutError) return { outcome: 'failure', output: err.message };
    throw err;
  }
}
