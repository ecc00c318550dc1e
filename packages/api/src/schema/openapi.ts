/**
 * OpenAPI v3 documents as kubectl 1.27–1.33 reads them (see docs kubectl-contract §8):
 * - `/openapi/v3` index: one entry per group version, `serverRelativeURL` carrying `?hash=`;
 * - one document per group version: `paths` with an operation per verb, each tagged
 *   `x-kubernetes-action` and `x-kubernetes-group-version-kind` (an object, like upstream)
 *   and listing its query parameters inline (kubectl's server-side-validation probe looks
 *   only at `parameters` inside the PATCH operation for `fieldValidation`);
 *   `components.schemas` = the closure of the kinds served there plus Status, DeleteOptions,
 *   WatchEvent and Patch (explain and strategic-merge patches read them).
 *
 * Builders are pure and deterministic (sorted keys), so a document's hash changes only when
 * its content does. Build once at startup and serve the cached bytes (`buildOpenApi`).
 */
import { createHash } from 'node:crypto';
import { groupVersionPath, type GroupVersionKind, type ResourceDef, type SubresourceDef, type Verb } from '../resources.js';
import { defaultSchemaRegistry, SCHEMA_REF_PREFIX, SchemaNames, type OpenApiSchema, type SchemaRegistry } from './registry.js';

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path';
  description: string;
  required?: boolean;
  schema: { type: 'string' | 'boolean' | 'integer'; uniqueItems: true };
}

export interface OpenApiMediaTypes { [mediaType: string]: { schema: OpenApiSchema } }

export interface OpenApiOperation {
  description: string;
  operationId: string;
  parameters: OpenApiParameter[];
  requestBody?: { content: OpenApiMediaTypes; required?: true };
  responses: Record<string, { description: string; content?: OpenApiMediaTypes }>;
  tags: string[];
  'x-kubernetes-action': 'get' | 'list' | 'watch' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'connect';
  'x-kubernetes-group-version-kind'?: GroupVersionKind;
}

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';
export type OpenApiPathItem = Partial<Record<HttpMethod, OpenApiOperation>>;

export interface OpenApiDocument {
  openapi: '3.0.0';
  info: { title: string; version: string };
  paths: Record<string, OpenApiPathItem>;
  components: { schemas: Record<string, OpenApiSchema> };
}

export interface OpenApiIndex {
  paths: Record<string, { serverRelativeURL: string }>;
}

export interface OpenApiOptions {
  /** Defaults to the generated schemas. */
  registry?: SchemaRegistry;
  /** `info.version` of the documents; default "v1.32.0". */
  kubernetesVersion?: string;
}

/** The index key of a group version: "api/v1", "apis/apps/v1". */
export function openApiPathKey(gv: { group: string; version: string }): string {
  return groupVersionPath(gv).slice(1);
}

/** Group versions in resource-table order, each once. */
function groupVersionsOf(resources: readonly ResourceDef[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of resources) {
    const k = `${r.group}/${r.version}`;
    if (!seen.has(k)) seen.set(k, { group: r.group, version: r.version });
  }
  return [...seen.values()];
}

/**
 * The `/openapi/v3` body. `hashes` maps an index key ("api/v1", "apis/apps/v1") to its
 * document's hash (`documentHash`); every group version of `resources` must have one.
 */
export function openApiIndex(resources: readonly ResourceDef[],
  hashes: ReadonlyMap<string, string> | Readonly<Record<string, string>>): OpenApiIndex {
  const lookup = (k: string): string | undefined =>
    hashes instanceof Map ? hashes.get(k) : (hashes as Readonly<Record<string, string>>)[k];
  const paths: OpenApiIndex['paths'] = {};
  for (const gv of groupVersionsOf(resources)) {
    const key = openApiPathKey(gv);
    const hash = lookup(key);
    if (!hash) throw new Error(`openApiIndex: no hash for ${key}`);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths: sortKeys(paths) };
}

/** Upper-case hex SHA-512 of the document's JSON (or of the given serialized body). */
export function documentHash(doc: OpenApiDocument | string): string {
  const body = typeof doc === 'string' ? doc : JSON.stringify(doc);
  return createHash('sha512').update(body).digest('hex').toUpperCase();
}

export interface BuiltOpenApi {
  /** The /openapi/v3 index. */
  index: OpenApiIndex;
  /** By index key ("api/v1"): the document, its serialized body (serve these bytes) and hash (the ETag). */
  documents: Map<string, { document: OpenApiDocument; body: string; hash: string }>;
}

/** Builds every group version's document, its serialized body and hash, and the index. */
export function buildOpenApi(resources: readonly ResourceDef[], opts: OpenApiOptions = {}): BuiltOpenApi {
  const documents: BuiltOpenApi['documents'] = new Map();
  for (const gv of groupVersionsOf(resources)) {
    const document = openApiDocument(resources, gv.group, gv.version, opts);
    const body = JSON.stringify(document);
    documents.set(openApiPathKey(gv), { document, body, hash: documentHash(body) });
  }
  const hashes = new Map([...documents].map(([k, d]) => [k, d.hash]));
  return { index: openApiIndex(resources, hashes), documents };
}

// ---- the per-group-version document -------------------------------------------------------

const ref = (name: string): OpenApiSchema => ({ $ref: `${SCHEMA_REF_PREFIX}${name}` });
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Upstream's operationId group part: "" → Core, apps → Apps, rbac.authorization.k8s.io →
 * RbacAuthorization; groups outside k8s.io are reversed (example.com → ComExample).
 */
function groupIdPart(group: string): string {
  if (!group) return 'Core';
  const parts = group.endsWith('.k8s.io') ? group.slice(0, -'.k8s.io'.length).split('.') : group.split('.').reverse();
  return parts.map((p) => p.split('-').map(cap).join('')).join('');
}

function tagOf(group: string, version: string): string {
  const g = groupIdPart(group);
  return `${g.charAt(0).toLowerCase()}${g.slice(1)}_${version}`;
}

const query = (name: string, type: 'string' | 'boolean' | 'integer', description: string): OpenApiParameter =>
  ({ name, in: 'query', description, schema: { type, uniqueItems: true } });

const P = {
  pretty: query('pretty', 'string', "If 'true', then the output is pretty printed."),
  dryRun: query('dryRun', 'string', 'When present, indicates that modifications should not be persisted. Valid values: All (process the request fully without persisting it).'),
  fieldManager: query('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. Required for apply requests (application/apply-patch).'),
  fieldValidation: query('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values: Ignore (drop them silently), Warn (drop them and send a warning header per field; the default), Strict (fail the request with a BadRequest error listing them).'),
  force: query('force', 'boolean', 'Force is going to "force" Apply requests: it re-acquires fields owned by other managers. Must be unset for non-apply patch requests.'),
  allowWatchBookmarks: query('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK". Ignored when not watching.'),
  continue: query('continue', 'string', 'The continue token of a previous paged list call, to retrieve the next page.'),
  fieldSelector: query('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: query('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: query('limit', 'integer', 'limit is a maximum number of responses to return for a list call; the list metadata carries a continue token when more items exist.'),
  resourceVersion: query('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from. Defaults to unset.'),
  resourceVersionMatch: query('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls. Defaults to unset.'),
  sendInitialEvents: query('sendInitialEvents', 'boolean', 'With watch=true, start the watch stream with synthetic events for the current state of the collection.'),
  timeoutSeconds: query('timeoutSeconds', 'integer', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'),
  watch: query('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'),
  gracePeriodSeconds: query('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted. Zero means delete immediately. Defaults to the per-object value.'),
  orphanDependents: query('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy. Should the dependent objects be orphaned.'),
  propagationPolicy: query('propagationPolicy', 'string', "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'."),
  container: query('container', 'string', 'The container for which to stream logs. Defaults to only container if there is one container in the pod.'),
  follow: query('follow', 'boolean', 'Follow the log stream of the pod. Defaults to false.'),
  limitBytes: query('limitBytes', 'integer', 'If set, the number of bytes to read from the server before terminating the log output.'),
  previous: query('previous', 'boolean', 'Return previous terminated container logs. Defaults to false.'),
  sinceSeconds: query('sinceSeconds', 'integer', 'A relative time in seconds before the current time from which to show logs.'),
  sinceTime: query('sinceTime', 'string', 'An RFC3339 timestamp from which to show logs.'),
  tailLines: query('tailLines', 'integer', 'If set, the number of lines from the end of the logs to show.'),
  timestamps: query('timestamps', 'boolean', 'If true, add an RFC3339 timestamp at the beginning of every line of log output. Defaults to false.'),
};

const pathParam = (name: string, description: string): OpenApiParameter =>
  ({ name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } });
const NAMESPACE_PARAM = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.pretty,
  P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const LIST_PARAMS_NO_WATCH = [P.continue, P.fieldSelector, P.labelSelector, P.limit, P.pretty,
  P.resourceVersion, P.resourceVersionMatch];
const CREATE_PARAMS = [P.pretty, P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.pretty, P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.pretty, P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const DELETECOLLECTION_PARAMS = [P.pretty, P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.labelSelector,
  P.limit, P.orphanDependents, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents,
  P.timeoutSeconds];
const LOG_PARAMS = [P.container, P.follow, P.limitBytes, P.pretty, P.previous, P.sinceSeconds, P.sinceTime,
  P.tailLines, P.timestamps];

const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json',
  'application/strategic-merge-patch+json'];
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

const json = (schema: OpenApiSchema, watch = false): OpenApiMediaTypes =>
  watch ? { 'application/json': { schema }, 'application/json;stream=watch': { schema } } : { 'application/json': { schema } };
const ok = (schema: OpenApiSchema, watch = false) => ({ description: 'OK', content: json(schema, watch) });
const UNAUTHORIZED = { description: 'Unauthorized' };

/**
 * The OpenAPI document of one group version: paths for every resource of `resources` in it and
 * the component schemas they need. Throws when the group version has no resources, or a kind
 * has no schema in the registry (add it to the resource table's `schema` or the generator).
 * The result shares schema and parameter objects with the registry and other documents:
 * treat it as read-only (serialize it, don't edit it).
 */
export function openApiDocument(resources: readonly ResourceDef[], group: string, version: string,
  opts: OpenApiOptions = {}): OpenApiDocument {
  const registry = opts.registry ?? defaultSchemaRegistry();
  const inGv = resources.filter((r) => r.group === group && r.version === version);
  if (inGv.length === 0) throw new Error(`openApiDocument: no resources in ${group || 'core'}/${version}`);

  const paths: Record<string, OpenApiPathItem> = {};
  const roots = new Set<string>([SchemaNames.status, SchemaNames.deleteOptions, SchemaNames.watchEvent, SchemaNames.patch,
    'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta']);
  const extra: Record<string, OpenApiSchema> = {};
  const tags = [tagOf(group, version)];
  const gvPrefix = `${groupIdPart(group)}${cap(version)}`;
  const base = groupVersionPath({ group, version });

  const schemaOf = (gvk: GroupVersionKind, preferred?: string): string => {
    const name = preferred && registry.get(preferred) ? preferred : registry.nameForKind(gvk);
    if (!name) throw new Error(`openApiDocument: no schema for ${gvk.group || 'core'}/${gvk.version} ${gvk.kind}`);
    roots.add(name);
    return name;
  };
  const add = (path: string, method: HttpMethod, op: OpenApiOperation): void => {
    (paths[path] ??= {})[method] = op;
  };

  // GET /api/v1/ : the APIResourceList of the group version (discovery).
  if (registry.get('io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList')) {
    roots.add('io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList');
    add(`${base}/`, 'get', {
      description: 'get available resources', operationId: `get${gvPrefix}APIResources`, parameters: [],
      responses: { 200: ok(ref('io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList')), 401: UNAUTHORIZED },
      tags, 'x-kubernetes-action': 'get',
    });
  }

  for (const r of inGv) {
    const gvk: GroupVersionKind = { group, version, kind: r.kind };
    const kindSchema = schemaOf(gvk, r.schema);
    const has = (v: Verb) => r.verbs.includes(v);
    const ns = r.namespaced ? 'Namespaced' : '';
    const nsPath = r.namespaced ? `${base}/namespaces/{namespace}` : base;
    const nsParams = r.namespaced ? [NAMESPACE_PARAM] : [];
    const collection = `${nsPath}/${r.plural}`;
    const item = `${collection}/{name}`;
    const nameParam = pathParam('name', `name of the ${r.kind}`);
    const kindRef = ref(kindSchema);

    let listSchema: string | undefined;
    if (has('list')) {
      listSchema = listSchemaName(registry, r, kindSchema, extra);
      if (!extra[listSchema]) roots.add(listSchema);
    }
    const listParams = has('watch') ? LIST_PARAMS : LIST_PARAMS_NO_WATCH;

    if (has('list') && listSchema) {
      add(collection, 'get', {
        description: `list or watch objects of kind ${r.kind}`, operationId: `list${gvPrefix}${ns}${r.kind}`,
        parameters: [...nsParams, ...listParams],
        responses: { 200: ok(ref(listSchema), has('watch')), 401: UNAUTHORIZED },
        tags, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk,
      });
      if (r.namespaced) {
        add(`${base}/${r.plural}`, 'get', {
          description: `list or watch objects of kind ${r.kind}`, operationId: `list${gvPrefix}${r.kind}ForAllNamespaces`,
          parameters: listParams,
          responses: { 200: ok(ref(listSchema), has('watch')), 401: UNAUTHORIZED },
          tags, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk,
        });
      }
    }
    if (has('create')) {
      add(collection, 'post', {
        description: `create a ${r.kind}`, operationId: `create${gvPrefix}${ns}${r.kind}`,
        parameters: [...nsParams, ...CREATE_PARAMS],
        requestBody: { content: { '*/*': { schema: kindRef } }, required: true },
        responses: { 200: ok(kindRef), 201: { ...ok(kindRef), description: 'Created' }, 202: { ...ok(kindRef), description: 'Accepted' }, 401: UNAUTHORIZED },
        tags, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk,
      });
    }
    if (has('deletecollection')) {
      add(collection, 'delete', {
        description: `delete collection of ${r.kind}`, operationId: `delete${gvPrefix}Collection${ns}${r.kind}`,
        parameters: [...nsParams, ...DELETECOLLECTION_PARAMS],
        requestBody: { content: { '*/*': { schema: ref(SchemaNames.deleteOptions) } } },
        responses: { 200: ok(ref(SchemaNames.status)), 401: UNAUTHORIZED },
        tags, 'x-kubernetes-action': 'deletecollection', 'x-kubernetes-group-version-kind': gvk,
      });
    }
    if (has('get')) {
      add(item, 'get', {
        description: `read the specified ${r.kind}`, operationId: `read${gvPrefix}${ns}${r.kind}`,
        parameters: [nameParam, ...nsParams, P.pretty],
        responses: { 200: ok(kindRef), 401: UNAUTHORIZED },
        tags, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk,
      });
    }
    if (has('update')) {
      add(item, 'put', replaceOp(`replace the specified ${r.kind}`, `replace${gvPrefix}${ns}${r.kind}`,
        [nameParam, ...nsParams], kindRef, gvk, tags));
    }
    if (has('patch')) {
      add(item, 'patch', patchOp(`partially update the specified ${r.kind}`, `patch${gvPrefix}${ns}${r.kind}`,
        [nameParam, ...nsParams], kindRef, gvk, tags));
    }
    if (has('delete')) {
      add(item, 'delete', {
        description: `delete a ${r.kind}`, operationId: `delete${gvPrefix}${ns}${r.kind}`,
        parameters: [nameParam, ...nsParams, ...DELETE_PARAMS],
        requestBody: { content: { '*/*': { schema: ref(SchemaNames.deleteOptions) } } },
        responses: { 200: ok(kindRef), 202: { ...ok(kindRef), description: 'Accepted' }, 401: UNAUTHORIZED },
        tags, 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk,
      });
    }

    for (const sub of r.subresources) {
      subresourceOps(sub, { r, gvPrefix, ns, item, nameParam, nsParams, tags, schemaOf, add });
    }
  }

  const schemas: Record<string, OpenApiSchema> = { ...registry.closureSchemas(roots), ...extra };
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: opts.kubernetesVersion ?? 'v1.32.0' },
    paths: sortKeys(paths),
    components: { schemas: sortKeys(schemas) },
  };
}

function replaceOp(description: string, operationId: string, pathParams: OpenApiParameter[], body: OpenApiSchema,
  gvk: GroupVersionKind, tags: string[]): OpenApiOperation {
  return {
    description, operationId, parameters: [...pathParams, ...CREATE_PARAMS],
    requestBody: { content: { '*/*': { schema: body } }, required: true },
    responses: { 200: ok(body), 201: { ...ok(body), description: 'Created' }, 401: UNAUTHORIZED },
    tags, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk,
  };
}

function patchOp(description: string, operationId: string, pathParams: OpenApiParameter[], body: OpenApiSchema,
  gvk: GroupVersionKind, tags: string[]): OpenApiOperation {
  const content: OpenApiMediaTypes = {};
  for (const t of PATCH_TYPES) content[t] = { schema: ref(SchemaNames.patch) };
  return {
    description, operationId, parameters: [...pathParams, ...PATCH_PARAMS],
    requestBody: { content, required: true },
    responses: { 200: ok(body), 201: { ...ok(body), description: 'Created' }, 401: UNAUTHORIZED },
    tags, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk,
  };
}

interface SubCtx {
  r: ResourceDef;
  gvPrefix: string;
  ns: string;
  item: string;
  nameParam: OpenApiParameter;
  nsParams: OpenApiParameter[];
  tags: string[];
  schemaOf: (gvk: GroupVersionKind) => string;
  add: (path: string, method: HttpMethod, op: OpenApiOperation) => void;
}

/** Operations of one subresource: get/put/patch like the main resource, create as post; exec & co as connect; log as text. */
function subresourceOps(sub: SubresourceDef, c: SubCtx): void {
  const path = `${c.item}/${sub.name}`;
  const subId = sub.name.split('-').map(cap).join('');
  const what = `${sub.name} of the specified ${c.r.kind}`;
  const params = [c.nameParam, ...c.nsParams];
  const gvk = sub.kind;
  const mainGvk: GroupVersionKind = { group: c.r.group, version: c.r.version, kind: c.r.kind };
  const id = (verb: string) => `${verb}${c.gvPrefix}${c.ns}${c.r.kind}${subId}`;

  if (sub.name === 'log') {
    c.add(path, 'get', {
      description: `read log of the specified ${c.r.kind}`, operationId: id('read'),
      parameters: [...params, ...LOG_PARAMS],
      responses: { 200: { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } }, 401: UNAUTHORIZED },
      tags: c.tags, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': mainGvk,
    });
    return;
  }
  if (CONNECT_SUBRESOURCES.has(sub.name)) {
    for (const method of ['get', 'post'] as const) {
      if (!sub.verbs.includes(method === 'get' ? 'get' : 'create')) continue;
      c.add(path, method, {
        description: `connect ${method.toUpperCase()} requests to ${sub.name} of ${c.r.kind}`,
        operationId: `connect${c.gvPrefix}${cap(method)}${c.ns}${c.r.kind}${subId}`,
        parameters: params,
        responses: { 200: { description: 'OK', content: { '*/*': { schema: { type: 'string' } } } }, 401: UNAUTHORIZED },
        tags: c.tags, 'x-kubernetes-action': 'connect', 'x-kubernetes-group-version-kind': mainGvk,
      });
    }
    return;
  }
  const body = ref(c.schemaOf(gvk));
  if (sub.verbs.includes('get')) {
    c.add(path, 'get', {
      description: `read ${what}`, operationId: id('read'), parameters: [...params, P.pretty],
      responses: { 200: ok(body), 401: UNAUTHORIZED },
      tags: c.tags, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk,
    });
  }
  if (sub.verbs.includes('update')) c.add(path, 'put', replaceOp(`replace ${what}`, id('replace'), params, body, gvk, c.tags));
  if (sub.verbs.includes('patch')) c.add(path, 'patch', patchOp(`partially update ${what}`, id('patch'), params, body, gvk, c.tags));
  if (sub.verbs.includes('create')) {
    c.add(path, 'post', {
      description: `create ${what}`, operationId: id('create'), parameters: [...params, ...CREATE_PARAMS],
      requestBody: { content: { '*/*': { schema: body } }, required: true },
      responses: { 200: ok(body), 201: { ...ok(body), description: 'Created' }, 202: { ...ok(body), description: 'Accepted' }, 401: UNAUTHORIZED },
      tags: c.tags, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk,
    });
  }
}

/**
 * The `<Kind>List` schema name: the generated one when kubernetes-types has it, otherwise a
 * list schema synthesized into `extra` with upstream's shape (apiVersion, items, kind,
 * metadata: ListMeta).
 */
function listSchemaName(registry: SchemaRegistry, r: ResourceDef, kindSchema: string, extra: Record<string, OpenApiSchema>): string {
  const name = `${kindSchema.slice(0, kindSchema.lastIndexOf('.'))}.${r.listKind}`;
  const found = registry.nameForKind({ group: r.group, version: r.version, kind: r.listKind });
  if (found) return found;
  if (registry.get(name)) return name;
  extra[name] = {
    description: `${r.listKind} is a list of ${r.kind} objects.`,
    type: 'object',
    properties: {
      apiVersion: { description: 'APIVersion defines the versioned schema of this representation of an object.', type: 'string' },
      items: { description: `List of ${r.plural}.`, type: 'array', items: ref(kindSchema) },
      kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
      metadata: { allOf: [ref('io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta')], description: 'Standard list metadata.' },
    },
    required: ['items'],
    'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.listKind, version: r.version }],
  };
  return name;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}
