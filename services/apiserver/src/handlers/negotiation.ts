/**
 * Content negotiation: which representation a client asked for (a Table for `kubectl get`,
 * plain JSON otherwise) and how a request body is encoded.
 */
import { ApiError, badRequest, unsupportedMediaType } from '@tskube/api';

export interface MediaType { type: string; params: Record<string, string> }

export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  }).filter((m) => m.type);
}

export type Representation = { kind: 'json' } | { kind: 'table'; version: 'v1' | 'v1beta1' } | { kind: 'partial'; list: boolean };

/**
 * The first acceptable representation in the client's order. kubectl get asks for
 * `application/json;as=Table;v=v1;g=meta.k8s.io, …, application/json`.
 */
export function negotiateOutput(accept: string | undefined): Representation {
  const types = parseMediaTypes(accept);
  if (!types.length) return { kind: 'json' };
  for (const m of types) {
    const base = m.type;
    if (base !== 'application/json' && base !== '*/*' && base !== 'application/*' && base !== 'application/vnd.kubernetes.protobuf') continue;
    if (base === 'application/vnd.kubernetes.protobuf' && !m.params.as) continue; // we answer protobuf requests in JSON
    const as = m.params.as;
    if (!as) return { kind: 'json' };
    if (m.params.g !== 'meta.k8s.io') continue;
    if (as === 'Table' && (m.params.v === 'v1' || m.params.v === 'v1beta1')) return { kind: 'table', version: m.params.v };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { kind: 'partial', list: as === 'PartialObjectMetadataList' };
  }
  // Only representations we cannot produce were acceptable, but every client we know also
  // accepts JSON; upstream answers 406 here.
  if (types.some((m) => m.type === 'application/json' || m.type === '*/*' || m.type === 'application/vnd.kubernetes.protobuf')) return { kind: 'json' };
  throw new ApiError(406, 'NotAcceptable', `only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
}

export type BodyFormat = 'json' | 'yaml' | 'protobuf' | 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply-patch';

const BODY_TYPES: Record<string, BodyFormat> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/vnd.kubernetes.protobuf': 'protobuf',
  'application/json-patch+json': 'json-patch',
  'application/merge-patch+json': 'merge-patch',
  'application/strategic-merge-patch+json': 'strategic-merge-patch',
  'application/apply-patch+yaml': 'apply-patch',
};

export const OBJECT_BODY_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
export const PATCH_BODY_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

/** The body format of a request; `allowed` is the set the verb accepts (415 otherwise). */
export function bodyFormat(contentType: string | undefined, allowed: readonly BodyFormat[]): BodyFormat {
  const m = parseMediaTypes(contentType)[0];
  // No Content-Type: JSON, which is what curl users mean.
  const f = m ? BODY_TYPES[m.type] : 'json';
  const accepted = Object.entries(BODY_TYPES).filter(([, v]) => allowed.includes(v)).map(([k]) => k);
  if (!f || !allowed.includes(f)) throw unsupportedMediaType(contentType ?? '', accepted);
  return f;
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: "${v}"; valid values: Ignore, Warn, Strict`);
}

export function dryRun(q: URLSearchParams): boolean {
  const vals = q.getAll('dryRun');
  for (const v of vals) if (v !== 'All') throw badRequest(`Invalid dry run value "${v}": only "All" is supported`);
  return vals.length > 0;
}
