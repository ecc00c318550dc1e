import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, Pod } from '@tskube/api';
import { memoryVolumeSize, podMemoryLimit } from './memory-size.js';

const Mi = 1024 * 1024;
const c = (name: string, memory?: string, restartPolicy?: string): Container => ({
  name, image: 'img', ...(memory ? { resources: { limits: { memory } } } : {}), ...(restartPolicy ? { restartPolicy } : {}),
});
const pod = (containers: Container[], initContainers: Container[] = []): Pod => ({ metadata: { name: 'p' }, spec: { containers, initContainers } });

describe('podMemoryLimit', () => {
  const cases: Array<[string, Pod, number | undefined]> = [
    ['no limits (BestEffort)', pod([c('a')]), undefined],
    ['one app container without a limit', pod([c('a', '64Mi'), c('b')]), undefined],
    ['app containers add up', pod([c('a', '64Mi'), c('b', '32Mi')]), 96 * Mi],
    ['a zero limit counts as none', pod([c('a', '0')]), undefined],
    ['a bigger regular init container wins', pod([c('a', '64Mi')], [c('init', '256Mi')]), 256 * Mi],
    ['sidecars add to the app', pod([c('a', '64Mi')], [c('proxy', '32Mi', 'Always')]), 96 * Mi],
    ['an init container after a sidecar runs beside it', pod([c('a', '64Mi')], [c('proxy', '32Mi', 'Always'), c('init', '100Mi')]), 132 * Mi],
    ['an init container before a sidecar runs alone', pod([c('a', '64Mi')], [c('init', '100Mi'), c('proxy', '32Mi', 'Always')]), 100 * Mi],
  ];
  for (const [name, p, want] of cases) it(name, () => assert.equal(podMemoryLimit(p), want));
});

describe('memoryVolumeSize (upstream calculateEmptyDirMemorySize)', () => {
  const limited = pod([c('a', '64Mi')]);
  const unlimited = pod([c('a')]);
  const cases: Array<[string, Pod, string | undefined, string | undefined, number | undefined]> = [
    ['node allocatable when nothing else bounds it', unlimited, undefined, '1Gi', 1024 * Mi],
    ['the pod limit below allocatable', limited, undefined, '1Gi', 64 * Mi],
    ['sizeLimit below the pod limit', limited, '16Mi', '1Gi', 16 * Mi],
    ['sizeLimit above the pod limit is ignored', limited, '128Mi', '1Gi', 64 * Mi],
    ['sizeLimit above allocatable is ignored', unlimited, '2Gi', '1Gi', 1024 * Mi],
    ['a pod limit above allocatable is ignored', pod([c('a', '4Gi')]), undefined, '1Gi', 1024 * Mi],
    ['allocatable unknown: sizeLimit alone', unlimited, '8Mi', undefined, 8 * Mi],
    ['nothing known: the kernel default (no size option)', unlimited, undefined, undefined, undefined],
    ['a zero sizeLimit is ignored', limited, '0', '1Gi', 64 * Mi],
  ];
  for (const [name, p, sizeLimit, alloc, want] of cases) it(name, () => assert.equal(memoryVolumeSize(p, sizeLimit, alloc), want));
});
