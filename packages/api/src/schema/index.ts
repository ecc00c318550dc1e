/**
 * API schemas (generated from kubernetes-types at build time), the OpenAPI v3 documents the
 * apiserver serves, and request-body decoding with upstream's strict/unknown-field semantics.
 */
export * from './registry.js';
export * from './openapi.js';
export * from './decode.js';
export { parseJsonStrict, type ParsedBody } from './json-strict.js';
export { parseYamlStrict } from './yaml-strict.js';
export { canonicalQuantity, QuantityFormatError } from './quantity-canonical.js';
