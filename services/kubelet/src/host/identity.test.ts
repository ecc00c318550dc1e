import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { resolveIdentity, type SelfContainer } from './identity.js';

const self: SelfContainer = { name: 'tskube-kubelet-2', networks: { tskube_default: '172.20.0.7', other: '10.1.0.3' } };

describe('resolveIdentity', () => {
  const cases: Array<{ name: string; cfg: Parameters<typeof resolveIdentity>[0]; self?: SelfContainer; want: Record<string, unknown> }> = [
    { name: 'in a compose container: its name, first network and IP there', cfg: {}, self, want: { nodeName: 'tskube-kubelet-2', podNetwork: 'tskube_default', nodeIP: '172.20.0.7' } },
    { name: 'TSKUBE_POD_NETWORK picks the IP on that network', cfg: { podNetwork: 'other' }, self, want: { nodeName: 'tskube-kubelet-2', podNetwork: 'other', nodeIP: '10.1.0.3' } },
    { name: 'explicit settings win', cfg: { nodeName: 'n', nodeIP: '127.0.0.1', podNetwork: 'net' }, self, want: { nodeName: 'n', podNetwork: 'net', nodeIP: '127.0.0.1' } },
    { name: 'outside a container: the hostname, no network', cfg: { nodeIP: '127.0.0.1' }, want: { nodeName: os.hostname(), podNetwork: undefined, nodeIP: '127.0.0.1' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const id = resolveIdentity(c.cfg, c.self);
      assert.deepEqual({ nodeName: id.nodeName, podNetwork: id.podNetwork, nodeIP: id.nodeIP }, c.want);
    });
  }
});
