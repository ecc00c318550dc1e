/**
 * kubeconfig loading: the current (or a named) context's cluster and user, as the REST
 * client needs them. Supports `server`, `certificate-authority(-data)`,
 * `insecure-skip-tls-verify`, `client-certificate(-data)`, `client-key(-data)`, `token`,
 * `tokenFile`, and the context's `namespace`. Relative file paths resolve against the
 * kubeconfig's own directory (as kubectl does). Exec/auth-provider plugins are not supported.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isObject } from '@tskube/api';

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** What a context resolves to. Byte fields are PEM contents (file or base64 data, decoded). */
export interface KubeconfigCredentials {
  contextName: string;
  clusterName: string;
  userName: string;
  server: string;
  ca?: Buffer;
  insecureSkipTLSVerify?: boolean;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /** The context's default namespace, if set. */
  namespace?: string;
}

export interface KubeconfigOptions {
  /** Use this context instead of `current-context`. */
  context?: string;
}

/** Reads and resolves a kubeconfig file. Throws KubeconfigError naming the file and the missing piece. */
export function loadKubeconfig(path: string, opts: KubeconfigOptions = {}): KubeconfigCredentials {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${abs}: cannot read: ${(e as Error).message}`);
  }
  return parseKubeconfig(text, { source: abs, baseDir: dirname(abs), ...opts });
}

export interface ParseKubeconfigOptions extends KubeconfigOptions {
  /** Named in error messages. */
  source?: string;
  /** Relative paths resolve against this (default: the working directory). */
  baseDir?: string;
}

type Entry = Record<string, unknown>;

/** Resolves kubeconfig YAML text (see loadKubeconfig). */
export function parseKubeconfig(text: string, opts: ParseKubeconfigOptions = {}): KubeconfigCredentials {
  const src = opts.source ?? 'kubeconfig';
  const baseDir = opts.baseDir ?? process.cwd();
  const fail = (msg: string): never => { throw new KubeconfigError(`kubeconfig ${src}: ${msg}`); };

  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return fail(`invalid YAML: ${(e as Error).message}`);
  }
  if (!isObject(doc)) return fail('not a YAML mapping');

  const named = (listKey: 'contexts' | 'clusters' | 'users', itemKey: 'context' | 'cluster' | 'user', name: string): Entry | undefined => {
    const list = doc[listKey];
    if (list === undefined || list === null) return undefined;
    if (!Array.isArray(list)) return fail(`"${listKey}" is not a list`);
    for (const e of list) {
      if (isObject(e) && e.name === name) {
        const body = e[itemKey];
        return isObject(body) ? body : {};
      }
    }
    return undefined;
  };
  const str = (e: Entry, key: string, where: string): string | undefined => {
    const v = e[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return fail(`${where}: "${key}" must be a string`);
    return v;
  };
  const bytes = (e: Entry, fileKey: string, where: string): Buffer | undefined => {
    const file = str(e, fileKey, where);
    const data = str(e, `${fileKey}-data`, where);
    if (file && data) return fail(`${where}: both "${fileKey}" and "${fileKey}-data" are set; keep one`);
    if (data) return Buffer.from(data, 'base64');
    if (file) {
      const p = isAbsolute(file) ? file : resolve(baseDir, file);
      try {
        return readFileSync(p);
      } catch (e) {
        return fail(`${where}: cannot read ${fileKey} ${p}: ${(e as Error).message}`);
      }
    }
    return undefined;
  };

  const currentContext = str(doc, 'current-context', 'top level');
  const contextName = opts.context ?? currentContext;
  if (!contextName) return fail('no current-context is set and no context was given');
  const ctx = named('contexts', 'context', contextName);
  if (!ctx) return fail(`context "${contextName}" not found`);
  const clusterName = str(ctx, 'cluster', `context "${contextName}"`);
  if (!clusterName) return fail(`context "${contextName}" names no cluster`);
  const userName = str(ctx, 'user', `context "${contextName}"`) ?? '';
  const cluster = named('clusters', 'cluster', clusterName);
  if (!cluster) return fail(`cluster "${clusterName}" (of context "${contextName}") not found`);
  const cwhere = `cluster "${clusterName}"`;
  const server = str(cluster, 'server', cwhere);
  if (!server) return fail(`${cwhere} has no server`);
  try {
    const u = new URL(server);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`unsupported scheme ${u.protocol}`);
  } catch (e) {
    return fail(`${cwhere}: invalid server URL "${server}": ${(e as Error).message}`);
  }
  const ca = bytes(cluster, 'certificate-authority', cwhere);
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  if (insecure && ca) return fail(`${cwhere}: certificate-authority and insecure-skip-tls-verify are both set; keep one`);

  const out: KubeconfigCredentials = { contextName, clusterName, userName, server };
  if (ca) out.ca = ca;
  if (insecure) out.insecureSkipTLSVerify = true;
  const ns = str(ctx, 'namespace', `context "${contextName}"`);
  if (ns) out.namespace = ns;

  if (userName) {
    const user = named('users', 'user', userName);
    if (!user) return fail(`user "${userName}" (of context "${contextName}") not found`);
    const uwhere = `user "${userName}"`;
    const cert = bytes(user, 'client-certificate', uwhere);
    const key = bytes(user, 'client-key', uwhere);
    if (cert && !key) return fail(`${uwhere}: client-certificate is set but client-key is missing`);
    if (key && !cert) return fail(`${uwhere}: client-key is set but client-certificate is missing`);
    if (cert && key) { out.cert = cert; out.key = key; }
    let token = str(user, 'token', uwhere);
    const tokenFile = str(user, 'tokenFile', uwhere);
    if (!token && tokenFile) {
      const p = isAbsolute(tokenFile) ? tokenFile : resolve(baseDir, tokenFile);
      try {
        token = readFileSync(p, 'utf8').trim();
      } catch (e) {
        return fail(`${uwhere}: cannot read tokenFile ${p}: ${(e as Error).message}`);
      }
    }
    if (token) out.token = token;
    if (user.exec !== undefined || user['auth-provider'] !== undefined) {
      if (!out.cert && !out.token) return fail(`${uwhere}: exec and auth-provider credentials are not supported`);
    }
  }
  return out;
}
