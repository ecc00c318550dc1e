/**
 * Service account tokens for projected `serviceAccountToken` sources (upstream
 * pkg/kubelet/token/token_manager.go): requested through the TokenRequest API
 * (POST serviceaccounts/<sa>/token, bound to the pod), cached per
 * (namespace, service account, audience, expiration, pod UID) and requested again once 80 %
 * of the token's lifetime has passed or it is older than 24 h, as upstream.
 *
 * Contract: `token` resolves a token valid now, or rejects with the API's error (the volume
 * mount then fails and is retried). `forgetPod` drops the tokens bound to a pod.
 */
import type { Pod } from '@tskube/api';
import { Resources, type Client, type DeepReadonly } from '@tskube/client';

interface TokenRequestStatus { token?: string; expirationTimestamp?: string }
interface Cached { token: string; issuedAt: number; expiresAt: number; podUid: string }

const MAX_TTL_MS = 24 * 3600 * 1000;

export interface TokenSource {
  token(pod: DeepReadonly<Pod>, req: { serviceAccount: string; audience?: string; expirationSeconds?: number }): Promise<string>;
  forgetPod(uid: string): void;
}

export class TokenManager implements TokenSource {
  private readonly cache = new Map<string, Cached>();
  constructor(private readonly o: { client: Client; now?: () => number }) {}

  private now(): number { return (this.o.now ?? Date.now)(); }

  async token(pod: DeepReadonly<Pod>, req: { serviceAccount: string; audience?: string; expirationSeconds?: number }): Promise<string> {
    const ns = pod.metadata?.namespace ?? '';
    const uid = pod.metadata?.uid ?? '';
    const expirationSeconds = req.expirationSeconds ?? 3600;
    const key = JSON.stringify([ns, req.serviceAccount, req.audience ?? '', expirationSeconds, uid]);
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && !requiresRefresh(hit, now)) return hit.token;
    const body = {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      spec: {
        audiences: req.audience ? [req.audience] : [],
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid },
      },
    };
    const res = await this.o.client.resource(Resources.serviceAccounts)
      .createSubresource<{ status?: TokenRequestStatus }>(ns, req.serviceAccount, 'token', body);
    const token = res.status?.token;
    if (!token) throw new Error(`TokenRequest for ${ns}/${req.serviceAccount} returned no token`);
    const exp = res.status?.expirationTimestamp ? Date.parse(res.status.expirationTimestamp) : now + expirationSeconds * 1000;
    this.cache.set(key, { token, issuedAt: now, expiresAt: Number.isFinite(exp) ? exp : now + expirationSeconds * 1000, podUid: uid });
    return token;
  }

  forgetPod(uid: string): void {
    for (const [k, v] of this.cache) if (v.podUid === uid) this.cache.delete(k);
  }
}

/** upstream requiresRefresh: past 80 % of the lifetime, or older than 24 h. */
function requiresRefresh(t: Cached, now: number): boolean {
  if (now >= t.expiresAt) return true;
  const ttl = t.expiresAt - t.issuedAt;
  return now - t.issuedAt > ttl * 0.8 || now - t.issuedAt > MAX_TTL_MS;
}
