import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { admitPod } from './admission.js';
import type { PressureCondition } from './thresholds.js';

function pod(o: { requests?: Record<string, string>; tolerations?: NonNullable<Pod['spec']>['tolerations']; priority?: number; source?: string } = {}): Pod {
  return {
    metadata: { name: 'p', uid: 'u', ...(o.source ? { annotations: { 'kubernetes.io/config.source': o.source } } : {}) },
    spec: { priority: o.priority, tolerations: o.tolerations, containers: [{ name: 'c', image: 'i', resources: { requests: o.requests ?? {} } }] },
  };
}

const rejected = (c: string): { admit: false; reason: string; message: string } => ({ admit: false, reason: 'Evicted', message: `The node had condition: [${c}]. ` });

describe('admission under node pressure (upstream eviction manager Admit)', () => {
  const cases: Array<[string, Pod, PressureCondition[], ReturnType<typeof admitPod>]> = [
    ['no pressure: anything', pod(), [], { admit: true }],
    ['memory pressure: BestEffort rejected', pod(), ['MemoryPressure'], rejected('MemoryPressure')],
    ['memory pressure: Burstable admitted', pod({ requests: { memory: '10Mi' } }), ['MemoryPressure'], { admit: true }],
    ['memory pressure: BestEffort tolerating the taint admitted',
      pod({ tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }] }), ['MemoryPressure'], { admit: true }],
    ['memory pressure: BestEffort tolerating another taint rejected',
      pod({ tolerations: [{ key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' }] }), ['MemoryPressure'], rejected('MemoryPressure')],
    ['disk pressure: even Burstable rejected', pod({ requests: { cpu: '1' } }), ['DiskPressure'], rejected('DiskPressure')],
    ['pid pressure: rejected', pod({ requests: { memory: '1Gi' } }), ['PIDPressure'], rejected('PIDPressure')],
    ['memory and disk: Burstable rejected', pod({ requests: { memory: '1Gi' } }), ['MemoryPressure', 'DiskPressure'], rejected('MemoryPressure DiskPressure')],
    ['critical priority admitted', pod({ priority: 2_000_001_000 }), ['DiskPressure'], { admit: true }],
    ['static pod admitted', pod({ source: 'file' }), ['DiskPressure'], { admit: true }],
  ];
  for (const [name, p, conds, want] of cases) {
    it(name, () => assert.deepEqual(admitPod(p, conds), want));
  }
});
