/**
 * Parses a request path into what it addresses (upstream RequestInfoFactory):
 * /api/v1/namespaces/ns/pods/name/status → {group '', version v1, namespace ns,
 * resource pods, name, subresource status}. Non-resource paths (/healthz, /version …)
 * come back with isResourceRequest false.
 */

export type RequestVerb =
  | 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'connect'
  | 'proxy' | 'head' | 'options';

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: RequestVerb;
  apiPrefix: '' | 'api' | 'apis';
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the group/version (after namespaces/{ns} when present). */
  parts: string[];
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = {
    isResourceRequest: false, path, verb: method.toLowerCase() as RequestVerb, apiPrefix: '',
    apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '', parts: [],
  };
  let parts = path.split('/').filter((p) => p !== '').map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  if (parts.length < 2 || (parts[0] !== 'api' && parts[0] !== 'apis')) return info;
  info.apiPrefix = parts[0] as 'api' | 'apis';
  parts = parts.slice(1);
  if (info.apiPrefix === 'apis') {
    if (parts.length < 2) return info; // /apis/<group> is discovery, not a resource
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);
  if (parts.length === 0) return info; // /api/v1: discovery
  info.isResourceRequest = true;

  const m = method.toUpperCase();
  let isWatch = false;
  if (parts[0] === 'watch') { isWatch = true; parts = parts.slice(1); } // deprecated /watch/ prefix
  switch (m) {
    case 'POST': info.verb = 'create'; break;
    case 'GET': case 'HEAD': info.verb = 'get'; break;
    case 'PUT': info.verb = 'update'; break;
    case 'PATCH': info.verb = 'patch'; break;
    case 'DELETE': info.verb = 'delete'; break;
    default: info.verb = m.toLowerCase() as RequestVerb;
  }
  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  info.parts = parts;
  info.resource = parts[0] ?? '';
  if (parts.length >= 2) info.name = parts[1]!;
  if (parts.length >= 3) info.subresource = parts[2]!;
  // Namespaces are cluster-scoped: /api/v1/namespaces/x means the namespace x itself.
  if (info.resource === 'namespaces' && info.name) info.namespace = '';

  if (info.verb === 'get' && !info.name) info.verb = 'list';
  if (info.verb === 'delete' && !info.name) info.verb = 'deletecollection';
  const w = query.get('watch');
  if (isWatch || ((info.verb === 'get' || info.verb === 'list') && (w === 'true' || w === '1'))) info.verb = 'watch';
  return info;
}
