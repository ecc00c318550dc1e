/** Cluster PKI: CA, serving and client certificates, kubeconfigs. See pki.ts. */
export {
  ensurePki, loadServingTls, loadKubeletClientTls, CA_COMMON_NAME, KUBELET_USER, DEFAULT_SERVING_SANS,
  type EnsurePkiOptions, type PkiState, type TlsMaterial,
} from './pki.js';
export { pkiPaths, type PkiPaths } from './paths.js';
export { parseSan, parseSanList, readSubject, readSans, type San, type Subject } from './certs.js';
export { parseKubeconfig, renderKubeconfig, type KubeconfigSpec } from './kubeconfig.js';
export {
  ensureServiceAccountKey, loadServiceAccountKey, serviceAccountKeyPaths, type ServiceAccountKey, type ServiceAccountKeyPaths,
} from './service-account-key.js';
