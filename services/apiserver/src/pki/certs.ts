/**
 * Certificate primitives for the cluster PKI: make a CA, issue leaf certificates from it, and
 * check whether existing ones are still fit for use. Generation uses @peculiar/x509 on Node's
 * WebCrypto; checks use node:crypto's X509Certificate (signature, key match, CA flag) and
 * @peculiar/x509's parsed extensions (subject, SANs, extended key usage).
 */
import { X509Certificate, createPrivateKey, KeyObject, type webcrypto } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';
import { x509, subtle } from './x509.js';

type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;

/** A subject alternative name. `value` is normalised: DNS lower-case, IPv6 compressed. */
export interface San {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

/** x509 subject: CN is the Kubernetes user name, each O a group. */
export interface Subject {
  readonly commonName: string;
  readonly organizations: readonly string[];
}

export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

/** What a leaf certificate must say; also what an existing one is checked against. */
export interface LeafSpec {
  readonly subject: Subject;
  readonly usages: readonly ExtKeyUsage[];
  /** Required SANs (an existing certificate may carry more). */
  readonly sans?: readonly San[];
}

/** A certificate and its private key, both PEM (key in PKCS#8). */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA that can sign: its certificate and private key as WebCrypto objects. */
export interface Signer {
  readonly pair: PemPair;
  readonly cert: x509.X509Certificate;
  readonly key: CryptoKey;
  readonly algorithm: Algorithm | EcdsaParams;
}

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const LEAF_KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const LEAF_SIGNING: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const EKU_OID: Record<ExtKeyUsage, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

// ---- SANs -------------------------------------------------------------------------------

function normaliseIp(ip: string): string {
  if (isIPv4(ip)) return ip;
  // the URL parser prints IPv6 in its canonical compressed form: 0:0:0:0:0:0:0:1 -> ::1
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/**
 * Parses one SAN entry: an IP literal becomes an IP SAN, anything else a DNS SAN. An explicit
 * `DNS:` or `IP:` prefix is accepted too. Throws on an empty entry or a name with characters
 * no DNS name has.
 */
export function parseSan(entry: string): San {
  let s = entry.trim();
  let forced: San['type'] | undefined;
  const m = /^(dns|ip):(.*)$/i.exec(s);
  if (m) {
    forced = m[1]!.toLowerCase() === 'ip' ? 'ip' : 'dns';
    s = m[2]!.trim();
  }
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (forced !== 'dns' && isIP(s) !== 0) return { type: 'ip', value: normaliseIp(s) };
  if (forced === 'ip') throw new Error(`invalid IP SAN "${entry}"`);
  if (!/^(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/i.test(s)) throw new Error(`invalid DNS SAN "${entry}"`);
  return { type: 'dns', value: s.toLowerCase() };
}

/** Parses a comma-separated list (TSKUBE_EXTRA_SANS); empty entries are ignored. */
export function parseSanList(list: string | undefined): San[] {
  if (list === undefined) return [];
  return list.split(',').filter((e) => e.trim() !== '').map(parseSan);
}

export function sanKey(s: San): string {
  return `${s.type}:${s.value}`;
}

/** Order-preserving de-duplication. */
export function uniqueSans(sans: Iterable<San>): San[] {
  const seen = new Map<string, San>();
  for (const s of sans) if (!seen.has(sanKey(s))) seen.set(sanKey(s), s);
  return [...seen.values()];
}

// ---- generation -------------------------------------------------------------------------

function subjectName(s: Subject): x509.JsonName {
  return [...s.organizations.map((o) => ({ O: [o] })), { CN: [s.commonName] }];
}

function keyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A self-signed CA with a fresh ECDSA P-256 key. */
export async function createCa(commonName: string, validity: Validity): Promise<Signer> {
  const keys = await subtle.generateKey(LEAF_KEY, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [commonName] }],
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    keys,
    signingAlgorithm: LEAF_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pair = { certPem: cert.toString('pem') + '\n', keyPem: keyPem(keys.privateKey) };
  return { pair, cert, key: keys.privateKey, algorithm: LEAF_SIGNING };
}

/**
 * Turns an existing CA pair into a Signer. Supports ECDSA P-256/P-384 and RSA keys (so an
 * operator-supplied CA works too). Throws when the key cannot sign or does not match.
 */
export async function loadSigner(pair: PemPair): Promise<Signer> {
  const nodeCert = new X509Certificate(pair.certPem);
  const keyObj = createPrivateKey(pair.keyPem);
  if (!nodeCert.checkPrivateKey(keyObj)) throw new Error('CA key does not match the CA certificate');
  const der = keyObj.export({ type: 'pkcs8', format: 'der' });
  let key: CryptoKey;
  let algorithm: Algorithm | EcdsaParams;
  if (keyObj.asymmetricKeyType === 'ec') {
    const curve = keyObj.asymmetricKeyDetails?.namedCurve;
    const params = curve === 'prime256v1' ? { namedCurve: 'P-256', hash: 'SHA-256' }
      : curve === 'secp384r1' ? { namedCurve: 'P-384', hash: 'SHA-384' } : undefined;
    if (!params) throw new Error(`unsupported CA key curve ${curve ?? '(unknown)'}`);
    key = await subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: params.namedCurve }, false, ['sign']);
    algorithm = { name: 'ECDSA', hash: params.hash } satisfies EcdsaParams;
  } else if (keyObj.asymmetricKeyType === 'rsa') {
    key = await subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    algorithm = { name: 'RSASSA-PKCS1-v1_5' };
  } else {
    throw new Error(`unsupported CA key type ${keyObj.asymmetricKeyType ?? '(unknown)'}`);
  }
  return { pair, cert: new x509.X509Certificate(pair.certPem), key, algorithm };
}

/** Issues a leaf certificate (fresh ECDSA P-256 key) signed by `ca`. */
export async function issueLeaf(ca: Signer, spec: LeafSpec, validity: Validity): Promise<PemPair> {
  const keys = await subtle.generateKey(LEAF_KEY, true, ['sign', 'verify']);
  const caSki = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(spec.usages.map((u) => EKU_OID[u])),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    caSki ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId)
      : await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
  ];
  if (spec.sans && spec.sans.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(spec.sans.map((s) => ({ type: s.type, value: s.value }))));
  }
  const cert = await x509.X509CertificateGenerator.create({
    subject: subjectName(spec.subject),
    issuer: ca.cert.subjectName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.algorithm,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: keyPem(keys.privateKey) };
}

// ---- checks -----------------------------------------------------------------------------

export interface CheckOptions {
  readonly now: Date;
  /** A certificate that expires within this many milliseconds counts as unfit. */
  readonly renewBeforeMs: number;
}

function expiryProblem(cert: X509Certificate, opts: CheckOptions): string | undefined {
  const notAfter = new Date(cert.validTo);
  if (Number.isNaN(notAfter.getTime())) return 'unreadable expiry date';
  if (notAfter.getTime() - opts.now.getTime() < opts.renewBeforeMs) return `expires ${notAfter.toISOString()}`;
  return undefined;
}

/** Subject (CN + O values) of a certificate, read with @peculiar/x509. */
export function readSubject(certPem: string): Subject {
  const name = new x509.X509Certificate(certPem).subjectName.toJSON();
  const values = (attr: string): string[] => name.flatMap((rdn) => rdn[attr] ?? []);
  return { commonName: values('CN')[0] ?? '', organizations: values('O') };
}

/** SANs of a certificate, normalised like parseSan. */
export function readSans(certPem: string): San[] {
  const ext = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return [];
  return ext.names.toJSON().flatMap((n): San[] =>
    n.type === 'dns' ? [{ type: 'dns', value: n.value.toLowerCase() }]
      : n.type === 'ip' ? [{ type: 'ip', value: normaliseIp(n.value) }] : []);
}

/**
 * Why an existing CA pair must not be reused, or undefined when it is fine: parseable, a CA,
 * key matches, self-signed, not expiring within opts.renewBeforeMs.
 */
export function caProblem(pair: PemPair, opts: CheckOptions): string | undefined {
  try {
    const cert = new X509Certificate(pair.certPem);
    if (!cert.ca) return 'certificate is not a CA';
    if (!cert.checkPrivateKey(createPrivateKey(pair.keyPem))) return 'key does not match certificate';
    if (!cert.verify(cert.publicKey)) return 'not self-signed';
    return expiryProblem(cert, opts);
  } catch (err) {
    return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Why an existing leaf pair must be reissued, or undefined when it is fine: signed by `ca`,
 * key matches, same subject, carries the required extended key usages and SANs, and does
 * not expire within opts.renewBeforeMs.
 */
export function leafProblem(pair: PemPair, ca: PemPair, spec: LeafSpec, opts: CheckOptions): string | undefined {
  try {
    const cert = new X509Certificate(pair.certPem);
    const caCert = new X509Certificate(ca.certPem);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'not signed by the current CA';
    if (!cert.checkPrivateKey(createPrivateKey(pair.keyPem))) return 'key does not match certificate';
    const subject = readSubject(pair.certPem);
    const wantOrgs = [...spec.subject.organizations].sort();
    if (subject.commonName !== spec.subject.commonName ||
        JSON.stringify([...subject.organizations].sort()) !== JSON.stringify(wantOrgs)) {
      return 'subject differs';
    }
    const eku = new x509.X509Certificate(pair.certPem).getExtension(x509.ExtendedKeyUsageExtension);
    const usages = new Set((eku?.usages ?? []).map(String));
    const missingUsage = spec.usages.find((u) => !usages.has(EKU_OID[u]));
    if (missingUsage) return `missing extended key usage ${missingUsage}`;
    const have = new Set(readSans(pair.certPem).map(sanKey));
    const missing = (spec.sans ?? []).filter((s) => !have.has(sanKey(s))).map(sanKey);
    if (missing.length > 0) return `missing SANs ${missing.join(', ')}`;
    return expiryProblem(cert, opts);
  } catch (err) {
    return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
  }
}
