/**
 * A JSON parser that also reports duplicate object keys, with upstream's field paths and
 * Go's syntax-error wording.
 *
 * Why hand-written: JSON.parse silently keeps the last of duplicate keys and its error
 * messages differ from Go's; the npm parsers that report duplicates (e.g. jsonc-parser) are
 * lenient by design (comments, trailing commas) and word errors their own way. The apiserver
 * must answer like upstream, which decodes with a Go encoding/json fork (sigs.k8s.io/json):
 * `duplicate field "metadata.name"`, `invalid character '}' looking for beginning of object
 * key string`, `unexpected end of JSON input`. Strings with escapes and numbers are handed to
 * JSON.parse/Number once their syntax is checked, so values are exactly JSON.parse's.
 */
import { badRequest } from '../errors.js';

export interface ParsedBody {
  /** The parsed value; for duplicate keys the last one wins (like JSON.parse). */
  value: unknown;
  /**
   * Paths of duplicate keys in document order, each once, like upstream's strict decoder
   * builds them: object keys joined by ".", array indices as "[i]" (`metadata.labels.app`,
   * `spec.containers[0].name`).
   */
  duplicates: string[];
  /**
   * The duplicates as upstream strict-decoding errors: for JSON `duplicate field "<path>"`
   * (one per duplicate); for YAML one goyaml error `yaml: unmarshal errors:\n  line N: key
   * "x" already set in map` covering all of them. Pass these to `decodeBody`.
   */
  duplicateErrors: string[];
}

/** Go's quoteChar (encoding/json scanner.go). */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

class SyntaxFailure extends Error {}

/**
 * Parses `text` as one JSON value. Throws `badRequest` with Go's syntax error wording
 * (e.g. `invalid character 'x' looking for beginning of value`, `unexpected end of JSON
 * input`) when the text is not valid JSON; callers that decode an object wrap it the way
 * upstream does (see decodeRequestBody).
 */
export function parseJsonStrict(text: string): ParsedBody {
  const p = new Parser(text);
  try {
    p.ws();
    const value = p.value('');
    p.ws();
    if (p.i < text.length) p.fail(`invalid character ${quoteChar(p.charAt())} after top-level value`);
    return { value, duplicates: p.duplicates, duplicateErrors: p.duplicates.map((d) => `duplicate field ${JSON.stringify(d)}`) };
  } catch (e) {
    if (e instanceof SyntaxFailure) throw badRequest(e.message);
    throw e;
  }
}

/** Nesting limit (Go allows 10000; a JS recursive descent overflows the stack before that). */
const MAX_DEPTH = 1000;

class Parser {
  i = 0;
  depth = 0;
  readonly duplicates: string[] = [];
  private readonly seenDup = new Set<string>();
  constructor(private readonly s: string) {}

  fail(msg: string): never { throw new SyntaxFailure(msg); }
  eof(): never { this.fail('unexpected end of JSON input'); }
  charAt(): string { return String.fromCodePoint(this.s.codePointAt(this.i) ?? 0); }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  /** Parses a value at i (whitespace already skipped); `path` is its strict field path. */
  value(path: string): unknown {
    const s = this.s;
    if (this.i >= s.length) this.eof();
    const c = s[this.i]!;
    switch (c) {
      case '{': return this.object(path);
      case '[': return this.array(path);
      case '"': return this.string();
      case 't': return this.literal('true', true);
      case 'f': return this.literal('false', false);
      case 'n': return this.literal('null', null);
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.number();
        return this.fail(`invalid character ${quoteChar(this.charAt())} looking for beginning of value`);
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail('exceeded max depth');
  }

  private object(path: string): Record<string, unknown> {
    this.enter();
    const s = this.s;
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.i++; // {
    this.ws();
    if (this.i >= s.length) this.eof();
    if (s[this.i] === '}') { this.i++; this.depth--; return out; }
    for (;;) {
      if (this.i >= s.length) this.eof();
      if (s[this.i] !== '"') this.fail(`invalid character ${quoteChar(this.charAt())} looking for beginning of object key string`);
      const key = this.string();
      this.ws();
      if (this.i >= s.length) this.eof();
      if (s[this.i] !== ':') this.fail(`invalid character ${quoteChar(this.charAt())} after object key`);
      this.i++;
      this.ws();
      const childPath = path ? `${path}.${key}` : key;
      if (seen.has(key)) {
        if (!this.seenDup.has(childPath)) { this.seenDup.add(childPath); this.duplicates.push(childPath); }
      } else {
        seen.add(key);
      }
      const v = this.value(childPath);
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      if (this.i >= s.length) this.eof();
      const d = s[this.i];
      if (d === ',') { this.i++; this.ws(); continue; }
      if (d === '}') { this.i++; this.depth--; return out; }
      this.fail(`invalid character ${quoteChar(this.charAt())} after object key:value pair`);
    }
  }

  private array(path: string): unknown[] {
    this.enter();
    const s = this.s;
    const out: unknown[] = [];
    this.i++; // [
    this.ws();
    if (this.i >= s.length) this.eof();
    if (s[this.i] === ']') { this.i++; this.depth--; return out; }
    for (;;) {
      out.push(this.value(`${path}[${out.length}]`));
      this.ws();
      if (this.i >= s.length) this.eof();
      const d = s[this.i];
      if (d === ',') { this.i++; this.ws(); continue; }
      if (d === ']') { this.i++; this.depth--; return out; }
      this.fail(`invalid character ${quoteChar(this.charAt())} after array element`);
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    this.i++; // opening quote
    let escaped = false;
    for (;;) {
      if (this.i >= s.length) this.eof();
      const c = s.charCodeAt(this.i);
      if (c === 0x22) { // closing quote
        this.i++;
        return escaped ? (JSON.parse(s.slice(start, this.i)) as string) : s.slice(start + 1, this.i - 1);
      }
      if (c < 0x20) this.fail(`invalid character ${quoteChar(s[this.i]!)} in string literal`);
      if (c === 0x5c) { // backslash
        escaped = true;
        this.i++;
        if (this.i >= s.length) this.eof();
        const e = s[this.i]!;
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (this.i + k >= s.length) { this.i += k; this.eof(); }
            const h = s[this.i + k]!;
            if (!/[0-9a-fA-F]/.test(h)) { this.i += k; this.fail(`invalid character ${quoteChar(this.charAt())} in \\u hexadecimal character escape`); }
          }
          this.i += 5;
          continue;
        }
        if ('"\\/bfnrt'.includes(e)) { this.i++; continue; }
        this.fail(`invalid character ${quoteChar(this.charAt())} in string escape code`);
      }
      this.i++;
    }
  }

  private number(): number {
    const s = this.s;
    const start = this.i;
    const digit = () => this.i < s.length && s.charCodeAt(this.i) >= 0x30 && s.charCodeAt(this.i) <= 0x39;
    if (s[this.i] === '-') {
      this.i++;
      if (this.i >= s.length) this.eof();
      if (!digit()) this.fail(`invalid character ${quoteChar(this.charAt())} in numeric literal`);
    }
    if (s[this.i] === '0') this.i++;
    else while (digit()) this.i++;
    if (this.i < s.length && s[this.i] === '.') {
      this.i++;
      if (this.i >= s.length) this.eof();
      if (!digit()) this.fail(`invalid character ${quoteChar(this.charAt())} after decimal point in numeric literal`);
      while (digit()) this.i++;
    }
    if (this.i < s.length && (s[this.i] === 'e' || s[this.i] === 'E')) {
      this.i++;
      if (this.i < s.length && (s[this.i] === '+' || s[this.i] === '-')) this.i++;
      if (this.i >= s.length) this.eof();
      if (!digit()) this.fail(`invalid character ${quoteChar(this.charAt())} in exponent of numeric literal`);
      while (digit()) this.i++;
    }
    return Number(s.slice(start, this.i));
  }

  private literal<T>(word: string, v: T): T {
    const s = this.s;
    for (let k = 1; k < word.length; k++) {
      if (this.i + k >= s.length) { this.i += k; this.eof(); }
      if (s[this.i + k] !== word[k]) {
        this.i += k;
        this.fail(`invalid character ${quoteChar(this.charAt())} in literal ${word} (expecting ${quoteChar(word[k]!)})`);
      }
    }
    this.i += word.length;
    return v;
  }
}
