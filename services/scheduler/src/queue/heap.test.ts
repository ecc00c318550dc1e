import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedHeap } from './heap.js';

interface Item { key: string; v: number }

test('KeyedHeap pops in order and supports update and remove by key', () => {
  const h = new KeyedHeap<Item>((i) => i.key, (a, b) => a.v < b.v);
  const values = [5, 3, 9, 1, 7, 2, 8, 6, 4, 0];
  for (const v of values) h.push({ key: `k${v}`, v });
  h.push({ key: 'k9', v: -1 }); // update moves it to the front
  assert.equal(h.remove('k4')?.v, 4);
  assert.equal(h.remove('nope'), undefined);
  assert.equal(h.size, 9);
  assert.ok(h.has('k9') && !h.has('k4'));
  const out: number[] = [];
  for (let i = h.pop(); i; i = h.pop()) out.push(i.v);
  assert.deepEqual(out, [-1, 0, 1, 2, 3, 5, 6, 7, 8]);
});

test('KeyedHeap stays ordered under random operations', () => {
  const h = new KeyedHeap<Item>((i) => i.key, (a, b) => a.v < b.v);
  const model = new Map<string, number>();
  let seed = 42;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  for (let i = 0; i < 2000; i++) {
    const key = `k${Math.floor(rnd() * 50)}`;
    const r = rnd();
    if (r < 0.6) { const v = Math.floor(rnd() * 1000); h.push({ key, v }); model.set(key, v); }
    else if (r < 0.8) { h.remove(key); model.delete(key); }
    else if (model.size > 0) {
      const min = Math.min(...model.values());
      const top = h.pop()!;
      assert.equal(top.v, min);
      model.delete(top.key);
    }
    assert.equal(h.size, model.size);
  }
});
