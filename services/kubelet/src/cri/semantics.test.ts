import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as m from './proto.js';
import {
  CreationClock, byCreation, exitReason, matchesContainerFilter, matchesLabels, parseRfc3339Nano, resolveId,
  rfc3339Nano, selectLogLines,
} from './semantics.js';

describe('CRI semantics shared by the runtimes', () => {
  it('formats and parses RFC 3339 nanosecond timestamps', () => {
    const cases: Array<[string, number]> = [
      ['2024-05-01T10:00:00.123456789Z', Date.UTC(2024, 4, 1, 10) * 1e6 + 123456789],
      ['2024-05-01T10:00:00Z', Date.UTC(2024, 4, 1, 10) * 1e6],
      ['2024-05-01T12:00:00.5+02:00', Date.UTC(2024, 4, 1, 10) * 1e6 + 5e8],
      ['0001-01-01T00:00:00Z', 0],
      ['', 0],
      ['not a time', 0],
    ];
    for (const [text, ns] of cases) assert.equal(parseRfc3339Nano(text), ns, text);
    const ns = Date.UTC(2024, 4, 1, 10) * 1e6 + 120_000_000;
    assert.equal(rfc3339Nano(ns), '2024-05-01T10:00:00.120000000Z');
    assert.equal(parseRfc3339Nano(rfc3339Nano(ns)), ns);
  });

  it('resolves exact IDs and unique prefixes only', () => {
    const ids = ['abc123', 'abd456', 'abc'];
    const cases: Array<[string, string | undefined]> = [
      ['abc', 'abc'], ['abc1', 'abc123'], ['abd', 'abd456'], ['ab', undefined], ['x', undefined], ['', undefined],
    ];
    for (const [q, want] of cases) assert.equal(resolveId(ids, q), want, q);
  });

  it('matches container filters as an AND of id prefix, sandbox prefix, state and labels', () => {
    const c: m.Container = {
      id: 'c1234', pod_sandbox_id: 's9876', metadata: { name: 'x', attempt: 0 }, image: { image: 'i' }, image_ref: 'sha',
      state: 'CONTAINER_RUNNING', created_at: 1, labels: { a: '1', b: '2' }, annotations: {}, image_id: 'sha',
    };
    const cases: Array<[m.ContainerFilter | null, boolean]> = [
      [null, true], [{}, true], [{ id: 'c12' }, true], [{ id: '1234' }, false], [{ pod_sandbox_id: 's98' }, true],
      [{ pod_sandbox_id: 's1' }, false], [{ state: { state: 'CONTAINER_RUNNING' } }, true],
      [{ state: { state: 'CONTAINER_EXITED' } }, false], [{ label_selector: { a: '1' } }, true],
      [{ label_selector: { a: '1', b: '3' } }, false], [{ id: 'c1', label_selector: { c: '' } }, false],
    ];
    for (const [f, want] of cases) assert.equal(matchesContainerFilter(f, c), want, JSON.stringify(f));
    assert.equal(matchesLabels(undefined, {}), true);
  });

  it('selects log lines by since and tail', () => {
    const lines = [1, 2, 3, 4].map((t) => ({ time: t * 100 }));
    const cases: Array<[m.ReadLogsRequest, number[]]> = [
      [{ container_id: 'c' }, [100, 200, 300, 400]],
      [{ container_id: 'c', tail_lines: -1 }, [100, 200, 300, 400]],
      [{ container_id: 'c', tail_lines: 0 }, []],
      [{ container_id: 'c', tail_lines: 2 }, [300, 400]],
      [{ container_id: 'c', since_time_unix_nano: 200 }, [200, 300, 400]],
      [{ container_id: 'c', since_time_unix_nano: 200, tail_lines: 1 }, [400]],
    ];
    for (const [req, want] of cases) assert.deepEqual(selectLogLines(lines, req).map((l) => l.time), want, JSON.stringify(req));
  });

  it('gives exit reasons and strictly increasing creation times', () => {
    assert.equal(exitReason(0, false), 'Completed');
    assert.equal(exitReason(1, false), 'Error');
    assert.equal(exitReason(137, true), 'OOMKilled');
    const clock = new CreationClock();
    const times = Array.from({ length: 100 }, () => clock.now());
    for (let i = 1; i < times.length; i++) assert.ok((times[i] ?? 0) > (times[i - 1] ?? 0));
    const objs = times.map((t, i) => ({ created_at: t, id: String(99 - i) })).reverse();
    assert.deepEqual(objs.sort(byCreation).map((o) => o.created_at), times);
  });
});
