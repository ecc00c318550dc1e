/**
 * Static pods (upstream pkg/kubelet/config/file.go, pod/mirror_client.go and the mirror
 * handling of kubelet.go SyncPod / HandlePodCleanups): pods from a manifest directory that
 * the kubelet runs without the apiserver, shown there as mirror pods.
 *
 * Source: the directory is read at start (before the kubelet's housekeeping runs, so the
 * containers of static pods are adopted, never taken for orphans), then again on every
 * change fs.watch reports and every `checkMs` (upstream fileCheckFrequency, 20 s). Files
 * whose names start with "." and subdirectories are skipped; a missing directory is empty.
 * Each file holds one pod (manifest.ts). A new or changed pod goes to `update`, one whose
 * file disappeared, changed its UID (any edit) or no longer parses goes to `remove`. The
 * first file (by name) wins a clash of pod names.
 *
 * Mirror pods, reconciled every `mirrorSyncMs` and after every change, once the node is
 * registered: for each static pod, a mirror that is missing is created (ownerReference to
 * the Node); one that is being deleted (a user's `kubectl delete`) or whose
 * `kubernetes.io/config.mirror` does not match the pod's hash is deleted (grace 0, UID
 * precondition) and created again. A mirror pod whose static pod is gone is deleted once
 * the kubelet no longer runs that pod (`running(uid)` false). An API pod of the same name
 * that is not a mirror is left alone (logged once). Mirror pods from the API are fed in by
 * `observe` / `observeDelete` (the kubelet's pod informer) and never run as pods.
 *
 * The kubelet writes a static pod's status to its mirror (status manager: an API pod whose
 * mirror annotation equals the pod's UID); `onMirrorCreated` lets it write again.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isApiError, type Pod } from '@tskube/api';
import { Resources, sleep, type Client, type DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import { errorMessage } from '../format.js';
import {
  CONFIG_MIRROR_ANNOTATION, ManifestError, isMirrorPod, isMirrorPodOf, mirrorPodFor, parseManifest,
  staticPodFromManifest,
} from './manifest.js';

export interface StaticPodsOptions {
  dir: string;
  nodeName: string;
  client: Client;
  clock: Clock;
  logger: Logger;
  /** Rescan period (upstream 20 s). */
  checkMs: number;
  /** Mirror reconcile period. */
  mirrorSyncMs: number;
  /** The registered Node's UID (ownerReference of mirror pods); undefined: no mirrors yet. */
  nodeUid: () => string | undefined;
  /** A static pod appeared or changed: run it. */
  update: (pod: Pod) => void;
  /** A static pod is gone: terminate and remove it. */
  remove: (pod: Pod) => void;
  /** Whether the kubelet still runs (or terminates) the pod with this UID. */
  running: (uid: string) => boolean;
  /** A mirror pod was (re)created for the static pod with this UID. */
  onMirrorCreated?: (uid: string) => void;
}

const fullName = (p: DeepReadonly<Pod>): string => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;

export class StaticPods {
  /** file → the static pod it gave. */
  private byFile = new Map<string, Pod>();
  /** namespace/name → mirror pod as the API shows it. */
  private readonly mirrors = new Map<string, DeepReadonly<Pod>>();
  private readonly badFiles = new Map<string, string>();
  private readonly squatters = new Set<string>();
  private readonly log: Logger;
  private watcher: FSWatcher | undefined;
  private wakeUp: (() => void) | undefined;
  private dirty = false;

  constructor(private readonly o: StaticPodsOptions) {
    this.log = o.logger.child({ subsystem: 'static-pods', dir: o.dir });
  }

  /** The static pods now known. */
  pods(): Pod[] {
    return [...this.byFile.values()];
  }

  /** The static pod `namespace/name`, if any. */
  byName(namespace: string, name: string): Pod | undefined {
    for (const p of this.byFile.values()) if (p.metadata?.namespace === namespace && p.metadata?.name === name) return p;
    return undefined;
  }

  /** An API pod was added or updated: true (and remembered) if it is a mirror pod, which the kubelet must not run. */
  observe(pod: DeepReadonly<Pod>): boolean {
    if (!isMirrorPod(pod)) return false;
    this.mirrors.set(fullName(pod), pod);
    this.kick();
    return true;
  }

  /** An API pod was deleted: true if it is a mirror pod. */
  observeDelete(pod: DeepReadonly<Pod>): boolean {
    if (!isMirrorPod(pod)) return false;
    const known = this.mirrors.get(fullName(pod));
    if (known?.metadata?.uid === pod.metadata?.uid) this.mirrors.delete(fullName(pod));
    this.kick();
    return true;
  }

  private kick(): void {
    this.dirty = true;
    this.wakeUp?.();
  }

  /** Reads the directory and reports what changed (see the module doc). Never throws. */
  async scan(): Promise<void> {
    const next = new Map<string, Pod>();
    let names: string[] = [];
    try {
      names = (await readdir(this.o.dir)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('reading the static pod directory failed', { err: errorMessage(err) });
    }
    const taken = new Set<string>();
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const file = join(this.o.dir, name);
      try {
        const st = await stat(file);
        if (!st.isFile()) continue;
        const manifest = parseManifest(await readFile(file, 'utf8'), file);
        const prev = this.byFile.get(file);
        let pod = staticPodFromManifest(manifest, { nodeName: this.o.nodeName, file, now: this.o.clock.now() });
        // Same UID = same content: keep the pod as first seen (its config.seen time).
        if (prev && prev.metadata?.uid === pod.metadata?.uid) pod = prev;
        if (taken.has(fullName(pod))) {
          this.log.warn('static pod name already used by another manifest; ignoring this one', { file, pod: fullName(pod) });
          continue;
        }
        taken.add(fullName(pod));
        next.set(file, pod);
        this.badFiles.delete(file);
      } catch (err) {
        const msg = errorMessage(err);
        if (this.badFiles.get(file) !== msg) {
          this.log.warn(err instanceof ManifestError ? 'invalid static pod manifest' : 'reading a static pod manifest failed', { file, err: msg });
        }
        this.badFiles.set(file, msg);
      }
    }
    const prevByUid = new Map([...this.byFile.values()].map((p) => [p.metadata!.uid!, p]));
    const nextUids = new Set([...next.values()].map((p) => p.metadata!.uid!));
    this.byFile = next;
    for (const [uid, p] of prevByUid) {
      if (nextUids.has(uid)) continue;
      this.log.info('static pod removed', { pod: fullName(p), uid });
      this.o.remove(p);
    }
    for (const p of next.values()) {
      const prev = prevByUid.get(p.metadata!.uid!);
      if (prev === p) continue;
      this.log.info('static pod added', { pod: fullName(p), uid: p.metadata?.uid });
      this.o.update(p);
    }
    this.dirty = true;
  }

  /** Brings the mirror pods in line with the static pods (see the module doc). Rejects on API errors; retried by `run`. */
  async syncMirrors(): Promise<void> {
    const nodeUid = this.o.nodeUid();
    if (!nodeUid) return;
    const api = this.o.client.resource(Resources.pods);
    const wanted = new Map(this.pods().map((p) => [fullName(p), p]));
    for (const [name, pod] of wanted) {
      const m = this.mirrors.get(name);
      if (m && !isMirrorPod(m)) continue;
      if (m && !m.metadata?.deletionTimestamp && isMirrorPodOf(m, pod)) continue;
      if (m) {
        this.log.info('deleting mirror pod', { pod: name, uid: m.metadata?.uid, reason: m.metadata?.deletionTimestamp ? 'being deleted' : 'outdated' });
        await this.deleteMirror(m);
      }
      try {
        const created = await api.create(pod.metadata!.namespace!, mirrorPodFor(pod, { name: this.o.nodeName, uid: nodeUid }));
        this.mirrors.set(name, created);
        this.squatters.delete(name);
        this.log.info('mirror pod created', { pod: name, uid: created.metadata?.uid });
        this.o.onMirrorCreated?.(pod.metadata!.uid!);
      } catch (err) {
        if (!isApiError(err, 'AlreadyExists')) throw err;
        // Someone else's pod of that name, or our mirror the informer has not shown yet.
        const live = await api.get(pod.metadata!.namespace!, pod.metadata!.name!).catch(() => undefined);
        if (live && isMirrorPod(live)) this.mirrors.set(name, live);
        else if (!this.squatters.has(name)) {
          this.squatters.add(name);
          this.log.warn('a pod that is not a mirror pod has the static pod\'s name; no mirror pod', { pod: name });
        }
      }
    }
    for (const [name, m] of this.mirrors) {
      if (wanted.has(name)) continue;
      const hash = m.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] ?? '';
      // Still stopping: look again at the next tick (upstream housekeeping, every 2 s).
      if (this.o.running(hash)) { this.dirty = true; continue; }
      this.log.info('deleting orphaned mirror pod', { pod: name, uid: m.metadata?.uid });
      await this.deleteMirror(m);
    }
  }

  private async deleteMirror(m: DeepReadonly<Pod>): Promise<void> {
    try {
      await this.o.client.resource(Resources.pods).delete(m.metadata?.namespace ?? '', m.metadata?.name ?? '', {
        gracePeriodSeconds: 0, preconditions: { uid: m.metadata?.uid ?? '' },
      });
    } catch (err) {
      if (!isApiError(err, 'NotFound') && !isApiError(err, 'Conflict')) throw err;
    }
    if (this.mirrors.get(fullName(m))?.metadata?.uid === m.metadata?.uid) this.mirrors.delete(fullName(m));
  }

  /**
   * Runs until `signal` aborts: rescans on fs events and every `checkMs`, syncs mirrors every
   * `mirrorSyncMs` when something changed (and at least every `checkMs`). Call `scan()` once
   * before, so the first pods are known synchronously.
   */
  async run(signal: AbortSignal): Promise<void> {
    let lastScan = this.o.clock.now();
    let lastMirrorSync = 0;
    let fsChanged = false;
    const startWatch = (): void => {
      if (this.watcher) return;
      try {
        this.watcher = watch(this.o.dir, () => { fsChanged = true; this.wakeUp?.(); });
        this.watcher.on('error', () => { this.watcher?.close(); this.watcher = undefined; });
      } catch {
        // The directory does not exist (yet): polling finds it.
      }
    };
    startWatch();
    let failing = false;
    try {
      while (!signal.aborted) {
        const now = this.o.clock.now();
        if (fsChanged || now - lastScan >= this.o.checkMs) {
          fsChanged = false;
          lastScan = now;
          startWatch();
          await this.scan();
        }
        if (this.dirty || now - lastMirrorSync >= this.o.checkMs) {
          this.dirty = false;
          lastMirrorSync = now;
          try {
            await this.syncMirrors();
            if (failing) this.log.info('mirror pod sync recovered', {});
            failing = false;
          } catch (err) {
            this.dirty = true;
            if (!failing) this.log.warn('mirror pod sync failed', { err: errorMessage(err) });
            failing = true;
          }
        }
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          void sleep(this.o.mirrorSyncMs, signal).then(resolve);
        });
        this.wakeUp = undefined;
        // fs events come in bursts (an editor writes several times): let them settle.
        if (fsChanged) await sleep(100, signal);
      }
    } finally {
      this.watcher?.close();
      this.watcher = undefined;
    }
  }
}

