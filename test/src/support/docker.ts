/**
 * Docker for integration tests: a client that is known to work (with the local images
 * present), and a throwaway scope: a unique tskube.cluster label value and a Docker network
 * labelled with it. destroyScope removes every container carrying the label and the network,
 * and never throws, so tests can call it from `after` even when they failed half-way.
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';

export const POD_IMAGE = process.env.POD_IMAGE || 'local/busybox:1';
export const PAUSE_IMAGE = process.env.PAUSE_IMAGE || 'local/pause:3.10';
const HOW_TO = 'start dockerd and load the offline images (sudo ../shared/tools/offline-images.sh)';

/** A Docker client that answers, with POD_IMAGE and PAUSE_IMAGE present; throws a how-to otherwise. */
export async function requireDocker(): Promise<Dockerode> {
  const docker = new Dockerode();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`Docker is not reachable (${err instanceof Error ? err.message : String(err)}); ${HOW_TO}`);
  }
  for (const image of [POD_IMAGE, PAUSE_IMAGE]) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`image ${image} is not in the local Docker engine; ${HOW_TO}`);
    }
  }
  return docker;
}

export interface DockerScope {
  docker: Dockerode;
  /** Value of the tskube.cluster label of everything the test makes. */
  cluster: string;
  network: string;
}

export async function makeScope(prefix: string): Promise<DockerScope> {
  const docker = await requireDocker();
  const id = randomBytes(4).toString('hex');
  const scope = { docker, cluster: `${prefix}-${id}`, network: `tskube-${prefix}-${id}` };
  await docker.createNetwork({ Name: scope.network, Labels: { 'tskube.cluster': scope.cluster } });
  return scope;
}

/** The containers of the scope (running or not) carrying every given label. */
export async function scopeContainers(s: DockerScope, labels: Record<string, string> = {}): Promise<Dockerode.ContainerInfo[]> {
  const label = [`tskube.cluster=${s.cluster}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
  return s.docker.listContainers({ all: true, filters: { label } });
}

export async function destroyScope(s: DockerScope): Promise<void> {
  try {
    const leftovers = await scopeContainers(s);
    await Promise.all(leftovers.map((c) => s.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  } catch (err) {
    process.stderr.write(`cleanup: listing containers of ${s.cluster} failed: ${String(err)}\n`);
  }
  try {
    await s.docker.getNetwork(s.network).remove();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) process.stderr.write(`cleanup: removing network ${s.network} failed: ${String(err)}\n`);
  }
}
