/** Test helper: a Logger that keeps its lines for assertions. */
import type { LogFields, Logger } from '@tskube/log';

export interface LogLine {
  level: 'error' | 'warn' | 'info' | 'debug';
  msg: string;
  fields: LogFields;
}

export function captureLogger(lines: LogLine[] = [], base: LogFields = {}): Logger & { lines: LogLine[] } {
  const at = (level: LogLine['level']) => (msg: string, fields?: LogFields) => { lines.push({ level, msg, fields: { ...base, ...fields } }); };
  return {
    lines,
    error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'),
    child: (f: LogFields) => captureLogger(lines, { ...base, ...f }),
  };
}
