/** EndpointSlice defaulting and validation (discovery.k8s.io/v1; upstream pkg/apis/discovery/validation). */
import { isIPv4, isIPv6 } from 'node:net';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { field, type FieldError } from '../errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, validateLabels } from '../validation.js';
import { immutable } from './apps-common.js';
export type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/** The label that ties a slice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;

/** upstream SetDefaults_EndpointPort: name "" and protocol TCP. */
export function defaultEndpointSlice(s: EndpointSlice): void {
  for (const p of s.ports ?? []) {
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
}

/** upstream ValidateNonSpecialIP. */
function nonSpecialIP(ip: string, p: string): FieldError[] {
  const v4 = isIPv4(ip);
  if (ip === '0.0.0.0' || ip === '::') return [field.invalid(p, ip, `may not be unspecified (${ip})`)];
  if ((v4 && ip.startsWith('127.')) || ip === '::1') return [field.invalid(p, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  if ((v4 && ip.startsWith('169.254.')) || /^fe[89ab]/i.test(ip)) return [field.invalid(p, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  if ((v4 && ip.startsWith('224.0.0.')) || /^ff02:/i.test(ip)) return [field.invalid(p, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  return [];
}

function isFQDN(v: string): string[] {
  const name = v.endsWith('.') ? v.slice(0, -1) : v;
  if (!name) return ['should be a domain with at least one dot'];
  const errs = isDNS1123Subdomain(name);
  if (!errs.length && !name.includes('.')) return ['should be a domain with at least one dot'];
  return errs;
}

/** upstream ValidateEndpointSlice (minus metadata, which the store validates). */
export function validateEndpointSlice(s: EndpointSlice): FieldError[] {
  const errs: FieldError[] = [];
  const at = s.addressType;
  if (!at) errs.push(field.required('addressType'));
  else if (!ADDRESS_TYPES.includes(at)) errs.push(field.notSupported('addressType', at, ADDRESS_TYPES));

  const endpoints = s.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) errs.push(field.tooMany('endpoints', endpoints.length, MAX_ENDPOINTS));
  else endpoints.forEach((ep, i) => {
    const p = `endpoints[${i}]`;
    const addrs = ep.addresses ?? [];
    if (!addrs.length) errs.push(field.required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (addrs.length > MAX_ADDRESSES) errs.push(field.tooMany(`${p}.addresses`, addrs.length, MAX_ADDRESSES));
    addrs.forEach((a, j) => {
      const ap = `${p}.addresses[${j}]`;
      if (at === 'IPv4') errs.push(...(isIPv4(a) ? nonSpecialIP(a, ap) : [field.invalid(ap, a, 'must be a valid IPv4 address')]));
      else if (at === 'IPv6') errs.push(...(isIPv6(a) ? nonSpecialIP(a, ap) : [field.invalid(ap, a, 'must be a valid IPv6 address')]));
      else if (at === 'FQDN') for (const m of isFQDN(a)) errs.push(field.invalid(ap, a, m));
    });
    if (ep.nodeName !== undefined) for (const m of isDNS1123Subdomain(ep.nodeName)) errs.push(field.invalid(`${p}.nodeName`, ep.nodeName, m));
    const topo = ep.deprecatedTopology ?? {};
    if (Object.keys(topo).length > MAX_TOPOLOGY_LABELS) errs.push(field.tooMany(`${p}.deprecatedTopology`, Object.keys(topo).length, MAX_TOPOLOGY_LABELS));
    errs.push(...validateLabels(ep.deprecatedTopology, `${p}.deprecatedTopology`));
    if (ep.hostname !== undefined) for (const m of isDNS1123Label(ep.hostname)) errs.push(field.invalid(`${p}.hostname`, ep.hostname, m));
    const zones = ep.hints?.forZones ?? [];
    if (zones.length > MAX_ZONE_HINTS) errs.push(field.tooMany(`${p}.hints.forZones`, zones.length, MAX_ZONE_HINTS));
    const seen = new Set<string>();
    zones.forEach((z, k) => {
      if (seen.has(z.name)) errs.push(field.duplicate(`${p}.hints.forZones[${k}].name`, z.name));
      seen.add(z.name);
      for (const m of isValidLabelValue(z.name)) errs.push(field.invalid(`${p}.hints.forZones[${k}].name`, z.name, m));
    });
  });

  const ports = s.ports ?? [];
  if (ports.length > MAX_PORTS) errs.push(field.tooMany('ports', ports.length, MAX_PORTS));
  else {
    const names = new Set<string>();
    ports.forEach((port, i) => {
      const p = `ports[${i}]`;
      const name = port.name ?? '';
      if (name) for (const m of isDNS1123Label(name)) errs.push(field.invalid(`${p}.name`, name, m));
      if (names.has(name)) errs.push(field.duplicate(`${p}.name`, name));
      names.add(name);
      if (port.protocol === undefined) errs.push(field.required(`${p}.protocol`));
      else if (!PROTOCOLS.includes(port.protocol)) errs.push(field.notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
      if (port.appProtocol !== undefined) for (const m of isQualifiedName(port.appProtocol)) errs.push(field.invalid(`${p}.appProtocol`, port.appProtocol, m));
    });
  }
  return errs;
}

/** addressType is immutable. */
export function validateEndpointSliceUpdate(next: EndpointSlice, old: EndpointSlice): FieldError[] {
  return [...validateEndpointSlice(next), ...immutable(next.addressType, old.addressType, 'addressType')];
}
