/**
 * ServiceAccount admission (upstream plugin/pkg/admission/serviceaccount): gives every new pod
 * a service account and the projected API credentials of it.
 *
 * Mutation (pod CREATE, main resource only):
 * - `spec.serviceAccountName` defaults to `default` (the deprecated `spec.serviceAccount` is
 *   honoured when only it is set, and kept equal to the name as upstream's v1 conversion does).
 * - The service account must exist: looked up in the watch cache, then read directly — once for
 *   a named account, up to 10 times 100–200 ms apart for `default` (the serviceaccount-controller
 *   creates it just after the namespace). Missing: 403 `pods "<name>" is forbidden: error
 *   looking up service account <ns>/<sa>: serviceaccount "<sa>" not found`.
 * - Unless `automountServiceAccountToken` is false (the pod's setting wins over the account's),
 *   every init container and container without a mount at
 *   /var/run/secrets/kubernetes.io/serviceaccount gets a read-only mount of a projected volume
 *   `kube-api-access-<5 random chars>` (token 3607 s, kube-root-ca.crt's ca.crt, the namespace),
 *   added once; an existing `kube-api-access-*` volume is reused. Ephemeral containers are left alone.
 * - `spec.imagePullSecrets` is copied from the account when the pod names none.
 *
 * Validation (pod CREATE): a pod without a service account is refused; mirror pods
 * (annotation kubernetes.io/config.mirror) are not mutated and may not name a service account,
 * reference secrets, or project service account tokens.
 * On UPDATE, a pod that dropped the deprecated `spec.serviceAccount` keeps the old value (the
 * v1 conversion would refill it), so clients that omit it do not trip the immutability check.
 *
 * Left out: the kubernetes.io/enforce-mountable-secrets annotation and the
 * ephemeralcontainers subresource checks.
 */
import { forbidden, isApiError, typed, type Container, type KubeObject, type Pod, type ServiceAccount } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { AdmissionAttributes, MutatingPlugin, ValidatingPlugin } from './admission.js';
import { systemContext, type ApiRegistry } from '../registry/index.js';

type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];

export const DEFAULT_SERVICE_ACCOUNT_NAME = 'default';
export const SERVICE_ACCOUNT_VOLUME_PREFIX = 'kube-api-access-';
export const DEFAULT_API_TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** upstream serviceaccount.WarnOnlyBoundTokenExpirationSeconds (1 h + 7 s). */
export const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 3607;
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

/** Reads service accounts; `cached` may be stale (the watch cache), `live` reads storage. */
export interface ServiceAccountSource {
  cached(namespace: string, name: string): Promise<ServiceAccount | null>;
  live(namespace: string, name: string): Promise<ServiceAccount | null>;
}

export interface ServiceAccountOptions {
  /** Suffix of a generated volume name (default: 5 of upstream's name-generator characters). */
  randomSuffix?: () => string;
  /** Waits between lookups of `default` (default: setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

/** upstream names.SimpleNameGenerator's alphabet: no vowels, no confusable characters. */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += ALPHANUMS[Math.floor(Math.random() * ALPHANUMS.length)];
  return s;
}

/** The projected volume upstream's TokenVolumeSource describes, fully defaulted. */
export function tokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function isPodRequest(a: AdmissionAttributes): boolean {
  return a.resource.group === '' && a.resource.kind === 'Pod' && a.subresource === '' && a.object !== undefined;
}

function isMirror(pod: Pod): boolean {
  return pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined;
}

/** Whether the pod (any container, volume or pull secret) names a secret (upstream VisitPodSecretNames). */
function referencesSecrets(pod: Pod): boolean {
  const spec = pod.spec!;
  if (spec.imagePullSecrets?.length) return true;
  for (const v of spec.volumes ?? []) {
    if (v.secret || v.azureFile || v.cephfs?.secretRef || v.cinder?.secretRef || v.flexVolume?.secretRef
      || v.rbd?.secretRef || v.scaleIO?.secretRef || v.iscsi?.secretRef || v.storageos?.secretRef || v.csi?.nodePublishSecretRef) return true;
    if (v.projected?.sources?.some((s) => s.secret)) return true;
  }
  const all: Container[] = [...(spec.initContainers ?? []), ...spec.containers, ...((spec.ephemeralContainers ?? []) as Container[])];
  return all.some((c) => c.envFrom?.some((e) => e.secretRef) || c.env?.some((e) => e.valueFrom?.secretKeyRef));
}

export class ServiceAccountAdmission implements MutatingPlugin, ValidatingPlugin {
  readonly name = 'ServiceAccount';
  private readonly suffix: () => string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly accounts: ServiceAccountSource, o: ServiceAccountOptions = {}) {
    this.suffix = o.randomSuffix ?? randomSuffix;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async admit(a: AdmissionAttributes): Promise<void> {
    if (!isPodRequest(a)) return;
    const pod = typed<Pod>(a.object!);
    if (!pod.spec) return;
    if (a.operation === 'UPDATE') {
      const old = a.oldObject ? typed<Pod>(a.oldObject) : undefined;
      const oldSA = old?.spec?.serviceAccount;
      if (pod.spec.serviceAccount === undefined && oldSA !== undefined && pod.spec.serviceAccountName === old?.spec?.serviceAccountName) {
        pod.spec.serviceAccount = oldSA;
      }
      return;
    }
    if (a.operation !== 'CREATE' || isMirror(pod)) return;
    pod.spec.serviceAccountName ||= pod.spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT_NAME;
    pod.spec.serviceAccount = pod.spec.serviceAccountName;
    const sa = await this.lookup(a, pod);
    if (pod.spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true) this.mountToken(pod);
    if (!pod.spec.imagePullSecrets?.length && sa.imagePullSecrets?.length) {
      pod.spec.imagePullSecrets = sa.imagePullSecrets.map((s) => ({ name: s.name ?? '' }));
    }
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    if (!isPodRequest(a) || a.operation !== 'CREATE') return;
    const pod = typed<Pod>(a.object!);
    if (!pod.spec) return;
    if (isMirror(pod)) {
      if (pod.spec.serviceAccountName) throw this.refuse(a, pod, 'a mirror pod may not reference service accounts');
      if (referencesSecrets(pod)) throw this.refuse(a, pod, 'a mirror pod may not reference secrets');
      if ((pod.spec.volumes ?? []).some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken))) {
        throw this.refuse(a, pod, 'a mirror pod may not use ServiceAccountToken volume projections');
      }
      return;
    }
    if (!pod.spec.serviceAccountName) {
      throw this.refuse(a, pod, `no service account specified for pod ${a.namespace}/${pod.metadata?.name ?? ''}`);
    }
    await this.lookup(a, pod);
  }

  /** upstream NewForbidden: `pods "<name or generateName or Unknown>" is forbidden: <why>`. */
  private refuse(a: AdmissionAttributes, pod: Pod, why: string) {
    const name = a.name || pod.metadata?.name || pod.metadata?.generateName || 'Unknown';
    return forbidden(`pods "${name}" is forbidden: ${why}`);
  }

  private async lookup(a: AdmissionAttributes, pod: Pod): Promise<ServiceAccount> {
    const ns = a.namespace;
    const name = pod.spec!.serviceAccountName!;
    const cached = await this.accounts.cached(ns, name);
    if (cached) return cached;
    const attempts = name === DEFAULT_SERVICE_ACCOUNT_NAME ? 10 : 1;
    const interval = 100 + Math.floor(Math.random() * 100);
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await this.sleep(interval);
      const sa = await this.accounts.live(ns, name);
      if (sa) return sa;
    }
    throw this.refuse(a, pod, `error looking up service account ${ns}/${name}: serviceaccount "${name}" not found`);
  }

  /** Adds the token volume and its mounts (upstream mountServiceAccountToken). */
  private mountToken(pod: Pod): void {
    const spec = pod.spec!;
    const existing = (spec.volumes ?? []).find((v) => v.name.startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
    const volumeName = existing?.name ?? SERVICE_ACCOUNT_VOLUME_PREFIX + this.suffix();
    let needed = false;
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      if ((c.volumeMounts ?? []).some((m) => m.mountPath === DEFAULT_API_TOKEN_MOUNT_PATH)) continue;
      (c.volumeMounts ??= []).push({ name: volumeName, readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH });
      needed = true;
    }
    if (!existing && needed) (spec.volumes ??= []).push(tokenVolume(volumeName));
  }
}

/** Service accounts read through the registry (the watch cache first, as namespaceGetter does). */
export function serviceAccountSource(registry: () => ApiRegistry, logger: Logger): ServiceAccountSource {
  const get = async (namespace: string, name: string, cached: boolean): Promise<ServiceAccount | null> => {
    try {
      const obj: KubeObject = await registry().store('ServiceAccount').get(systemContext(logger, namespace), name, cached ? { resourceVersion: '0' } : {});
      return typed<ServiceAccount>(obj);
    } catch (e) {
      if (isApiError(e, 'NotFound')) return null;
      throw e;
    }
  };
  return { cached: (ns, n) => get(ns, n, true), live: (ns, n) => get(ns, n, false) };
}
