import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, matches, fromLabelSelector, selectorString } from './labels.js';
import { ApiError } from './errors.js';

test('equality and set-based selectors match like upstream', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['', {}, true],
    ['app=web', { app: 'web' }, true],
    ['app==web', { app: 'db' }, false],
    ['app!=web', {}, true],
    ['app!=web', { app: 'web' }, false],
    ['env in (prod, staging)', { env: 'staging' }, true],
    ['env in (prod,staging)', {}, false],
    ['env notin (prod)', {}, true],
    ['env notin (prod)', { env: 'prod' }, false],
    ['tier', { tier: '' }, true],
    ['!tier', { tier: 'x' }, false],
    ['app=web,!canary', { app: 'web' }, true],
    ['example.com/role=db', { 'example.com/role': 'db' }, true],
  ];
  for (const [sel, labels, want] of cases) assert.equal(matches(parseSelector(sel), labels), want, `${sel} on ${JSON.stringify(labels)}`);
});

test('bad selectors are 400 BadRequest', () => {
  for (const bad of ['app=', 'in (x)', 'a=b=c', 'env in (x', '-bad=1', 'a,,b']) {
    if (bad === 'app=') { assert.deepEqual(parseSelector(bad), [{ key: 'app', op: '=', values: [''] }]); continue; }
    assert.throws(() => parseSelector(bad), (e: unknown) => e instanceof ApiError && e.code === 400, bad);
  }
});

test('LabelSelector converts and renders', () => {
  const sel = fromLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['b', 'a'] }] });
  assert.ok(sel);
  assert.equal(selectorString(sel), 'app=web,env in (a,b)');
  assert.equal(fromLabelSelector(undefined), null);
  assert.deepEqual(fromLabelSelector({}), []);
});
