/**
 * What the HTTP layer can do with a resource or subresource (upstream rest.Getter,
 * Lister, Creater, Updater, GracefulDeleter …). A REST object implements the interfaces
 * for the verbs it supports; the handler checks which, and answers 405 for the others.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeList, KubeObject, ResourceDef, StoredObject, WatchEvent } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { UserInfo } from '../filters/authentication.js';
import type { TableConvertor } from './strategy.js';

export interface RequestContext {
  user: UserInfo;
  /** '' for cluster-scoped requests and all-namespace lists. */
  namespace: string;
  dryRun: boolean;
  fieldManager?: string;
  log: Logger;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
}

export interface ApiWatch {
  next(): Promise<WatchEvent<KubeObject> | null>;
  stop(): void;
}

/** Computes the object to store from the current one (PUT: the body; PATCH: the patched current). */
export type UpdatedObjectInfo = (existing: StoredObject | null) => KubeObject | Promise<KubeObject>;

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
}

export interface RestBase {
  readonly def: ResourceDef;
  /** The kind this endpoint reads and writes (Scale for /scale, Binding for /binding). */
  readonly kind: { group: string; version: string; kind: string };
  readonly table?: TableConvertor;
}

export interface Getter extends RestBase { get(ctx: RequestContext, name: string): Promise<KubeObject> }
export interface Lister extends RestBase {
  list(ctx: RequestContext, q: ListQuery): Promise<KubeList>;
  watch(ctx: RequestContext, q: WatchQuery): Promise<ApiWatch>;
}
export interface Creater extends RestBase { create(ctx: RequestContext, obj: KubeObject, name?: string): Promise<KubeObject> }
export interface UpdateOptions {
  /** Create the object when it does not exist (server-side apply), even if PUT may not. */
  createIfMissing?: boolean;
}

export interface Updater extends RestBase {
  update(ctx: RequestContext, name: string, info: UpdatedObjectInfo, opts?: UpdateOptions): Promise<{ object: KubeObject; created: boolean }>;
}
export interface Deleter extends RestBase {
  delete(ctx: RequestContext, name: string, opts: DeleteOptions): Promise<{ object: KubeObject; deleted: boolean }>;
}
export interface CollectionDeleter extends RestBase {
  deleteCollection(ctx: RequestContext, opts: DeleteOptions, q: ListQuery): Promise<KubeList>;
}
/** Streams (logs, exec, proxy): the REST object writes the response itself. */
export interface Connecter extends RestBase {
  connect(ctx: RequestContext, name: string, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void>;
}

export type Rest = Partial<Getter & Lister & Creater & Updater & Deleter & CollectionDeleter & Connecter> & RestBase;

export const can = {
  get: (r: Rest): r is Rest & Getter => typeof r.get === 'function',
  list: (r: Rest): r is Rest & Lister => typeof r.list === 'function',
  create: (r: Rest): r is Rest & Creater => typeof r.create === 'function',
  update: (r: Rest): r is Rest & Updater => typeof r.update === 'function',
  delete: (r: Rest): r is Rest & Deleter => typeof r.delete === 'function',
  deleteCollection: (r: Rest): r is Rest & CollectionDeleter => typeof r.deleteCollection === 'function',
  connect: (r: Rest): r is Rest & Connecter => typeof r.connect === 'function',
};
