/**
 * Kubeconfig files with embedded credentials (certificate-authority-data,
 * client-certificate-data, client-key-data), one cluster, one user, one context.
 */
import { parse, stringify } from 'yaml';

export const KUBECONFIG_CLUSTER = 'tskube';
export const KUBECONFIG_CONTEXT = 'tskube';

export interface KubeconfigSpec {
  readonly server: string;
  /** PEM strings; stored base64-encoded in the file. */
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** users[].name (admin, scheduler, ...); the identity itself is the certificate's CN/O. */
  readonly user: string;
}

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');
const unb64 = (data: string): string => Buffer.from(data, 'base64').toString('utf8');

export function renderKubeconfig(spec: KubeconfigSpec): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{
      name: KUBECONFIG_CLUSTER,
      cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) },
    }],
    users: [{
      name: spec.user,
      user: { 'client-certificate-data': b64(spec.certPem), 'client-key-data': b64(spec.keyPem) },
    }],
    contexts: [{ name: KUBECONFIG_CONTEXT, context: { cluster: KUBECONFIG_CLUSTER, user: spec.user } }],
    'current-context': KUBECONFIG_CONTEXT,
    preferences: {},
  }, { lineWidth: 0 });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Obj, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new Error(`kubeconfig: ${where}.${key} missing`);
  return v;
}

function named(list: unknown, name: string, what: string): Obj {
  if (!Array.isArray(list)) throw new Error(`kubeconfig: ${what} missing`);
  const entry: unknown = list.find((e: unknown) => isObj(e) && e.name === name);
  if (!isObj(entry)) throw new Error(`kubeconfig: ${what} "${name}" not found`);
  const body = entry[what.replace(/s$/, '')];
  if (!isObj(body)) throw new Error(`kubeconfig: ${what} "${name}" has no body`);
  return body;
}

/**
 * Reads back what renderKubeconfig wrote, following current-context; only embedded data is
 * understood (file references throw). Throws on anything malformed.
 */
export function parseKubeconfig(text: string): KubeconfigSpec {
  const doc: unknown = parse(text);
  if (!isObj(doc)) throw new Error('kubeconfig: not a mapping');
  const current = str(doc, 'current-context', 'kubeconfig');
  const ctx = named(doc.contexts, current, 'contexts');
  const cluster = named(doc.clusters, str(ctx, 'cluster', 'context'), 'clusters');
  const userName = str(ctx, 'user', 'context');
  const user = named(doc.users, userName, 'users');
  return {
    server: str(cluster, 'server', 'cluster'),
    caPem: unb64(str(cluster, 'certificate-authority-data', 'cluster')),
    certPem: unb64(str(user, 'client-certificate-data', 'user')),
    keyPem: unb64(str(user, 'client-key-data', 'user')),
    user: userName,
  };
}
