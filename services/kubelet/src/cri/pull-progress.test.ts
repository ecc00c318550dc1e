import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PullProgress } from './pull-progress.js';

describe('PullProgress', () => {
  it('sums the layers of a Docker pull stream: bytes downloaded, layers done', () => {
    const p = new PullProgress();
    p.add({ status: 'Pulling from library/busybox', id: '1' });
    assert.deepEqual(p.summary(), { layers: 0, layersDone: 0, downloadedBytes: 0, totalBytes: 0 });
    p.add({ id: 'a', status: 'Pulling fs layer' });
    p.add({ id: 'b', status: 'Already exists' });
    p.add({ id: 'a', status: 'Downloading', progressDetail: { current: 1000, total: 4000 } });
    assert.deepEqual(p.summary(), { layers: 2, layersDone: 1, downloadedBytes: 1000, totalBytes: 4000 });
    p.add({ id: 'a', status: 'Downloading', progressDetail: { current: 3000, total: 4000 } });
    p.add({ id: 'a', status: 'Download complete' });
    p.add({ id: 'a', status: 'Extracting', progressDetail: { current: 100, total: 9000 } });
    p.add({ id: 'a', status: 'Pull complete' });
    p.add({ status: 'Digest: sha256:abc' });
    assert.deepEqual(p.summary(), { layers: 2, layersDone: 2, downloadedBytes: 4000, totalBytes: 4000 });
  });
});
