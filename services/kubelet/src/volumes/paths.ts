/**
 * The kubelet root directory layout (upstream pkg/kubelet/kubelet_getters.go):
 *
 *   <root>/pods/<podUID>/volumes/<plugin>/<volumeName>
 *
 * where <plugin> is the escaped plugin name ("kubernetes.io/empty-dir" → "kubernetes.io~empty-dir").
 * The root must be the same path for the kubelet and the container engine: the kubelet writes
 * files there and hands the paths to the runtime as bind-mount sources (docs/kubelet.md).
 */
import { join } from 'node:path';

/** Escaped names of the in-tree plugins (upstream utilstrings.EscapeQualifiedName). */
export const Plugin = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;
export type PluginDir = (typeof Plugin)[keyof typeof Plugin];

/** `kubernetes.io/empty-dir` → `kubernetes.io~empty-dir`. */
export function escapeQualifiedName(name: string): string {
  return name.replaceAll('/', '~');
}

export function podsDir(root: string): string {
  return join(root, 'pods');
}

/** `<root>/pods/<uid>`; the UID must be a single path element. */
export function podDir(root: string, uid: string): string {
  if (!uid || uid.includes('/') || uid === '.' || uid === '..') throw new Error(`invalid pod UID "${uid}"`);
  return join(podsDir(root), uid);
}

export function podVolumeDir(root: string, uid: string, plugin: PluginDir, volumeName: string): string {
  if (!volumeName || volumeName.includes('/') || volumeName.startsWith('..')) throw new Error(`invalid volume name "${volumeName}"`);
  return join(podDir(root, uid), 'volumes', plugin, volumeName);
}
