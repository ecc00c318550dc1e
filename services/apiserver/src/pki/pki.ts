/**
 * The cluster PKI, created or refreshed by the apiserver at start (like `kubeadm init phase
 * certs` + `kubeconfig`, in one idempotent call).
 *
 * Contract of ensurePki:
 * - Everything fit for use is reused: the CA when present, a CA, matching its key and not
 *   expiring within 30 days; each leaf when signed by that CA, matching its key, carrying
 *   the required subject, usages and SANs, and not expiring within 30 days; each kubeconfig
 *   when, in addition, its server URL and CA data are current. Anything else is (re)issued;
 *   a new CA reissues every leaf.
 * - Files are written atomically (readers see the old or the new file, never a part), CA
 *   first, then leaves, then kubeconfigs; keys and kubeconfigs 0600, certificates 0644.
 * - Every file and the pki/ directory get the uid/gid of the data directory (it is a bind
 *   mount of the user's clone, so the host user can read admin.kubeconfig without sudo).
 * - Two processes must not run it on one data directory at the same time.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '@tskube/log';
import {
  caProblem, createCa, issueLeaf, leafProblem, loadSigner, parseSan, uniqueSans,
  type CheckOptions, type LeafSpec, type PemPair, type San, type Signer,
} from './certs.js';
import { ensureDir, ownerOf, writeFileAtomic, type FileOwner } from './files.js';
import { parseKubeconfig, renderKubeconfig } from './kubeconfig.js';
import { pkiPaths, type PkiPaths } from './paths.js';
import { ensureServiceAccountKey } from './service-account-key.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_LIFETIME_MS = 3650 * DAY_MS;
const LEAF_LIFETIME_MS = 365 * DAY_MS;
/** notBefore is backdated a little so a peer whose clock is slightly behind accepts it. */
const BACKDATE_MS = 5 * 60 * 1000;
const RENEW_BEFORE_MS = 30 * DAY_MS;

export const CA_COMMON_NAME = 'tskube-ca';
/** One shared kubelet identity for now: nodes are scaled containers with unknown names. */
export const KUBELET_USER = 'system:node:tskube-kubelet';

/** SANs every serving certificate carries, besides the URLs' hosts and TSKUBE_EXTRA_SANS. */
export const DEFAULT_SERVING_SANS: readonly San[] = [
  'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local',
  'apiserver', 'localhost', '127.0.0.1', '::1',
].map((s) => parseSan(s));

const MODE_DIR = 0o755;
const MODE_CERT = 0o644;
const MODE_SECRET = 0o600;

export interface EnsurePkiOptions {
  /** TSKUBE_DATA_DIR; created when missing. */
  readonly dataDir: string;
  /** Server URL written into admin.kubeconfig (TSKUBE_EXTERNAL_URL). */
  readonly externalUrl: string;
  /** Server URL written into the component kubeconfigs (TSKUBE_INTERNAL_URL). */
  readonly internalUrl: string;
  /** Extra serving-certificate SANs (TSKUBE_EXTRA_SANS, see parseSanList). */
  readonly extraSans?: readonly San[];
  readonly log: Logger;
  /** Clock, for tests. */
  readonly now?: Date;
}

export interface PkiState {
  readonly paths: PkiPaths;
  /** Names of what this call (re)generated, e.g. ['ca', 'apiserver', 'admin.kubeconfig']. */
  readonly issued: readonly string[];
  /** SANs the serving certificate is required to carry. */
  readonly servingSans: readonly San[];
}

/** A client credential delivered as a kubeconfig. */
interface KubeconfigCredential {
  readonly name: string;
  readonly path: (p: PkiPaths) => string;
  readonly server: 'external' | 'internal';
  readonly user: string;
  readonly spec: LeafSpec;
}

const client = (commonName: string, ...organizations: string[]): LeafSpec =>
  ({ subject: { commonName, organizations }, usages: ['clientAuth'] });

const KUBECONFIGS: readonly KubeconfigCredential[] = [
  { name: 'admin.kubeconfig', path: (p) => p.adminKubeconfig, server: 'external', user: 'admin',
    spec: client('kubernetes-admin', 'system:masters') },
  { name: 'scheduler.kubeconfig', path: (p) => p.schedulerKubeconfig, server: 'internal', user: 'scheduler',
    spec: client('system:kube-scheduler') },
  { name: 'controller-manager.kubeconfig', path: (p) => p.controllerManagerKubeconfig, server: 'internal',
    user: 'controller-manager', spec: client('system:kube-controller-manager') },
  // serverAuth too: the kubelet may serve its HTTPS API (10250) with this same pair.
  { name: 'kubelet.kubeconfig', path: (p) => p.kubeletKubeconfig, server: 'internal', user: 'kubelet',
    spec: { subject: { commonName: KUBELET_USER, organizations: ['system:nodes'] }, usages: ['clientAuth', 'serverAuth'] } },
];

const KUBELET_CLIENT_SPEC = client('kube-apiserver-kubelet-client', 'system:masters');

function urlHost(url: string, what: string): San {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new Error(`${what} "${url}" is not a URL`);
  }
  return parseSan(host);
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readPair(certPath: string, keyPath: string): Promise<PemPair | undefined> {
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  return certPem === undefined || keyPem === undefined ? undefined : { certPem, keyPem };
}

/** Creates or refreshes the PKI under opts.dataDir; see the module comment for the contract. */
export async function ensurePki(opts: EnsurePkiOptions): Promise<PkiState> {
  const paths = pkiPaths(opts.dataDir);
  const log = opts.log;
  const now = opts.now ?? new Date();
  const check: CheckOptions = { now, renewBeforeMs: RENEW_BEFORE_MS };
  const leafValidity = { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + LEAF_LIFETIME_MS) };
  const servingSans = uniqueSans([
    ...DEFAULT_SERVING_SANS,
    urlHost(opts.externalUrl, 'external URL'),
    urlHost(opts.internalUrl, 'internal URL'),
    ...(opts.extraSans ?? []),
  ]);
  const servingSpec: LeafSpec = {
    subject: { commonName: 'kube-apiserver', organizations: [] }, usages: ['serverAuth'], sans: servingSans,
  };

  await ensureDir(paths.dataDir, MODE_DIR);
  const owner: FileOwner = await ownerOf(paths.dataDir);
  await ensureDir(paths.pkiDir, MODE_DIR, owner);
  const issued: string[] = [];
  const write = (path: string, data: string, mode: number): Promise<void> => writeFileAtomic(path, data, { mode, owner });

  // 1. CA
  let ca: Signer;
  let caIsNew = false;
  const existingCa = await readPair(paths.caCert, paths.caKey);
  const caReason = existingCa ? caProblem(existingCa, check) : 'missing';
  if (existingCa && caReason === undefined) {
    ca = await loadSigner(existingCa);
  } else {
    log.info('pki generating CA', { reason: caReason, path: paths.caCert });
    ca = await createCa(CA_COMMON_NAME, { notBefore: leafValidity.notBefore, notAfter: new Date(now.getTime() + CA_LIFETIME_MS) });
    await write(paths.caKey, ca.pair.keyPem, MODE_SECRET);
    await write(paths.caCert, ca.pair.certPem, MODE_CERT);
    issued.push('ca');
    caIsNew = true;
  }

  // 2. PEM leaf pairs
  const pemLeaves = [
    { name: 'apiserver', cert: paths.apiserverCert, key: paths.apiserverKey, spec: servingSpec },
    { name: 'apiserver-kubelet-client', cert: paths.kubeletClientCert, key: paths.kubeletClientKey, spec: KUBELET_CLIENT_SPEC },
  ];
  for (const leaf of pemLeaves) {
    const existing = caIsNew ? undefined : await readPair(leaf.cert, leaf.key);
    const reason = caIsNew ? 'new CA' : existing ? leafProblem(existing, ca.pair, leaf.spec, check) : 'missing';
    if (reason === undefined) continue;
    log.info('pki issuing certificate', { name: leaf.name, reason });
    const pair = await issueLeaf(ca, leaf.spec, leafValidity);
    await write(leaf.key, pair.keyPem, MODE_SECRET);
    await write(leaf.cert, pair.certPem, MODE_CERT);
    issued.push(leaf.name);
  }

  // 3. kubeconfigs
  for (const kc of KUBECONFIGS) {
    const path = kc.path(paths);
    const server = kc.server === 'external' ? opts.externalUrl : opts.internalUrl;
    const reason = caIsNew ? 'new CA' : await kubeconfigProblem(path, server, kc, ca.pair, check);
    if (reason === undefined) continue;
    log.info('pki writing kubeconfig', { name: kc.name, reason });
    const pair = await issueLeaf(ca, kc.spec, leafValidity);
    await write(path, renderKubeconfig({ server, caPem: ca.pair.certPem, user: kc.user, ...pair }), MODE_SECRET);
    issued.push(kc.name);
  }

  // 4. service account signing key (sa.key / sa.pub)
  if (await ensureServiceAccountKey({ pkiDir: paths.pkiDir, owner, log })) issued.push('sa');

  log.info('pki ready', { dir: paths.dataDir, issued, sans: servingSans.map((s) => s.value) });
  return { paths, issued, servingSans };
}

async function kubeconfigProblem(
  path: string, server: string, kc: KubeconfigCredential, ca: PemPair, check: CheckOptions,
): Promise<string | undefined> {
  const text = await readIfExists(path);
  if (text === undefined) return 'missing';
  try {
    const cfg = parseKubeconfig(text);
    if (cfg.server !== server) return `server is ${cfg.server}`;
    if (cfg.caPem.trim() !== ca.certPem.trim()) return 'CA data differs';
    if (cfg.user !== kc.user) return 'user name differs';
    return leafProblem(cfg, ca, kc.spec, check);
  } catch (err) {
    return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Key, certificate and CA bundle, as Node's tls/https options take them. */
export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly ca: Buffer;
}

async function readTls(paths: PkiPaths, certPath: string, keyPath: string): Promise<TlsMaterial> {
  const [key, cert, ca] = await Promise.all([readFile(keyPath), readFile(certPath), readFile(paths.caCert)]);
  return { key, cert, ca };
}

/**
 * The apiserver's HTTPS serving pair plus the cluster CA (to verify client certificates:
 * `https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false })`).
 * Call after ensurePki.
 */
export function loadServingTls(paths: PkiPaths): Promise<TlsMaterial> {
  return readTls(paths, paths.apiserverCert, paths.apiserverKey);
}

/** The apiserver → kubelet client pair plus the cluster CA. Call after ensurePki. */
export function loadKubeletClientTls(paths: PkiPaths): Promise<TlsMaterial> {
  return readTls(paths, paths.kubeletClientCert, paths.kubeletClientKey);
}
