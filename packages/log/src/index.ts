/**
 * Structured JSON logging for every tskube component (winston underneath).
 *
 * Habit: constant messages with fields. `log.info('pod bound', { pod, node })`, never
 * `log.info(\`bound ${pod} to ${node}\`)`. An error is logged once, where it is handled.
 */
import winston from 'winston';

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** A logger whose every line carries `fields` as well. */
  child(fields: LogFields): Logger;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LoggerOptions {
  component: string;
  level?: LogLevel;
  /** Defaults to stderr, so stdout stays free for command output. */
  stream?: NodeJS.WritableStream;
}

const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  if (value === undefined || value === '') return fallback;
  const v = value.toLowerCase();
  if ((LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new Error(`invalid log level "${value}": expected one of ${LEVELS.join(', ')}`);
}

/** Error objects do not serialise to JSON; turn them into plain fields. */
function normaliseFields(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return undefined;
  let out: LogFields | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      out ??= { ...fields };
      out[k] = v.message;
      if (k === 'err' || k === 'error') out.stack = v.stack;
    }
  }
  return out ?? fields;
}

class WinstonLogger implements Logger {
  constructor(private readonly w: winston.Logger) {}
  error(msg: string, fields?: LogFields): void { this.w.error(msg, normaliseFields(fields)); }
  warn(msg: string, fields?: LogFields): void { this.w.warn(msg, normaliseFields(fields)); }
  info(msg: string, fields?: LogFields): void { this.w.info(msg, normaliseFields(fields)); }
  debug(msg: string, fields?: LogFields): void { this.w.debug(msg, normaliseFields(fields)); }
  child(fields: LogFields): Logger { return new WinstonLogger(this.w.child(fields)); }
}

export function createLogger(opts: LoggerOptions): Logger {
  const w = winston.createLogger({
    level: opts.level ?? 'info',
    defaultMeta: { component: opts.component },
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stderr })],
  });
  return new WinstonLogger(w);
}

/** A logger that drops everything: for unit tests that do not assert on logs. */
export function nullLogger(): Logger {
  const l: Logger = {
    error() {}, warn() {}, info() {}, debug() {},
    child() { return l; },
  };
  return l;
}
