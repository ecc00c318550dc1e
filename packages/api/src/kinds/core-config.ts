/**
 * ConfigMap, Secret, ServiceAccount and Endpoints defaulting and validation (upstream
 * pkg/apis/core/v1 defaults + conversion, pkg/apis/core/validation). Metadata is checked by the
 * generic store.
 */
import type { ConfigMap, Endpoints, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { field, type FieldError } from '../errors.js';
import { jsonEqual } from '../meta.js';
import { isDNS1123Subdomain } from '../validation.js';
import {
  FIELD_IMMUTABLE, dns1123Label, isConfigMapKey, isValidPortNum, qualifiedName, validateIP, validateNonSpecialIP,
} from './core-common.js';

export type { ConfigMap, Endpoints, Secret, ServiceAccount };

/** Upstream MaxSecretSize: the data of a ConfigMap or Secret together. */
export const MAX_CONFIG_SIZE = 1024 * 1024;

/** Decoded length of a base64 string (the bytes it carries). */
function base64Length(s: string): number {
  return Buffer.from(s, 'base64').length;
}

// ---- ConfigMap ------------------------------------------------------------------------------

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    for (const m of isConfigMapKey(k)) errs.push(field.invalid(`data[${k}]`, k, m));
    if (cm.binaryData && k in cm.binaryData) errs.push(field.invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
    size += Buffer.byteLength(v ?? '', 'utf8');
  }
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
    for (const m of isConfigMapKey(k)) errs.push(field.invalid(`binaryData[${k}]`, k, m));
    size += base64Length(v ?? '');
  }
  if (size > MAX_CONFIG_SIZE) errs.push(field.tooLong('', '', MAX_CONFIG_SIZE));
  return errs;
}

export function validateConfigMapUpdate(next: ConfigMap, old: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable) {
    if (!next.immutable) errs.push(field.forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!jsonEqual(next.data ?? {}, old.data ?? {})) errs.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
    if (!jsonEqual(next.binaryData ?? {}, old.binaryData ?? {})) errs.push(field.forbidden('binaryData', 'field is immutable when `immutable` is set'));
  }
  return [...errs, ...validateConfigMap(next)];
}

// ---- Secret ---------------------------------------------------------------------------------

export const SECRET_TYPES = {
  opaque: 'Opaque',
  serviceAccountToken: 'kubernetes.io/service-account-token',
  dockercfg: 'kubernetes.io/dockercfg',
  dockerConfigJson: 'kubernetes.io/dockerconfigjson',
  basicAuth: 'kubernetes.io/basic-auth',
  sshAuth: 'kubernetes.io/ssh-auth',
  tls: 'kubernetes.io/tls',
  bootstrapToken: 'bootstrap.kubernetes.io/token',
} as const;

/**
 * Type defaults to Opaque; `stringData` is merged into `data` (its values win) and dropped, as
 * upstream's v1 → internal conversion does on every write.
 */
export function defaultSecret(s: Secret): void {
  const m = s as { type?: string; data?: Record<string, string>; stringData?: Record<string, string> };
  m.type ||= SECRET_TYPES.opaque;
  if (m.stringData) {
    if (Object.keys(m.stringData).length) {
      m.data = { ...(m.data ?? {}) };
      for (const [k, v] of Object.entries(m.stringData)) m.data[k] = Buffer.from(v ?? '', 'utf8').toString('base64');
    }
    delete m.stringData;
  }
}

function isJSONObject(b64: string): string | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'json: cannot unmarshal into Go value of type map[string]interface {}';
  } catch (e) {
    return (e as Error).message;
  }
}

export function validateSecret(s: Secret): FieldError[] {
  const errs: FieldError[] = [];
  const data = s.data ?? {};
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(field.invalid(`data[${k}]`, k, m));
    size += base64Length(v ?? '');
  }
  if (size > MAX_CONFIG_SIZE) errs.push(field.tooLong('data', '', MAX_CONFIG_SIZE));
  const has = (k: string) => Object.prototype.hasOwnProperty.call(data, k);
  switch (s.type) {
    case SECRET_TYPES.serviceAccountToken:
      if (!s.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(field.required('metadata.annotations[kubernetes.io/service-account.name]'));
      }
      break;
    case SECRET_TYPES.dockercfg:
    case SECRET_TYPES.dockerConfigJson: {
      const key = s.type === SECRET_TYPES.dockercfg ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) { errs.push(field.required(`data[${key}]`)); break; }
      const bad = isJSONObject(data[key] ?? '');
      if (bad) errs.push(field.invalid(`data[${key}]`, '<secret contents redacted>', bad));
      break;
    }
    case SECRET_TYPES.basicAuth:
      if (!has('username') && !has('password')) errs.push(field.required('data[username]'), field.required('data[password]'));
      break;
    case SECRET_TYPES.sshAuth:
      if (!data['ssh-privatekey']) errs.push(field.required('data[ssh-privatekey]'));
      break;
    case SECRET_TYPES.tls:
      if (!has('tls.crt')) errs.push(field.required('data[tls.crt]'));
      if (!has('tls.key')) errs.push(field.required('data[tls.key]'));
      break;
    default:
  }
  return errs;
}

export function validateSecretUpdate(next: Secret, old: Secret): FieldError[] {
  const errs: FieldError[] = [];
  if ((next.type ?? '') !== (old.type ?? '')) errs.push(field.invalid('type', next.type, FIELD_IMMUTABLE));
  if (old.immutable) {
    if (!next.immutable) errs.push(field.forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!jsonEqual(next.data ?? {}, old.data ?? {})) errs.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
  }
  return [...errs, ...validateSecret(next)];
}

// ---- ServiceAccount -------------------------------------------------------------------------

/** ServiceAccounts have nothing to check beyond metadata (upstream ValidateServiceAccount). */
export function validateServiceAccount(sa: ServiceAccount): FieldError[] {
  const errs: FieldError[] = [];
  (sa.secrets ?? []).forEach((r, i) => {
    if (r.name) for (const m of isDNS1123Subdomain(r.name)) errs.push(field.invalid(`secrets[${i}].name`, r.name, m));
  });
  return errs;
}

// ---- Endpoints ------------------------------------------------------------------------------

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** upstream SetDefaults_Endpoints: ports default to TCP. */
export function defaultEndpoints(ep: Endpoints): void {
  for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) p.protocol ||= 'TCP';
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs: FieldError[] = [];
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    if (!ss.addresses?.length && !ss.notReadyAddresses?.length) {
      errs.push(field.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    for (const [list, key] of [[ss.addresses ?? [], 'addresses'], [ss.notReadyAddresses ?? [], 'notReadyAddresses']] as const) {
      list.forEach((a, j) => {
        const ap = `${p}.${key}[${j}]`;
        errs.push(...validateIP(`${ap}.ip`, a.ip));
        if (a.hostname) errs.push(...dns1123Label(`${ap}.hostname`, a.hostname));
        if (a.nodeName) for (const m of isDNS1123Subdomain(a.nodeName)) errs.push(field.invalid(`${ap}.nodeName`, a.nodeName, m));
        // like upstream, an unparsable IP is reported by both checks
        errs.push(...validateNonSpecialIP(`${ap}.ip`, a.ip));
      });
    }
    (ss.ports ?? []).forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      const multi = (ss.ports?.length ?? 0) > 1;
      if (multi && !port.name) errs.push(field.required(`${pp}.name`));
      else if (port.name) errs.push(...dns1123Label(`${pp}.name`, port.name));
      for (const m of isValidPortNum(port.port)) errs.push(field.invalid(`${pp}.port`, port.port, m));
      if (!port.protocol) errs.push(field.required(`${pp}.protocol`));
      else if (!PROTOCOLS.includes(port.protocol)) errs.push(field.notSupported(`${pp}.protocol`, port.protocol, PROTOCOLS));
      if (port.appProtocol !== undefined) errs.push(...qualifiedName(`${pp}.appProtocol`, port.appProtocol));
    });
  });
  return errs;
}
