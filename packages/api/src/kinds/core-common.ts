/**
 * Validation helpers shared by the core/v1 kinds, with upstream wording
 * (k8s.io/apimachinery/pkg/util/validation and pkg/apis/core/validation). Pure functions that
 * return field errors or detail strings; nothing throws.
 */
import { isIP } from 'node:net';
import { field, type FieldError } from '../errors.js';
import { isDNS1123Label, isQualifiedName } from '../validation.js';
import { parseQuantity } from '../quantity.js';

export const FIELD_IMMUTABLE = 'field is immutable';
export const NEGATIVE = 'must be greater than or equal to 0';

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/** Service names (upstream NameIsDNS1035Label). */
export function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(v)) errs.push(DNS1035_LABEL_MSG);
  return errs;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** ConfigMap and Secret keys (upstream IsConfigMapKey). */
export function isConfigMapKey(k: string): string[] {
  const errs: string[] = [];
  if (k.length > 253) errs.push('must be no more than 253 characters');
  if (!CONFIG_KEY.test(k)) {
    errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  }
  if (k === '.') errs.push("must not be '.'");
  else if (k === '..') errs.push("must not be '..'");
  else if (k.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export function isValidPortNum(v: unknown): string[] {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** Named ports (IANA_SVC_NAME, upstream IsValidPortName). */
export function isValidPortName(p: string): string[] {
  const errs: string[] = [];
  if (p.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(p)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(p)) errs.push('must contain at least one letter (a-z)');
  if (p.includes('--')) errs.push('must not contain consecutive hyphens');
  if (p.length > 0 && (p.startsWith('-') || p.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

export const VALID_IP_MSG = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/** 4, 6, or 0 when `v` is not an IP address. */
export function ipFamilyOf(v: string): 0 | 4 | 6 {
  return isIP(v) as 0 | 4 | 6;
}

export function validateIP(path: string, v: string): FieldError[] {
  return ipFamilyOf(v) ? [] : [field.invalid(path, v, VALID_IP_MSG)];
}

export function validateCIDR(path: string, v: string): FieldError[] {
  const m = /^(.+)\/(\d{1,3})$/.exec(v);
  const fam = m ? ipFamilyOf(m[1]!) : 0;
  const bits = m ? Number(m[2]) : -1;
  if (!fam || bits > (fam === 4 ? 32 : 128)) return [field.invalid(path, v, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
  return [];
}

/**
 * Endpoints and external IPs may not be unspecified, loopback or link-local (upstream
 * ValidateNonSpecialIP).
 */
export function validateNonSpecialIP(path: string, ip: string): FieldError[] {
  const fam = ipFamilyOf(ip);
  if (!fam) return [field.invalid(path, ip, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  const lower = ip.toLowerCase();
  if (fam === 4) {
    const [a, b, c] = ip.split('.').map(Number) as [number, number, number, number];
    if (ip === '0.0.0.0') errs.push(field.invalid(path, ip, `may not be unspecified (${ip})`));
    if (a === 127) errs.push(field.invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
    if (a === 169 && b === 254) errs.push(field.invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
    if (a === 224 && b === 0 && c === 0) errs.push(field.invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  } else {
    if (lower === '::' || /^(0{1,4}:){7}0{1,4}$/.test(lower)) errs.push(field.invalid(path, ip, `may not be unspecified (${ip})`));
    if (lower === '::1') errs.push(field.invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
    if (/^fe[89ab][0-9a-f]:/.test(lower)) errs.push(field.invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
    if (lower.startsWith('ff02:')) errs.push(field.invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  }
  return errs;
}

export function dns1123Label(path: string, v: string): FieldError[] {
  return isDNS1123Label(v).map((m) => field.invalid(path, v, m));
}

export function qualifiedName(path: string, v: string): FieldError[] {
  return isQualifiedName(v).map((m) => field.invalid(path, v, m));
}

export function nonNegativeField(path: string, v: number | undefined): FieldError[] {
  return v !== undefined && v < 0 ? [field.invalid(path, v, NEGATIVE)] : [];
}

/** The quantity's value, or undefined when it does not parse. */
export function quantityValue(q: unknown): number | undefined {
  if (typeof q !== 'string' && typeof q !== 'number') return undefined;
  try { return parseQuantity(q); } catch { return undefined; }
}

// ---- resource names (pkg/apis/core/helper) ----------------------------------------------

const HUGEPAGES = /^hugepages-/;
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const STANDARD_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu',
  'limits.memory', 'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets',
  'persistentvolumeclaims', 'storage', 'requests.storage', 'services.nodeports', 'services.loadbalancers',
]);
const STANDARD_QUOTA_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas',
  'secrets', 'persistentvolumeclaims', 'configmaps', 'services.nodeports', 'services.loadbalancers',
]);
const INTEGER_RESOURCES = new Set([
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'persistentvolumeclaims', 'configmaps',
  'services.nodeports', 'services.loadbalancers',
]);

function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** A resource name in a quota, limit range or capacity (upstream validateResourceName). */
export function validateResourceName(path: string, name: string): FieldError[] {
  const errs = qualifiedName(path, name);
  if (errs.length) return errs;
  if (!name.includes('/') && !STANDARD_RESOURCES.has(name) && !HUGEPAGES.test(name) && !/^(requests|limits)\.hugepages-/.test(name)) {
    return [field.invalid(path, name, 'must be a standard resource type or fully qualified')];
  }
  return [];
}

export function validateContainerResourceName(path: string, name: string): FieldError[] {
  const errs = validateResourceName(path, name);
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !HUGEPAGES.test(name)) return [...errs, field.invalid(path, name, 'must be a standard resource for containers')];
  } else if (!isNativeResource(name) && name.startsWith('requests.')) {
    return [...errs, field.invalid(path, name, "doesn't follow extended resource name standard")];
  }
  return errs;
}

export function validateQuotaResourceName(path: string, name: string): FieldError[] {
  const errs = validateResourceName(path, name);
  if (!name.includes('/') && !STANDARD_QUOTA_RESOURCES.has(name) && !/^(requests\.)?hugepages-/.test(name)) {
    return [...errs, field.invalid(path, name, 'must be a standard resource for quota')];
  }
  return errs;
}

/** Quantity checks for a resource (upstream ValidateResourceQuantityValue). */
export function validateResourceQuantity(path: string, name: string, q: unknown): FieldError[] {
  const v = quantityValue(q);
  if (v === undefined) return [field.invalid(path, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")];
  const errs: FieldError[] = [];
  if (v < 0) errs.push(field.invalid(path, q, NEGATIVE));
  const integer = INTEGER_RESOURCES.has(name) || name.startsWith('count/') || (name.includes('/') && !isNativeResource(name));
  if (integer && Math.round(v * 1000) % 1000 !== 0) errs.push(field.invalid(path, q, 'must be an integer'));
  return errs;
}

export function isObjectMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
