import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, deriveSeed } from '../../engine/data/rng';

test('xoshiro128** matches the reference outputs for state [1, 2, 3, 4]', () => {
  const rng = Rng.fromState([1, 2, 3, 4]);
  const out = Array.from({ length: 6 }, () => rng.nextUint32());
  assert.deepEqual(out, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
});

test('a saved state (through JSON) continues the exact same stream', () => {
  const rng = new Rng(42);
  for (let i = 0; i < 10; i++) rng.nextUint32();
  const saved = JSON.parse(JSON.stringify(rng.state()));
  const expected = Array.from({ length: 20 }, () => rng.nextUint32());
  const restored = Rng.fromState(saved);
  assert.deepEqual(Array.from({ length: 20 }, () => restored.nextUint32()), expected);
});

test('seeds give distinct, reproducible streams', () => {
  const a = new Rng(1);
  const b = new Rng(1);
  const c = new Rng(2);
  const xs = Array.from({ length: 8 }, () => a.nextUint32());
  assert.deepEqual(Array.from({ length: 8 }, () => b.nextUint32()), xs);
  assert.notDeepEqual(Array.from({ length: 8 }, () => c.nextUint32()), xs);
});

test('deriveSeed: labels chain one after another, each (seed, label) pair gives its own seed', () => {
  assert.equal(deriveSeed(7), 7, 'no label: the seed itself');
  assert.equal(deriveSeed(7, 1, 2), deriveSeed(deriveSeed(7, 1), 2));
  assert.notEqual(deriveSeed(7, 1, 2), deriveSeed(7, 2, 1), 'the order of the labels counts');
  const labels = Array.from({ length: 1000 }, (_, l) => deriveSeed(7, l));
  assert.equal(new Set(labels).size, 1000, 'a thousand epochs, a thousand seeds');
  const seeds = Array.from({ length: 1000 }, (_, s) => deriveSeed(s, 3));
  assert.equal(new Set(seeds).size, 1000, 'a thousand seeds, one label: a thousand seeds');
  assert.ok(!labels.includes(7), 'a derived seed is not the seed it came from');
});

test('nextInt stays in range and is roughly uniform; shuffle permutes', () => {
  const rng = new Rng(9);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 50_000; i++) counts[rng.nextInt(10)]++;
  for (const c of counts) assert.ok(Math.abs(c - 5000) < 300, `bucket count ${c}`);
  const items = Array.from({ length: 100 }, (_, i) => i);
  const shuffled = rng.shuffle([...items]);
  assert.notDeepEqual(shuffled, items);
  assert.deepEqual([...shuffled].sort((x, y) => x - y), items);
  const f = rng.nextFloat();
  assert.ok(f >= 0 && f < 1);
});

test('invalid states are rejected', () => {
  assert.throws(() => Rng.fromState([0, 0, 0, 0]), /all zero/);
  assert.throws(() => Rng.fromState([1, 2, 3, -1]), /invalid RNG state/);
  assert.throws(() => Rng.fromState([1, 2, 3] as unknown as [number, number, number, number]), /invalid RNG state/);
});
