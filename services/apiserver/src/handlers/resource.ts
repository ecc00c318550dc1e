/**
 * The REST handler for every resource request: finds the endpoint for the group, version,
 * resource and subresource, decodes the body, calls the endpoint for the verb, and renders
 * the result as JSON, a Table, or a watch stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ApiError, badRequest, invalid, field, isObject, methodNotSupported, notFound, apiVersionOf,
  type GroupVersionKind, type KubeList, type KubeObject, type ResourceDef, type Table, type TableRow, type WatchEvent,
} from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { RequestInfo } from '../filters/request-info.js';
import type { UserInfo } from '../filters/authentication.js';
import type { ApiRegistry } from '../registry/index.js';
import { can, type ApiWatch, type DeleteOptions, type ListQuery, type RequestContext, type Rest, type UpdatedObjectInfo } from '../registry/rest.js';
import type { TableConvertor } from '../registry/strategy.js';
import { defaultTable } from '../tables/tables.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, goValue, patchDecodeError } from '../patch/patch.js';
import type { BodyCodec } from './codec.js';
import { NoopFieldManager, managerFromUserAgent, type FieldManager, type FieldManagerContext } from '../fieldmanager/index.js';
import { readBody } from './body.js';
import { bodyFormat, dryRun, fieldValidation, negotiateOutput, type Representation } from './negotiation.js';
import { addWarnings, sendObject } from './respond.js';

export interface ResourceHandlerDeps {
  registry: ApiRegistry;
  codec: BodyCodec;
  log: Logger;
  maxRequestBytes: number;
  /** Watches without timeoutSeconds last between this and twice this. */
  minRequestTimeoutSeconds: number;
  now?: () => Date;
  /** managedFields and server-side apply (default: none). */
  fieldManager?: FieldManager;
  /** Counts open watches (for metrics). */
  onWatch?: (delta: 1 | -1, def: ResourceDef) => void;
}

const notFoundResource = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

function findDef(registry: ApiRegistry, info: RequestInfo): ResourceDef | undefined {
  return registry.resources.find((r) => r.group === info.apiGroup && r.version === info.apiVersion && r.plural === info.resource);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: "${v}": must be an integer`);
  return Number(v);
}

function listQuery(q: URLSearchParams): ListQuery {
  const out: ListQuery = {};
  const ls = q.get('labelSelector'); if (ls) out.labelSelector = ls;
  const fs = q.get('fieldSelector'); if (fs) out.fieldSelector = fs;
  const limit = intParam(q, 'limit'); if (limit !== undefined && limit > 0) out.limit = limit;
  const cont = q.get('continue'); if (cont) out.continue = cont;
  const rv = q.get('resourceVersion'); if (rv) out.resourceVersion = rv;
  const match = q.get('resourceVersionMatch');
  if (match) {
    if (match !== 'Exact' && match !== 'NotOlderThan') throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [field.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan'])]);
    if (!rv) throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [field.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')]);
    if (cont) throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [field.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided')]);
    out.resourceVersionMatch = match;
  }
  return out;
}

export class ResourceHandler {
  private readonly now: () => Date;
  private readonly fm: FieldManager;
  constructor(private readonly d: ResourceHandlerDeps) {
    this.now = d.now ?? (() => new Date());
    this.fm = d.fieldManager ?? new NoopFieldManager();
  }

  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo, query: URLSearchParams, log: Logger): Promise<void> {
    const def = findDef(this.d.registry, info);
    if (!def) throw notFoundResource();
    if (!def.namespaced && info.namespace) throw notFoundResource();
    if (def.namespaced && !info.namespace && info.name) throw notFoundResource();
    const rest = this.d.registry.lookup(def, info.subresource);
    if (!rest) throw notFoundResource();
    const ctx: RequestContext = { user, namespace: info.namespace, dryRun: dryRun(query), log };
    const fm = query.get('fieldManager');
    if (fm) {
      if (fm.length > 128) throw invalid({ group: '', kind: 'PatchOptions' }, '', [field.tooLong('fieldManager', fm, 128)]);
      ctx.fieldManager = fm;
    }
    const gr = { group: def.group, resource: info.subresource ? `${def.plural}/${info.subresource}` : def.plural };
    const verb = info.verb;

    switch (verb) {
      case 'get': {
        if (can.connect(rest)) return rest.connect(ctx, info.name, req, res, query);
        if (!can.get(rest)) throw methodNotSupported(gr, 'get');
        const obj = await rest.get(ctx, info.name);
        return this.render(res, 200, obj, rest, query, req.headers.accept);
      }
      case 'list': {
        if (!can.list(rest)) throw methodNotSupported(gr, 'list');
        const list = await rest.list(ctx, listQuery(query));
        return this.renderList(res, list, rest, query, req.headers.accept);
      }
      case 'watch': {
        if (!can.list(rest)) throw methodNotSupported(gr, 'watch');
        return this.serveWatch(req, res, rest, ctx, query, def);
      }
      case 'create': {
        // POST to a connect subresource (pods/exec, pods/attach, pods/portforward)
        if (can.connect(rest) && !can.create(rest)) return rest.connect(ctx, info.name, req, res, query);
        if (!can.create(rest)) throw methodNotSupported(gr, 'create');
        if (info.name && !info.subresource) throw methodNotSupported(gr, 'create');
        const { object, warnings } = await this.decodeObject(req, query, rest.kind);
        addWarnings(res, warnings);
        const managed = info.subresource ? object : this.fm.update(object, null, this.fmContext(req, ctx, rest.kind, info.subresource));
        const out = await rest.create(ctx, managed, info.subresource ? info.name : undefined);
        return sendObject(res, 201, out);
      }
      case 'update': {
        if (!can.update(rest)) throw methodNotSupported(gr, 'update');
        const { object, warnings } = await this.decodeObject(req, query, rest.kind);
        addWarnings(res, warnings);
        const fmc = this.fmContext(req, ctx, rest.kind, info.subresource);
        const r = await rest.update(ctx, info.name, (live) => this.fm.update(structuredClone(object), live, fmc));
        return sendObject(res, r.created ? 201 : 200, r.object);
      }
      case 'patch': {
        if (!can.update(rest)) throw methodNotSupported(gr, 'patch');
        const warnings: string[] = [];
        const fmc = this.fmContext(req, ctx, rest.kind, info.subresource);
        const { fn, isApply } = await this.patchFunction(req, query, rest.kind, gr, info.name, warnings, fmc);
        const r = await rest.update(ctx, info.name, fn, isApply ? { createIfMissing: true } : {});
        addWarnings(res, [...new Set(warnings)]);
        return sendObject(res, r.created ? 201 : 200, r.object);
      }
      case 'delete': {
        if (!can.delete(rest)) throw methodNotSupported(gr, 'delete');
        const opts = await this.deleteOptions(req, query);
        const r = await rest.delete(ctx, info.name, opts);
        const accepted = !r.deleted && opts.orphanDependents === false;
        return sendObject(res, accepted ? 202 : 200, r.object);
      }
      case 'deletecollection': {
        if (!can.deleteCollection(rest)) throw methodNotSupported(gr, 'deletecollection');
        const opts = await this.deleteOptions(req, query);
        const list = await rest.deleteCollection(ctx, opts, listQuery(query));
        return sendObject(res, 200, list);
      }
      default:
        throw methodNotSupported(gr, verb);
    }
  }

  // ---- bodies -------------------------------------------------------------------------

  private async decodeObject(req: IncomingMessage, query: URLSearchParams, gvk: GroupVersionKind): Promise<{ object: KubeObject; warnings: string[] }> {
    const format = bodyFormat(req.headers['content-type'], ['json', 'yaml', 'protobuf']);
    const raw = await readBody(req, this.d.maxRequestBytes);
    const fv = fieldValidation(query);
    const decoded = format === 'protobuf'
      ? this.d.codec.decode(this.d.codec.decodeProtobuf(raw, gvk), gvk, fv)
      : this.d.codec.decodeRequest(raw, format as 'json' | 'yaml', gvk, fv);
    const v = decoded.object;
    const expectedApiVersion = apiVersionOf(gvk);
    if (v.apiVersion !== undefined && v.apiVersion !== expectedApiVersion) {
      throw badRequest(`the API version in the data (${String(v.apiVersion)}) does not match the expected API version (${expectedApiVersion})`);
    }
    if (v.kind !== undefined && v.kind !== gvk.kind) {
      throw badRequest(`the object provided is unrecognized (must be of type ${gvk.kind}): kind "${String(v.kind)}" does not match`);
    }
    return decoded;
  }

  private fmContext(req: IncomingMessage, ctx: RequestContext, gvk: GroupVersionKind, subresource: string): FieldManagerContext {
    return { manager: ctx.fieldManager ?? managerFromUserAgent(req.headers['user-agent']), subresource, gvk, now: this.now() };
  }

  private async patchFunction(
    req: IncomingMessage, query: URLSearchParams, gvk: GroupVersionKind, gr: { group: string; resource: string }, name: string, warnings: string[],
    fmc: FieldManagerContext,
  ): Promise<{ fn: UpdatedObjectInfo; isApply: boolean }> {
    const format = bodyFormat(req.headers['content-type'], ['json-patch', 'merge-patch', 'strategic-merge-patch', 'apply-patch']);
    const raw = await readBody(req, this.d.maxRequestBytes);
    const fv = fieldValidation(query);
    if (format === 'apply-patch') {
      if (!query.get('fieldManager')) {
        throw invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [field.required('fieldManager', 'is required for apply patch')]);
      }
      const force = query.get('force') === 'true';
      // YAML (JSON is YAML too); the applied configuration is decoded like a create body
      const applied = this.d.codec.decodeRequest(raw, 'yaml', gvk, fv);
      warnings.push(...applied.warnings);
      return { isApply: true, fn: (live) => this.fm.apply(live, structuredClone(applied.object), { ...fmc, force, name }) };
    }
    const patch = this.d.codec.parse(raw, 'json').value;
    if (format !== 'json-patch' && !isObject(patch)) throw badRequest(`json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`);
    const schema = format === 'strategic-merge-patch' ? this.d.codec.patchSchema(gvk) : undefined;
    return { isApply: false, fn: (existing) => {
      if (!existing) throw notFound(gr, name);
      const base = existing as Record<string, unknown>;
      let patched: Record<string, unknown>;
      if (format === 'json-patch') patched = applyJsonPatch(base, patch);
      else if (format === 'merge-patch') {
        const r = applyMergePatch(base, patch);
        if (!isObject(r)) throw badRequest('the merge patch did not produce an object');
        patched = r;
      } else patched = applyStrategicMergePatch(base, patch, schema);
      let decoded: { object: KubeObject; warnings: string[] };
      try { decoded = this.d.codec.decode(patched, gvk, fv); } catch (e) {
        throw patchDecodeError(e, format === 'strategic-merge-patch' ? goValue(patch) : JSON.stringify(patched));
      }
      warnings.push(...decoded.warnings);
      return this.fm.update(decoded.object, existing, fmc);
    } };
  }

  private async deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
    const opts: DeleteOptions = {};
    const raw = await readBody(req, this.d.maxRequestBytes);
    if (raw.length) {
      const format = bodyFormat(req.headers['content-type'], ['json', 'yaml', 'protobuf']);
      const v = format === 'protobuf'
        ? this.d.codec.decodeProtobuf(raw, { group: 'meta.k8s.io', version: 'v1', kind: 'DeleteOptions' })
        : this.d.codec.parse(raw, format as 'json' | 'yaml').value;
      if (!isObject(v)) throw badRequest('DeleteOptions must be an object');
      if (typeof v.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = v.gracePeriodSeconds;
      if (typeof v.propagationPolicy === 'string') opts.propagationPolicy = v.propagationPolicy as DeleteOptions['propagationPolicy'];
      if (typeof v.orphanDependents === 'boolean') opts.orphanDependents = v.orphanDependents;
      if (isObject(v.preconditions)) {
        const p = v.preconditions;
        opts.preconditions = {
          ...(typeof p.uid === 'string' ? { uid: p.uid } : {}),
          ...(typeof p.resourceVersion === 'string' ? { resourceVersion: p.resourceVersion } : {}),
        };
      }
    }
    const g = intParam(query, 'gracePeriodSeconds');
    if (g !== undefined) opts.gracePeriodSeconds = g;
    const pp = query.get('propagationPolicy');
    if (pp) opts.propagationPolicy = pp as DeleteOptions['propagationPolicy'];
    const od = query.get('orphanDependents');
    if (od) opts.orphanDependents = od === 'true';
    if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
      throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [field.notSupported('propagationPolicy', opts.propagationPolicy, ['Foreground', 'Background', 'Orphan', 'nil'])]);
    }
    if (opts.propagationPolicy && opts.orphanDependents !== undefined) {
      throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [field.invalid('propagationPolicy', opts.propagationPolicy, 'orphanDependents and deletionPropagation cannot be both set')]);
    }
    if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < 0) opts.gracePeriodSeconds = 1;
    return opts;
  }

  // ---- rendering ----------------------------------------------------------------------

  private tableOf(rest: Rest): TableConvertor {
    return rest.table ?? defaultTable;
  }

  private row(obj: KubeObject, table: TableConvertor, includeObject: string, now: Date): TableRow {
    const row: TableRow = { cells: table.cells(obj, now) };
    if (includeObject === 'Object') row.object = obj;
    else if (includeObject !== 'None') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata ?? {} };
    return row;
  }

  private includeObject(query: URLSearchParams): string {
    const v = query.get('includeObject') ?? 'Metadata';
    if (!['None', 'Metadata', 'Object'].includes(v)) throw badRequest(`includeObject: unsupported value "${v}"`);
    return v;
  }

  private table(rows: TableRow[], conv: TableConvertor, rv: string | undefined, version: string, withColumns = true, cont?: string, remaining?: number): Table {
    return {
      kind: 'Table', apiVersion: `meta.k8s.io/${version}` as 'meta.k8s.io/v1',
      metadata: { ...(rv ? { resourceVersion: rv } : {}), ...(cont ? { continue: cont } : {}), ...(remaining !== undefined ? { remainingItemCount: remaining } : {}) },
      columnDefinitions: withColumns ? conv.columns : [],
      rows,
    };
  }

  private render(res: ServerResponse, code: number, obj: KubeObject, rest: Rest, query: URLSearchParams, accept: string | undefined): void {
    const rep: Representation = negotiateOutput(accept);
    if (rep.kind === 'table' && obj.kind !== 'Status') {
      const conv = this.tableOf(rest);
      return sendObject(res, code, this.table([this.row(obj, conv, this.includeObject(query), this.now())], conv, obj.metadata?.resourceVersion, rep.version));
    }
    if (rep.kind === 'partial') {
      return sendObject(res, code, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata ?? {} });
    }
    sendObject(res, code, obj);
  }

  private renderList(res: ServerResponse, list: KubeList, rest: Rest, query: URLSearchParams, accept: string | undefined): void {
    const rep = negotiateOutput(accept);
    if (rep.kind === 'table') {
      const conv = this.tableOf(rest);
      const inc = this.includeObject(query);
      const now = this.now();
      return sendObject(res, 200, this.table(list.items.map((o) => this.row(o, conv, inc, now)), conv, list.metadata.resourceVersion, rep.version,
        true, list.metadata.continue, list.metadata.remainingItemCount));
    }
    if (rep.kind === 'partial') {
      return sendObject(res, 200, {
        kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: list.metadata,
        items: list.items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata ?? {} })),
      });
    }
    sendObject(res, 200, list);
  }

  // ---- watch --------------------------------------------------------------------------

  private async serveWatch(req: IncomingMessage, res: ServerResponse, rest: Rest & { watch: NonNullable<Rest['watch']> }, ctx: RequestContext, query: URLSearchParams, def: ResourceDef): Promise<void> {
    const rep = negotiateOutput(req.headers.accept);
    const timeoutSeconds = intParam(query, 'timeoutSeconds');
    const q = listQuery(query);
    let w: ApiWatch;
    try {
      w = await rest.watch(ctx, {
        ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
        ...(q.fieldSelector ? { fieldSelector: q.fieldSelector } : {}),
        ...(q.resourceVersion ? { resourceVersion: q.resourceVersion } : {}),
        ...(query.get('allowWatchBookmarks') === 'true' ? { allowWatchBookmarks: true } : {}),
      });
    } catch (e) {
      // Like upstream, a too-old resourceVersion is a 200 stream carrying one ERROR event.
      if (!(e instanceof ApiError && e.code === 410)) throw e;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: e.status })}\n`);
      return;
    }
    const conv = this.tableOf(rest);
    const inc = rep.kind === 'table' ? this.includeObject(query) : 'Object';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    this.d.onWatch?.(1, def);
    const base = this.d.minRequestTimeoutSeconds;
    const ms = (timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds : base * (1 + Math.random())) * 1000;
    let stop!: () => void;
    const stopped = new Promise<null>((resolve) => { stop = () => resolve(null); });
    const timer = setTimeout(stop, ms);
    req.on('close', stop);
    res.on('close', stop);
    let first = true;
    try {
      for (;;) {
        const ev = await Promise.race([w.next(), stopped]);
        if (!ev) break;
        let out: WatchEvent<unknown> = ev;
        if (rep.kind === 'table' && ev.type !== 'ERROR' && ev.type !== 'BOOKMARK') {
          out = { type: ev.type, object: this.table([this.row(ev.object, conv, inc, this.now())], conv, ev.object.metadata?.resourceVersion, rep.version, first) };
          first = false;
        } else if (rep.kind === 'partial' && ev.type !== 'ERROR') {
          out = { type: ev.type, object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: ev.object.metadata ?? {} } };
        }
        if (!res.write(`${JSON.stringify(out)}\n`)) {
          await Promise.race([new Promise((r) => res.once('drain', r)), stopped]);
        }
        if (ev.type === 'ERROR') break;
      }
    } finally {
      clearTimeout(timer);
      w.stop();
      this.d.onWatch?.(-1, def);
      if (!res.writableEnded) res.end();
    }
  }
}
