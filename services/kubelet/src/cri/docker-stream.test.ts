import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demuxFrames, encodeFrame, rawFrames, type Frame } from './docker-stream.js';

async function collect(g: AsyncIterable<Frame>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const f of g) out.push([f.stream, f.data.toString()]);
  return out;
}

describe('Docker multiplexed streams', () => {
  it('demultiplexes frames in order, whatever the chunking', async () => {
    const wire = Buffer.concat([encodeFrame('stdout', 'one\n'), encodeFrame('stderr', 'two\n'), encodeFrame('stdout', 'three\n')]);
    const want = [['stdout', 'one\n'], ['stderr', 'two\n'], ['stdout', 'three\n']];
    for (const size of [1, 3, 8, 13, wire.length]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < wire.length; i += size) pieces.push(wire.subarray(i, i + size));
      assert.deepEqual(await collect(demuxFrames(pieces)), want, `chunks of ${size}`);
    }
  });

  it('drops a truncated trailing frame and empty frames', async () => {
    const wire = Buffer.concat([encodeFrame('stdout', ''), encodeFrame('stdout', 'ok\n'), encodeFrame('stderr', 'cut off').subarray(0, 10)]);
    assert.deepEqual(await collect(demuxFrames([wire])), [['stdout', 'ok\n']]);
  });

  it('treats a TTY stream as raw stdout', async () => {
    assert.deepEqual(await collect(rawFrames([Buffer.from('a'), Buffer.from('b\n')])), [['stdout', 'a'], ['stdout', 'b\n']]);
  });
});
