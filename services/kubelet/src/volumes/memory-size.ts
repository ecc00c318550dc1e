/**
 * The size of a memory-backed (tmpfs) volume, as upstream's emptyDir plugin computes it
 * (calculateEmptyDirMemorySize, SizeMemoryBackedVolumes): node allocatable memory, lowered
 * to the pod's memory limit when the pod has one, lowered to the volume's `sizeLimit` when
 * that is smaller still. Secret, downwardAPI and projected volumes are memory-backed emptyDirs
 * without a sizeLimit. Pure functions of the pod and the node's allocatable memory.
 */
import { isValidQuantity, unitValue, type Container, type Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

type ReadonlyPod = DeepReadonly<Pod>;

function memoryLimit(c: DeepReadonly<Container>): number {
  const q = c.resources?.limits?.memory;
  return q !== undefined && isValidQuantity(q) ? unitValue(q) : 0;
}

/**
 * The pod's memory limit in bytes (upstream ResourceConfigForPod → PodLimits), or undefined
 * when the pod has none: some app container declares no memory limit. App containers and
 * sidecars add up; a regular init container runs alone next to the sidecars started before
 * it, so the limit is the larger of the two totals.
 */
export function podMemoryLimit(pod: ReadonlyPod): number | undefined {
  const apps = pod.spec?.containers ?? [];
  if (apps.length === 0 || apps.some((c) => memoryLimit(c) <= 0)) return undefined;
  let total = apps.reduce((sum, c) => sum + memoryLimit(c), 0);
  let sidecars = 0;
  let initMax = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const limit = memoryLimit(c);
    if (c.restartPolicy === 'Always') {
      total += limit;
      sidecars += limit;
      initMax = Math.max(initMax, sidecars);
    } else {
      initMax = Math.max(initMax, limit + sidecars);
    }
  }
  return Math.max(total, initMax);
}

/**
 * Bytes for the tmpfs of a memory-backed volume; undefined means no `size=` option (the
 * kernel's default, half the RAM), used when nothing bounds it. Each bound applies only when
 * it is positive and not above the current one; with node allocatable unknown (not yet
 * read) the other bounds apply alone.
 */
export function memoryVolumeSize(pod: ReadonlyPod, sizeLimit: string | number | undefined, nodeAllocatableMemory: string | undefined): number | undefined {
  let size = nodeAllocatableMemory !== undefined && isValidQuantity(nodeAllocatableMemory) ? unitValue(nodeAllocatableMemory) : 0;
  const lower = (v: number | undefined): void => {
    if (v !== undefined && v > 0 && (size <= 0 || v <= size)) size = v;
  };
  lower(podMemoryLimit(pod));
  if (sizeLimit !== undefined && isValidQuantity(sizeLimit)) lower(unitValue(sizeLimit));
  return size > 0 ? size : undefined;
}
