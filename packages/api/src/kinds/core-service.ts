/**
 * Service defaulting, validation and the pure update rules (upstream pkg/apis/core/v1/defaults.go
 * SetDefaults_Service, pkg/apis/core/validation ValidateService*, pkg/registry/core/service
 * strategy and storage: normalizeClusterIPs, patchAllocatedValues, dropTypeDependentFields).
 * IP family initialisation and allocation depend on the cluster's ranges and live in the
 * apiserver's service registry.
 */
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { field, type FieldError } from '../errors.js';
import { jsonEqual } from '../meta.js';
import { validateLabels } from '../validation.js';
import {
  FIELD_IMMUTABLE, dns1123Label, ipFamilyOf, isValidPortName, isValidPortNum, qualifiedName, validateCIDR, validateIP,
  validateNonSpecialIP,
} from './core-common.js';
import { isDNS1123Subdomain } from '../validation.js';

export type { Service, ServicePort };

/** A Service as the server manipulates it (kubernetes-types marks status readonly). */
export type MutableService = Omit<Service, 'status'> & { status?: Service['status'] };

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const AFFINITIES = ['ClientIP', 'None'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const FAMILIES = ['IPv4', 'IPv6'];
const FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const DEFAULT_CLIENT_IP_TIMEOUT = 10800;
const MAX_CLIENT_IP_TIMEOUT = 86400;

// ---- predicates (upstream pkg/api/service helpers) -----------------------------------------

export function isHeadless(svc: MutableService): boolean {
  const ips = svc.spec?.clusterIPs;
  return ips?.length === 1 && ips[0] === 'None';
}

export function needsClusterIP(svc: MutableService): boolean {
  return svc.spec?.type !== 'ExternalName';
}

export function needsNodePort(svc: MutableService): boolean {
  return svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer';
}

/** Reachable from outside the cluster: NodePort, LoadBalancer, or ClusterIP with external IPs. */
export function externallyAccessible(svc: MutableService): boolean {
  const t = svc.spec?.type;
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0);
}

export function needsHealthCheck(svc: MutableService): boolean {
  return svc.spec?.type === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';
}

/** Whether new node ports are allocated for ports without one (LoadBalancer may opt out). */
export function shouldAllocateNodePorts(svc: MutableService): boolean {
  if (svc.spec?.type === 'NodePort') return true;
  if (svc.spec?.type === 'LoadBalancer') return svc.spec.allocateLoadBalancerNodePorts !== false;
  return false;
}

/** The node ports a service holds (ports and healthCheckNodePort), without duplicates. */
export function serviceNodePorts(svc: MutableService): number[] {
  const out = new Set<number>();
  for (const p of svc.spec?.ports ?? []) if (p.nodePort) out.add(p.nodePort);
  if (svc.spec?.healthCheckNodePort) out.add(svc.spec.healthCheckNodePort);
  return [...out];
}

/** The cluster IPs a service holds (not "None"). */
export function serviceClusterIPs(svc: MutableService): string[] {
  if (!needsClusterIP(svc)) return [];
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.filter((ip) => ip && ip !== 'None');
}

// ---- defaulting ---------------------------------------------------------------------------

/** upstream SetDefaults_Service (runs on create and on every update). */
export function defaultService(svc: MutableService): void {
  svc.spec ??= {};
  const s = svc.spec;
  s.sessionAffinity ||= 'None';
  if (s.sessionAffinity === 'None') delete s.sessionAffinityConfig;
  if (s.sessionAffinity === 'ClientIP' && s.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined) {
    s.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_TIMEOUT } };
  }
  s.type ||= 'ClusterIP';
  for (const p of s.ports ?? []) {
    p.protocol ||= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(svc) && !s.externalTrafficPolicy) s.externalTrafficPolicy = 'Cluster';
  if (s.internalTrafficPolicy === undefined && (s.type === 'NodePort' || s.type === 'LoadBalancer' || s.type === 'ClusterIP')) {
    s.internalTrafficPolicy = 'Cluster';
  }
  if (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts === undefined) s.allocateLoadBalancerNodePorts = true;
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    if (s.type === 'LoadBalancer' && ing.ip && ing.ipMode === undefined) ing.ipMode = 'VIP';
  }
}

// ---- pure create/update preparation ---------------------------------------------------------

/** Keeps clusterIP and clusterIPs in sync (upstream normalizeClusterIPs). `old` is null on create. */
export function normalizeClusterIPs(next: MutableService, old: MutableService | null): void {
  const s = (next.spec ??= {});
  if (!old) {
    if (s.clusterIP && !s.clusterIPs?.length) s.clusterIPs = [s.clusterIP];
    return;
  }
  const o = old.spec ?? {};
  if ((o.clusterIPs?.length ?? 0) > 0 && !s.clusterIPs?.length && (o.clusterIP ?? '') === (s.clusterIP ?? '')) {
    s.clusterIPs = o.clusterIPs;
  }
  if ((o.clusterIP ?? '') !== (s.clusterIP ?? '')) {
    if (o.clusterIP && !s.clusterIP) {
      if (jsonEqual(o.clusterIPs ?? [], s.clusterIPs ?? [])) delete s.clusterIPs;
      return;
    }
    if (jsonEqual(o.clusterIPs ?? [], s.clusterIPs ?? [])) s.clusterIPs = [s.clusterIP!];
  }
}

/**
 * Copies allocated values the client left out from the old object (a PUT of a manifest
 * without clusterIP or nodePorts keeps them; upstream patchAllocatedValues).
 */
export function patchAllocatedValues(next: MutableService, old: MutableService): void {
  const s = (next.spec ??= {});
  const o = old.spec ?? {};
  if (needsClusterIP(old) && needsClusterIP(next)) {
    if (!s.clusterIP && o.clusterIP) s.clusterIP = o.clusterIP;
    if (!s.clusterIPs?.length && o.clusterIPs?.length) s.clusterIPs = [...o.clusterIPs];
  }
  if (needsNodePort(old) && needsNodePort(next)) {
    const used = (x: MutableService) => new Set((x.spec?.ports ?? []).map((p) => p.nodePort).filter((n): n is number => !!n));
    const newUsed = used(next);
    const taken = new Set([...used(old)].filter((n) => newUsed.has(n)));
    const byName = new Map((o.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
    for (const p of s.ports ?? []) {
      if (!p.nodePort) {
        const prev = byName.get(p.name ?? '') ?? 0;
        if (prev && !taken.has(prev)) p.nodePort = prev;
      }
    }
  }
  if (needsHealthCheck(old) && needsHealthCheck(next) && !s.healthCheckNodePort && o.healthCheckNodePort) {
    s.healthCheckNodePort = o.healthCheckNodePort;
  }
}

function sameNodePortsSuperset(old: MutableService, next: MutableService): boolean {
  const oldPorts = new Set((old.spec?.ports ?? []).map((p) => p.nodePort).filter(Boolean));
  return (next.spec?.ports ?? []).every((p) => !p.nodePort || oldPorts.has(p.nodePort));
}

/**
 * Clears fields the new type does not use, when the client did not also change them
 * (upstream dropTypeDependentFields, run from PrepareForUpdate).
 */
export function dropTypeDependentFields(next: MutableService, old: MutableService): void {
  const s = (next.spec ??= {});
  const o = old.spec ?? {};
  if (needsClusterIP(old) && !needsClusterIP(next)) {
    if ((o.clusterIP ?? '') === (s.clusterIP ?? '') && jsonEqual(o.clusterIPs ?? [], s.clusterIPs ?? [])) {
      delete s.clusterIP; delete s.clusterIPs;
    }
    if (jsonEqual(o.ipFamilies ?? [], s.ipFamilies ?? [])) delete s.ipFamilies;
    if ((o.ipFamilyPolicy ?? '') === (s.ipFamilyPolicy ?? '')) delete s.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(next) && sameNodePortsSuperset(old, next)) {
    for (const p of s.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheck(old) && !needsHealthCheck(next) && (o.healthCheckNodePort ?? 0) === (s.healthCheckNodePort ?? 0)) {
    delete s.healthCheckNodePort;
  }
  if (o.type === 'LoadBalancer' && s.type !== 'LoadBalancer') {
    if (s.allocateLoadBalancerNodePorts !== undefined && s.allocateLoadBalancerNodePorts === o.allocateLoadBalancerNodePorts) {
      delete s.allocateLoadBalancerNodePorts;
    }
    if ((o.loadBalancerClass ?? null) === (s.loadBalancerClass ?? null)) delete s.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(next) && o.externalTrafficPolicy === s.externalTrafficPolicy) {
    delete s.externalTrafficPolicy;
  }
  if (s.type !== 'LoadBalancer' && next.status?.loadBalancer) next.status = { ...next.status, loadBalancer: {} };
}

// ---- validation ---------------------------------------------------------------------------

function validateServicePort(p: ServicePort, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !p.name) errs.push(field.required(`${path}.name`));
  else if (p.name) {
    errs.push(...dns1123Label(`${path}.name`, p.name));
    if (names.has(p.name)) errs.push(field.duplicate(`${path}.name`, p.name));
    else names.add(p.name);
  }
  for (const m of isValidPortNum(p.port)) errs.push(field.invalid(`${path}.port`, p.port, m));
  if (!p.protocol) errs.push(field.required(`${path}.protocol`));
  else if (!PROTOCOLS.includes(p.protocol)) errs.push(field.notSupported(`${path}.protocol`, p.protocol, PROTOCOLS));
  const tp = p.targetPort;
  if (typeof tp === 'number') for (const m of isValidPortNum(tp)) errs.push(field.invalid(`${path}.targetPort`, tp, m));
  else if (typeof tp === 'string') for (const m of isValidPortName(tp)) errs.push(field.invalid(`${path}.targetPort`, tp, m));
  if (p.appProtocol !== undefined) errs.push(...qualifiedName(`${path}.appProtocol`, p.appProtocol));
  return errs;
}

/** clusterIP/clusterIPs/ipFamilies/ipFamilyPolicy consistency (upstream ValidateServiceClusterIPsRelatedFields). */
export function validateServiceClusterIPsRelatedFields(svc: MutableService): FieldError[] {
  const s = svc.spec ?? {};
  if (s.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = s.clusterIPs ?? [];
  if (s.clusterIP) {
    if (!ips.length) errs.push(field.required('spec.clusterIPs'));
    else if (ips[0] !== s.clusterIP) errs.push(field.invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  } else if (ips.length) {
    errs.push(field.invalid('spec.clusterIPs', ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (s.ipFamilies ?? []).forEach((f, i) => {
    if (!FAMILIES.includes(f)) errs.push(field.notSupported(`spec.ipFamilies[${i}]`, f, FAMILIES));
    if (seen.has(f)) errs.push(field.duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (s.ipFamilyPolicy !== undefined && !FAMILY_POLICIES.includes(s.ipFamilyPolicy)) {
    errs.push(field.notSupported('spec.ipFamilyPolicy', s.ipFamilyPolicy, FAMILY_POLICIES));
  }
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) { badIPs = true; errs.push(field.invalid('spec.clusterIPs', ips, "'None' must be the first and only value")); }
      return;
    }
    const e = validateIP(`spec.clusterIPs[${i}]`, ip);
    if (e.length) badIPs = true;
    errs.push(...e);
  });
  if (ips.length > 2) errs.push(field.invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (ips.length > 1 && ipFamilyOf(ips[0]!) === ipFamilyOf(ips[1]!)) {
    errs.push(field.invalid('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family'));
  }
  const fams = s.ipFamilies ?? [];
  if (!isHeadless(svc) && ips.length && fams.length) {
    ips.forEach((ip, i) => {
      if (i >= fams.length) return;
      const six = ipFamilyOf(ip) === 6;
      if (fams[i] === 'IPv4' && six) errs.push(field.invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (fams[i] === 'IPv6' && !six) errs.push(field.invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

/** upstream ValidateService, without the metadata checks the generic store makes. */
export function validateService(svc: MutableService): FieldError[] {
  const errs: FieldError[] = [];
  const s = svc.spec ?? {};
  const ports = s.ports ?? [];
  const headless = isHeadless(svc);
  if (!ports.length && !headless && s.type !== 'ExternalName') errs.push(field.required('spec.ports'));
  switch (s.type) {
    case 'LoadBalancer':
      if (headless) errs.push(field.invalid('spec.clusterIPs[0]', s.clusterIPs![0], "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (headless) errs.push(field.invalid('spec.clusterIPs[0]', s.clusterIPs![0], "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if (s.clusterIPs?.length) errs.push(field.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (s.ipFamilies?.length) errs.push(field.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (s.ipFamilyPolicy !== undefined) errs.push(field.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      const cname = (s.externalName ?? '').replace(/\.$/, '');
      if (cname) for (const m of isDNS1123Subdomain(cname)) errs.push(field.invalid('spec.externalName', cname, m));
      else errs.push(field.required('spec.externalName'));
      break;
    }
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, `spec.ports[${i}]`)));
  if (s.selector) errs.push(...validateLabels(s.selector, 'spec.selector'));
  if (!s.sessionAffinity) errs.push(field.required('spec.sessionAffinity'));
  else if (!AFFINITIES.includes(s.sessionAffinity)) errs.push(field.notSupported('spec.sessionAffinity', s.sessionAffinity, AFFINITIES));
  if (s.sessionAffinity === 'ClientIP') {
    const cfg = s.sessionAffinityConfig;
    if (!cfg) errs.push(field.required('spec.sessionAffinityConfig', 'when session affinity type is ClientIP'));
    else if (!cfg.clientIP) errs.push(field.required('spec.sessionAffinityConfig.clientIP', 'when session affinity type is ClientIP'));
    else {
      const t = cfg.clientIP.timeoutSeconds ?? 0;
      if (t <= 0 || t > MAX_CLIENT_IP_TIMEOUT) {
        errs.push(field.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, `must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT}`));
      }
    }
  } else if (s.sessionAffinity === 'None' && s.sessionAffinityConfig) {
    errs.push(field.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...validateServiceClusterIPsRelatedFields(svc));
  (s.externalIPs ?? []).forEach((ip, i) => {
    const e = validateIP(`spec.externalIPs[${i}]`, ip);
    errs.push(...(e.length ? e : validateNonSpecialIP(`spec.externalIPs[${i}]`, ip)));
  });
  if (!s.type) errs.push(field.required('spec.type'));
  else if (!SERVICE_TYPES.includes(s.type)) errs.push(field.notSupported('spec.type', s.type, SERVICE_TYPES));
  if (s.type === 'ClusterIP') {
    ports.forEach((p, i) => { if (p.nodePort) errs.push(field.forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'")); });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(field.duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (portKeys.has(key)) errs.push(field.duplicate(`spec.ports[${i}]`, { port: p.port, protocol: p.protocol }));
    portKeys.add(key);
  });
  const lbAnnotation = svc.metadata?.annotations?.['service.beta.kubernetes.io/load-balancer-source-ranges'];
  if (s.loadBalancerSourceRanges?.length) {
    if (s.type !== 'LoadBalancer') errs.push(field.forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    s.loadBalancerSourceRanges.forEach((r, i) => errs.push(...validateCIDR(`spec.LoadBalancerSourceRanges[${i}]`, r.trim())));
  } else if (lbAnnotation !== undefined) {
    const p = 'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]';
    if (s.type !== 'LoadBalancer') errs.push(field.forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const v = lbAnnotation.trim();
    if (v) for (const r of v.split(',')) errs.push(...validateCIDR(p, r.trim()));
  }
  if (s.allocateLoadBalancerNodePorts !== undefined && s.type !== 'LoadBalancer') {
    errs.push(field.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts === undefined) errs.push(field.required('allocateLoadBalancerNodePorts'));
  if (s.type === 'LoadBalancer') {
    if (s.loadBalancerClass !== undefined) errs.push(...qualifiedName('spec.loadBalancerClass', s.loadBalancerClass));
  } else if (s.loadBalancerClass !== undefined) {
    errs.push(field.forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  // external traffic policy
  if (!externallyAccessible(svc)) {
    if (s.externalTrafficPolicy) errs.push(field.invalid('spec.externalTrafficPolicy', s.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!s.externalTrafficPolicy) {
    errs.push(field.required('spec.externalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(s.externalTrafficPolicy)) {
    errs.push(field.notSupported('spec.externalTrafficPolicy', s.externalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (!needsHealthCheck(svc)) {
    if (s.healthCheckNodePort) {
      errs.push(field.invalid('spec.healthCheckNodePort', s.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
    }
  } else if (!s.healthCheckNodePort) {
    errs.push(field.required('spec.healthCheckNodePort'));
  } else {
    for (const m of isValidPortNum(s.healthCheckNodePort)) errs.push(field.invalid('spec.healthCheckNodePort', s.healthCheckNodePort, m));
  }
  if (s.internalTrafficPolicy === undefined) {
    if (s.type === 'NodePort' || s.type === 'LoadBalancer' || s.type === 'ClusterIP') errs.push(field.required('spec.internalTrafficPolicy'));
  } else if (!TRAFFIC_POLICIES.includes(s.internalTrafficPolicy)) {
    errs.push(field.notSupported('spec.internalTrafficPolicy', s.internalTrafficPolicy, TRAFFIC_POLICIES));
  }
  const td = (s as { trafficDistribution?: string }).trafficDistribution;
  if (td !== undefined && td !== 'PreferClose') errs.push(field.notSupported('spec.trafficDistribution', td, ['PreferClose']));
  return errs;
}

function validateUpgradeDowngradeClusterIPs(old: MutableService, next: MutableService): FieldError[] {
  const errs: FieldError[] = [];
  if (next.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName') return errs;
  if (isHeadless(old) && isHeadless(next)) return errs;
  const o = old.spec?.clusterIPs ?? [];
  const n = next.spec?.clusterIPs ?? [];
  if (o.length === n.length) {
    o.forEach((ip, i) => { if (ip !== n[i]) errs.push(field.invalid(`spec.clusterIPs[${i}]`, n, 'may not change once set')); });
  } else if (o.length > n.length) {
    if (!n.length) errs.push(field.invalid('spec.clusterIPs[0]', n, 'primary clusterIP can not be unset'));
    if (o.length && n.length && n[0] !== o[0]) errs.push(field.invalid('spec.clusterIPs[0]', n, 'may not change once set'));
    if (n.length === 1 && next.spec?.ipFamilyPolicy !== 'SingleStack') {
      errs.push(field.invalid('spec.ipFamilyPolicy', next.spec?.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (o.length && n[0] !== o[0]) {
    errs.push(field.invalid('spec.clusterIPs[0]', n, 'may not change once set'));
  }
  return errs;
}

function validateUpgradeDowngradeIPFamilies(old: MutableService, next: MutableService): FieldError[] {
  const errs: FieldError[] = [];
  if (next.spec?.type === 'ExternalName' || old.spec?.type === 'ExternalName') return errs;
  if (isHeadless(old) !== isHeadless(next) || isHeadless(next)) return errs;
  const o = old.spec?.ipFamilies ?? [];
  const n = next.spec?.ipFamilies ?? [];
  if (o.length === n.length) {
    if (o.some((f, i) => f !== n[i])) errs.push(field.invalid('spec.ipFamilies[0]', n, 'may not change once set'));
  } else if (o.length > n.length) {
    if (!next.spec?.clusterIPs?.length) errs.push(field.invalid('spec.ipFamilies[0]', n, 'primary ipFamily can not be unset'));
    if (n.length && n[0] !== o[0]) errs.push(field.invalid('spec.ipFamilies[0]', next.spec?.clusterIPs ?? [], 'may not change once set'));
    if (n.length === 1 && next.spec?.ipFamilyPolicy !== 'SingleStack') {
      errs.push(field.invalid('spec.ipFamilyPolicy', next.spec?.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
    }
  } else if (o.length && n.length && n[0] !== o[0]) {
    errs.push(field.invalid('spec.ipFamilies[0]', next.spec?.clusterIPs ?? [], 'may not change once set'));
  }
  return errs;
}

/** upstream ValidateServiceUpdate (without the metadata checks the store makes). */
export function validateServiceUpdate(next: MutableService, old: MutableService): FieldError[] {
  const errs = [...validateUpgradeDowngradeClusterIPs(old, next), ...validateUpgradeDowngradeIPFamilies(old, next)];
  if (old.spec?.type === 'LoadBalancer' && next.spec?.type === 'LoadBalancer' && (old.spec.loadBalancerClass ?? null) !== (next.spec.loadBalancerClass ?? null)) {
    errs.push(field.invalid('spec.loadBalancerClass', next.spec.loadBalancerClass ?? null, 'may not change once set'));
  }
  if (needsHealthCheck(old) && needsHealthCheck(next) && old.spec?.healthCheckNodePort !== next.spec?.healthCheckNodePort) {
    errs.push(field.forbidden('spec.healthCheckNodePort', FIELD_IMMUTABLE));
  }
  return [...errs, ...validateService(next)];
}

/** upstream ValidateServiceStatusUpdate (load balancer ingress). */
export function validateServiceStatus(svc: MutableService): FieldError[] {
  const errs: FieldError[] = [];
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (svc.spec?.type !== 'LoadBalancer' && ingress.length) {
    return [field.forbidden('status.loadBalancer.ingress', "may only be used when `spec.type` is 'LoadBalancer'")];
  }
  ingress.forEach((ing, i) => {
    const p = `status.loadBalancer.ingress[${i}]`;
    if (ing.ip) errs.push(...validateIP(`${p}.ip`, ing.ip));
    if (ing.ipMode !== undefined && !ing.ip) errs.push(field.forbidden(`${p}.ipMode`, 'may not be specified when `ip` is not set'));
    else if (ing.ipMode !== undefined && !['Proxy', 'VIP'].includes(ing.ipMode)) errs.push(field.notSupported(`${p}.ipMode`, ing.ipMode, ['Proxy', 'VIP']));
    if (ing.hostname) {
      for (const m of isDNS1123Subdomain(ing.hostname)) errs.push(field.invalid(`${p}.hostname`, ing.hostname, m));
      if (ipFamilyOf(ing.hostname)) errs.push(field.invalid(`${p}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}
