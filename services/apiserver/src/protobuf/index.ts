/**
 * Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`, sent by kubectl
 * ≥ 1.32 typed clients): decoded into the JSON shape of the object, which then takes the
 * ordinary decoding path. This is the seam; kinds without a message definition are 415.
 */
import { unsupportedMediaType, type GroupVersionKind } from '@tskube/api';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** Decodes an envelope (`k8s\0` + runtime.Unknown) into a JSON-shaped object of `gvk`. */
export function decodeProtobuf(_raw: Buffer, gvk: GroupVersionKind): unknown {
  throw unsupportedMediaType(PROTOBUF_MEDIA_TYPE, ['application/json', 'application/yaml', `(protobuf not yet for ${gvk.kind})`]);
}
