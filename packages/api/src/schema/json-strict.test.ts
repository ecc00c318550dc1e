import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isApiError } from '../errors.js';
import { parseJsonStrict } from './json-strict.js';
import { parseYamlStrict } from './yaml-strict.js';

test('values match JSON.parse for valid input', () => {
  const inputs = ['{}', '[]', '0', '-1.5e+3', '"a\\u00e9\\n\\"b"', 'true', 'null', ' {"a":[1,{"b":null}],"c":"d"} ',
    '{"__proto__":{"x":1}}', '"\u2028"', '1E-2', '[[[]]]'];
  for (const t of inputs) {
    const { value, duplicates } = parseJsonStrict(t);
    assert.deepEqual(value, JSON.parse(t), t);
    assert.deepEqual(duplicates, [], t);
  }
  const proto = parseJsonStrict('{"__proto__":{"x":1}}').value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype, '__proto__ is an own key, not the prototype');
});

test('duplicates are reported once each, with strict-decoder paths', () => {
  const r = parseJsonStrict('{"a":1,"a":2,"a":3,"m":{"k":[{"x":1,"x":2}],"k2":{"y":1,"y":1}}}');
  assert.deepEqual(r.duplicates, ['a', 'm.k[0].x', 'm.k2.y']);
  assert.deepEqual(r.duplicateErrors, ['duplicate field "a"', 'duplicate field "m.k[0].x"', 'duplicate field "m.k2.y"']);
  assert.deepEqual(r.value, { a: 3, m: { k: [{ x: 2 }], k2: { y: 1 } } });
});

test("syntax errors use Go's encoding/json wording", () => {
  const cases: [string, string][] = [
    ['', 'unexpected end of JSON input'],
    ['   ', 'unexpected end of JSON input'],
    ['{"a":', 'unexpected end of JSON input'],
    ['{"a":"b', 'unexpected end of JSON input'],
    ['tru', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{a:1}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['{} x', "invalid character 'x' after top-level value"],
    ['01', "invalid character '1' after top-level value"],
    ['-x', "invalid character 'x' in numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    ['nul1', "invalid character '1' in literal null (expecting 'l')"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
    ['['.repeat(1001) + ']'.repeat(1001), 'exceeded max depth'],
  ];
  for (const [text, msg] of cases) {
    assert.throws(() => parseJsonStrict(text), (e: unknown) => isApiError(e, 'BadRequest') && e.message === msg, JSON.stringify(text));
  }
});

test('YAML: duplicates with go-yaml wording, YAML 1.1 booleans, timestamps stay strings, first document only', () => {
  const r = parseYamlStrict('a: 1\nb: yes\nc: 2001-12-14\na: 2\nd:\n  - x: 1\n    x: 2\n---\ne: 1\n');
  assert.deepEqual(r.value, { a: 2, b: true, c: '2001-12-14', d: [{ x: 2 }] });
  assert.deepEqual(r.duplicates, ['a', 'd[0].x']);
  assert.deepEqual(r.duplicateErrors, ['yaml: unmarshal errors:\n  line 4: key "a" already set in map\n  line 7: key "x" already set in map']);
  assert.deepEqual(parseYamlStrict('').value, null);
  assert.deepEqual(parseYamlStrict('{"a": [1, 2]}').value, { a: [1, 2] }, 'JSON is YAML');
  assert.throws(() => parseYamlStrict('a: b: c\n'), (e: unknown) => isApiError(e, 'BadRequest') && /^error converting YAML to JSON: yaml: line 1: /.test(e.message));
});
