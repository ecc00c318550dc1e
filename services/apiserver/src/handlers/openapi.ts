/**
 * /openapi/v3 (the index) and /openapi/v3/<api/v1 | apis/g/v> documents, built once at
 * start. Hashed URLs are immutable, so kubectl caches them (kubectl-contract §8).
 * Also /openapi/v2 (Swagger 2.0, JSON or gnostic protobuf for kubectl 1.27/1.28), derived
 * from the same v3 documents at start (./openapi-v2.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildOpenApi, type ResourceDef } from '@tskube/api';
import type { OpenApiEndpoint } from '../server.js';
import { OpenApiV2 } from './openapi-v2.js';
import { sendJson } from './respond.js';

export class OpenApiV3 implements OpenApiEndpoint {
  private readonly built;
  private readonly indexBody: string;
  /** The v2 document of the same resources. */
  readonly v2: OpenApiV2;

  /** `protoDir`: where proto/gnostic lives (default: the repo's proto/, or $TSKUBE_PROTO_DIR). */
  constructor(resources: readonly ResourceDef[], opts: { protoDir?: string } = {}) {
    this.built = buildOpenApi(resources);
    this.indexBody = JSON.stringify(this.built.index);
    this.v2 = new OpenApiV2(this.built, opts);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (this.v2.handle(req, res, path)) return true;
    if (path === '/openapi/v3' || path === '/openapi/v3/') {
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Cache-Control', 'no-cache, private');
      res.end(this.indexBody);
      return true;
    }
    if (!path.startsWith('/openapi/v3/')) return false;
    const key = path.slice('/openapi/v3/'.length).replace(/\/$/, '');
    const doc = this.built.documents.get(key);
    if (!doc) {
      sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 });
      return true;
    }
    const hash = query.get('hash');
    if (hash && hash !== doc.hash) {
      // A stale hash: send the client to the current document, as upstream does.
      res.statusCode = 301;
      res.setHeader('Location', `/openapi/v3/${key}?hash=${doc.hash}`);
      res.end();
      return true;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('ETag', `"${doc.hash}"`);
    res.setHeader('Cache-Control', hash ? 'public, immutable' : 'no-cache, private');
    if (hash) res.setHeader('Expires', new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString());
    res.end(doc.body);
    return true;
  }
}
