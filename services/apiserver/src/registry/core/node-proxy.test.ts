import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubeletPathOf } from './node-proxy.js';

test('kubeletPathOf: what follows /nodes/<name>/proxy, with the query', () => {
  const cases: [string, string][] = [
    ['/api/v1/nodes/n1/proxy/stats/summary', '/stats/summary'],
    ['/api/v1/nodes/n1/proxy/metrics/resource?x=1&y=2', '/metrics/resource?x=1&y=2'],
    ['/api/v1/nodes/n1/proxy', '/'],
    ['/api/v1/nodes/n1/proxy/', '/'],
    ['/api/v1/nodes/n1/proxy?a=b', '/?a=b'],
    ['/api/v1/nodes/n1/proxy/containerLogs/ns/p%2Fx/c', '/containerLogs/ns/p%2Fx/c'],
  ];
  for (const [url, want] of cases) assert.equal(kubeletPathOf(url, 'n1'), want, url);
});
