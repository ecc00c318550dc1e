/**
 * YAML request bodies (`application/yaml`, `application/apply-patch+yaml`), parsed with the
 * `yaml` package the way upstream's sigs.k8s.io/yaml (go-yaml v2) reads them:
 * - YAML 1.1 scalars (yes/no/on/off are booleans, 0777 is octal), but timestamps stay strings
 *   (go-yaml hands untyped timestamps to the JSON converter as strings);
 * - only the first document counts;
 * - duplicate keys are kept last-wins and reported with go-yaml's wording
 *   (`yaml: unmarshal errors:\n  line 3: key "name" already set in map`);
 * - syntax errors read `error converting YAML to JSON: yaml: line N: <reason>` (the reason
 *   is the yaml package's, not go-yaml's).
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode } from 'yaml';
import { badRequest } from '../errors.js';
import type { ParsedBody } from './json-strict.js';

const TIMESTAMP_TAG = 'tag:yaml.org,2002:timestamp';

/**
 * Parses the first YAML document of `text`. Throws `badRequest` (message
 * `error converting YAML to JSON: yaml: line N: …`) on a syntax error. An empty document
 * parses as null.
 */
export function parseYamlStrict(text: string): ParsedBody {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    version: '1.1',
    uniqueKeys: false,
    lineCounter,
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== TIMESTAMP_TAG),
  });
  const list = Array.isArray(docs) ? docs : [];
  const doc = list[0];
  if (!doc) return { value: null, duplicates: [], duplicateErrors: [] };
  const err = doc.errors[0];
  if (err) {
    const line = lineCounter.linePos(err.pos[0]).line;
    const reason = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw badRequest(`error converting YAML to JSON: yaml: line ${line}: ${reason}`);
  }
  const duplicates: string[] = [];
  const lines: string[] = [];
  collectDuplicates(doc.contents, '', lineCounter, duplicates, lines);
  const value = normalize(doc.toJS({ maxAliasCount: 100 }));
  const duplicateErrors = lines.length ? [`yaml: unmarshal errors:\n  ${lines.join('\n  ')}`] : [];
  return { value, duplicates, duplicateErrors };
}

function keyString(k: unknown): string {
  if (isScalar(k)) return String(k.value);
  return String(k);
}

function collectDuplicates(node: YamlNode | null | undefined | unknown, path: string, lc: LineCounter,
  out: string[], lines: string[]): void {
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = keyString(pair.key);
      const childPath = path ? `${path}.${key}` : key;
      if (seen.has(key)) {
        if (!out.includes(childPath)) out.push(childPath);
        const pos = isScalar(pair.key) && pair.key.range ? lc.linePos(pair.key.range[0]).line : 0;
        lines.push(`line ${pos}: key ${JSON.stringify(key)} already set in map`);
      } else {
        seen.add(key);
      }
      collectDuplicates(pair.value, childPath, lc, out, lines);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => collectDuplicates(item, `${path}[${i}]`, lc, out, lines));
  }
}

/** Turns what toJS may produce beyond JSON (binary, Map keys are already strings) into JSON values. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = normalize(o[k]);
    return o;
  }
  if (typeof v === 'bigint') return Number(v);
  return v;
}
