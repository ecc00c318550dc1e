/**
 * API discovery: /api, /apis (legacy and aggregated, by Accept), /api/v1, /apis/<g>,
 * /apis/<g>/<v>. Aggregated documents need their exact Content-Type or kubectl ignores
 * them (kubectl-contract S6).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { groupVersions, type ResourceDef } from '@tskube/api';
import { parseMediaTypes } from './negotiation.js';
import { sendJson } from './respond.js';

const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

function wantsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | null {
  for (const m of parseMediaTypes(accept)) {
    if (m.type !== 'application/json') continue;
    if (m.params.as === 'APIGroupDiscoveryList' && m.params.g === 'apidiscovery.k8s.io') {
      if (m.params.v === 'v2') return 'v2';
      if (m.params.v === 'v2beta1') return 'v2beta1';
      continue;
    }
    if (!m.params.as) return null;
  }
  return null;
}

function subresourcesOf(r: ResourceDef) {
  return r.subresources.map((s) => ({
    subresource: s.name,
    responseKind: { group: s.kind.group === r.group ? '' : s.kind.group, version: s.kind.version === r.version && s.kind.group === r.group ? '' : s.kind.version, kind: s.kind.kind },
    verbs: s.verbs,
  }));
}

function aggregatedResource(r: ResourceDef) {
  return {
    resource: r.plural,
    responseKind: { group: '', version: '', kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
    ...(r.subresources.length ? { subresources: subresourcesOf(r) } : {}),
  };
}

/** Legacy APIResourceList entries: subresources appear as `pods/status`. */
function legacyResources(rs: ResourceDef[]) {
  const out: Record<string, unknown>[] = [];
  for (const r of rs) {
    out.push({
      name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources) {
      out.push({
        name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind.kind, verbs: s.verbs,
        ...(s.kind.group !== r.group || s.kind.version !== r.version ? { group: s.kind.group, version: s.kind.version } : {}),
      });
    }
  }
  return out;
}

export class Discovery {
  constructor(private readonly resources: readonly ResourceDef[], private readonly serverAddress: () => string) {}

  private groups(core: boolean) {
    return groupVersions(this.resources).filter((g) => (g.group === '') === core);
  }

  private aggregated(core: boolean, v: 'v2' | 'v2beta1') {
    return {
      kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${v}`, metadata: {},
      items: this.groups(core).map((g) => ({
        metadata: { name: g.group, creationTimestamp: null },
        versions: g.versions.map((version) => ({
          version, freshness: 'Current',
          resources: this.resources.filter((r) => r.group === g.group && r.version === version).map(aggregatedResource),
        })),
      })),
    };
  }

  /** Handles discovery paths; returns false for anything else. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const parts = path.split('/').filter(Boolean);
    const agg = wantsAggregated(req.headers.accept);
    if (path === '/api' || path === '/api/') {
      if (agg) { sendJson(res, 200, this.aggregated(true, agg), agg === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1); return true; }
      sendJson(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.serverAddress() }] });
      return true;
    }
    if (path === '/apis' || path === '/apis/') {
      if (agg) { sendJson(res, 200, this.aggregated(false, agg), agg === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1); return true; }
      sendJson(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groups(false).map((g) => this.apiGroup(g.group, g.versions)) });
      return true;
    }
    if (parts[0] === 'api' && parts.length === 2) {
      return this.resourceList(res, '', parts[1]!);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const g = this.groups(false).find((x) => x.group === parts[1]);
      if (!g) return false;
      sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...this.apiGroup(g.group, g.versions) });
      return true;
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      return this.resourceList(res, parts[1]!, parts[2]!);
    }
    return false;
  }

  private apiGroup(group: string, versions: string[]) {
    const vs = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
    return { name: group, versions: vs, preferredVersion: vs[0] };
  }

  private resourceList(res: ServerResponse, group: string, version: string): boolean {
    const rs = this.resources.filter((r) => r.group === group && r.version === version);
    if (!rs.length) return false;
    sendJson(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: legacyResources(rs) });
    return true;
  }
}
