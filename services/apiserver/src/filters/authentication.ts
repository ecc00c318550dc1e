/**
 * Authentication: a chain of small authenticators (x509 client certificates, service account
 * bearer tokens in ./service-account-token.ts). The first that recognises the request wins;
 * one that throws (credentials present but bad) does not stop the others, as upstream's union
 * authenticator: the request is refused (401) only when none succeeds and one of them threw.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket, PeerCertificate } from 'node:tls';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export interface Authenticator {
  /** null: this authenticator does not recognise the request; throws (or rejects): credentials present but bad. */
  authenticate(req: IncomingMessage): UserInfo | null | Promise<UserInfo | null>;
}

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * x509: the TLS layer verified the chain against the cluster CA (requestCert with
 * rejectUnauthorized false, so anonymous requests still reach /healthz); CN is the user, O the groups.
 */
export class X509Authenticator implements Authenticator {
  /**
   * The peer certificate cannot change during a TLS connection (no renegotiation), so the
   * user is worked out once per connection: keep-alive clients send thousands of requests.
   */
  private readonly perSocket = new WeakMap<TLSSocket, UserInfo | null>();

  authenticate(req: IncomingMessage): UserInfo | null {
    const sock = req.socket as TLSSocket;
    if (typeof sock.getPeerCertificate !== 'function' || !sock.authorized) return null;
    const known = this.perSocket.get(sock);
    if (known !== undefined) return known;
    const cert: PeerCertificate = sock.getPeerCertificate();
    const cn = cert.subject?.CN;
    const groups = asList(cert.subject?.O as string | string[] | undefined);
    const user = !cn || Array.isArray(cn) ? null : { username: cn, groups: [...groups, 'system:authenticated'] };
    this.perSocket.set(sock, user);
    return user;
  }
}

export class UnionAuthenticator implements Authenticator {
  constructor(private readonly chain: readonly Authenticator[]) {}
  async authenticate(req: IncomingMessage): Promise<UserInfo | null> {
    let failure: unknown;
    for (const a of this.chain) {
      try {
        const u = await a.authenticate(req);
        if (u) return u;
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== undefined) throw failure;
    return null;
  }
}
