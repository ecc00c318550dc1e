import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronScheduleError, isTimeZone } from './batch-cron.js';

test('cron schedules: the standard five fields, names, steps and descriptors', () => {
  const ok = ['*/5 * * * *', '0 0 * * *', '0 9-17 * * mon-fri', '15,45 */2 1 JAN,jul ?', '@hourly', '@daily', '@midnight', '@weekly',
    '@monthly', '@yearly', '@annually', '@every 1h30m', '5/15 * * * *', '0 0 29 2 *', 'TZ=UTC 0 * * * *', 'CRON_TZ=Europe/Berlin 0 5 * * *'];
  for (const s of ok) assert.equal(cronScheduleError(s), undefined, s);
  const bad: [string, string][] = [
    ['', 'empty spec string'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['* * * * * *', 'expected exactly 5 fields, found 6: [* * * * * *]'],
    ['60 * * * *', 'end of range (60) above maximum (59): 60'],
    ['* 0-24 * * *', 'end of range (24) above maximum (23): 0-24'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['1/2/3 * * * *', 'too many slashes: 1/2/3'],
    ['@sometimes', 'unrecognized descriptor: @sometimes'],
    ['@every fortnight', 'failed to parse duration @every fortnight: time: invalid duration "fortnight"'],
    ['TZ=Mars/Olympus * * * * *', 'provided bad location Mars/Olympus: unknown time zone Mars/Olympus'],
  ];
  for (const [s, want] of bad) assert.equal(cronScheduleError(s), want, s);
});

test('time zones come from the IANA database; Local is not one', () => {
  assert.ok(isTimeZone('Europe/Berlin'));
  assert.ok(isTimeZone('UTC'));
  assert.equal(isTimeZone('Local'), false);
  assert.equal(isTimeZone('Nowhere/Town'), false);
});
