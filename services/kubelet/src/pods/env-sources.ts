/**
 * The ConfigMaps and Secrets a container's environment refers to (env[].valueFrom
 * configMapKeyRef/secretKeyRef and envFrom), read before the container config is made so
 * that `containerEnv` stays a pure function (upstream makeEnvironmentVariables reads them
 * inline through the configmap/secret managers).
 *
 * Contract: every referenced name is looked up once; a 404 is recorded as `null` (the pure
 * step decides with the `optional` flag); any other read error becomes a
 * ContainerConfigError (CreateContainerConfigError), so the sync retries later.
 */
import type { ConfigMap, Container, Pod, Secret } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { ObjectSource } from '../volumes/object-cache.js';
import { ContainerConfigError } from './container-config.js';

/** Objects by name in the pod's namespace; `null`: the API has none of that name. */
export interface EnvObjects {
  configMaps: ReadonlyMap<string, DeepReadonly<ConfigMap> | null>;
  secrets: ReadonlyMap<string, DeepReadonly<Secret> | null>;
}

export const NO_ENV_OBJECTS: EnvObjects = { configMaps: new Map(), secrets: new Map() };

/** The ConfigMap and Secret names a container's env and envFrom refer to. */
export function envReferences(c: DeepReadonly<Container>): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const src of c.envFrom ?? []) {
    if (src.configMapRef?.name) configMaps.add(src.configMapRef.name);
    if (src.secretRef?.name) secrets.add(src.secretRef.name);
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
  }
  return { configMaps, secrets };
}

export async function fetchEnvObjects(pod: DeepReadonly<Pod>, c: DeepReadonly<Container>, source: ObjectSource): Promise<EnvObjects> {
  const ns = pod.metadata?.namespace ?? '';
  const refs = envReferences(c);
  const configMaps = new Map<string, DeepReadonly<ConfigMap> | null>();
  const secrets = new Map<string, DeepReadonly<Secret> | null>();
  try {
    await Promise.all([
      ...[...refs.configMaps].map(async (n) => { configMaps.set(n, await source.configMap(ns, n)); }),
      ...[...refs.secrets].map(async (n) => { secrets.set(n, await source.secret(ns, n)); }),
    ]);
  } catch (err) {
    throw new ContainerConfigError(err instanceof Error ? err.message : String(err));
  }
  return { configMaps, secrets };
}
