import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultService, dropTypeDependentFields, normalizeClusterIPs, patchAllocatedValues, validateService, validateServiceStatus,
  validateServiceUpdate, type MutableService,
} from './core-service.js';
import { fieldErrorString } from '../errors.js';

const svc = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}): MutableService =>
  ({ metadata: { name: 's', namespace: 'default', ...meta }, spec } as MutableService);
const defaulted = (spec: Record<string, unknown>) => { const s = svc(spec); defaultService(s); return s; };

test('defaulting follows SetDefaults_Service', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['ClusterIP basics', { ports: [{ port: 80 }] },
      { type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }],
    ['named targetPort kept', { ports: [{ port: 80, targetPort: 'http', protocol: 'UDP' }] },
      { type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ports: [{ port: 80, protocol: 'UDP', targetPort: 'http' }] }],
    ['NodePort gets externalTrafficPolicy', { type: 'NodePort', ports: [{ port: 80 }] },
      { type: 'NodePort', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', externalTrafficPolicy: 'Cluster', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }],
    ['LoadBalancer allocates node ports by default', { type: 'LoadBalancer', ports: [{ port: 80 }] },
      { type: 'LoadBalancer', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }],
    ['ClusterIP with externalIPs is externally accessible', { externalIPs: ['1.2.3.4'], ports: [{ port: 80 }] },
      { type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', externalTrafficPolicy: 'Cluster', externalIPs: ['1.2.3.4'], ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }],
    ['ClientIP affinity gets the 3 h timeout', { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] },
      { type: 'ClusterIP', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } }, internalTrafficPolicy: 'Cluster', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] }],
    ['ExternalName has no traffic policies', { type: 'ExternalName', externalName: 'example.com' },
      { type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' }],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(defaulted(spec).spec, want, name);
});

test('validation reports every cause with upstream paths and wording', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['valid', { ports: [{ port: 80 }] }, []],
    ['no ports', {}, ['spec.ports: Required value']],
    ['headless needs no ports', { clusterIP: 'None', clusterIPs: ['None'] }, []],
    ['port out of range and bad protocol', { ports: [{ port: 0, protocol: 'HTTP' }] },
      ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive', 'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive']],
    ['several ports need names', { ports: [{ port: 80 }, { port: 81, name: 'b' }] }, ['spec.ports[0].name: Required value']],
    ['duplicate port', { ports: [{ port: 80, name: 'a' }, { port: 80, name: 'b' }] }, ['spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}']],
    ['bad selector', { ports: [{ port: 80 }], selector: { 'a b': 'c' } }, ['spec.selector: Invalid value: "a b": name part must consist']],
    ['bad type', { type: 'Magic', ports: [{ port: 80 }] }, ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ['nodePort on ClusterIP', { ports: [{ port: 80, nodePort: 30001 }] }, ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    ['bad clusterIP', { clusterIP: '10.0.0', clusterIPs: ['10.0.0'], ports: [{ port: 80 }] },
      ['spec.clusterIPs[0]: Invalid value: "10.0.0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    ['clusterIPs out of sync', { clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.6'], ports: [{ port: 80 }] },
      ['spec.clusterIPs: Invalid value: ["10.96.0.6"]: first value must match `clusterIP`']],
    ['headless NodePort', { type: 'NodePort', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] },
      ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services']],
    ['ExternalName without a name', { type: 'ExternalName' }, ['spec.externalName: Required value']],
    ['ExternalName with clusterIP', { type: 'ExternalName', externalName: 'x.example', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'] },
      ['spec.clusterIPs: Forbidden: may not be set for ExternalName services']],
    ['loopback externalIP', { externalIPs: ['127.0.0.1'], ports: [{ port: 80 }] },
      ['spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']],
    ['healthCheckNodePort without Local', { type: 'NodePort', healthCheckNodePort: 30010, ports: [{ port: 80 }] },
      ["spec.healthCheckNodePort: Invalid value: 30010: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"]],
    ['bad family policy', { ipFamilyPolicy: 'Sometimes', ports: [{ port: 80 }] },
      ['spec.ipFamilyPolicy: Unsupported value: "Sometimes": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"']],
  ];
  for (const [name, spec, want] of cases) {
    const got = validateService(defaulted(spec)).map(fieldErrorString);
    assert.equal(got.length, want.length, `${name}: ${JSON.stringify(got)}`);
    want.forEach((w, i) => assert.ok(got[i]!.startsWith(w), `${name}: got ${got[i]}, want prefix ${w}`));
  }
});

test('clusterIP is immutable; ExternalName ↔ ClusterIP switches may drop it', () => {
  const old = defaulted({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80 }] });
  const changed = structuredClone(old);
  changed.spec!.clusterIP = '10.96.0.11';
  normalizeClusterIPs(changed, old);
  assert.deepEqual(changed.spec!.clusterIPs, ['10.96.0.11'], 'an old client changing clusterIP moves clusterIPs along');
  assert.deepEqual(validateServiceUpdate(changed, old).map(fieldErrorString), ['spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set']);

  const toExternal = structuredClone(old);
  toExternal.spec!.type = 'ExternalName';
  toExternal.spec!.externalName = 'db.example.com';
  dropTypeDependentFields(toExternal, old);
  assert.equal(toExternal.spec!.clusterIP, undefined);
  assert.equal(toExternal.spec!.ipFamilies, undefined);
  assert.deepEqual(validateServiceUpdate(toExternal, old), []);
});

test('a PUT without allocated values keeps them (patchAllocatedValues)', () => {
  const old = defaulted({ type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30081 }] });
  const put = defaulted({ type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30080 }] });
  patchAllocatedValues(put, old);
  assert.equal(put.spec!.clusterIP, '10.96.0.10');
  assert.deepEqual(put.spec!.clusterIPs, ['10.96.0.10']);
  assert.deepEqual(put.spec!.ports!.map((p) => p.nodePort), [undefined, 30080], "a node port now used by another port is not copied back");
  const keep = defaulted({ type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] });
  patchAllocatedValues(keep, old);
  assert.deepEqual(keep.spec!.ports!.map((p) => p.nodePort), [30080, 30081]);
});

test('switching NodePort → ClusterIP drops unchanged node ports and the external traffic policy', () => {
  const old = defaulted({ type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, nodePort: 30080 }] });
  const next = structuredClone(old);
  next.spec!.type = 'ClusterIP';
  dropTypeDependentFields(next, old);
  assert.equal(next.spec!.ports![0]!.nodePort, undefined);
  assert.equal(next.spec!.externalTrafficPolicy, undefined);
  assert.deepEqual(validateServiceUpdate(next, old), []);
});

test('status: load balancer ingress only for LoadBalancer services', () => {
  const lb = defaulted({ type: 'LoadBalancer', ports: [{ port: 80 }] });
  lb.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4', ipMode: 'VIP' }, { hostname: '5.6.7.8' }] } };
  assert.deepEqual(validateServiceStatus(lb).map(fieldErrorString), ['status.loadBalancer.ingress[1].hostname: Invalid value: "5.6.7.8": must be a DNS name, not an IP address']);
  const cip = defaulted({ ports: [{ port: 80 }] });
  cip.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
  assert.deepEqual(validateServiceStatus(cip).map(fieldErrorString), ["status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'"]);
});
