/**
 * The .proto files against the OpenAPI schemas of @tskube/api: every field of every message
 * reachable from a decodable kind must exist in the schema with a compatible type (or be
 * listed below as newer than our schemas), and every schema property must have a field, so
 * the converter never emits a field the server does not know or silently loses one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSchemaRegistry, refName, type OpenApiSchema } from '@tskube/api';
import type { Field, Type } from 'protobufjs';
import { jsonName } from './convert.js';
import { DELETE_OPTIONS_SCHEMA, protobufKinds, protobufMessageFor } from './kinds.js';
import { kubernetesProtos } from './proto-root.js';

const reg = defaultSchemaRegistry();
const root = kubernetesProtos();

/**
 * Proto fields our schemas (kubernetes-types 1.30) do not have: upstream added them in
 * 1.31–1.33. kubectl sends them only when set; the strict decoder then reports them as
 * unknown fields, like any field the server does not know.
 */
const NEWER_THAN_SCHEMAS = new Set([
  'k8s.io.api.core.v1.VolumeSource.image',
  'k8s.io.api.core.v1.ResourceClaim.request',
  'k8s.io.api.core.v1.Lifecycle.stopSignal',
  'k8s.io.api.core.v1.PodSecurityContext.supplementalGroupsPolicy',
  'k8s.io.api.core.v1.PodSecurityContext.seLinuxChangePolicy',
  'k8s.io.api.core.v1.PodResourceClaim.resourceClaimName',
  'k8s.io.api.core.v1.PodResourceClaim.resourceClaimTemplateName',
  'k8s.io.api.core.v1.PodSpec.resources',
  'k8s.io.api.core.v1.PodStatus.observedGeneration',
  'k8s.io.api.core.v1.PodCondition.observedGeneration',
  'k8s.io.api.core.v1.ContainerStatus.user',
  'k8s.io.api.core.v1.ContainerStatus.allocatedResourcesStatus',
  'k8s.io.api.core.v1.ContainerStatus.stopSignal',
  'k8s.io.api.apps.v1.DeploymentStatus.terminatingReplicas',
  'k8s.io.api.autoscaling.v2.HPAScalingRules.tolerance',
  'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions.ignoreStoreReadErrorWithClusterBreakingPotential',
  'k8s.io.api.authorization.v1.ResourceAttributes.fieldSelector',
  'k8s.io.api.authorization.v1.ResourceAttributes.labelSelector',
  // kubernetes-types 1.30 lost these two (its doc comment "*/foo" ends the TS comment early);
  // they only appear in SelfSubjectRulesReview responses, which the server writes.
  'k8s.io.api.authorization.v1.ResourceRule.verbs',
  'k8s.io.api.authorization.v1.ResourceRule.resources',
]);

/** Schema properties without a proto field: removed upstream before 1.33. */
const REMOVED_UPSTREAM = new Set(['io.k8s.api.core.v1.PodResourceClaim.source']);

const SPECIAL_SCHEMAS: Record<string, string> = {
  time: 'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
  micro_time: 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime',
  fields_v1: 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
  raw_extension: 'io.k8s.apimachinery.pkg.runtime.RawExtension',
  int_or_string: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  quantity: 'io.k8s.apimachinery.pkg.api.resource.Quantity',
};

function resolve(s: OpenApiSchema | undefined): OpenApiSchema | undefined {
  let cur = s;
  for (let i = 0; cur && i < 8; i++) {
    const n = refName(cur);
    if (!n) return cur;
    cur = reg.get(n);
  }
  return cur;
}

const messageOf = (f: Field): Type | undefined => (f.resolvedType && 'fieldsById' in f.resolvedType ? f.resolvedType : undefined);

interface Findings { problems: string[]; protoOnly: Set<string>; schemaOnly: Set<string> }

function check(type: Type, schemaName: string, schema: OpenApiSchema | undefined, f: Findings, seen: Set<string>): void {
  const key = `${type.fullName}|${schemaName}`;
  if (seen.has(key)) return;
  seen.add(key);
  if (type.options?.['(tskube.json)']) return;
  const covered = new Set(['apiVersion', 'kind']);
  const walk = (t: Type): void => {
    for (const field of t.fieldsArray) {
      const name = jsonName(field);
      const sub = messageOf(field);
      if (field.options?.['(tskube.json_inline)'] === true && sub) {
        walk(sub);
        continue;
      }
      covered.add(name);
      const where = `${t.fullName.slice(1)}.${name}`;
      const prop = schema?.properties?.[name];
      if (!prop) {
        f.protoOnly.add(where);
        continue;
      }
      const r = resolve(prop);
      if (field.map) {
        const values = typeof r?.additionalProperties === 'object' ? r.additionalProperties : undefined;
        if (r?.type !== 'object' || !values) { f.problems.push(`${where}: a map, the schema says ${JSON.stringify(r?.type)}`); continue; }
        const valueType = messageOf(field);
        if (valueType) checkMessage(valueType, values, where);
        else checkScalar(field.type, resolve(values), where);
        continue;
      }
      let elem: OpenApiSchema | undefined = prop;
      if (field.repeated && r?.type !== 'array') {
        if (!(sub?.options?.['(tskube.json)'] === 'string_list')) { f.problems.push(`${where}: repeated, the schema says ${JSON.stringify(r?.type)}`); continue; }
      }
      if (field.repeated) elem = r?.items;
      if (sub) checkMessage(sub, elem, where);
      else checkScalar(field.type, resolve(elem), where);
    }
  };
  const checkMessage = (sub: Type, s: OpenApiSchema | undefined, where: string): void => {
    const special = sub.options?.['(tskube.json)'] as string | undefined;
    const name = refName(s);
    if (special === 'string_list') {
      if (resolve(s)?.type !== 'array') f.problems.push(`${where}: string_list, the schema says ${JSON.stringify(resolve(s)?.type)}`);
      return;
    }
    if (special === 'duration') {
      if (resolve(s)?.type !== 'string') f.problems.push(`${where}: duration, the schema says ${JSON.stringify(resolve(s)?.type)}`);
      return;
    }
    if (special) {
      if (name !== SPECIAL_SCHEMAS[special]) f.problems.push(`${where}: ${special}, the schema is ${name}`);
      return;
    }
    const r = resolve(s);
    if (!name || r?.type !== 'object') { f.problems.push(`${where}: a message, the schema is ${JSON.stringify(s).slice(0, 80)}`); return; }
    check(sub, name, r, f, seen);
  };
  const checkScalar = (protoType: string, s: OpenApiSchema | undefined, where: string): void => {
    const want = protoType === 'bool' ? 'boolean' : protoType === 'string' || protoType === 'bytes' ? 'string' : protoType === 'double' || protoType === 'float' ? 'number' : 'integer';
    if (s?.type !== want) f.problems.push(`${where}: ${protoType}, the schema says ${JSON.stringify(s?.type)}`);
    if (protoType === 'bytes' && s?.format !== 'byte') f.problems.push(`${where}: bytes, the schema format is ${JSON.stringify(s?.format)}`);
  };
  walk(type);
  for (const p of Object.keys(schema?.properties ?? {})) if (!covered.has(p)) f.schemaOnly.add(`${schemaName}.${p}`);
}

test('every decodable kind has a message and a schema', () => {
  for (const gvk of protobufKinds()) {
    const name = protobufMessageFor(gvk);
    assert.ok(name, `${gvk.kind}`);
    assert.doesNotThrow(() => root.lookupType(name), `${name} is declared in proto/k8s`);
    const schemaName = gvk.kind === 'DeleteOptions' ? DELETE_OPTIONS_SCHEMA : reg.nameForKind(gvk);
    assert.ok(schemaName && reg.get(schemaName), `schema for ${gvk.group}/${gvk.version} ${gvk.kind}`);
  }
});

test('the kinds kubectl ≥ 1.32 sends as protobuf are decodable (kubectl-contract §9)', () => {
  const sent: [string, string, string][] = [
    ['', 'v1', 'Namespace'], ['', 'v1', 'ConfigMap'], ['', 'v1', 'Secret'], ['', 'v1', 'Service'], ['', 'v1', 'ServiceAccount'],
    ['', 'v1', 'ResourceQuota'], ['apps', 'v1', 'Deployment'], ['batch', 'v1', 'Job'], ['batch', 'v1', 'CronJob'],
    ['rbac.authorization.k8s.io', 'v1', 'Role'], ['rbac.authorization.k8s.io', 'v1', 'ClusterRole'],
    ['rbac.authorization.k8s.io', 'v1', 'RoleBinding'], ['rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding'],
    ['autoscaling', 'v1', 'HorizontalPodAutoscaler'], ['autoscaling', 'v2', 'HorizontalPodAutoscaler'],
    ['policy', 'v1', 'PodDisruptionBudget'], ['policy', 'v1', 'Eviction'], ['scheduling.k8s.io', 'v1', 'PriorityClass'],
    ['authorization.k8s.io', 'v1', 'SelfSubjectAccessReview'], ['authorization.k8s.io', 'v1', 'SelfSubjectRulesReview'],
    ['authentication.k8s.io', 'v1', 'SelfSubjectReview'], ['authentication.k8s.io', 'v1', 'TokenRequest'],
    ['', 'v1', 'DeleteOptions'],
  ];
  for (const [group, version, kind] of sent) assert.ok(protobufMessageFor({ group, version, kind }), `${group}/${version} ${kind}`);
  assert.equal(protobufMessageFor({ group: 'apps', version: 'v1', kind: 'StatefulSet' }), undefined);
});

test('proto/k8s agrees with the OpenAPI schemas (names, types, maps, lists, custom types)', () => {
  const f: Findings = { problems: [], protoOnly: new Set(), schemaOnly: new Set() };
  const seen = new Set<string>();
  for (const gvk of protobufKinds()) {
    const schemaName = gvk.kind === 'DeleteOptions' ? DELETE_OPTIONS_SCHEMA : reg.nameForKind(gvk)!;
    check(root.lookupType(protobufMessageFor(gvk)!), schemaName, reg.get(schemaName), f, seen);
  }
  assert.deepEqual(f.problems, []);
  assert.deepEqual([...f.protoOnly].filter((x) => !NEWER_THAN_SCHEMAS.has(x)), [], 'proto fields missing from the schemas');
  assert.deepEqual([...NEWER_THAN_SCHEMAS].filter((x) => !f.protoOnly.has(x)), [], 'stale NEWER_THAN_SCHEMAS entries (the schemas have them now)');
  assert.deepEqual([...f.schemaOnly].filter((x) => !REMOVED_UPSTREAM.has(x)), [], 'schema properties without a proto field');
  assert.ok(seen.size > 150, `walked ${seen.size} message/schema pairs`);
});
