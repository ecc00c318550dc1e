/**
 * CronJob schedules: parsing into next-activation functions and upstream's schedule
 * arithmetic (pkg/controller/cronjob/utils.go: mostRecentScheduleTime, nextScheduleTime,
 * nextScheduleTimeDuration, getJobName). Times are epoch milliseconds.
 *
 * Standard five-field expressions go to cron-parser (which evaluates them in an IANA time
 * zone, DST included, with the usual day-of-month OR day-of-week rule). The descriptors
 * (@yearly … @hourly, @midnight) are expanded here, `@every <Go duration>` and the
 * `TZ=`/`CRON_TZ=` prefix are handled here because cron-parser does not know them (robfig/cron,
 * upstream's parser, does). Without a time zone the schedule runs in UTC.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';

export interface Schedule {
  /** The first activation strictly after `afterMs`, or undefined when there is none. */
  next(afterMs: number): number | undefined;
}

const DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

const GO_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go time.ParseDuration in milliseconds (throws like Go on bad input). */
export function parseGoDuration(s: string): number {
  if (s === '0') return 0;
  const m = /^([-+]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+)$/.exec(s);
  if (!m) throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * GO_UNITS[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

/** `@every d`: activations every d (whole seconds, at least 1 s) from the given time (robfig ConstantDelaySchedule). */
function every(d: number): Schedule {
  const delay = Math.max(1000, Math.floor(d / 1000) * 1000);
  return { next: (after) => after - (after % 1000) + delay };
}

function standard(spec: string, tz: string): Schedule {
  let expr: CronExpression;
  try {
    expr = CronExpressionParser.parse(spec, { tz, currentDate: new Date(0) });
  } catch (e) {
    throw new Error((e as Error).message, { cause: e });
  }
  return {
    next(after) {
      try {
        expr.reset(new Date(after));
        return expr.next().getTime();
      } catch {
        // An expression that matches no date (e.g. 30 February).
        return undefined;
      }
    },
  };
}

/**
 * Parses `spec` (robfig/cron ParseStandard): an optional `TZ=<zone>` / `CRON_TZ=<zone>`
 * prefix, then five fields or a descriptor. `timeZone` is used when the spec has no prefix.
 * Throws with the parser's message on a bad spec or zone.
 */
export function parseSchedule(spec: string, timeZone?: string): Schedule {
  let s = spec.trim();
  let tz = timeZone ?? 'UTC';
  if (s.startsWith('TZ=') || s.startsWith('CRON_TZ=')) {
    const i = s.indexOf(' ');
    tz = s.slice(s.indexOf('=') + 1, i < 0 ? undefined : i);
    s = i < 0 ? '' : s.slice(i).trim();
  }
  if (!isTimeZone(tz)) throw new Error(`provided bad location ${tz}: unknown time zone ${tz}`);
  if (!s) throw new Error('empty spec string');
  if (s.startsWith('@every ')) return every(parseGoDuration(s.slice('@every '.length).trim()));
  if (s.startsWith('@')) {
    const expanded = DESCRIPTORS[s];
    if (!expanded) throw new Error(`unrecognized descriptor: ${s}`);
    return standard(expanded, tz);
  }
  const fields = s.split(/\s+/);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  return standard(s, tz);
}

export function isTimeZone(tz: string): boolean {
  if (!tz || tz.toLowerCase() === 'local') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** What mostRecentScheduleTime reports about missed activations. */
export type Missed = 'none' | 'few' | 'many';

export interface ScheduleState {
  creationTimestamp?: string;
  lastScheduleTime?: string;
  startingDeadlineSeconds?: number;
}

/**
 * Upstream mostRecentScheduleTime: the earliest time considered (lastScheduleTime, else the
 * creation time, moved up to now − startingDeadlineSeconds when `withDeadline`), the most
 * recent activation in (earliest, now] if any, and whether activations were missed (more
 * than 100 is "many"). The count is estimated from the interval between the first two
 * activations, so irregular schedules are handled by stepping the parser from there.
 * Throws when two activations are less than a second apart (an impossible schedule).
 */
export function mostRecentScheduleTime(cj: ScheduleState, now: number, sched: Schedule, withDeadline: boolean): { earliest: number; mostRecent?: number; missed: Missed } {
  let earliest = Date.parse(cj.lastScheduleTime ?? cj.creationTimestamp ?? '') || 0;
  if (withDeadline && cj.startingDeadlineSeconds !== undefined) {
    earliest = Math.max(earliest, now - cj.startingDeadlineSeconds * 1000);
  }
  const t1 = sched.next(earliest);
  if (t1 === undefined) throw new Error('time difference between two schedules is less than 1 second');
  if (now < t1) return { earliest, missed: 'none' };
  const t2 = sched.next(t1);
  if (t2 === undefined) throw new Error('time difference between two schedules is less than 1 second');
  if (now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const interval = Math.round((t2 - t1) / 1000);
  if (interval < 1) throw new Error('time difference between two schedules is less than 1 second');
  const missedCount = Math.floor(Math.floor((now - t1) / 1000) / interval) + 1;
  // Start two intervals before the estimated last activation and let the schedule step to it.
  const from = t1 + (missedCount - 2) * interval * 1000;
  let mostRecent: number | undefined;
  for (let t = sched.next(from); t !== undefined && t <= now; t = sched.next(t)) mostRecent = t;
  const missed: Missed = missedCount > 100 ? 'many' : missedCount > 1 ? 'few' : 'none';
  return { earliest, ...(mostRecent !== undefined ? { mostRecent } : {}), missed };
}

/** Upstream nextScheduleTimeDuration: how long until just after the next activation (100 ms past it). */
export function nextScheduleDelay(cj: ScheduleState, now: number, sched: Schedule): number | undefined {
  let base: number;
  try {
    const r = mostRecentScheduleTime(cj, now, sched, false);
    base = r.mostRecent ?? r.earliest;
  } catch {
    base = now;
  }
  const next = sched.next(base);
  return next === undefined ? undefined : next + 100 - now;
}

/** `<cronjob>-<scheduled time in minutes since the epoch>` (upstream getJobName). */
export function jobName(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}

/** RFC 3339 with the zone's offset at that instant (Go's Time.In(loc).Format(time.RFC3339)); `Z` for UTC. */
export function formatInZone(ms: number, tz: string | undefined): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  if (!tz || tz === 'UTC' || tz === 'Etc/UTC') return d.toISOString().replace('.000Z', 'Z');
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    timeZoneName: 'longOffset',
  }).formatToParts(d).map((p) => [p.type, p.value]));
  const off = (parts.timeZoneName ?? 'GMT').replace('GMT', '');
  const offset = off === '' ? 'Z' : off;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset === '+00:00' ? 'Z' : offset}`;
}
