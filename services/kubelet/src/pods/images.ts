/**
 * Making sure a container's image is on the node before it is created (upstream
 * images/image_manager.go EnsureImageExists), with its events and pull backoff:
 * - imagePullPolicy Never: present → "Pulled: already present"; missing → ErrImageNeverPull;
 * - IfNotPresent: ImageStatus, pull only when missing; Always: pull every time;
 * - a failed pull → Warning "Failed to pull image …", result ErrImagePull, and the image
 *   (per pod) enters backoff (10 s doubling to 5 min); while in backoff no pull is tried and
 *   the result is ImagePullBackOff with a "Back-off pulling image" event.
 * - pulls carry credentials from the pod's imagePullSecrets (pull-secrets.ts, read through
 *   `secrets`): every matching entry is tried in turn until one works; none matching → an
 *   anonymous pull. Secrets that cannot be read give a FailedToRetrieveImagePullSecret
 *   Warning and the pull goes on with the others (upstream getPullSecretsForPod).
 * - events: Pulling "Pulling image \"x\"", Pulled "Successfully pulled image \"x\" in 1.2s
 *   (1.2s including waiting). Image size: N bytes." (upstream 1.32 wording).
 * - a successful result carries the image's default user (CRI Image.uid / username), which
 *   the container config needs for runAsNonRoot and runAsGroup.
 */
import type { Container, Pod, Secret } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { Clock } from '../clock.js';
import type { ContainerRuntime } from '../cri/index.js';
import type * as m from '../cri/index.js';
import { Reason, type KubeletEvents } from '../events.js';
import { errorMessage, goDuration, goQuote } from '../format.js';
import type { ContainerKind } from './actions.js';
import { Backoff, IMAGE_BACKOFF } from './backoff.js';
import { DockerKeyring } from './pull-secrets.js';
import type { ImageUser } from './container-config.js';
import type { ObjectSource } from '../volumes/object-cache.js';

export type ImageFailure = 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'ImageInspectError';

export type EnsureImageResult =
  | { ok: true; imageRef: string; user?: ImageUser }
  | { ok: false; reason: ImageFailure; message: string };

export interface ImageManagerOptions {
  runtime: Pick<ContainerRuntime, 'imageStatus' | 'pullImage'>;
  events: Pick<KubeletEvents, 'pod' | 'container'>;
  clock: Clock;
  backoff?: Backoff;
  /** Where imagePullSecrets are read; without it pulls are anonymous. */
  secrets?: Pick<ObjectSource, 'secret'>;
}

function imageUser(img: m.Image | null | undefined): ImageUser | undefined {
  if (!img) return undefined;
  if (img.uid) return { uid: img.uid.value };
  return img.username ? { username: img.username } : undefined;
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
    let presentImage: m.Image | null | undefined;
    try {
      presentImage = (await this.o.runtime.imageStatus({ image: { image } })).image;
      present = presentImage?.id;
    } catch (err) {
      const msg = `Failed to inspect image ${goQuote(image)}: ${errorMessage(err)}`;
      ev('Warning', Reason.InspectFailed, msg);
      return { ok: false, reason: 'ImageInspectError', message: msg };
    }
    const policy = c.imagePullPolicy ?? 'IfNotPresent';
    if (policy === 'Never' || (policy === 'IfNotPresent' && present)) {
      if (present) {
        ev('Normal', Reason.Pulled, `Container image ${goQuote(image)} already present on machine`);
        return { ok: true, imageRef: present, user: imageUser(presentImage) };
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
    const keyring = new DockerKeyring(await this.pullSecrets(pod));
    ev('Normal', Reason.Pulling, `Pulling image ${goQuote(image)}`);
    const started = this.o.clock.now();
    try {
      const res = await this.pull(image, keyring.credentialsFor(image));
      const took = goDuration(this.o.clock.now() - started);
      let size = '';
      let user: ImageUser | undefined;
      try {
        const st = (await this.o.runtime.imageStatus({ image: { image } })).image;
        if (st) size = ` Image size: ${st.size} bytes.`;
        user = imageUser(st);
      } catch { /* the size is decoration */ }
      ev('Normal', Reason.Pulled, `Successfully pulled image ${goQuote(image)} in ${took} (${took} including waiting).${size}`);
      this.backoff.reset(key);
      return { ok: true, imageRef: res.image_ref, ...(user ? { user } : {}) };
    } catch (err) {
      const msg = errorMessage(err);
      ev('Warning', Reason.Failed, `Failed to pull image ${goQuote(image)}: ${msg}`);
      this.backoff.next(key, this.o.clock.now(), this.o.clock.now());
      return { ok: false, reason: 'ErrImagePull', message: msg };
    }
  }

  /**
   * PullImage with each credential in turn (upstream puller): the first success wins; when
   * all fail, the errors are joined as a Go aggregate (`[e1, e2]`, a single one bare).
   */
  private async pull(image: string, creds: m.AuthConfig[]): Promise<m.PullImageResponse> {
    if (creds.length === 0) return this.o.runtime.pullImage({ image: { image } });
    const errors: string[] = [];
    for (const auth of creds) {
      try {
        return await this.o.runtime.pullImage({ image: { image }, auth });
      } catch (err) {
        if (creds.length === 1) throw err;
        errors.push(errorMessage(err));
      }
    }
    throw new Error(`[${errors.join(', ')}]`);
  }

  /** The pod's imagePullSecrets that exist; a Warning event names those that could not be read. */
  private async pullSecrets(pod: DeepReadonly<Pod>): Promise<Array<DeepReadonly<Secret>>> {
    const refs = (pod.spec?.imagePullSecrets ?? []).map((r) => r.name ?? '').filter(Boolean);
    if (refs.length === 0 || !this.o.secrets) return [];
    const ns = pod.metadata?.namespace ?? '';
    const out: Array<DeepReadonly<Secret>> = [];
    const failed: string[] = [];
    for (const name of refs) {
      try {
        const s = await this.o.secrets.secret(ns, name);
        if (s) out.push(s); else failed.push(name);
      } catch {
        failed.push(name);
      }
    }
    if (failed.length) {
      this.o.events.pod(pod, 'Warning', Reason.FailedToRetrieveImagePullSecret,
        `Unable to retrieve some image pull secrets (${failed.join(', ')}); attempting to pull the image may not succeed.`);
    }
    return out;
  }

  /** Forgets a pod's pull backoffs (it is gone). */
  forgetPod(uid: string): void {
    this.backoff.forgetPrefix(`${uid}_`);
  }
}
