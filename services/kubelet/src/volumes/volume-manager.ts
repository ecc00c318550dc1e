/**
 * The kubelet's volumes (upstream pkg/kubelet/volumemanager and the in-tree plugins
 * emptydir, configmap, secret, downwardapi, projected, hostpath, local; written from their
 * documented behaviour). One directory per pod volume under the kubelet root
 * (volumes/paths.ts); containers get them as CRI bind mounts whose host paths are those
 * directories, so the root must be the same path for the kubelet and the container engine.
 * Memory-backed volumes — emptyDir with `medium: Memory`, secret, downwardAPI and projected,
 * as upstream's plugins wrap a memory emptyDir — get a tmpfs mounted on their directory
 * through the `Mounter` (volumes/mounter.ts), sized per volumes/memory-size.ts; configMap
 * and plain emptyDir volumes are directories on the root's disk.
 *
 * Contracts:
 * - `mountPod(pod)` sets up every volume of the pod; the pod worker calls it on every sync, so
 *   configMap/secret/downwardAPI/projected contents are refreshed at least once per resync
 *   (and whenever the pod changes), atomically (volumes/atomic-writer.ts). A failure is a
 *   `FailedMount` Warning event "MountVolume.SetUp failed for volume "x" : <why>". Resolves
 *   true once every volume has been set up at least once (a volume that set up before and
 *   now fails keeps its last contents, as upstream's remount); false means: start nothing yet
 *   (the pod stays ContainerCreating) and retry later. A memory-backed volume mounts its
 *   tmpfs once (a directory that already is a tmpfs mount point is kept: syncs, kubelet
 *   restarts); a mount that fails is such a FailedMount and is retried — never a fallback
 *   to disk.
 * - `mountsFor(pod, container)` turns the container's volumeMounts into CRI mounts
 *   (subPath, readOnly — configMap/secret/downwardAPI/projected are always read-only —
 *   and mountPropagation); throws ContainerConfigError for a volume that is not set up.
 * - `cleanupPod(uid)` unmounts every volume directory of the pod that is a mount point, then
 *   removes `<root>/pods/<uid>` (emptyDir contents included), once the pod's containers are
 *   gone; idempotent. If an unmount fails it rejects and removes nothing (the caller
 *   retries): nothing is ever deleted through a mount. `cleanupOrphans` does the same for
 *   pod directories nobody knows (after a kubelet restart), one pod at a time.
 * Per pod, calls are serialised by the pod worker.
 */
import { lstat, mkdir, readdir, rm, chmod } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { isApiError, type PersistentVolume, type PersistentVolumeClaim, type Pod } from '@tskube/api';
import { Resources, type Client, type DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type * as m from '../cri/index.js';
import { Reason, type KubeletEvents } from '../events.js';
import { errorMessage, podRef } from '../format.js';
import { ContainerConfigError, type EnvContext } from '../pods/container-config.js';
import { writeAtomic, type FileProjection, type Payload } from './atomic-writer.js';
import { checkHostPathType } from './host-path.js';
import { memoryVolumeSize } from './memory-size.js';
import type { Mounter } from './mounter.js';
import type { ObjectSource } from './object-cache.js';
import { Plugin, podDir, podVolumeDir, podsDir } from './paths.js';
import { configMapPayload, downwardAPIPayload, DEFAULT_MODE, secretPayload, type Volume } from './payloads.js';
import type { TokenSource } from './tokens.js';

type ReadonlyPod = DeepReadonly<Pod>;
type ReadonlyContainer = DeepReadonly<NonNullable<Pod['spec']>['containers'][number]>;

/** What the pod syncer needs (pods/sync.ts). */
export interface PodVolumes {
  mountPod(pod: ReadonlyPod): Promise<boolean>;
  mountsFor(pod: ReadonlyPod, container: ReadonlyContainer): Promise<m.Mount[]>;
  cleanupPod(uid: string): Promise<void>;
  /**
   * Tears down the volumes of a terminated pod that stays in the API (upstream unmounts them
   * and deletes emptyDirs): unmounts, then removes `<pod dir>/volumes`; the rest of the pod
   * directory (termination-message files) stays until cleanupPod. Idempotent.
   */
  teardownVolumes(uid: string): Promise<void>;
}

export interface VolumeManagerOptions {
  /** Kubelet root dir (TSKUBE_KUBELET_ROOT): the same path for the kubelet and the engine. */
  rootDir: string;
  client: Client;
  objects: ObjectSource;
  tokens: TokenSource;
  events: KubeletEvents;
  logger: Logger;
  /** Node allocatable (its memory bounds memory-backed volumes). */
  node: { name: string; hostIPs(): string[]; allocatable(): Readonly<Record<string, string>> };
  /** Mounts the tmpfs of memory-backed volumes (ExecMounter; FakeMounter in unit tests). */
  mounter: Mounter;
}

interface MountedVolume {
  /** Host path handed to the runtime. */
  path: string;
  /** The plugin always mounts read-only (configMap, secret, downwardAPI, projected). */
  readOnly: boolean;
  /** `memory`: a tmpfs is mounted on `path`. */
  medium?: 'memory';
}

export class VolumeManager implements PodVolumes {
  private readonly pods = new Map<string, Map<string, MountedVolume>>();
  private readonly log: Logger;

  constructor(private readonly o: VolumeManagerOptions) {
    this.log = o.logger.child({ subsystem: 'volumes' });
  }

  /** The volumes set up for a pod (read-only view; tests and debugging). */
  mounted(uid: string): ReadonlyMap<string, MountedVolume> {
    return this.pods.get(uid) ?? new Map();
  }

  async mountPod(pod: ReadonlyPod): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const volumes = pod.spec?.volumes ?? [];
    let state = this.pods.get(uid);
    if (!state) this.pods.set(uid, (state = new Map()));
    let ready = true;
    for (const v of volumes) {
      try {
        state.set(v.name, await this.setUp(pod, v as DeepReadonly<Volume>));
      } catch (err) {
        const why = errorMessage(err);
        this.o.events.pod(pod, 'Warning', Reason.FailedMount, `MountVolume.SetUp failed for volume "${v.name}" : ${why}`);
        this.log.info('volume setup failed', { pod: podRef(pod.metadata), volume: v.name, err: why });
        if (!state.has(v.name)) ready = false;
      }
    }
    return ready;
  }

  private dir(pod: ReadonlyPod, plugin: (typeof Plugin)[keyof typeof Plugin], name: string): string {
    return podVolumeDir(this.o.rootDir, pod.metadata?.uid ?? '', plugin, name);
  }

  private envContext(): EnvContext {
    return { nodeName: this.o.node.name, hostIP: this.o.node.hostIPs()[0] ?? '', podIP: '', podIPs: [] };
  }

  private async setUp(pod: ReadonlyPod, v: DeepReadonly<Volume>): Promise<MountedVolume> {
    const ns = pod.metadata?.namespace ?? '';
    if (v.emptyDir) {
      const dir = this.dir(pod, Plugin.emptyDir, v.name);
      const medium = v.emptyDir.medium ?? '';
      if (medium === 'Memory') {
        await this.setUpTmpfs(pod, v.name, dir, v.emptyDir.sizeLimit);
        return { path: dir, readOnly: false, medium: 'memory' };
      }
      if (medium !== '') throw new Error(`storage medium "${medium}" is not supported`);
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777);
      return { path: dir, readOnly: false };
    }
    if (v.configMap) {
      const src = v.configMap;
      const cm = await this.o.objects.configMap(ns, src.name ?? '');
      const dir = this.dir(pod, Plugin.configMap, v.name);
      await writeAtomic(dir, configMapPayload(src, cm, src.defaultMode ?? DEFAULT_MODE));
      return { path: dir, readOnly: true };
    }
    if (v.secret) {
      const src = v.secret;
      const name = src.secretName ?? '';
      const secret = await this.o.objects.secret(ns, name);
      const payload = secretPayload(name, src, secret, src.defaultMode ?? DEFAULT_MODE);
      return this.writeInMemory(pod, v.name, this.dir(pod, Plugin.secret, v.name), payload);
    }
    if (v.downwardAPI) {
      const payload = downwardAPIPayload(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE,
        this.envContext(), this.o.node.allocatable());
      return this.writeInMemory(pod, v.name, this.dir(pod, Plugin.downwardAPI, v.name), payload);
    }
    if (v.projected) {
      const payload = await this.projectedPayload(pod, v.projected);
      return this.writeInMemory(pod, v.name, this.dir(pod, Plugin.projected, v.name), payload);
    }
    if (v.hostPath) {
      await checkHostPathType(v.hostPath.path, v.hostPath.type);
      return { path: v.hostPath.path, readOnly: false };
    }
    if (v.persistentVolumeClaim) {
      return this.claimPath(ns, v.persistentVolumeClaim.claimName, v.persistentVolumeClaim.readOnly ?? false);
    }
    throw new Error('no volume plugin matched');
  }

  /**
   * Mounts a tmpfs on `dir` unless one is there already (upstream emptyDir setupTmpfs): the
   * directory is created with mode 0777 first; the tmpfs root then has the kernel's default
   * mode 1777, as upstream's. Size per memoryVolumeSize.
   */
  private async setUpTmpfs(pod: ReadonlyPod, volume: string, dir: string, sizeLimit: string | number | undefined): Promise<void> {
    await mkdir(dir, { recursive: true });
    if ((await this.o.mounter.mountPoint(dir))?.medium === 'memory') return;
    await chmod(dir, 0o777);
    const size = memoryVolumeSize(pod, sizeLimit, this.o.node.allocatable().memory);
    await this.o.mounter.mountTmpfs(dir, size !== undefined ? [`size=${size}`] : []);
    this.log.info('mounted tmpfs for volume', { pod: podRef(pod.metadata), volume, sizeBytes: size ?? 'default' });
  }

  /** A secret/downwardAPI/projected volume: a tmpfs holding the payload (atomic writer). */
  private async writeInMemory(pod: ReadonlyPod, volume: string, dir: string, payload: Payload): Promise<MountedVolume> {
    await this.setUpTmpfs(pod, volume, dir, undefined);
    await writeAtomic(dir, payload);
    return { path: dir, readOnly: true, medium: 'memory' };
  }

  private async projectedPayload(pod: ReadonlyPod, p: NonNullable<DeepReadonly<Volume>['projected']>): Promise<Map<string, FileProjection>> {
    const ns = pod.metadata?.namespace ?? '';
    const mode = p.defaultMode ?? DEFAULT_MODE;
    const out = new Map<string, FileProjection>();
    const add = (m: Map<string, FileProjection>): void => { for (const [k, f] of m) out.set(k, f); };
    for (const s of p.sources ?? []) {
      if (s.configMap) add(configMapPayload(s.configMap, await this.o.objects.configMap(ns, s.configMap.name ?? ''), mode));
      else if (s.secret) add(secretPayload(s.secret.name ?? '', s.secret, await this.o.objects.secret(ns, s.secret.name ?? ''), mode));
      else if (s.downwardAPI) add(downwardAPIPayload(pod, s.downwardAPI.items, mode, this.envContext(), this.o.node.allocatable()));
      else if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        const token = await this.o.tokens.token(pod, {
          serviceAccount: pod.spec?.serviceAccountName || 'default', audience: t.audience, expirationSeconds: t.expirationSeconds,
        });
        out.set(t.path, { data: Buffer.from(token, 'utf8'), mode });
      } else if (s.clusterTrustBundle) throw new Error('clusterTrustBundle projections are not supported');
    }
    return out;
  }

  /** PVC → bound PV → its hostPath or local path (no attach/detach: those are node-local). */
  private async claimPath(ns: string, claimName: string, readOnly: boolean): Promise<MountedVolume> {
    let pvc: PersistentVolumeClaim;
    try {
      pvc = await this.o.client.resource(Resources.persistentVolumeClaims).get(ns, claimName);
    } catch (err) {
      if (isApiError(err, 'NotFound')) throw new Error(`persistentvolumeclaim "${claimName}" not found`);
      throw err;
    }
    const volumeName = pvc.spec?.volumeName ?? '';
    if (pvc.status?.phase !== 'Bound' || !volumeName) {
      throw new Error(`PVC ${ns}/${claimName} has non-bound phase ("${pvc.status?.phase ?? 'Pending'}") or empty pvc.Spec.VolumeName ("${volumeName}")`);
    }
    let pv: PersistentVolume;
    try {
      pv = await this.o.client.resource(Resources.persistentVolumes).get(volumeName);
    } catch (err) {
      if (isApiError(err, 'NotFound')) throw new Error(`persistentvolume "${volumeName}" not found`);
      throw err;
    }
    if (pv.spec?.hostPath) {
      await checkHostPathType(pv.spec.hostPath.path, pv.spec.hostPath.type);
      return { path: pv.spec.hostPath.path, readOnly };
    }
    if (pv.spec?.local) {
      await checkHostPathType(pv.spec.local.path, 'Directory').catch(async () => checkHostPathType(pv.spec!.local!.path, 'File'));
      return { path: pv.spec.local.path, readOnly };
    }
    throw new Error(`PersistentVolume "${volumeName}" is neither hostPath nor local: no volume plugin matched`);
  }

  async mountsFor(pod: ReadonlyPod, c: ReadonlyContainer): Promise<m.Mount[]> {
    const state = this.pods.get(pod.metadata?.uid ?? '');
    const out: m.Mount[] = [];
    for (const vm of c.volumeMounts ?? []) {
      const v = state?.get(vm.name);
      if (!v) throw new ContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${c.name}"`);
      if (vm.subPathExpr) throw new ContainerConfigError(`subPathExpr of volume mount "${vm.name}" is not supported`);
      let hostPath = v.path;
      if (vm.subPath) {
        const sub = vm.subPath;
        if (posix.isAbsolute(sub) || sub.split('/').includes('..')) {
          throw new ContainerConfigError(`subPath "${sub}" of volume mount "${vm.name}" must be a relative path without '..'`);
        }
        hostPath = join(v.path, sub);
        // upstream creates a missing subPath directory inside the volume.
        try { await lstat(hostPath); } catch { await mkdir(hostPath, { recursive: true, mode: 0o750 }); }
      }
      let propagation: m.MountPropagation = 'PROPAGATION_PRIVATE';
      if (vm.mountPropagation === 'HostToContainer') propagation = 'PROPAGATION_HOST_TO_CONTAINER';
      else if (vm.mountPropagation === 'Bidirectional') {
        if (!c.securityContext?.privileged) {
          throw new ContainerConfigError('Bidirectional mount propagation is available only to privileged containers');
        }
        propagation = 'PROPAGATION_BIDIRECTIONAL';
      }
      out.push({ container_path: vm.mountPath, host_path: hostPath, readonly: (vm.readOnly ?? false) || v.readOnly, propagation });
    }
    return out;
  }

  async teardownVolumes(uid: string): Promise<void> {
    this.pods.delete(uid);
    this.o.tokens.forgetPod(uid);
    if (!uid) return;
    const dir = podDir(this.o.rootDir, uid);
    await this.unmountVolumes(uid, dir);
    await rm(join(dir, 'volumes'), { recursive: true, force: true });
  }

  async cleanupPod(uid: string): Promise<void> {
    this.pods.delete(uid);
    this.o.tokens.forgetPod(uid);
    if (!uid) return;
    const dir = podDir(this.o.rootDir, uid);
    await this.unmountVolumes(uid, dir);
    await rm(dir, { recursive: true, force: true });
  }

  /**
   * Unmounts every `<pod dir>/volumes/<plugin>/<name>` that is a mount point (upstream
   * TearDown of memory-backed volumes). Tries them all; rejects if any is still mounted.
   */
  private async unmountVolumes(uid: string, dir: string): Promise<void> {
    const volumesDir = join(dir, 'volumes');
    let plugins: string[];
    try { plugins = await readdir(volumesDir); } catch { return; }
    const failed: string[] = [];
    for (const plugin of plugins) {
      let names: string[];
      try { names = await readdir(join(volumesDir, plugin)); } catch { continue; }
      for (const name of names) {
        const path = join(volumesDir, plugin, name);
        try {
          if (!(await this.o.mounter.mountPoint(path))) continue;
          await this.o.mounter.unmount(path);
          this.log.info('unmounted volume', { uid, volume: name, plugin });
        } catch (err) {
          failed.push(`${plugin}/${name}: ${errorMessage(err)}`);
        }
      }
    }
    if (failed.length) throw new Error(`UnmountVolume.TearDown failed for pod ${uid}: ${failed.join('; ')}`);
  }

  /**
   * Removes the directories of pods neither `isKnown` nor set up by this manager (kubelet
   * housekeeping), unmounting their memory-backed volumes first. A pod whose volumes cannot
   * be unmounted is logged and left for the next round; the others are still removed.
   */
  async cleanupOrphans(isKnown: (uid: string) => boolean): Promise<void> {
    let uids: string[];
    try { uids = await readdir(podsDir(this.o.rootDir)); } catch { return; }
    for (const uid of uids) {
      if (isKnown(uid) || this.pods.has(uid)) continue;
      this.log.info('removing orphaned pod directory', { uid });
      try {
        await this.cleanupPod(uid);
      } catch (err) {
        this.log.warn('removing orphaned pod directory failed', { uid, err: errorMessage(err) });
      }
    }
  }
}
