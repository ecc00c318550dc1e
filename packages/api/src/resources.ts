/**
 * The resource table: every kind tskube serves, with what discovery, routing, storage and
 * OpenAPI need to know about it. One file per API group under ./groups; adding a resource
 * starts there. Group order is discovery order (the first version of a group is preferred).
 */
import type { ResourceDef } from './resource-def.js';
import { CORE } from './groups/core.js';
import { APPS } from './groups/apps.js';
import { COORDINATION } from './groups/coordination.js';
import { EVENTS } from './groups/events.js';
import { AUTHENTICATION } from './groups/authentication.js';
import { AUTHORIZATION } from './groups/authorization.js';
import { AUTOSCALING } from './groups/autoscaling.js';
import { BATCH } from './groups/batch.js';
import { POLICY } from './groups/policy.js';
import { RBAC } from './groups/rbac.js';
import { SCHEDULING } from './groups/scheduling.js';
import { DISCOVERY } from './groups/discovery.js';
import { METRICS } from './groups/metrics.js';

export * from './resource-def.js';

// upstream's discovery order of these groups
export const RESOURCES: readonly ResourceDef[] = [
  ...CORE,
  ...APPS,
  ...EVENTS,
  ...AUTHENTICATION,
  ...AUTHORIZATION,
  ...AUTOSCALING,
  ...BATCH,
  ...POLICY,
  ...RBAC,
  ...SCHEDULING,
  ...COORDINATION,
  ...DISCOVERY,
  ...METRICS,
];

/** Groups in the order discovery lists them (the first version listed is preferred). */
export function groupVersions(resources: readonly ResourceDef[] = RESOURCES): { group: string; versions: string[] }[] {
  const out: { group: string; versions: string[] }[] = [];
  for (const r of resources) {
    let g = out.find((x) => x.group === r.group);
    if (!g) { g = { group: r.group, versions: [] }; out.push(g); }
    if (!g.versions.includes(r.version)) g.versions.push(r.version);
  }
  return out;
}

/** Lookup by (group, version, plural). */
export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceDef>();
  private readonly byKind = new Map<string, ResourceDef>();
  constructor(readonly all: readonly ResourceDef[] = RESOURCES) {
    for (const r of all) {
      this.byPath.set(`${r.group}/${r.version}/${r.plural}`, r);
      this.byKind.set(`${r.group}/${r.version}/${r.kind}`, r);
    }
  }
  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }
  lookupKind(group: string, version: string, kind: string): ResourceDef | undefined {
    return this.byKind.get(`${group}/${version}/${kind}`);
  }
  hasGroupVersion(group: string, version: string): boolean {
    return this.all.some((r) => r.group === group && r.version === version);
  }
  inGroupVersion(group: string, version: string): ResourceDef[] {
    return this.all.filter((r) => r.group === group && r.version === version);
  }
}
