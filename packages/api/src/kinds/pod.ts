/**
 * Pod defaulting and validation with upstream rules and wording (pkg/apis/core/v1/defaults.go,
 * pkg/apis/core/validation). Covers the fields people set in everyday manifests; rarer fields
 * are accepted as decoded.
 */
import type { Container, EphemeralContainer, Pod, PodSpec, Probe, ResourceRequirements, Toleration, Volume } from 'kubernetes-types/core/v1.js';
import { field, type FieldError } from '../errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isQualifiedName, validateLabels } from '../validation.js';
import { isValidQuantity, parseQuantity } from '../quantity.js';
import { jsonEqual } from '../meta.js';

// ---- defaulting ------------------------------------------------------------------------

function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) { p.httpGet.path ??= '/'; p.httpGet.scheme ??= 'HTTP'; }
  if (p.grpc) p.grpc.service ??= '';
}

function imageTag(image: string): string | undefined {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(colon + 1) : undefined;
}

function defaultContainer(c: Container, hostNetwork: boolean, requestsFromLimits = true): void {
  if (c.image !== undefined) {
    const tag = imageTag(c.image);
    c.imagePullPolicy ??= tag === undefined || tag === 'latest' ? (c.image.includes('@') ? 'IfNotPresent' : 'Always') : 'IfNotPresent';
  }
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  // Limits without requests: requests default to the limits (SetDefaults_Pod).
  const r = c.resources as ResourceRequirements;
  if (requestsFromLimits && r.limits && Object.keys(r.limits).length) {
    r.requests ??= {};
    for (const [k, v] of Object.entries(r.limits)) if (r.requests[k] === undefined) r.requests[k] = v;
  }
  for (const p of c.ports ?? []) {
    p.protocol ??= 'TCP';
    if (hostNetwork && p.hostPort === undefined) p.hostPort = p.containerPort;
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

function defaultVolume(v: Volume): void {
  if (v.configMap) v.configMap.defaultMode ??= 420;
  if (v.secret) v.secret.defaultMode ??= 420;
  if (v.downwardAPI) v.downwardAPI.defaultMode ??= 420;
  if (v.projected) v.projected.defaultMode ??= 420;
  if (v.hostPath) v.hostPath.type ??= '';
  if (v.emptyDir === null) v.emptyDir = {};
}

/** SetDefaults for a PodSpec (also used for pod templates). */
export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  const hostNet = spec.hostNetwork === true;
  for (const c of spec.initContainers ?? []) defaultContainer(c, hostNet);
  for (const c of spec.containers ?? []) defaultContainer(c, hostNet);
  // upstream SetDefaults_EphemeralContainer: the container defaults (pull policy, termination
  // message); no requests-from-limits (resources are forbidden for them anyway).
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c as Container, hostNet, false);
  for (const v of spec.volumes ?? []) defaultVolume(v);
}

export function defaultPod(pod: Pod): void {
  if (pod.spec) {
    defaultPodSpec(pod.spec);
    // Set by the Priority admission plugin upstream when no priorityClassName is given.
    if (pod.spec.priority === undefined && !pod.spec.priorityClassName) pod.spec.priority = 0;
    pod.spec.preemptionPolicy ??= 'PreemptLowerPriority';
  }
}

/** Kubernetes QoS class from requests and limits (upstream GetPodQOS, simplified to cpu/memory). */
export function podQOSClass(spec: PodSpec | undefined): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  let anyRequest = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      const q = req[r];
      if (q !== undefined && isValidQuantity(q) && parseQuantity(q) !== 0) anyRequest = true;
      const l = lim[r];
      if (l !== undefined && isValidQuantity(l) && parseQuantity(l) !== 0) anyRequest = true;
      if (l === undefined || q === undefined || !isValidQuantity(l) || !isValidQuantity(q) || parseQuantity(l) !== parseQuantity(q)) guaranteed = false;
    }
  }
  if (!anyRequest) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

// ---- validation ------------------------------------------------------------------------

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const TOLERATION_OPS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage', 'pods']);

function label(errs: FieldError[], path: string, v: string | undefined): void {
  if (!v) { errs.push(field.required(path)); return; }
  for (const m of isDNS1123Label(v)) errs.push(field.invalid(path, v, m));
}

function nonNegative(errs: FieldError[], path: string, v: number | undefined): void {
  if (v !== undefined && v < 0) errs.push(field.invalid(path, v, 'must be greater than or equal to 0'));
}

function validatePort(errs: FieldError[], path: string, v: number | undefined, required: boolean): void {
  if (v === undefined || v === 0) {
    if (required) errs.push(field.required(path));
    return;
  }
  if (!Number.isInteger(v) || v < 1 || v > 65535) errs.push(field.invalid(path, v, 'must be between 1 and 65535, inclusive'));
}

function validateResources(errs: FieldError[], path: string, r: ResourceRequirements | undefined): void {
  if (!r) return;
  const check = (kind: 'limits' | 'requests') => {
    for (const [name, q] of Object.entries(r[kind] ?? {})) {
      const p = `${path}.${kind}[${name}]`;
      if (!STANDARD_RESOURCES.has(name) && !name.includes('/') && !name.startsWith('hugepages-')) {
        errs.push(field.invalid(`${path}.${kind}[${name}]`, name, 'must be a standard resource type or fully qualified'));
        continue;
      }
      if (!isValidQuantity(q)) { errs.push(field.invalid(p, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")); continue; }
      if (parseQuantity(q) < 0) errs.push(field.invalid(p, q, 'must be greater than or equal to 0'));
    }
  };
  check('limits');
  check('requests');
  for (const [name, q] of Object.entries(r.requests ?? {})) {
    const l = r.limits?.[name];
    if (l === undefined || !isValidQuantity(q) || !isValidQuantity(l)) continue;
    if (parseQuantity(q) > parseQuantity(l)) {
      errs.push(field.invalid(`${path}.requests`, q, `must be less than or equal to ${name} limit of ${l}`));
    }
  }
}

function validateProbe(errs: FieldError[], path: string, p: Probe | undefined, allowSuccessThreshold: boolean): void {
  if (!p) return;
  const handlers = [p.exec, p.httpGet, p.tcpSocket, p.grpc].filter((h) => h !== undefined && h !== null);
  if (handlers.length === 0) errs.push(field.required(path, 'must specify a handler type'));
  else if (handlers.length > 1) errs.push(field.forbidden(path, 'may not specify more than 1 handler type'));
  nonNegative(errs, `${path}.initialDelaySeconds`, p.initialDelaySeconds);
  for (const k of ['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = p[k];
    if (v !== undefined && v < 1) errs.push(field.invalid(`${path}.${k}`, v, 'must be greater than or equal to 1'));
  }
  if (!allowSuccessThreshold && p.successThreshold !== undefined && p.successThreshold !== 1) {
    errs.push(field.invalid(`${path}.successThreshold`, p.successThreshold, 'must be 1'));
  }
  if (p.httpGet) {
    if (typeof p.httpGet.port === 'number') validatePort(errs, `${path}.httpGet.port`, p.httpGet.port, true);
    else if (!p.httpGet.port) errs.push(field.required(`${path}.httpGet.port`));
    if (p.httpGet.scheme && !['HTTP', 'HTTPS'].includes(p.httpGet.scheme)) errs.push(field.notSupported(`${path}.httpGet.scheme`, p.httpGet.scheme, ['HTTP', 'HTTPS']));
  }
  if (p.tcpSocket && typeof p.tcpSocket.port === 'number') validatePort(errs, `${path}.tcpSocket.port`, p.tcpSocket.port, true);
  if (p.exec && !(p.exec.command?.length)) errs.push(field.required(`${path}.exec.command`));
}

/**
 * Checks every container kind shares (upstream validateContainerCommon + the image rule of
 * validateContainerOnlyForPod): name (a DNS label, unique in `names`, which it joins), image,
 * pull and termination-message policies, ports, env, volume mounts, resources.
 */
function validateContainerCommon(errs: FieldError[], path: string, c: Container, volumes: Set<string>, names: Set<string>): void {
  label(errs, `${path}.name`, c.name);
  if (c.name) {
    if (names.has(c.name)) errs.push(field.duplicate(`${path}.name`, c.name));
    names.add(c.name);
  }
  if (!c.image || c.image.trim() === '') errs.push(field.required(`${path}.image`));
  else if (c.image.trim() !== c.image) errs.push(field.invalid(`${path}.image`, c.image, 'must not have leading or trailing whitespace'));
  if (c.imagePullPolicy !== undefined && !PULL_POLICIES.includes(c.imagePullPolicy)) errs.push(field.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  if (c.terminationMessagePolicy !== undefined && !TERMINATION_MESSAGE_POLICIES.includes(c.terminationMessagePolicy)) {
    errs.push(field.notSupported(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES));
  }
  const portNames = new Set<string>();
  (c.ports ?? []).forEach((p, i) => {
    const pp = `${path}.ports[${i}]`;
    validatePort(errs, `${pp}.containerPort`, p.containerPort, true);
    if (p.hostPort !== undefined && p.hostPort !== 0) validatePort(errs, `${pp}.hostPort`, p.hostPort, false);
    if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) errs.push(field.notSupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
    if (p.name) {
      if (p.name.length > 15) errs.push(field.invalid(`${pp}.name`, p.name, 'must be no more than 15 characters'));
      else if (!IANA_SVC_NAME.test(p.name) || !/[a-z]/.test(p.name) || p.name.includes('--')) {
        errs.push(field.invalid(`${pp}.name`, p.name, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-); must contain at least one letter (a-z); hyphens (-) cannot be adjacent to other hyphens (-); must not begin or end with a hyphen (-)'));
      }
      if (portNames.has(p.name)) errs.push(field.duplicate(`${pp}.name`, p.name));
      portNames.add(p.name);
    }
  });
  (c.env ?? []).forEach((e, i) => {
    const ep = `${path}.env[${i}]`;
    if (!e.name) errs.push(field.required(`${ep}.name`));
    else for (const m of isEnvVarName(e.name)) errs.push(field.invalid(`${ep}.name`, e.name, m));
    if (e.valueFrom) {
      const srcs = [e.valueFrom.fieldRef, e.valueFrom.resourceFieldRef, e.valueFrom.configMapKeyRef, e.valueFrom.secretKeyRef].filter(Boolean);
      if (srcs.length !== 1) errs.push(field.invalid(`${ep}.valueFrom`, '', 'may not have more than one field specified at a time'));
      if (e.value) errs.push(field.invalid(`${ep}.valueFrom`, '', 'may not be specified when `value` is not empty'));
    }
  });
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((m, i) => {
    const mp = `${path}.volumeMounts[${i}]`;
    if (!m.name) errs.push(field.required(`${mp}.name`));
    else if (!volumes.has(m.name)) errs.push({ type: 'FieldValueNotFound', field: `${mp}.name`, value: m.name });
    if (!m.mountPath) errs.push(field.required(`${mp}.mountPath`));
    else {
      if (mountPaths.has(m.mountPath)) errs.push(field.invalid(`${mp}.mountPath`, m.mountPath, 'must be unique'));
      mountPaths.add(m.mountPath);
    }
  });
  validateResources(errs, `${path}.resources`, c.resources);
}

function validateContainer(errs: FieldError[], path: string, c: Container, volumes: Set<string>, names: Set<string>, init: boolean): void {
  validateContainerCommon(errs, path, c, volumes, names);
  validateProbe(errs, `${path}.livenessProbe`, c.livenessProbe, false);
  validateProbe(errs, `${path}.readinessProbe`, c.readinessProbe, true);
  validateProbe(errs, `${path}.startupProbe`, c.startupProbe, false);
  if (init && c.restartPolicy === undefined) {
    for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      if (c[p]) errs.push(field.forbidden(`${path}.${p}`, 'may not be set for init containers without restartPolicy=Always'));
    }
  }
  if (c.restartPolicy !== undefined && (!init || c.restartPolicy !== 'Always')) {
    errs.push(init ? field.notSupported(`${path}.restartPolicy`, c.restartPolicy, ['Always']) : field.forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers'));
  }
}

/**
 * Container fields an ephemeral container may not set, in the order upstream's allow-list
 * check (validateFieldAllowList over EphemeralContainerCommon) reports them.
 */
const EPHEMERAL_FORBIDDEN_FIELDS = [
  'ports', 'resources', 'resizePolicy', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle',
] as const;

/** Go's "not the zero value" for the forbidden fields: present at all (resources: with any key). */
function isSet(c: EphemeralContainer, f: (typeof EPHEMERAL_FORBIDDEN_FIELDS)[number]): boolean {
  const v = c[f];
  if (v === undefined || v === null) return false;
  if (f === 'resources') return Object.keys(v).some((k) => (v as Record<string, unknown>)[k] !== undefined && (v as Record<string, unknown>)[k] !== null);
  return true;
}

/**
 * upstream validateEphemeralContainers: the checks common to all containers; a name unique
 * across containers, init containers and ephemeral containers; targetContainerName naming a
 * container or init container; none of ports, resources, resizePolicy, restartPolicy, probes
 * or lifecycle (Forbidden "cannot be set for an Ephemeral Container"); no subPath(Expr) mounts.
 * `names` holds the container and init container names (and receives the ephemeral ones).
 */
function validateEphemeralContainers(errs: FieldError[], path: string, ecs: readonly EphemeralContainer[], volumes: Set<string>, names: Set<string>): void {
  const others = new Set(names);
  ecs.forEach((ec, i) => {
    const p = `${path}[${i}]`;
    validateContainerCommon(errs, p, ec as Container, volumes, names);
    if (ec.targetContainerName && !others.has(ec.targetContainerName)) {
      errs.push({ type: 'FieldValueNotFound', field: `${p}.targetContainerName`, value: ec.targetContainerName });
    }
    for (const f of EPHEMERAL_FORBIDDEN_FIELDS) if (isSet(ec, f)) errs.push(field.forbidden(`${p}.${f}`, 'cannot be set for an Ephemeral Container'));
    (ec.volumeMounts ?? []).forEach((m, j) => {
      if (m.subPath) errs.push(field.forbidden(`${p}.volumeMounts[${j}].subPath`, 'cannot be set for an Ephemeral Container'));
      if (m.subPathExpr) errs.push(field.forbidden(`${p}.volumeMounts[${j}].subPathExpr`, 'cannot be set for an Ephemeral Container'));
    });
  });
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile',
  'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume',
  'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
] as const;

function validateTolerations(errs: FieldError[], path: string, ts: Toleration[] | undefined): void {
  (ts ?? []).forEach((t, i) => {
    const p = `${path}[${i}]`;
    if (t.key) for (const m of isQualifiedName(t.key)) errs.push(field.invalid(`${p}.key`, t.key, m));
    if (!t.key && t.operator !== 'Exists') errs.push(field.invalid(`${p}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.operator !== undefined && !TOLERATION_OPS.includes(t.operator)) errs.push(field.notSupported(`${p}.operator`, t.operator, TOLERATION_OPS));
    if (t.operator === 'Exists' && t.value) errs.push(field.invalid(`${p}.operator`, t.value, 'value must be empty when `operator` is \'Exists\''));
    if (t.effect && !TAINT_EFFECTS.includes(t.effect)) errs.push(field.notSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') errs.push(field.invalid(`${p}.effect`, t.effect ?? '', 'effect must be \'NoExecute\' when `tolerationSeconds` is set'));
  });
}

export function validatePodSpec(spec: PodSpec | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [field.required(path)];
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    const p = `${path}.volumes[${i}]`;
    label(errs, `${p}.name`, v.name);
    if (v.name) {
      if (volumes.has(v.name)) errs.push(field.duplicate(`${p}.name`, v.name));
      volumes.add(v.name);
    }
    const set = VOLUME_SOURCES.filter((s) => v[s as keyof Volume] !== undefined && v[s as keyof Volume] !== null);
    if (set.length === 0) errs.push(field.required(p, 'must specify a volume type'));
    else if (set.length > 1) errs.push(field.forbidden(`${p}.${set[1]}`, 'may not specify more than 1 volume type'));
    if (v.hostPath && !v.hostPath.path) errs.push(field.required(`${p}.hostPath.path`));
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) errs.push(field.required(`${p}.persistentVolumeClaim.claimName`));
  });
  const names = new Set<string>();
  (spec.initContainers ?? []).forEach((c, i) => validateContainer(errs, `${path}.initContainers[${i}]`, c, volumes, names, true));
  if (!spec.containers || spec.containers.length === 0) errs.push(field.required(`${path}.containers`));
  (spec.containers ?? []).forEach((c, i) => validateContainer(errs, `${path}.containers[${i}]`, c, volumes, names, false));
  validateEphemeralContainers(errs, `${path}.ephemeralContainers`, spec.ephemeralContainers ?? [], volumes, names);
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy)) errs.push(field.notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(spec.dnsPolicy)) errs.push(field.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  if (spec.activeDeadlineSeconds !== undefined && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > 2147483647)) {
    errs.push(field.invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0) {
    errs.push(field.invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  for (const k of ['hostname', 'subdomain'] as const) {
    const v = spec[k];
    if (v) for (const m of isDNS1123Label(v)) errs.push(field.invalid(`${path}.${k}`, v, m));
  }
  for (const k of ['serviceAccountName', 'nodeName'] as const) {
    const v = spec[k];
    if (v) for (const m of isDNS1123Subdomain(v)) errs.push(field.invalid(`${path}.${k}`, v, m));
  }
  validateTolerations(errs, `${path}.tolerations`, spec.tolerations);
  return errs;
}

/** upstream ValidatePodCreate: the spec, and no ephemeral containers (only the ephemeralcontainers subresource adds them). */
export function validatePod(pod: Pod): FieldError[] {
  const errs = validatePodSpec(pod.spec, 'spec');
  if (pod.spec?.ephemeralContainers?.length) errs.push(field.forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  return errs;
}

/** Which spec changes a pod update may make (upstream ValidatePodUpdate). */
export function validatePodUpdate(next: Pod, old: Pod): FieldError[] {
  const errs = validatePodSpec(next.spec, 'spec');
  if (errs.length) return errs;
  const mutable = structuredClone(old.spec!) as PodSpec;
  const ns = next.spec!;
  const sameLength = (a?: Container[], b?: Container[]) => (a?.length ?? 0) === (b?.length ?? 0);
  if (sameLength(mutable.containers, ns.containers)) mutable.containers.forEach((c, i) => { c.image = ns.containers[i]!.image; });
  if (sameLength(mutable.initContainers, ns.initContainers)) (mutable.initContainers ?? []).forEach((c, i) => { c.image = ns.initContainers![i]!.image; });
  if (ns.activeDeadlineSeconds !== undefined) mutable.activeDeadlineSeconds = ns.activeDeadlineSeconds; else delete mutable.activeDeadlineSeconds;
  // Tolerations may only be added to.
  const oldTol = old.spec?.tolerations ?? [];
  const newTol = ns.tolerations ?? [];
  if (oldTol.every((t) => newTol.some((n) => jsonEqual(n, t)))) {
    if (ns.tolerations) mutable.tolerations = ns.tolerations; else delete mutable.tolerations;
  }
  if ((old.spec?.terminationGracePeriodSeconds ?? 0) < 0 && ns.terminationGracePeriodSeconds === 1) mutable.terminationGracePeriodSeconds = 1;
  if (!jsonEqual(mutable, ns)) {
    errs.push(field.forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
  }
  return errs;
}

/** upstream apiequality.Semantic.DeepEqual on JSON shapes: absent, null and empty lists are alike. */
function semanticEqual(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length ? v.map(norm) : undefined;
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) { const n = norm(x); if (n !== undefined) out[k] = n; }
      return out;
    }
    return v === null ? undefined : v;
  };
  return jsonEqual(norm(a), norm(b));
}

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/**
 * upstream ValidatePodEphemeralContainersUpdate (the pods/ephemeralcontainers subresource;
 * `next` differs from `old` only in spec.ephemeralContainers): the whole spec must be valid;
 * static (mirror) pods take none; existing ephemeral containers may be neither removed nor
 * changed (matched by name: patches do not keep order), so containers can only be added.
 */
export function validatePodEphemeralContainersUpdate(next: Pod, old: Pod): FieldError[] {
  const errs = validatePodSpec(next.spec, 'spec');
  if (old.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
    return [field.forbidden('', 'static pods do not support ephemeral containers')];
  }
  const byName = new Map((next.spec?.ephemeralContainers ?? []).map((c) => [c.name, c]));
  for (const o of old.spec?.ephemeralContainers ?? []) {
    const n = byName.get(o.name);
    // upstream's messages end in a newline (a diff follows for changes; tskube gives none)
    if (!n) errs.push(field.forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(o.name)} may not be removed\n`));
    else if (!semanticEqual(o, n)) errs.push(field.forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(o.name)} may not be changed\n`));
  }
  return errs;
}

const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

export function validatePodStatus(pod: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const phase = pod.status?.phase;
  if (phase !== undefined && !PHASES.includes(phase)) errs.push(field.notSupported('status.phase', phase, PHASES));
  (pod.status?.conditions ?? []).forEach((c, i) => {
    if (!c.type) errs.push(field.required(`status.conditions[${i}].type`));
    if (!['True', 'False', 'Unknown'].includes(c.status)) errs.push(field.notSupported(`status.conditions[${i}].status`, c.status, ['True', 'False', 'Unknown']));
  });
  return errs;
}

export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
