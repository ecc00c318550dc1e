/**
 * Service account token authentication (upstream pkg/serviceaccount/jwt.go and claims.go):
 * `Authorization: Bearer <JWT>` issued by TokenRequest (registry/core/token.ts).
 *
 * Contract of authenticate:
 * - null (not ours, the next authenticator may try): no bearer header, not a JWT, or a JWT
 *   whose `iss` is not our issuer.
 * - throws (the request is 401): a bad signature (RS256 with the service account key), expired
 *   or not yet valid (60 s leeway, as go-jose's default), no audience shared with the
 *   apiserver's audiences (a token without `aud` counts as the apiserver's), or claims that no
 *   longer hold: the service account is gone, being deleted, or has another UID; the bound pod
 *   or secret is gone or has another UID; a bound pod deleted more than 60 s ago; a token bound
 *   straight to a node whose node is gone or has another UID.
 * - otherwise the user `system:serviceaccount:<ns>:<name>` with the account's UID, groups
 *   system:serviceaccounts, system:serviceaccounts:<ns>, system:authenticated, and extras
 *   authentication.kubernetes.io/{pod-name,pod-uid,node-name,node-uid,credential-id} as upstream.
 *
 * Objects are read from the watch cache first and from storage when the cache has not seen
 * them yet (upstream's lister-then-client getter). Left out: legacy secret-based tokens
 * (issuer kubernetes/serviceaccount) and tokens passed in the WebSocket subprotocol.
 */
import type { IncomingMessage } from 'node:http';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { isApiError, type KubeObject } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { Authenticator, UserInfo } from './authentication.js';
import { systemContext, type ApiRegistry } from '../registry/index.js';

export type BoundKind = 'ServiceAccount' | 'Pod' | 'Secret' | 'Node';

/** Reads an object for claim checks; null when it does not exist. Node ignores `namespace`. */
export type ObjectLookup = (kind: BoundKind, namespace: string, name: string) => Promise<KubeObject | null>;

export interface ServiceAccountTokenOptions {
  /** The service account public key (PEM), or a function that resolves it (e.g. the signer's). */
  publicKey: string | (() => Promise<string>);
  /** Accepted `iss` values. */
  issuers: readonly string[];
  /** The apiserver's audiences (upstream --api-audiences; default the issuer). */
  audiences: readonly string[];
  lookup: ObjectLookup;
  now?: () => Date;
}

interface Ref { name?: string; uid?: string }
interface KubernetesClaims {
  namespace?: string;
  serviceaccount?: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
}

const LEEWAY_SECONDS = 60;
/** A bound pod being deleted keeps its tokens valid this long (upstream invalidIfDeletedBefore). */
const DELETED_POD_GRACE_MS = 60_000;

class TokenError extends Error {}

export function bearerToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(.*)$/i.exec(h.trim());
  const t = m?.[1]?.trim();
  return t ? t : null;
}

export class ServiceAccountTokenAuthenticator implements Authenticator {
  private key?: Promise<KeyObject>;
  constructor(private readonly o: ServiceAccountTokenOptions) {}

  private publicKey(): Promise<KeyObject> {
    this.key ??= (async () => createPublicKey(typeof this.o.publicKey === 'string' ? this.o.publicKey : await this.o.publicKey()))();
    return this.key;
  }

  async authenticate(req: IncomingMessage): Promise<UserInfo | null> {
    const token = bearerToken(req);
    if (!token) return null;
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return null;
    }
    if (typeof unverified.iss !== 'string' || !this.o.issuers.includes(unverified.iss)) return null;
    const now = (this.o.now ?? (() => new Date()))();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.publicKey(), {
        algorithms: ['RS256'], clockTolerance: LEEWAY_SECONDS, currentDate: now,
      }));
    } catch (e) {
      throw new TokenError(`invalid service account token: ${(e as Error).message}`);
    }
    const tokenAuds = payload.aud === undefined ? [...this.o.audiences] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!tokenAuds.some((a) => this.o.audiences.includes(a))) {
      throw new TokenError(`token audiences ${JSON.stringify(tokenAuds)} is invalid for the target audiences ${JSON.stringify(this.o.audiences)}`);
    }
    return this.validate(payload, now);
  }

  private async validate(payload: JWTPayload, now: Date): Promise<UserInfo> {
    const k = payload['kubernetes.io'] as KubernetesClaims | undefined;
    const ns = k?.namespace;
    const sa = k?.serviceaccount;
    if (!ns || !sa?.name || !sa.uid) throw new TokenError('service account token claims are missing kubernetes.io namespace or serviceaccount');
    const expectSub = `system:serviceaccount:${ns}:${sa.name}`;
    if (payload.sub !== expectSub) throw new TokenError(`token subject ${String(payload.sub)} does not match ${expectSub}`);
    const account = await this.o.lookup('ServiceAccount', ns, sa.name);
    if (!account) throw new TokenError(`serviceaccount "${sa.name}" not found`);
    if (account.metadata?.deletionTimestamp) throw new TokenError(`service account ${ns}/${sa.name} has been deleted`);
    if (account.metadata?.uid !== sa.uid) throw new TokenError(`service account UID (${account.metadata?.uid ?? ''}) does not match claim (${sa.uid})`);
    const extra: Record<string, string[]> = {};
    if (k.secret) {
      const s = await this.o.lookup('Secret', ns, k.secret.name ?? '');
      if (!s) throw new TokenError(`secret "${k.secret.name ?? ''}" not found`);
      if (s.metadata?.uid !== k.secret.uid) throw new TokenError(`secret UID (${s.metadata?.uid ?? ''}) does not match service account secret ref claim (${k.secret.uid ?? ''})`);
      if (s.metadata?.deletionTimestamp) throw new TokenError(`secret ${ns}/${k.secret.name ?? ''} has been deleted`);
    }
    if (k.pod) {
      const p = await this.o.lookup('Pod', ns, k.pod.name ?? '');
      if (!p) throw new TokenError(`pods "${k.pod.name ?? ''}" not found`);
      if (p.metadata?.uid !== k.pod.uid) throw new TokenError(`pod UID (${p.metadata?.uid ?? ''}) does not match claim (${k.pod.uid ?? ''})`);
      const deleted = p.metadata?.deletionTimestamp;
      if (deleted && Date.parse(deleted) < now.getTime() - DELETED_POD_GRACE_MS) throw new TokenError(`pod ${ns}/${k.pod.name ?? ''} has been deleted`);
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name ?? ''];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid ?? ''];
    }
    if (k.node) {
      // A node claim next to a pod only records where the pod ran; alone, the token is bound to it.
      if (!k.pod) {
        const n = await this.o.lookup('Node', '', k.node.name ?? '');
        if (!n) throw new TokenError(`nodes "${k.node.name ?? ''}" not found`);
        if (n.metadata?.uid !== k.node.uid) throw new TokenError(`node UID (${n.metadata?.uid ?? ''}) does not match claim (${k.node.uid ?? ''})`);
      }
      extra['authentication.kubernetes.io/node-name'] = [k.node.name ?? ''];
      extra['authentication.kubernetes.io/node-uid'] = [k.node.uid ?? ''];
    }
    if (typeof payload.jti === 'string' && payload.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload.jti}`];
    return {
      username: expectSub, uid: sa.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
      ...(Object.keys(extra).length ? { extra } : {}),
    };
  }
}

/** Claim-check reads through the registry: the watch cache, then storage (upstream clientGetter). */
export function registryLookup(registry: () => ApiRegistry, logger: Logger): ObjectLookup {
  return async (kind, namespace, name) => {
    if (!name) return null;
    const store = registry().store(kind);
    const ctx = systemContext(logger, kind === 'Node' ? '' : namespace);
    for (const opts of [{ resourceVersion: '0' }, {}]) {
      try {
        return await store.get(ctx, name, opts);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
    }
    return null;
  };
}
