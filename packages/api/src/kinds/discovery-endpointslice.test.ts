import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { fieldErrorString } from '../errors.js';
import { defaultEndpointSlice, validateEndpointSlice, validateEndpointSliceUpdate } from './discovery-endpointslice.js';

const slice = (extra: Record<string, unknown>): EndpointSlice => {
  const s = { metadata: { name: 's', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [], ...extra } as EndpointSlice;
  defaultEndpointSlice(s);
  return s;
};

test('endpointslice defaults: port name "" and protocol TCP', () => {
  assert.deepEqual(slice({ ports: [{ port: 80 }] }).ports, [{ port: 80, name: '', protocol: 'TCP' }]);
});

test('endpointslice validation', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['valid', { endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1' }], ports: [{ name: 'http', port: 80 }] }, []],
    ['address type', { addressType: 'IPv5' }, ['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"']],
    ['no address type', { addressType: undefined }, ['addressType: Required value']],
    ['no addresses', { endpoints: [{ addresses: [] }] }, ['endpoints[0].addresses: Required value: must contain at least 1 address']],
    ['bad and special addresses', { endpoints: [{ addresses: ['10.0.0.300', '127.0.0.1', 'fe80::1'] }] }, [
      'endpoints[0].addresses[0]: Invalid value: "10.0.0.300": must be a valid IPv4 address',
      'endpoints[0].addresses[1]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
      'endpoints[0].addresses[2]: Invalid value: "fe80::1": must be a valid IPv4 address',
    ]],
    ['fqdn', { addressType: 'FQDN', endpoints: [{ addresses: ['db.example.com', 'Bad_Host'] }] }, [
      "endpoints[0].addresses[1]: Invalid value: \"Bad_Host\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]],
    ['ports', { ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81, protocol: 'ICMP' }] }, [
      'ports[1].name: Duplicate value: "http"', 'ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]],
  ];
  for (const [name, extra, want] of cases) assert.deepEqual(validateEndpointSlice(slice(extra)).map(fieldErrorString), want, name);
  assert.deepEqual(validateEndpointSliceUpdate(slice({ addressType: 'IPv6' }), slice({})).map(fieldErrorString), ['addressType: Invalid value: "IPv6": field is immutable']);
});
