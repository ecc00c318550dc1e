/**
 * POST serviceaccounts/<name>/token (authentication.k8s.io/v1 TokenRequest, upstream
 * pkg/registry/core/serviceaccount/storage/token.go): issues a service account JWT signed with
 * the cluster's service account key (RS256, `kid` = base64url SHA-256 of the public key's DER,
 * claims as upstream's pkg/serviceaccount/claims.go). The apiserver's token authenticator
 * (filters/service-account-token.ts) verifies them with the same key's public half.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  ApiError, badRequest, conflict, defaultTokenRequest, field, invalid, rfc3339, typed, validateTokenRequest,
  type KubeObject, type ResourceDef, type StoredObject, type TokenRequest,
} from '@tskube/api';
import type { Creater, RequestContext } from '../rest.js';
import type { Store } from '../store.js';

/** upstream kubeadm's --service-account-issuer; also the default API audience. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** Signs service account tokens. Without a configured key, makes an RSA key in memory on first use. */
export class ServiceAccountTokenSigner {
  private key?: Promise<{ privateKey: KeyObject; kid: string }>;
  constructor(private readonly pem?: { privateKeyPem: string; publicKeyPem?: string }, readonly issuer = SERVICE_ACCOUNT_ISSUER) {}

  /** upstream keyIDFromPublicKey: base64url(sha256(PKIX DER of the public key)). */
  static keyID(publicKey: KeyObject): string {
    return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
  }

  private load(): Promise<{ privateKey: KeyObject; kid: string }> {
    this.key ??= (async () => {
      if (this.pem) {
        const privateKey = createPrivateKey(this.pem.privateKeyPem);
        return { privateKey, kid: ServiceAccountTokenSigner.keyID(createPublicKey(privateKey)) };
      }
      const privateKey = await new Promise<KeyObject>((resolve, reject) => {
        generateKeyPair('rsa', { modulusLength: 2048 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv)));
      });
      return { privateKey, kid: ServiceAccountTokenSigner.keyID(createPublicKey(privateKey)) };
    })();
    return this.key;
  }

  /** The public half of the signing key (PEM), for verifiers. */
  async publicKeyPem(): Promise<string> {
    const { privateKey } = await this.load();
    return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  }

  async sign(claims: Record<string, unknown>): Promise<string> {
    const { privateKey, kid } = await this.load();
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
  }
}

interface ObjectRef { name: string; uid: string }

const BOUND_KINDS: Record<string, { group: string; resource: string }> = {
  Pod: { group: '', resource: 'pods' },
  Secret: { group: '', resource: 'secrets' },
  Node: { group: '', resource: 'nodes' },
};

export interface TokenRestOptions {
  serviceAccounts: Store;
  /** The store of a core kind the token may be bound to (Pod, Secret, Node). */
  storeFor(kind: string): Store;
  signer: ServiceAccountTokenSigner;
  /** Default audiences (upstream --api-audiences; default: the issuer). */
  audiences?: string[];
  now?: () => Date;
}

export class TokenRest implements Creater {
  readonly kind = { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };
  constructor(readonly def: ResourceDef, private readonly o: TokenRestOptions) {}

  async create(ctx: RequestContext, obj: KubeObject, name?: string): Promise<KubeObject> {
    const saName = name ?? '';
    const req = structuredClone(typed<TokenRequest>(obj));
    const gk = { group: 'authentication.k8s.io', kind: 'TokenRequest' };
    if (req.metadata?.name && req.metadata.name !== saName) {
      throw invalid(gk, saName, [field.invalid('metadata.name', req.metadata.name, 'must match the service account name if specified')]);
    }
    if (req.metadata?.namespace && req.metadata.namespace !== ctx.namespace) {
      throw invalid(gk, saName, [field.invalid('metadata.namespace', req.metadata.namespace, 'must match the service account namespace if specified')]);
    }
    defaultTokenRequest(req);
    const errs = validateTokenRequest(req);
    if (errs.length) throw invalid(gk, saName, errs);
    const sa = await this.o.serviceAccounts.get(ctx, saName);
    const kube: Record<string, unknown> = { namespace: ctx.namespace, serviceaccount: { name: sa.metadata.name, uid: sa.metadata.uid } };
    const bound = req.spec.boundObjectRef;
    if (bound) {
      const target = BOUND_KINDS[bound.kind ?? ''];
      if ((bound.apiVersion ?? 'v1') !== 'v1' || !target) {
        throw badRequest(`cannot bind token for serviceaccount "${ctx.namespace}/${saName}" to object of kind "${bound.kind ?? ''}" in API group "${(bound.apiVersion ?? '').split('/').slice(0, -1).join('/')}"`);
      }
      const store = this.o.storeFor(bound.kind!);
      const live: StoredObject = await store.get(bound.kind === 'Node' ? { ...ctx, namespace: '' } : ctx, bound.name ?? '');
      if (bound.uid && bound.uid !== live.metadata.uid) {
        throw conflict(target, bound.name ?? '', `the UID in the bound object reference (${bound.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
      }
      const ref: ObjectRef = { name: live.metadata.name!, uid: live.metadata.uid! };
      kube[bound.kind!.toLowerCase()] = ref;
      bound.uid = live.metadata.uid!;
      const nodeName = bound.kind === 'Pod' ? (live as { spec?: { nodeName?: string } }).spec?.nodeName : undefined;
      if (nodeName) {
        try {
          const node = await this.o.storeFor('Node').get({ ...ctx, namespace: '' }, nodeName);
          kube.node = { name: nodeName, uid: node.metadata.uid };
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
    }
    const audiences = req.spec.audiences?.length ? req.spec.audiences : (this.o.audiences ?? [this.o.signer.issuer]);
    const now = (this.o.now ?? (() => new Date()))();
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + (req.spec.expirationSeconds ?? 3600);
    const token = await this.o.signer.sign({
      aud: audiences, exp, iat, nbf: iat, iss: this.o.signer.issuer, jti: randomUUID(),
      sub: `system:serviceaccount:${ctx.namespace}:${sa.metadata.name}`, 'kubernetes.io': kube,
    });
    return {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      metadata: { name: sa.metadata.name, namespace: ctx.namespace, creationTimestamp: null as unknown as string },
      spec: { ...req.spec, audiences },
      status: { token, expirationTimestamp: rfc3339(new Date(exp * 1000)) },
    };
  }
}
