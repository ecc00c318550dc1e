/**
 * /openapi/v3 (the index) and /openapi/v3/<api/v1 | apis/g/v> documents, built once at
 * start. Hashed URLs are immutable, so kubectl caches them (kubectl-contract §8).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildOpenApi, type ResourceDef } from '@tskube/api';
import type { OpenApiEndpoint } from '../server.js';
import { sendJson } from './respond.js';

export class OpenApiV3 implements OpenApiEndpoint {
  private readonly built;
  private readonly indexBody: string;

  constructor(resources: readonly ResourceDef[]) {
    this.built = buildOpenApi(resources);
    this.indexBody = JSON.stringify(this.built.index);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
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
