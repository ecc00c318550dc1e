#!/usr/bin/env node
/**
 * Generates packages/api/generated/schemas.json: OpenAPI v3 component schemas for every type
 * in the `kubernetes-types` package, named like upstream (io.k8s.api.core.v1.Pod, ...).
 *
 * Inputs
 * - kubernetes-types/**.d.ts, read with the TypeScript compiler API (parse only, no type
 *   checker: the declarations use a tiny grammar, see `typeSchema`). Descriptions come from
 *   the JSDoc comments, `required` from non-optional properties, and an interface whose
 *   `apiVersion`/`kind` are string literals is a top-level kind
 *   (`x-kubernetes-group-version-kind`).
 * - @kubernetes/client-node's generated models (dist/gen/models/*.js, `attributeTypeMap`):
 *   numeric and string formats (int32, int64, double, byte). See `formatOf` for how a
 *   property is matched and what happens when nothing matches.
 * - PATCH_META below: our own table of patch/list/map semantics (SMP + SSA).
 *
 * Output: {"inputsHash", "schemas": {name: schema}} (compact JSON), plus schemas.stamp holding
 * the inputs hash: when the hash of the inputs is unchanged the script exits without work.
 *
 * Run: `npm run gen -w @tskube/api` (the root `npm run build` does it first). Pass --force to
 * regenerate regardless of the stamp.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const started = performance.now();
const HERE = dirname(fileURLToPath(import.meta.url));
const PKG_DIR = resolve(HERE, '..');
const OUT_DIR = join(PKG_DIR, 'generated');
const OUT_FILE = join(OUT_DIR, 'schemas.json');
const STAMP_FILE = join(OUT_DIR, 'schemas.stamp');
const GENERATOR_VERSION = 1;

/** Finds node_modules/<name> walking up from this package (workspaces hoist to the root). */
function findPackageDir(name) {
  let dir = PKG_DIR;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`gen-schemas: cannot find package ${name}; run npm install at the repository root`);
    dir = parent;
  }
}

function walkFiles(dir, suffix, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walkFiles(p, suffix, out);
    else if (entry.name.endsWith(suffix)) out.push(p);
  }
  return out.sort();
}

const TYPES_DIR = findPackageDir('kubernetes-types');
const CLIENT_MODELS_DIR = join(findPackageDir('@kubernetes/client-node'), 'dist', 'gen', 'models');
const TS_DIR = findPackageDir('typescript');
const dtsFiles = walkFiles(TYPES_DIR, '.d.ts');

// ---- up-to-date check -------------------------------------------------------------------

function inputsHash() {
  const h = createHash('sha256');
  h.update(`generator ${GENERATOR_VERSION}\n`);
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const dir of [TYPES_DIR, dirname(dirname(dirname(CLIENT_MODELS_DIR))), TS_DIR]) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    h.update(`${pkg.name}@${pkg.version}\n`);
  }
  for (const f of dtsFiles) h.update(`${relative(TYPES_DIR, f)} ${statSync(f).size}\n`);
  return h.digest('hex');
}

const hash = inputsHash();
const force = process.argv.includes('--force');
if (!force && existsSync(OUT_FILE) && existsSync(STAMP_FILE) && readFileSync(STAMP_FILE, 'utf8').trim() === hash) {
  console.log(`gen-schemas: up to date (${relative(process.cwd(), OUT_FILE) || OUT_FILE})`);
  process.exit(0);
}

const phases = [];
const phase = (name) => phases.push([name, performance.now()]);
phase('hash');
const ts = (await import('typescript')).default;
phase('import typescript');

// ---- names ------------------------------------------------------------------------------

/** Upstream Go package path (OpenAPI name prefix) of a kubernetes-types module. */
function packagePrefix(modulePath) {
  switch (modulePath) {
    case 'meta/v1': return 'io.k8s.apimachinery.pkg.apis.meta.v1';
    case 'api/resource': return 'io.k8s.apimachinery.pkg.api.resource';
    case 'runtime': return 'io.k8s.apimachinery.pkg.runtime';
    case 'version': return 'io.k8s.apimachinery.pkg.version';
    default:
      if (modulePath.startsWith('apiextensions/')) {
        return `io.k8s.apiextensions-apiserver.pkg.apis.${modulePath.replace('/', '.')}`;
      }
      return `io.k8s.api.${modulePath.replace('/', '.')}`;
  }
}

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
const MICRO_TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

// ---- client-node formats ----------------------------------------------------------------

/**
 * className → (json property → {type, format}) from client-node's attributeTypeMap.
 * client-node 1.x tracks a newer Kubernetes than kubernetes-types, which is fine: a property
 * keeps its Go type across releases.
 */
const clientModels = new Map();
/** Kind name → client classes for that kind in any group/version (fallback lookups). */
const clientByKind = new Map();
{
  const entryRe = /"baseName":\s*"([^"]+)",\s*"type":\s*"([^"]*)",\s*"format":\s*"([^"]*)"/g;
  for (const file of readdirSync(CLIENT_MODELS_DIR)) {
    if (!file.endsWith('.js') || file === 'ObjectSerializer.js' || file === 'all.js') continue;
    const cls = file.slice(0, -3);
    const text = readFileSync(join(CLIENT_MODELS_DIR, file), 'utf8');
    const props = new Map();
    for (const m of text.matchAll(entryRe)) props.set(m[1], { type: m[2], format: m[3] });
    if (props.size === 0) continue;
    clientModels.set(cls, props);
    const kind = cls.replace(/^[A-Z][a-z]*?(?:V\d+(?:alpha\d+|beta\d+)?)/, '').replace(/^V\d+(?:alpha\d+|beta\d+)?/, '');
    const list = clientByKind.get(kind) ?? [];
    list.push(cls);
    clientByKind.set(kind, list);
  }
}

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const formatStats = { exact: 0, fallback: 0, unmatched: [] };

/**
 * The OpenAPI format of a numeric/string property, from client-node. Lookup order:
 * 1. `<Group><Version><Kind>` (client-node's name for kinds that exist in several groups,
 *    e.g. CoreV1EndpointPort), then `<Version><Kind>` (V1Container);
 * 2. the same kind in any other group/version that has the property (types moved between
 *    versions, e.g. resource.k8s.io v1alpha2 → v1beta1).
 * Returns undefined when nothing matches; the caller then applies the documented default.
 */
function formatOf(modulePath, kind, prop) {
  const [group, version] = modulePath.includes('/') ? modulePath.split('/') : ['', ''];
  const exact = [];
  if (version) exact.push(`${cap(group)}${cap(version)}${kind}`, `${cap(version)}${kind}`);
  else if (modulePath === 'version') exact.push(`Version${kind}`);
  for (const cls of exact) {
    const p = clientModels.get(cls)?.get(prop);
    if (p) { formatStats.exact++; return p.format; }
  }
  for (const cls of clientByKind.get(kind) ?? []) {
    const p = clientModels.get(cls)?.get(prop);
    if (p) { formatStats.fallback++; return p.format; }
  }
  return undefined;
}

phase('client-node formats');

// ---- reading the declarations -----------------------------------------------------------

/** Description text of the JSDoc comment right before `node` (raw, so "@" in prose is kept). */
function description(sourceText, node) {
  const ranges = ts.getLeadingCommentRanges(sourceText, node.pos) ?? [];
  const last = ranges.filter((r) => sourceText.startsWith('/**', r.pos)).pop();
  if (!last) return undefined;
  const body = sourceText.slice(last.pos + 3, last.end - 2);
  const lines = body.split('\n').map((l) => l.replace(/^\s*\* ?/, '').replace(/\s+$/, ''));
  const text = lines.join('\n').trim();
  return text || undefined;
}

function propName(name) {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  throw new Error(`gen-schemas: unsupported property name kind ${ts.SyntaxKind[name.kind]}`);
}

/** All modules: modulePath → {prefix, decls: name → node, imports: local → modulePath, text}. */
const modules = new Map();
for (const file of dtsFiles) {
  const modulePath = relative(TYPES_DIR, file).replace(/\\/g, '/').replace(/\.d\.ts$/, '');
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const mod = { modulePath, prefix: packagePrefix(modulePath), decls: new Map(), imports: new Map(), text };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const from = st.moduleSpecifier.text;
      const target = join(dirname(modulePath), from).replace(/\\/g, '/');
      for (const el of st.importClause?.namedBindings?.elements ?? []) {
        mod.imports.set(el.name.text, target);
      }
    } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) {
      if (st.heritageClauses?.length) throw new Error(`gen-schemas: ${modulePath}.${st.name.text} extends another type (unsupported)`);
      mod.decls.set(st.name.text, st);
    }
  }
  modules.set(modulePath, mod);
}

/** Resolves a type name used in `mod` to {modulePath, name}. */
function resolveName(mod, name) {
  if (mod.decls.has(name)) return { modulePath: mod.modulePath, name };
  const from = mod.imports.get(name);
  if (from && modules.get(from)?.decls.has(name)) return { modulePath: from, name };
  throw new Error(`gen-schemas: cannot resolve type ${name} in ${mod.modulePath}`);
}

const schemaName = (modulePath, name) => `${packagePrefix(modulePath)}.${name}`;
const ref = (name) => ({ $ref: `#/components/schemas/${name}` });

/** Go-side numeric default when client-node has no entry: see `numberSchema`. */
function numberSchema(format, where) {
  switch (format) {
    case 'int32': case 'int64': return { type: 'integer', format };
    case 'double': case 'float': return { type: 'number', format: 'double' };
    case '': case undefined:
      // No format known. Go API numbers are integers almost everywhere (floats appear only in
      // apiextensions JSONSchemaProps, which client-node covers), so: integer, int64 range.
      if (format === undefined) formatStats.unmatched.push(where);
      return { type: 'integer', format: 'int64' };
    default: throw new Error(`gen-schemas: unexpected numeric format ${format} at ${where}`);
  }
}

/**
 * The schema of a property type. Grammar used by kubernetes-types: string | number | boolean,
 * string literal, `number | string` (IntOrString), Array<T> / T[], `{ [name: string]: T }`,
 * a reference to an interface or alias (Quantity, Time, MicroTime, unions).
 */
function typeSchema(mod, node, ctx) {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword: {
      const f = ctx.format;
      return f === 'byte' || f === 'date-time' ? { type: 'string', format: f } : { type: 'string' };
    }
    case ts.SyntaxKind.NumberKeyword: return numberSchema(ctx.format, ctx.where);
    case ts.SyntaxKind.BooleanKeyword: return { type: 'boolean' };
    case ts.SyntaxKind.LiteralType:
      if (ts.isStringLiteral(node.literal)) return { type: 'string' };
      break;
    case ts.SyntaxKind.UnionType: {
      const kinds = node.types.map((t) => t.kind).sort();
      if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
        return ref(INT_OR_STRING);
      }
      break;
    }
    case ts.SyntaxKind.ArrayType:
      return { type: 'array', items: typeSchema(mod, node.elementType, ctx) };
    case ts.SyntaxKind.TypeReference: {
      const name = node.typeName.text;
      if (name === 'Array' && node.typeArguments?.length === 1) {
        return { type: 'array', items: typeSchema(mod, node.typeArguments[0], ctx) };
      }
      const r = resolveName(mod, name);
      return ref(schemaName(r.modulePath, r.name));
    }
    case ts.SyntaxKind.TypeLiteral: {
      const members = node.members;
      if (members.length === 1 && ts.isIndexSignatureDeclaration(members[0])) {
        return { type: 'object', additionalProperties: typeSchema(mod, members[0].type, ctx) };
      }
      break;
    }
    default: break;
  }
  throw new Error(`gen-schemas: unsupported type ${ts.SyntaxKind[node.kind]} at ${ctx.where}`);
}

/** A property schema: refs that carry a description or extensions are wrapped in allOf. */
function propertySchema(schema, desc) {
  if (schema.$ref) {
    if (!desc) return schema;
    return { allOf: [schema], description: desc };
  }
  return desc ? { description: desc, ...schema } : schema;
}

function literalOf(member) {
  const t = member?.type;
  return t && ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined;
}

phase('parse declarations');
const schemas = {};
const gvkSchemas = [];

for (const mod of modules.values()) {
  for (const [name, decl] of mod.decls) {
    const full = schemaName(mod.modulePath, name);
    const desc = description(mod.text, decl);
    if (ts.isTypeAliasDeclaration(decl)) {
      // Quantity, Time and MicroTime are `string` aliases; JSONSchemaPropsOr* are unions that
      // Go serializes as either shape: no type, like upstream.
      if (full === QUANTITY) {
        // Upstream v3 (Quantity.OpenAPIV3OneOfTypes): oneOf string | number.
        schemas[full] = { description: desc, oneOf: [{ type: 'string' }, { type: 'number' }] };
      } else if (full === TIME || full === MICRO_TIME) {
        schemas[full] = { description: desc, type: 'string', format: 'date-time' };
      } else {
        schemas[full] = { description: desc };
      }
      continue;
    }
    const properties = {};
    const required = [];
    const byName = new Map();
    for (const member of decl.members) {
      if (!ts.isPropertySignature(member) || !member.type) {
        throw new Error(`gen-schemas: unsupported member in ${full}`);
      }
      const prop = propName(member.name);
      byName.set(prop, member);
      const where = `${full}.${prop}`;
      const needsFormat = /\b(number|string)\b/.test(mod.text.slice(member.type.pos, member.type.end));
      const format = needsFormat ? formatOf(mod.modulePath, name, prop) : undefined;
      properties[prop] = propertySchema(typeSchema(mod, member.type, { format, where }), description(mod.text, member));
      if (!member.questionToken) required.push(prop);
    }
    const schema = { description: desc, type: 'object' };
    if (Object.keys(properties).length) schema.properties = properties;
    if (required.length) schema.required = required;
    const apiVersion = literalOf(byName.get('apiVersion'));
    const kind = literalOf(byName.get('kind'));
    if (apiVersion && kind) {
      const i = apiVersion.indexOf('/');
      const group = i < 0 ? '' : apiVersion.slice(0, i);
      const version = i < 0 ? apiVersion : apiVersion.slice(i + 1);
      schema['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
      gvkSchemas.push({ group, version });
    }
    schemas[full] = schema;
  }
}

// kubernetes-types omits the x-kubernetes-* fields of JSONSchemaProps (their JSON names are not
// identifiers); upstream apiextensions v1 has them, so CRD bodies using them must decode.
{
  const props = schemas['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps']?.properties;
  if (!props) throw new Error('gen-schemas: JSONSchemaProps missing');
  const str = (description) => ({ description, type: 'string' });
  const bool = (description) => ({ description, type: 'boolean' });
  Object.assign(props, {
    'x-kubernetes-embedded-resource': bool('x-kubernetes-embedded-resource defines that the value is an embedded Kubernetes runtime.Object, with TypeMeta and ObjectMeta.'),
    'x-kubernetes-int-or-string': bool('x-kubernetes-int-or-string specifies that this value is either an integer or a string.'),
    'x-kubernetes-list-map-keys': { description: 'x-kubernetes-list-map-keys annotates an array with the x-kubernetes-list-type `map` by specifying the keys used as the index of the map.', type: 'array', items: { type: 'string' } },
    'x-kubernetes-list-type': str('x-kubernetes-list-type annotates an array to further describe its topology: atomic (the default), set or map.'),
    'x-kubernetes-map-type': str('x-kubernetes-map-type annotates an object to further describe its topology: granular (the default) or atomic.'),
    'x-kubernetes-preserve-unknown-fields': bool('x-kubernetes-preserve-unknown-fields stops the API server decoding step from pruning fields which are not specified in the validation schema.'),
    'x-kubernetes-validations': { description: 'x-kubernetes-validations describes a list of validation rules written in the CEL expression language.', type: 'array', items: { $ref: '#/components/schemas/io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule' } },
  });
}

// IntOrString is not a declared type in kubernetes-types (`number | string` inline).
schemas[INT_OR_STRING] = {
  description: 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
  // Upstream v3 (IntOrString.OpenAPIV3OneOfTypes + OpenAPISchemaFormat).
  format: 'int-or-string',
  oneOf: [{ type: 'integer' }, { type: 'string' }],
};

// Empty Go structs that hold arbitrary JSON (their own UnmarshalJSON keeps the raw bytes).
for (const name of ['io.k8s.apimachinery.pkg.runtime.RawExtension', `${META}.FieldsV1`, `${META}.Patch`]) {
  if (!schemas[name]) throw new Error(`gen-schemas: missing ${name}`);
  schemas[name].type = 'object';
}

// Meta kinds that every group version serves (upstream lists one GVK per group version).
{
  const gvs = new Map([['/v1', { group: '', version: 'v1' }]]);
  for (const gv of gvkSchemas) gvs.set(`${gv.group}/${gv.version}`, gv);
  const sorted = [...gvs.values()].sort((a, b) => (a.group + '/' + a.version).localeCompare(b.group + '/' + b.version));
  for (const kind of ['DeleteOptions', 'WatchEvent']) {
    schemas[`${META}.${kind}`]['x-kubernetes-group-version-kind'] = sorted.map((gv) => ({ group: gv.group, kind, version: gv.version }));
  }
  schemas[`${META}.Status`]['x-kubernetes-group-version-kind'] = [{ group: '', kind: 'Status', version: 'v1' }];
}

// ---- patch metadata ---------------------------------------------------------------------
/*
 * PATCH_META: strategic-merge-patch and server-side-apply semantics, our own table.
 * Facts taken from the upstream Go types (k8s.io/api <group>/<version>/types.go and apimachinery
 * pkg/apis/meta/v1/types.go: `patchStrategy`/`patchMergeKey` struct tags and the
 * +listType/+listMapKey/+mapType/+structType markers), restricted to the fields that exist in
 * the kubernetes-types version we generate from. The generator fails on an entry that names
 * a schema or property that does not exist, so the table cannot silently rot.
 *
 * Semantics: a list with a merge key is merged element-wise by that key in SMP; a list
 * without one is ATOMIC (SMP replaces it whole; SSA's default for unmarked lists is atomic
 * too). ATOMIC entries are written out for the lists people ask about (tolerations, taints,
 * envFrom ...) and emitted as x-kubernetes-list-type: atomic like upstream; any list not in
 * this table is atomic as well.
 *
 *   M(key, strategy?, mapKeys?) → merge key + strategy ("merge" default) + listType map
 *   MK(key, listType)           → merge key + strategy merge, but a non-map list type
 *                                 (upstream JobStatus.conditions, PodStatus.hostIPs: atomic)
 *   SET_MERGE                   → primitive list merged as a set (finalizers, podCIDRs)
 *   SET                         → listType set, no patch strategy
 *   MAP(keys...)                → listType map for SSA only, no SMP merge key (SMP: atomic)
 *   ATOMIC                      → listType atomic (SMP replaces the whole list)
 *   MAP_ATOMIC                  → a map (or struct) replaced as a whole (mapType atomic)
 *   RETAIN_KEYS / REPLACE       → object-level patch strategies
 */
const M = (key, strategy = 'merge', mapKeys = [key]) => ({
  'x-kubernetes-list-map-keys': mapKeys, 'x-kubernetes-list-type': 'map',
  'x-kubernetes-patch-merge-key': key, 'x-kubernetes-patch-strategy': strategy,
});
const MK = (key, listType) => ({
  'x-kubernetes-list-type': listType, 'x-kubernetes-patch-merge-key': key, 'x-kubernetes-patch-strategy': 'merge',
});
const SET_MERGE = { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' };
const SET = { 'x-kubernetes-list-type': 'set' };
const MAP = (...keys) => ({ 'x-kubernetes-list-map-keys': keys, 'x-kubernetes-list-type': 'map' });
const ATOMIC = { 'x-kubernetes-list-type': 'atomic' };
const MAP_ATOMIC = { 'x-kubernetes-map-type': 'atomic' };
const MAP_GRANULAR = { 'x-kubernetes-map-type': 'granular' };
const RETAIN_KEYS = { 'x-kubernetes-patch-strategy': 'retainKeys' };
const REPLACE = { 'x-kubernetes-patch-strategy': 'replace' };
const CONDITIONS = M('type');

const PATCH_META = {
  // ---- meta/v1
  'meta.v1.ObjectMeta': { ownerReferences: M('uid'), finalizers: SET_MERGE, managedFields: ATOMIC },
  'meta.v1.LabelSelector': { matchExpressions: ATOMIC },
  'meta.v1.LabelSelectorRequirement': { values: ATOMIC },
  'meta.v1.StatusDetails': { causes: ATOMIC },
  'meta.v1.DeleteOptions': { dryRun: ATOMIC },
  'meta.v1.APIGroup': { versions: ATOMIC, serverAddressByClientCIDRs: ATOMIC },
  'meta.v1.APIGroupList': { groups: ATOMIC },
  'meta.v1.APIResource': { shortNames: ATOMIC, categories: ATOMIC },
  'meta.v1.APIResourceList': { resources: ATOMIC },
  'meta.v1.APIVersions': { versions: ATOMIC, serverAddressByClientCIDRs: ATOMIC },
  // ---- core/v1: pods and containers
  'core.v1.PodSpec': {
    volumes: M('name', 'merge,retainKeys'),
    initContainers: M('name'),
    containers: M('name'),
    ephemeralContainers: M('name'),
    imagePullSecrets: M('name'),
    hostAliases: M('ip'),
    topologySpreadConstraints: M('topologyKey', 'merge', ['topologyKey', 'whenUnsatisfiable']),
    resourceClaims: M('name', 'merge,retainKeys'),
    schedulingGates: M('name'),
    tolerations: ATOMIC, // no merge key upstream: SMP replaces the list
    readinessGates: ATOMIC,
    nodeSelector: MAP_ATOMIC,
  },
  'core.v1.Container': {
    ports: M('containerPort', 'merge', ['containerPort', 'protocol']),
    env: M('name'),
    volumeMounts: M('mountPath'),
    volumeDevices: M('devicePath'),
    envFrom: ATOMIC, // no merge key upstream
    resizePolicy: ATOMIC, // no merge key upstream
    command: ATOMIC,
    args: ATOMIC,
  },
  'core.v1.EphemeralContainer': {
    ports: M('containerPort', 'merge', ['containerPort', 'protocol']),
    env: M('name'),
    volumeMounts: M('mountPath'),
    volumeDevices: M('devicePath'),
    envFrom: ATOMIC,
    resizePolicy: ATOMIC,
    command: ATOMIC,
    args: ATOMIC,
  },
  'core.v1.ResourceRequirements': { claims: MAP('name') },
  'core.v1.PodStatus': {
    conditions: CONDITIONS,
    podIPs: M('ip'),
    hostIPs: MK('ip', 'atomic'),
    resourceClaimStatuses: M('name', 'merge,retainKeys'),
    initContainerStatuses: ATOMIC,
    containerStatuses: ATOMIC,
    ephemeralContainerStatuses: ATOMIC,
  },
  'core.v1.PodSecurityContext': { supplementalGroups: ATOMIC, sysctls: ATOMIC },
  'core.v1.PodDNSConfig': { nameservers: ATOMIC, searches: ATOMIC, options: ATOMIC },
  'core.v1.HostAlias': { hostnames: ATOMIC },
  'core.v1.TopologySpreadConstraint': { matchLabelKeys: ATOMIC },
  'core.v1.Capabilities': { add: ATOMIC, drop: ATOMIC },
  'core.v1.ExecAction': { command: ATOMIC },
  'core.v1.HTTPGetAction': { httpHeaders: ATOMIC },
  'core.v1.NodeSelector': { nodeSelectorTerms: ATOMIC },
  'core.v1.NodeSelectorTerm': { matchExpressions: ATOMIC, matchFields: ATOMIC },
  'core.v1.NodeSelectorRequirement': { values: ATOMIC },
  'core.v1.NodeAffinity': { preferredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  'core.v1.PodAffinity': { requiredDuringSchedulingIgnoredDuringExecution: ATOMIC, preferredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  'core.v1.PodAntiAffinity': { requiredDuringSchedulingIgnoredDuringExecution: ATOMIC, preferredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  'core.v1.PodAffinityTerm': { namespaces: ATOMIC, matchLabelKeys: ATOMIC, mismatchLabelKeys: ATOMIC },
  'core.v1.ProjectedVolumeSource': { sources: ATOMIC },
  'core.v1.ConfigMapVolumeSource': { items: ATOMIC },
  'core.v1.SecretVolumeSource': { items: ATOMIC },
  'core.v1.DownwardAPIVolumeSource': { items: ATOMIC },
  // ---- core/v1: nodes, namespaces, services, others
  'core.v1.NodeSpec': { podCIDRs: SET_MERGE, taints: ATOMIC /* no merge key upstream */ },
  'core.v1.NodeStatus': {
    conditions: CONDITIONS, addresses: M('type'),
    images: ATOMIC, volumesInUse: ATOMIC, volumesAttached: ATOMIC, runtimeHandlers: ATOMIC,
  },
  'core.v1.ContainerImage': { names: ATOMIC },
  'core.v1.NamespaceSpec': { finalizers: ATOMIC },
  'core.v1.NamespaceStatus': { conditions: CONDITIONS },
  'core.v1.ServiceSpec': {
    ports: M('port', 'merge', ['port', 'protocol']),
    selector: MAP_ATOMIC,
    clusterIPs: ATOMIC, externalIPs: ATOMIC, loadBalancerSourceRanges: ATOMIC, ipFamilies: ATOMIC,
  },
  'core.v1.ServiceStatus': { conditions: CONDITIONS },
  'core.v1.LoadBalancerStatus': { ingress: ATOMIC },
  'core.v1.ServiceAccount': { secrets: M('name'), imagePullSecrets: ATOMIC },
  'core.v1.ReplicationControllerSpec': { selector: MAP_ATOMIC },
  'core.v1.ReplicationControllerStatus': { conditions: CONDITIONS },
  'core.v1.PersistentVolumeClaimStatus': { conditions: CONDITIONS, accessModes: ATOMIC, allocatedResourceStatuses: MAP_GRANULAR },
  'core.v1.PersistentVolumeClaimSpec': { accessModes: ATOMIC },
  'core.v1.PersistentVolumeSpec': { accessModes: ATOMIC, mountOptions: ATOMIC, claimRef: MAP_GRANULAR },
  'core.v1.ComponentStatus': { conditions: CONDITIONS },
  'core.v1.Endpoints': { subsets: ATOMIC },
  'core.v1.EndpointSubset': { addresses: ATOMIC, notReadyAddresses: ATOMIC, ports: ATOMIC },
  'core.v1.LimitRangeSpec': { limits: ATOMIC },
  'core.v1.ResourceQuotaSpec': { scopes: ATOMIC },
  // ---- apps/v1
  'apps.v1.DeploymentSpec': { strategy: RETAIN_KEYS },
  'apps.v1.DeploymentStatus': { conditions: CONDITIONS },
  'apps.v1.ReplicaSetStatus': { conditions: CONDITIONS },
  'apps.v1.StatefulSetStatus': { conditions: CONDITIONS },
  'apps.v1.StatefulSetSpec': { volumeClaimTemplates: ATOMIC },
  'apps.v1.DaemonSetStatus': { conditions: CONDITIONS },
  // ---- batch/v1
  'batch.v1.JobStatus': { conditions: MK('type', 'atomic') },
  'batch.v1.CronJobStatus': { active: ATOMIC },
  'batch.v1.UncountedTerminatedPods': { succeeded: SET, failed: SET },
  'batch.v1.PodFailurePolicy': { rules: ATOMIC },
  'batch.v1.PodFailurePolicyRule': { onPodConditions: ATOMIC },
  'batch.v1.PodFailurePolicyOnExitCodesRequirement': { values: SET },
  // ---- others
  'autoscaling.v2.HorizontalPodAutoscalerStatus': { conditions: CONDITIONS, currentMetrics: ATOMIC },
  'autoscaling.v2.HorizontalPodAutoscalerSpec': { metrics: ATOMIC },
  'policy.v1.PodDisruptionBudgetSpec': { selector: REPLACE },
  'policy.v1.PodDisruptionBudgetStatus': { conditions: CONDITIONS },
  'discovery.v1.Endpoint': { addresses: SET },
  'rbac.v1.PolicyRule': { verbs: ATOMIC, apiGroups: ATOMIC, resources: ATOMIC, resourceNames: ATOMIC, nonResourceURLs: ATOMIC },
  'rbac.v1.Role': { rules: ATOMIC },
  'rbac.v1.ClusterRole': { rules: ATOMIC },
  'rbac.v1.RoleBinding': { subjects: ATOMIC },
  'rbac.v1.ClusterRoleBinding': { subjects: ATOMIC },
  'apiextensions.v1.JSONSchemaProps': { 'x-kubernetes-validations': M('rule'), 'x-kubernetes-list-map-keys': ATOMIC },
};

/** Structs that upstream marks +structType=atomic: replaced as a whole by SSA. */
const ATOMIC_STRUCTS = [
  'meta.v1.OwnerReference', 'meta.v1.LabelSelector',
  'core.v1.SecretReference', 'core.v1.ObjectFieldSelector', 'core.v1.ResourceFieldSelector',
  'core.v1.ConfigMapKeySelector', 'core.v1.SecretKeySelector', 'core.v1.NodeSelector', 'core.v1.NodeSelectorTerm',
  'core.v1.TopologySelectorTerm', 'core.v1.EndpointAddress', 'core.v1.EndpointPort', 'core.v1.ObjectReference',
  'core.v1.LocalObjectReference', 'core.v1.TypedLocalObjectReference', 'core.v1.ScopeSelector',
  'autoscaling.v1.CrossVersionObjectReference', 'discovery.v1.EndpointPort', 'networking.v1.ServiceBackendPort',
  'rbac.v1.Subject', 'rbac.v1.RoleRef',
];

const tableName = (short) => {
  if (short.startsWith('meta.')) return `io.k8s.apimachinery.pkg.apis.${short}`;
  if (short.startsWith('apiextensions.')) return `io.k8s.apiextensions-apiserver.pkg.apis.${short}`;
  return `io.k8s.api.${short}`;
};
let patchEntries = 0;
for (const [short, props] of Object.entries(PATCH_META)) {
  const name = tableName(short);
  const schema = schemas[name];
  if (!schema) throw new Error(`gen-schemas: PATCH_META names unknown schema ${name}`);
  for (const [prop, meta] of Object.entries(props)) {
    const p = schema.properties?.[prop];
    if (!p) throw new Error(`gen-schemas: PATCH_META names unknown property ${name}.${prop}`);
    const isList = p.type === 'array';
    if ('x-kubernetes-list-type' in meta && !isList) throw new Error(`gen-schemas: ${name}.${prop} is not a list`);
    if (p.$ref) { // a bare ref gets wrapped so the extensions can sit beside it
      p.allOf = [{ $ref: p.$ref }];
      delete p.$ref;
    }
    Object.assign(p, meta);
    patchEntries++;
  }
}
for (const short of ATOMIC_STRUCTS) {
  const schema = schemas[tableName(short)];
  if (!schema) throw new Error(`gen-schemas: ATOMIC_STRUCTS names unknown schema ${tableName(short)}`);
  schema['x-kubernetes-map-type'] = 'atomic';
}

// ---- consistency checks -----------------------------------------------------------------

function checkRefs(node, where) {
  if (Array.isArray(node)) { node.forEach((n, i) => checkRefs(n, `${where}[${i}]`)); return; }
  if (node === null || typeof node !== 'object') return;
  if (typeof node.$ref === 'string') {
    const target = node.$ref.replace('#/components/schemas/', '');
    if (!schemas[target]) throw new Error(`gen-schemas: dangling $ref ${node.$ref} at ${where}`);
  }
  for (const [k, v] of Object.entries(node)) if (typeof v === 'object') checkRefs(v, `${where}.${k}`);
}
for (const [name, schema] of Object.entries(schemas)) {
  if (schema.description === undefined) delete schema.description;
  checkRefs(schema, name);
}

phase('build schemas');

// ---- write ------------------------------------------------------------------------------

const sortedSchemas = {};
for (const name of Object.keys(schemas).sort()) sortedSchemas[name] = schemas[name];
const body = JSON.stringify({ generator: GENERATOR_VERSION, inputsHash: hash, schemas: sortedSchemas });
mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(`${OUT_FILE}.tmp`, body);
renameSync(`${OUT_FILE}.tmp`, OUT_FILE);
writeFileSync(STAMP_FILE, `${hash}\n`);

const ms = Math.round(performance.now() - started);
console.log(
  `gen-schemas: ${Object.keys(schemas).length} schemas, ${patchEntries} patch-metadata entries, ` +
  `${(body.length / 1024 / 1024).toFixed(2)} MiB, ${ms} ms ` +
  `(formats: ${formatStats.exact} exact, ${formatStats.fallback} by kind, ${formatStats.unmatched.length} defaulted)`,
);
if (process.argv.includes('--verbose')) {
  phase('write');
  let prev = started;
  console.log(`gen-schemas: phases ${phases.map(([n, t]) => { const d = Math.round(t - prev); prev = t; return `${n} ${d} ms`; }).join(', ')}`);
}
if (formatStats.unmatched.length && process.argv.includes('--verbose')) {
  console.log(`gen-schemas: numeric properties without a client-node format (integer/int64):\n  ${formatStats.unmatched.join('\n  ')}`);
}
