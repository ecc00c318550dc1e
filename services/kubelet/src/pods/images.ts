/**
 * Making sure a container's image is on the node before it is created (upstream
 * images/image_manager.go EnsureImageExists), with its events and pull backoff:
 * - imagePullPolicy Never: present → "Pulled: already present"; missing → ErrImageNeverPull;
 * - IfNotPresent: ImageStatus, pull only when missing; Always: pull every time;
 * - a failed pull → Warning "Failed to pull image …", result ErrImagePull, and the image
 *   (per pod) enters backoff (10 s doubling to 5 min); while in backoff no pull is tried and
 *   the result is ImagePullBackOff with a "Back-off pulling image" event.
 */
import type { Container, Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { Clock } from '../clock.js';
import type { ContainerRuntime } from '../cri/index.js';
import { Reason, type KubeletEvents } from '../events.js';
import { errorMessage, goDuration, goQuote } from '../format.js';
import type { ContainerKind } from './actions.js';
import { Backoff, IMAGE_BACKOFF } from './backoff.js';

export type ImageFailure = 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'ImageInspectError';

export type EnsureImageResult =
  | { ok: true; imageRef: string }
  | { ok: false; reason: ImageFailure; message: string };

export interface ImageManagerOptions {
  runtime: ContainerRuntime;
  events: KubeletEvents;
  clock: Clock;
  backoff?: Backoff;
}

export class ImageManager {
  private readonly backoff: Backoff;

  constructor(private readonly o: ImageManagerOptions) {
    this.backoff = o.backoff ?? new Backoff(IMAGE_BACKOFF);
  }

  async ensureImage(pod: DeepReadonly<Pod>, c: DeepReadonly<Container>, kind: ContainerKind): Promise<EnsureImageResult> {
    const image = c.image ?? '';
    const ev = (type: 'Normal' | 'Warning', reason: string, msg: string): void => this.o.events.container(pod, kind, c.name, type, reason, msg);
    let present: string | undefined;
    try {
      present = (await this.o.runtime.imageStatus({ image: { image } })).image?.id;
    } catch (err) {
      const msg = `Failed to inspect image ${goQuote(image)}: ${errorMessage(err)}`;
      ev('Warning', Reason.InspectFailed, msg);
      return { ok: false, reason: 'ImageInspectError', message: msg };
    }
    const policy = c.imagePullPolicy ?? 'IfNotPresent';
    if (policy === 'Never' || (policy === 'IfNotPresent' && present)) {
      if (present) {
        ev('Normal', Reason.Pulled, `Container image ${goQuote(image)} already present on machine`);
        return { ok: true, imageRef: present };
      }
      const msg = `Container image ${goQuote(image)} is not present with pull policy of Never`;
      ev('Warning', Reason.ErrImageNeverPull, msg);
      return { ok: false, reason: 'ErrImageNeverPull', message: msg };
    }
    const key = `${pod.metadata?.uid ?? ''}_${image}`;
    const now = this.o.clock.now();
    if (this.backoff.isInBackOffSinceUpdate(key, now)) {
      const msg = `Back-off pulling image ${goQuote(image)}`;
      ev('Normal', Reason.BackOff, msg);
      return { ok: false, reason: 'ImagePullBackOff', message: msg };
    }
    ev('Normal', Reason.Pulling, `Pulling image ${goQuote(image)}`);
    const started = this.o.clock.now();
    try {
      const res = await this.o.runtime.pullImage({ image: { image } });
      const took = goDuration(this.o.clock.now() - started);
      let size = '';
      try {
        const st = (await this.o.runtime.imageStatus({ image: { image } })).image;
        if (st) size = ` Image size: ${st.size} bytes.`;
      } catch { /* the size is decoration */ }
      ev('Normal', Reason.Pulled, `Successfully pulled image ${goQuote(image)} in ${took} (${took} including waiting).${size}`);
      this.backoff.reset(key);
      return { ok: true, imageRef: res.image_ref };
    } catch (err) {
      const msg = errorMessage(err);
      ev('Warning', Reason.Failed, `Failed to pull image ${goQuote(image)}: ${msg}`);
      this.backoff.next(key, this.o.clock.now(), this.o.clock.now());
      return { ok: false, reason: 'ErrImagePull', message: msg };
    }
  }

  /** Forgets a pod's pull backoffs (it is gone). */
  forgetPod(uid: string): void {
    this.backoff.forgetPrefix(`${uid}_`);
  }
}
