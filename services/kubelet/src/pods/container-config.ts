/**
 * Pod spec → CRI configs (upstream kuberuntime_sandbox.go generatePodSandboxConfig and
 * kuberuntime_container.go generateContainerConfig): sandbox metadata, hostname, labels and
 * port mappings; container command/args/env (plain values, fieldRef, resourceFieldRef,
 * ConfigMap/Secret key refs and envFrom, with $(VAR) expansion), mounts, working dir, tty/stdin, security context basics and cgroup
 * resources. Pure functions; a spec the kubelet cannot turn into a config throws
 * {@link ContainerConfigError} (reported as CreateContainerConfigError).
 */
import { createHash } from 'node:crypto';
import type { Container, Pod } from '@tskube/api';
import { isEnvVarName, milliValue, podQOSClass, unitValue, isValidQuantity } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type * as m from '../cri/index.js';
import {
  ANNOTATION_CONTAINER_HASH, ANNOTATION_RESTART_COUNT, ANNOTATION_TERMINATION_GRACE, ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY, DEFAULT_TERMINATION_MESSAGE_PATH,
} from './runtime-state.js';
import type { ContainerKind } from './actions.js';
import type { EnvObjects } from './env-sources.js';

type ReadonlyPod = DeepReadonly<Pod>;
type ReadonlyContainer = DeepReadonly<Container>;
type EnvVar = NonNullable<Container['env']>[number];

/** A container spec the kubelet cannot run as given (upstream CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

/**
 * Hash of the parts of a container spec whose change requires a new container (everything
 * but resources, which upstream also leaves out). Stored on each instance as an annotation.
 */
export function containerHash(c: ReadonlyContainer): string {
  const { resources: _resources, ...rest } = c;
  return createHash('sha256').update(stableJson(rest)).digest('hex').slice(0, 8);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** `spec.containers{web}` / `spec.initContainers{setup}` / `spec.ephemeralContainers{debugger}`: involvedObject.fieldPath of container events. */
export function containerFieldPath(kind: ContainerKind, name: string): string {
  if (kind === 'ephemeral') return `spec.ephemeralContainers{${name}}`;
  return kind === 'init' ? `spec.initContainers{${name}}` : `spec.containers{${name}}`;
}

/** The spec of a pod's container by kind and name. */
export function containerSpec(pod: ReadonlyPod, name: string): { spec: ReadonlyContainer; kind: ContainerKind } | undefined {
  const app = pod.spec?.containers?.find((c) => c.name === name);
  if (app) return { spec: app, kind: 'regular' };
  const init = pod.spec?.initContainers?.find((c) => c.name === name);
  return init ? { spec: init, kind: 'init' } : undefined;
}

// ---- sandbox ----------------------------------------------------------------------------

/** Sandbox hostname: spec.hostname, else the pod name cut to 63 characters (upstream GeneratePodHostNameAndDomain). */
export function podHostname(pod: ReadonlyPod): string {
  const h = pod.spec?.hostname || pod.metadata?.name || '';
  return h.length > 63 ? h.slice(0, 63).replace(/[-.]+$/, '') : h;
}

export function sandboxConfig(pod: ReadonlyPod, attempt: number): m.PodSandboxConfig {
  const md = pod.metadata;
  const hostNetwork = pod.spec?.hostNetwork === true;
  const portMappings: m.PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      portMappings.push({
        protocol: (p.protocol ?? 'TCP') as m.Protocol,
        container_port: p.containerPort,
        ...(p.hostPort ? { host_port: p.hostPort } : {}),
        ...(p.hostIP ? { host_ip: p.hostIP } : {}),
      });
    }
  }
  return {
    metadata: { name: md?.name ?? '', namespace: md?.namespace ?? '', uid: md?.uid ?? '', attempt },
    hostname: hostNetwork ? undefined : podHostname(pod),
    log_directory: `/var/log/pods/${md?.namespace}_${md?.name}_${md?.uid}`,
    labels: { ...(md?.labels ?? {}) },
    annotations: { ...(md?.annotations ?? {}) },
    port_mappings: portMappings,
    linux: {
      security_context: {
        namespace_options: { network: hostNetwork ? 'NODE' : 'POD', pid: pod.spec?.hostPID ? 'NODE' : 'CONTAINER', ipc: pod.spec?.hostIPC ? 'NODE' : 'POD' },
      },
    },
  };
}

// ---- environment ------------------------------------------------------------------------

/** What the downward API env sources may read besides the pod itself. */
export interface EnvContext {
  nodeName: string;
  hostIP: string;
  podIP: string;
  podIPs: string[];
}

export function fieldRefValue(pod: ReadonlyPod, path: string, ctx: EnvContext): string {
  const md = pod.metadata;
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (sub) {
    const map = sub[1] === 'labels' ? md?.labels : md?.annotations;
    return map?.[sub[2]!] ?? '';
  }
  switch (path) {
    case 'metadata.name': return md?.name ?? '';
    case 'metadata.namespace': return md?.namespace ?? '';
    case 'metadata.uid': return md?.uid ?? '';
    case 'spec.nodeName': return pod.spec?.nodeName ?? ctx.nodeName;
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP': return ctx.podIP;
    case 'status.podIPs': return ctx.podIPs.join(',');
    case 'status.hostIP': return ctx.hostIP;
    case 'status.hostIPs': return ctx.hostIP;
    default: throw new ContainerConfigError(`unsupported fieldRef "${path}"`);
  }
}

/** upstream ExtractContainerResourceValue: limits default to the node's allocatable when unset. */
export function resourceFieldValue(c: ReadonlyContainer, resource: string, divisor: string | undefined, allocatable: Readonly<Record<string, string>>): string {
  const [kind, name] = resource.split('.') as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !name) throw new ContainerConfigError(`unsupported container resource "${resource}"`);
  const q = kind === 'limits' ? c.resources?.limits?.[name] ?? allocatable[name] : c.resources?.requests?.[name];
  if (q === undefined) return '0';
  const div = divisor && isValidQuantity(divisor) ? divisor : '1';
  if (name === 'cpu') return String(Math.ceil(milliValue(q) / milliValue(div)));
  return String(Math.ceil(unitValue(q) / unitValue(div)));
}

/**
 * Kubernetes $(VAR) expansion: `$(NAME)` becomes the value when NAME is defined and stays as
 * written otherwise; `$$` is an escaped `$`. Hand-written: a dozen lines, and no npm package
 * implements this exact grammar.
 */
export function expandVars(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) { out += ch; continue; }
    const next = input[i + 1];
    if (next === '$') { out += '$'; i++; continue; }
    if (next === '(') {
      const end = input.indexOf(')', i + 2);
      if (end > i + 2) {
        const name = input.slice(i + 2, end);
        const v = vars.get(name);
        out += v !== undefined ? v : input.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** Options of {@link containerEnv} beyond the pod and container. */
export interface EnvOptions {
  /** Node allocatable, for resourceFieldRef limits left unset. */
  allocatable?: Readonly<Record<string, string>>;
  /** The ConfigMaps/Secrets env and envFrom refer to (pods/env-sources.ts fetchEnvObjects). */
  objects?: EnvObjects;
  /** Upstream's InvalidEnvironmentVariableNames warning (envFrom keys skipped). */
  onInvalidNames?: (message: string) => void;
}

function decodeSecretValue(v: string): string {
  return Buffer.from(v, 'base64').toString('utf8');
}

/** `configmap "x" not found` / `secret "x" not found`: upstream's object-cache NotFound wording. */
function notFoundError(kind: 'configmap' | 'secret', name: string): ContainerConfigError {
  return new ContainerConfigError(`${kind} "${name}" not found`);
}

function lookup<T>(map: ReadonlyMap<string, T | null> | undefined, kind: 'configmap' | 'secret', ns: string, name: string): T | null {
  if (!map?.has(name)) throw new ContainerConfigError(`couldn't get ${kind === 'configmap' ? 'configMap' : 'secret'} ${ns}/${name}, no kubeClient defined`);
  return map.get(name) ?? null;
}

/**
 * The container's environment as upstream makeEnvironmentVariables: first every envFrom
 * source in order (keys sorted within a source, `prefix` prepended, keys that are not valid
 * variable names skipped with an InvalidEnvironmentVariableNames warning; a missing optional
 * source is skipped, a missing mandatory one is `configmap "x" not found`), then `env` in
 * order, whose plain values expand $(VAR) against everything defined before. A later
 * definition replaces an earlier one in place. Key refs: a missing optional object or key
 * skips the variable; a missing mandatory key is `couldn't find key k in ConfigMap ns/x`.
 */
export function containerEnv(pod: ReadonlyPod, c: ReadonlyContainer, ctx: EnvContext, opts: EnvOptions = {}): m.KeyValue[] {
  const allocatable = opts.allocatable ?? {};
  const ns = pod.metadata?.namespace ?? '';
  const vars = new Map<string, string>();
  const out: m.KeyValue[] = [];
  const set = (key: string, value: string): void => {
    vars.set(key, value);
    const i = out.findIndex((kv) => kv.key === key);
    if (i >= 0) out[i] = { key, value }; else out.push({ key, value });
  };
  for (const src of c.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    let data: Array<[string, string]>;
    let what: string;
    if (src.configMapRef) {
      const name = src.configMapRef.name ?? '';
      const cm = lookup(opts.objects?.configMaps, 'configmap', ns, name);
      if (!cm) { if (src.configMapRef.optional) continue; throw notFoundError('configmap', name); }
      data = Object.entries(cm.data ?? {});
      what = `configMap ${ns}/${name}`;
    } else if (src.secretRef) {
      const name = src.secretRef.name ?? '';
      const secret = lookup(opts.objects?.secrets, 'secret', ns, name);
      if (!secret) { if (src.secretRef.optional) continue; throw notFoundError('secret', name); }
      data = Object.entries(secret.data ?? {}).map(([k, v]) => [k, decodeSecretValue(v)]);
      what = `secret ${ns}/${name}`;
    } else continue;
    const invalid: string[] = [];
    for (const [k, v] of data.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const key = prefix + k;
      if (isEnvVarName(key).length > 0) { invalid.push(key); continue; }
      set(key, v);
    }
    if (invalid.length > 0) {
      opts.onInvalidNames?.(`Keys [${invalid.sort().join(', ')}] from the EnvFrom ${what} were skipped since they are considered invalid environment variable names.`);
    }
  }
  for (const e of (c.env ?? []) as readonly DeepReadonly<EnvVar>[]) {
    let value: string;
    const from = e.valueFrom;
    if (!from) value = expandVars(e.value ?? '', vars);
    else if (from.fieldRef) value = fieldRefValue(pod, from.fieldRef.fieldPath, ctx);
    else if (from.resourceFieldRef) {
      const target = from.resourceFieldRef.containerName
        ? pod.spec?.containers?.find((x) => x.name === from.resourceFieldRef!.containerName) ?? c
        : c;
      value = resourceFieldValue(target, from.resourceFieldRef.resource, from.resourceFieldRef.divisor as string | undefined, allocatable);
    } else if (from.configMapKeyRef) {
      const { name = '', key, optional } = from.configMapKeyRef;
      const cm = lookup(opts.objects?.configMaps, 'configmap', ns, name);
      if (!cm) { if (optional) continue; throw notFoundError('configmap', name); }
      const v = cm.data?.[key];
      if (v === undefined) { if (optional) continue; throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`); }
      value = v;
    } else if (from.secretKeyRef) {
      const { name = '', key, optional } = from.secretKeyRef;
      const secret = lookup(opts.objects?.secrets, 'secret', ns, name);
      if (!secret) { if (optional) continue; throw notFoundError('secret', name); }
      const v = secret.data?.[key];
      if (v === undefined) { if (optional) continue; throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`); }
      value = decodeSecretValue(v);
    } else value = '';
    set(e.name, value);
  }
  return out;
}

// ---- resources --------------------------------------------------------------------------

const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;
const QUOTA_PERIOD = 100_000;
const MIN_QUOTA = 1000;

/** upstream guaranteedOOMScoreAdj / besteffortOOMScoreAdj (pkg/kubelet/qos/policy.go). */
export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;

/**
 * The container's oom_score_adj as upstream GetContainerOOMScoreAdjust: Guaranteed pods
 * -997, BestEffort 1000; Burstable 1000 − 1000·memoryRequest/memoryCapacity, kept within
 * [3, 999] so Burstable containers die after BestEffort ones and before Guaranteed ones.
 * Without a known capacity a Burstable container gets 999.
 */
export function oomScoreAdj(pod: ReadonlyPod, c: ReadonlyContainer, memoryCapacity: number): number {
  const qos = podQOSClass(pod.spec as Pod['spec']);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  const q = c.resources?.requests?.memory;
  const request = q !== undefined && isValidQuantity(q) ? unitValue(q) : 0;
  const adj = memoryCapacity > 0 ? BESTEFFORT_OOM_SCORE_ADJ - Math.floor((1000 * request) / memoryCapacity) : BESTEFFORT_OOM_SCORE_ADJ;
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj >= BESTEFFORT_OOM_SCORE_ADJ) return BESTEFFORT_OOM_SCORE_ADJ - 1;
  return adj;
}

/**
 * Linux cgroup settings from requests/limits (upstream milliCPUToShares / milliCPUToQuota):
 * cpu_shares = request·1024/1000 (min 2; the limit stands in for a missing request), a cpu
 * limit gives cpu_quota = limit·100000/1000 (min 1000) with cpu_period 100000, a memory
 * limit gives memory_limit_in_bytes and the same memory_swap_limit_in_bytes (no swap). `oomScoreAdj` is passed through when given.
 */
export function linuxResources(c: ReadonlyContainer, oomScore?: number): m.LinuxContainerResources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const cpuReq = req.cpu !== undefined && isValidQuantity(req.cpu) ? milliValue(req.cpu) : lim.cpu !== undefined && isValidQuantity(lim.cpu) ? milliValue(lim.cpu) : 0;
  const out: m.LinuxContainerResources = {
    cpu_shares: cpuReq === 0 ? MIN_SHARES : Math.max(MIN_SHARES, Math.floor((cpuReq * SHARES_PER_CPU) / 1000)),
  };
  if (lim.cpu !== undefined && isValidQuantity(lim.cpu)) {
    const milli = milliValue(lim.cpu);
    if (milli > 0) {
      out.cpu_period = QUOTA_PERIOD;
      out.cpu_quota = Math.max(MIN_QUOTA, Math.floor((milli * QUOTA_PERIOD) / 1000));
    }
  }
  if (lim.memory !== undefined && isValidQuantity(lim.memory)) {
    const bytes = unitValue(lim.memory);
    if (bytes > 0) {
      out.memory_limit_in_bytes = bytes;
      // No swap for containers (upstream's NoSwap: swap limit = memory limit).
      out.memory_swap_limit_in_bytes = bytes;
    }
  }
  if (oomScore !== undefined) out.oom_score_adj = oomScore;
  return out;
}

// ---- security context -------------------------------------------------------------------

/** The image's default user (CRI Image.uid / username), for runAsNonRoot and runAsGroup. */
export interface ImageUser {
  uid?: number;
  username?: string;
}

/**
 * The container's Linux security context as upstream determineEffectiveSecurityContext +
 * convertToRuntimeSecurityContext: container fields win over the pod's (runAsUser,
 * runAsGroup, runAsNonRoot); supplemental groups are the pod's fsGroup then
 * supplementalGroups; capabilities add/drop, privileged, readOnlyRootFilesystem as given;
 * no_new_privs only for an explicit allowPrivilegeEscalation: false. Without runAsUser the
 * image's user is used (uid, else username), so runAsGroup always has a user to go with.
 * runAsNonRoot is verified as upstream verifyRunAsNonRoot (a ContainerConfigError).
 */
export function securityContext(pod: ReadonlyPod, c: ReadonlyContainer, imageUser: ImageUser | undefined): m.LinuxContainerSecurityContext {
  const sc = c.securityContext;
  const psc = pod.spec?.securityContext;
  const runAsUser = sc?.runAsUser ?? psc?.runAsUser;
  const runAsGroup = sc?.runAsGroup ?? psc?.runAsGroup;
  const runAsNonRoot = sc?.runAsNonRoot ?? psc?.runAsNonRoot;
  const podName = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  if (runAsNonRoot) {
    if (runAsUser !== undefined) {
      if (runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy (pod: "${podName}", container: ${c.name})`);
    } else if (imageUser?.uid !== undefined) {
      if (imageUser.uid === 0) throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (pod: "${podName}", container: ${c.name})`);
    } else if (imageUser?.username) {
      throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${imageUser.username}), cannot verify user is non-root (pod: "${podName}", container: ${c.name})`);
    } else {
      throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (pod: "${podName}", container: ${c.name})`);
    }
  }
  const groups: number[] = [];
  if (psc?.fsGroup !== undefined) groups.push(psc.fsGroup);
  for (const g of psc?.supplementalGroups ?? []) groups.push(g);
  const add = [...(sc?.capabilities?.add ?? [])];
  const drop = [...(sc?.capabilities?.drop ?? [])];
  const out: m.LinuxContainerSecurityContext = {
    privileged: sc?.privileged ?? false,
    readonly_rootfs: sc?.readOnlyRootFilesystem ?? false,
    namespace_options: {
      network: pod.spec?.hostNetwork ? 'NODE' : 'POD',
      pid: pod.spec?.hostPID ? 'NODE' : pod.spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
      ipc: pod.spec?.hostIPC ? 'NODE' : 'POD',
    },
  };
  if (runAsUser !== undefined) out.run_as_user = { value: runAsUser };
  else if (imageUser?.uid !== undefined) out.run_as_user = { value: imageUser.uid };
  else if (imageUser?.username) out.run_as_username = imageUser.username;
  if (runAsGroup !== undefined) {
    // A group needs a user to go with it (CRI: run_as_group alone is an error); an image
    // without a user runs as root.
    if (!out.run_as_user && !out.run_as_username) out.run_as_user = { value: 0 };
    out.run_as_group = { value: runAsGroup };
  }
  if (groups.length) out.supplemental_groups = groups;
  if (add.length || drop.length) out.capabilities = { add_capabilities: add, drop_capabilities: drop };
  if (sc?.allowPrivilegeEscalation === false && !sc.privileged) out.no_new_privs = true;
  return out;
}

// ---- container --------------------------------------------------------------------------

export interface ContainerConfigInput {
  kind: ContainerKind;
  attempt: number;
  env: EnvContext;
  /** Node allocatable, for resourceFieldRef limits left unset. */
  allocatable?: Readonly<Record<string, string>>;
  /** The ConfigMaps/Secrets the env refers to (fetched beforehand). */
  objects?: EnvObjects;
  /** Receives upstream's InvalidEnvironmentVariableNames warnings. */
  onInvalidNames?: (message: string) => void;
  /** The container's volume mounts (volumes/volume-manager.ts), host paths already resolved. */
  mounts?: m.Mount[];
  /** The image's default user (CRI ImageStatus), for runAsNonRoot and runAsGroup. */
  imageUser?: ImageUser;
  /** Node memory capacity in bytes, for a Burstable container's oom_score_adj. */
  memoryCapacity?: number;
}

export function containerConfig(pod: ReadonlyPod, c: ReadonlyContainer, input: ContainerConfigInput): m.ContainerConfig {
  const envs = containerEnv(pod, c, input.env, { allocatable: input.allocatable, objects: input.objects, onInvalidNames: input.onInvalidNames });
  const vars = new Map(envs.map((kv) => [kv.key, kv.value]));
  const security = securityContext(pod, c, input.imageUser);
  return {
    metadata: { name: c.name, attempt: input.attempt },
    image: { image: c.image ?? '', user_specified_image: c.image ?? '' },
    command: (c.command ?? []).map((s) => expandVars(s, vars)),
    args: (c.args ?? []).map((s) => expandVars(s, vars)),
    working_dir: c.workingDir ?? '',
    envs,
    mounts: input.mounts ?? [],
    labels: {},
    annotations: {
      [ANNOTATION_CONTAINER_HASH]: containerHash(c),
      [ANNOTATION_RESTART_COUNT]: String(input.attempt),
      [ANNOTATION_TERMINATION_GRACE]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
      [ANNOTATION_TERMINATION_MESSAGE_PATH]: c.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH,
      [ANNOTATION_TERMINATION_MESSAGE_POLICY]: c.terminationMessagePolicy ?? 'File',
    },
    log_path: `${c.name}/${input.attempt}.log`,
    stdin: c.stdin ?? false,
    stdin_once: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: { resources: linuxResources(c, oomScoreAdj(pod, c, input.memoryCapacity ?? 0)), security_context: security },
  };
}
