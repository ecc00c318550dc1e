import { join } from 'node:path';

/**
 * Where the cluster PKI lives inside TSKUBE_DATA_DIR (see CONVENTIONS "Runtime configuration").
 * The apiserver writes these files; the other components only read them (their state dir is
 * mounted read-only).
 */
export interface PkiPaths {
  readonly dataDir: string;
  readonly pkiDir: string;
  readonly caCert: string;
  readonly caKey: string;
  /** apiserver HTTPS serving pair. */
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  /** apiserver → kubelet client pair (CN kube-apiserver-kubelet-client, O system:masters). */
  readonly kubeletClientCert: string;
  readonly kubeletClientKey: string;
  /** kubeconfigs with embedded certificate data; admin points at the external URL. */
  readonly adminKubeconfig: string;
  readonly schedulerKubeconfig: string;
  readonly controllerManagerKubeconfig: string;
  readonly kubeletKubeconfig: string;
}

export function pkiPaths(dataDir: string): PkiPaths {
  const pkiDir = join(dataDir, 'pki');
  return {
    dataDir,
    pkiDir,
    caCert: join(pkiDir, 'ca.crt'),
    caKey: join(pkiDir, 'ca.key'),
    apiserverCert: join(pkiDir, 'apiserver.crt'),
    apiserverKey: join(pkiDir, 'apiserver.key'),
    kubeletClientCert: join(pkiDir, 'apiserver-kubelet-client.crt'),
    kubeletClientKey: join(pkiDir, 'apiserver-kubelet-client.key'),
    adminKubeconfig: join(dataDir, 'admin.kubeconfig'),
    schedulerKubeconfig: join(dataDir, 'scheduler.kubeconfig'),
    controllerManagerKubeconfig: join(dataDir, 'controller-manager.kubeconfig'),
    kubeletKubeconfig: join(dataDir, 'kubelet.kubeconfig'),
  };
}
