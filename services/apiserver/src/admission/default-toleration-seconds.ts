/**
 * DefaultTolerationSeconds (upstream plugin of the same name): pods tolerate the
 * not-ready and unreachable NoExecute taints for 300 s unless they say otherwise, so a lost
 * node's pods are evicted after five minutes.
 */
import { TAINT_NOT_READY, TAINT_UNREACHABLE, typed, type Pod, type Toleration } from '@tskube/api';
import type { AdmissionAttributes, MutatingPlugin } from './admission.js';

const TAINTS = [TAINT_NOT_READY, TAINT_UNREACHABLE];

export class DefaultTolerationSeconds implements MutatingPlugin {
  readonly name = 'DefaultTolerationSeconds';
  constructor(private readonly seconds = 300) {}

  admit(a: AdmissionAttributes): void {
    if (a.operation !== 'CREATE' || a.resource.kind !== 'Pod' || a.subresource || !a.object) return;
    const pod = typed<Pod>(a.object);
    if (!pod.spec) return;
    const tols: Toleration[] = pod.spec.tolerations ?? [];
    for (const key of TAINTS) {
      // upstream checks key and effect only (an empty key or effect matches)
      const covered = tols.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
      if (!covered) tols.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: this.seconds });
    }
    pod.spec.tolerations = tols;
  }
}
