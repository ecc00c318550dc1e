import type { ResourceDef } from '@tskube/api';

/**
 * One row per group and resource: the preferred (first listed) version. A resource served in
 * several versions (autoscaling/v2 and v1 HorizontalPodAutoscalers) is one set of objects, so
 * controllers watch and delete it once.
 */
export function preferredVersions(all: readonly ResourceDef[]): ResourceDef[] {
  const seen = new Set<string>();
  return all.filter((d) => {
    const key = `${d.group}/${d.plural}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
