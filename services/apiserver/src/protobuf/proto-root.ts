/**
 * Loads tskube's Kubernetes message definitions (proto/k8s/**) and the gnostic OpenAPI v2
 * messages (proto/gnostic/**) with protobufjs reflection: no generated code, the .proto
 * files are the single source of field names, numbers and the (tskube.*) JSON options.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf, { type Root } from 'protobufjs';

/** Every Kubernetes .proto file, relative to the proto directory. */
export const K8S_PROTO_FILES = [
  'k8s/apimachinery/pkg/runtime/types.proto',
  'k8s/apimachinery/pkg/apis/meta/v1/types.proto',
  'k8s/api/core/v1/types.proto',
  'k8s/api/apps/v1/types.proto',
  'k8s/api/batch/v1/types.proto',
  'k8s/api/rbac/v1/types.proto',
  'k8s/api/autoscaling/v1/types.proto',
  'k8s/api/autoscaling/v2/types.proto',
  'k8s/api/policy/v1/types.proto',
  'k8s/api/authorization/v1/types.proto',
  'k8s/api/authentication/v1/types.proto',
  'k8s/api/scheduling/v1/types.proto',
] as const;

export const GNOSTIC_PROTO_FILE = 'gnostic/openapiv2/openapiv2.proto';

/**
 * Directory holding the repo's proto/ tree: $TSKUBE_PROTO_DIR, else resolved from this
 * module (services/apiserver/dist/protobuf/proto-root.js → ../../../../proto), which holds in
 * the repo and in the image (the Dockerfile copies proto/ beside services/).
 */
export function protoDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TSKUBE_PROTO_DIR || fileURLToPath(new URL('../../../../proto/', import.meta.url));
}

const require = createRequire(import.meta.url);

/**
 * Parses `files` (relative to `dir`) into one resolved Root. google/protobuf/* imports come
 * from protobufjs's own copies. Throws an Error naming the missing file and TSKUBE_PROTO_DIR
 * when the directory is incomplete.
 */
export function loadProtoRoot(files: readonly string[], dir: string = protoDir()): Root {
  for (const f of files) {
    if (!existsSync(join(dir, f))) {
      throw new Error(`protobuf definition ${join(dir, f)} not found; set TSKUBE_PROTO_DIR to the repo's proto/ directory`);
    }
  }
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string =>
    target.startsWith('google/protobuf/') ? require.resolve(`protobufjs/${target}`) : join(dir, target);
  root.loadSync([...files], { keepCase: true });
  root.resolveAll();
  return root;
}

// Parsed definitions are immutable after resolveAll(), so one parse per directory is shared
// by every request in the process (a cache, not shared mutable state).
const cache = new Map<string, Root>();

/** The Kubernetes messages from `dir` (default {@link protoDir}), parsed once per directory. */
export function kubernetesProtos(dir: string = protoDir()): Root {
  let root = cache.get(dir);
  if (!root) {
    root = loadProtoRoot(K8S_PROTO_FILES, dir);
    cache.set(dir, root);
  }
  return root;
}
