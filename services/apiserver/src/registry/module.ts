/**
 * A resource module: what one kind brings to the registry. Modules live one group per file
 * (core/modules.ts, apps/modules.ts, …) and are collected in ./modules.ts; index.ts builds a
 * generic Store for every module with a strategy and adds the module's extra endpoints.
 */
import type { KubeObject, NameValidator, ResourceDef } from '@tskube/api';
import type { Storage } from '@tskube/storage';
import type { Logger } from '@tskube/log';
import type { AdmissionChain } from '../admission/admission.js';
import type { KubeletClient } from '../kubelet-client.js';
import type { Rest, RequestContext } from './rest.js';
import type { Store } from './store.js';
import type { Strategy } from './strategy.js';
import type { ServiceAccountTokenSigner } from './core/token.js';

export interface RegistryDeps {
  storage: Storage;
  admission: AdmissionChain;
  kubelets: KubeletClient;
  logger: Logger;
  resources?: readonly ResourceDef[];
  /** Service ClusterIP ranges, one CIDR per IP family (TSKUBE_SERVICE_CLUSTER_IP_RANGE; default 10.96.0.0/12). */
  serviceClusterIPRanges?: readonly string[];
  /** Signing key of service account tokens (PEM); absent: an in-memory key made on first use. */
  serviceAccountKey?: { privateKeyPem: string; publicKeyPem: string };
  /** The signer to use (shared with the token authenticator); absent: one made from serviceAccountKey. */
  serviceAccountSigner?: ServiceAccountTokenSigner;
}

/** What a module's bootstrap hook is told about the running apiserver. */
export interface BootstrapInfo {
  /** Aborted when the apiserver closes: background work started by the hook must stop. */
  signal: AbortSignal;
  /** The port the apiserver serves on (the kubernetes Service's targetPort). */
  securePort: number;
  /** The apiserver's advertised address (host or IP), if known. */
  advertiseAddress?: string;
}

/**
 * Converts between the version a client speaks and the version objects are stored in
 * (autoscaling/v1 ↔ v2 HorizontalPodAutoscalers, events.k8s.io/v1 ↔ core/v1 Events).
 * Both directions must round-trip everything the served version can express.
 */
export interface Conversion {
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
}

export interface ModuleContext {
  def: ResourceDef;
  /** The generic store of this row (when the module has a strategy). */
  store?: Store;
  /** Another kind's store (group '' = core); throws if that kind has none. Call lazily or after build. */
  storeFor(group: string, kind: string, version?: string): Store;
  deps: RegistryDeps;
  /** A context for the apiserver's own reads and writes. */
  system: RequestContext;
}

export interface ResourceModule {
  group: string;
  kind: string;
  /** Only this version of the kind (default: every served version). */
  version?: string;
  /** Present: a generic Store serves the resource. Absent: `endpoints` must supply '' (virtual resources). */
  strategy?: Strategy;
  /** Serves `<resource>/status` with this strategy. */
  statusStrategy?: Strategy;
  /** metadata.name rules (default DNS-1123 subdomain). */
  nameValidator?: NameValidator;
  conversion?: Conversion;
  /**
   * Extra endpoints keyed by subresource ('' replaces the main endpoint, e.g. namespaces'
   * two-step delete or a create-only review). Called once every store exists.
   */
  endpoints?(ctx: ModuleContext): Record<string, Rest>;
  /**
   * Runs at every apiserver start once the system namespaces exist, in module order; it is
   * retried when it throws, so it must be idempotent. Long-running work it starts must stop
   * when `info.signal` aborts.
   */
  bootstrap?(ctx: ModuleContext, info: BootstrapInfo): Promise<void>;
}
