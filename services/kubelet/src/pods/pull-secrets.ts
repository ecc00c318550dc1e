/**
 * Registry credentials from a pod's imagePullSecrets (upstream pkg/credentialprovider
 * keyring + secrets.MakeDockerKeyring), as CRI AuthConfigs for PullImage.
 *
 * - Secrets of type `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`: `{"auths": {…}}`)
 *   and `kubernetes.io/dockercfg` (`.dockercfg`: the entries at the top level) are read;
 *   other secrets and unparsable payloads are skipped. An entry's `auth` (base64
 *   "user:password") fills username/password when those are absent.
 * - A key is a registry host, optionally with a port, a path prefix, a scheme (dropped) and
 *   `*` wildcards per host label (`*.example.com`). `index.docker.io`, `registry-1.docker.io`
 *   and `docker.io` name Docker Hub, where images without a registry live.
 * - `credentialsFor(image)` returns every matching entry, the most specific key first
 *   (longest key), in secret order among equals; the puller tries them in turn. No match → no
 *   credentials (an anonymous pull).
 * Hand-written: no npm package implements the kubelet's keyring matching rules.
 */
import type { Secret } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type * as m from '../cri/index.js';

export const SECRET_TYPE_DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
export const SECRET_TYPE_DOCKERCFG = 'kubernetes.io/dockercfg';
const DOCKER_HUB = 'docker.io';

interface KeyringEntry {
  /** Normalized key: host[:port][/path]. */
  key: string;
  auth: m.AuthConfig;
  order: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Drops a scheme and trailing slashes; Docker Hub's aliases become `docker.io` (with `/v1`-style paths dropped). */
export function normalizeRegistryKey(raw: string): string {
  let k = raw.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
  const slash = k.indexOf('/');
  const host = (slash < 0 ? k : k.slice(0, slash)).toLowerCase();
  const path = slash < 0 ? '' : k.slice(slash);
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === DOCKER_HUB) {
    k = /^\/v[12]$/.test(path) ? DOCKER_HUB : DOCKER_HUB + path;
  } else k = host + path;
  return k;
}

/** The registry host and repository path of an image reference (Docker's normalization). */
export function imageLocation(image: string): { host: string; path: string } {
  let ref = image.split('@')[0] ?? image;
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > lastSlash) ref = ref.slice(0, colon); // tag
  const first = ref.indexOf('/');
  const head = first < 0 ? '' : ref.slice(0, first);
  if (first >= 0 && (head.includes('.') || head.includes(':') || head === 'localhost')) {
    return { host: head.toLowerCase(), path: ref.slice(first + 1) };
  }
  return { host: DOCKER_HUB, path: first < 0 ? `library/${ref}` : ref };
}

function authEntry(key: string, v: Record<string, unknown>): m.AuthConfig {
  let username = str(v.username);
  let password = str(v.password);
  const auth = str(v.auth);
  if (auth && !username && !password) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i >= 0) { username = decoded.slice(0, i); password = decoded.slice(i + 1); }
  }
  const out: m.AuthConfig = { server_address: key };
  if (username) out.username = username;
  if (password) out.password = password;
  if (auth) out.auth = auth;
  const identityToken = str(v.identitytoken);
  if (identityToken) out.identity_token = identityToken;
  const registryToken = str(v.registrytoken);
  if (registryToken) out.registry_token = registryToken;
  return out;
}

/** The docker config entries of one secret (empty when it is not a docker config secret). */
export function secretEntries(secret: DeepReadonly<Secret>): Array<{ key: string; auth: m.AuthConfig }> {
  let field: string;
  if (secret.type === SECRET_TYPE_DOCKER_CONFIG_JSON) field = '.dockerconfigjson';
  else if (secret.type === SECRET_TYPE_DOCKERCFG) field = '.dockercfg';
  else return [];
  const b64 = secret.data?.[field];
  if (!b64) return [];
  let parsed: unknown;
  try { parsed = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')); } catch { return []; }
  if (!isRecord(parsed)) return [];
  const entries = field === '.dockerconfigjson' ? parsed.auths : parsed;
  if (!isRecord(entries)) return [];
  const out: Array<{ key: string; auth: m.AuthConfig }> = [];
  for (const [rawKey, v] of Object.entries(entries)) {
    if (!isRecord(v)) continue;
    const key = normalizeRegistryKey(rawKey);
    if (!key) continue;
    out.push({ key, auth: authEntry(rawKey, v) });
  }
  return out;
}

function hostMatches(pattern: string, host: string): boolean {
  const [pHost, pPort = ''] = pattern.split(/:(?=\d+$)/);
  const [hHost, hPort = ''] = host.split(/:(?=\d+$)/);
  if (pPort !== hPort) return false;
  const pp = (pHost ?? '').split('.');
  const hp = (hHost ?? '').split('.');
  if (pp.length !== hp.length) return false;
  return pp.every((p, i) => p === '*' || p === hp[i]);
}

/** A keyring over the docker config secrets of a pod, in imagePullSecrets order. */
export class DockerKeyring {
  private readonly entries: KeyringEntry[] = [];

  constructor(secrets: ReadonlyArray<DeepReadonly<Secret>>) {
    let order = 0;
    for (const s of secrets) for (const e of secretEntries(s)) this.entries.push({ ...e, order: order++ });
    this.entries.sort((a, b) => b.key.length - a.key.length || a.order - b.order);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The credentials that apply to `image`, most specific first. */
  credentialsFor(image: string): m.AuthConfig[] {
    const { host, path } = imageLocation(image);
    const out: m.AuthConfig[] = [];
    for (const e of this.entries) {
      const slash = e.key.indexOf('/');
      const kHost = slash < 0 ? e.key : e.key.slice(0, slash);
      const kPath = slash < 0 ? '' : e.key.slice(slash + 1);
      if (!hostMatches(kHost, host)) continue;
      if (kPath && path !== kPath && !path.startsWith(`${kPath}/`)) continue;
      out.push({ ...e.auth });
    }
    return out;
  }
}
