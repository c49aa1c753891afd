import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, PRESETS } from '../../engine/model/config';
import { DEFAULT_MESH_CONFIG, parseMeshConfig, type MeshConfig } from '../../engine/mesh/meshConfig';
import { simulateMeshStep } from '../../engine/mesh/meshModel';
import { meshStepSchema } from '../../engine/mesh/meshStep';
import type { LayerMetrics } from '../../engine/train/metrics';

// Hand-worked numbers: one token row is dModel x bytesPerValue = 4 x 2 = 8 bytes; one token through
// an expert is 2 x 2 x 4 x 8 = 128 forward FLOPs.
const model = { dModel: 4, dFf: 8 };
const mesh: MeshConfig = {
  shape: { data: 8, model: 1 },
  deviceFlops: 1024, // 8 tokens' forward in 1 s
  linkBandwidth: 70,
  linkLatency: 0,
  bytesPerValue: 2,
  backward: false,
};

/** A sparse layer's record from the tokens that chose each expert; the first `capacity` are kept. */
function layer(routed: number[], capacity: number): LayerMetrics {
  const kept = routed.map((r) => Math.min(r, capacity));
  const assignments = sum(routed);
  return {
    layer: 'encoder.block.1',
    numExperts: routed.length,
    capacity,
    assignments,
    routed,
    kept,
    shares: routed.map((r) => r / assignments),
    dropped: assignments - sum(kept),
    overflowRate: 0,
    routerEntropy: 0,
    normalizedEntropy: 0,
    loadCv: 0,
    maxShare: 0,
    unusedExperts: 0,
    meanProb: routed.map(() => 1 / routed.length),
  };
}

function sum(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}

function only(routed: number[], capacity: number, config = mesh) {
  return simulateMeshStep([layer(routed, capacity)], model, config).layers[0];
}

test('a perfectly balanced step fills every device alike and leaves none idle', () => {
  const step = simulateMeshStep([layer(Array(8).fill(8), 10)], model, mesh);
  const devices = step.layers[0].devices;
  assert.equal(devices.length, 8);
  assert.deepEqual(devices.map((d) => d.experts), [[0], [1], [2], [3], [4], [5], [6], [7]]);
  for (const d of devices) {
    assert.equal(d.tokens, 8);
    assert.equal(d.slots, 10);
    assert.equal(d.utilization, 0.8);
    assert.equal(d.idleFraction, 0);
    assert.equal(d.dropped, 0);
    assert.equal(d.computeTime, 1); // 8 x 128 FLOPs at 1024 FLOP/s
    // Each all-to-all: 80 bytes handed over, 7/8 of them leave the device: 70 B at 70 B/s.
    assert.equal(d.commTime, 2);
  }
  assert.equal(step.time, 3);
  // 64 tokens x 128 FLOPs over 8 devices x 1024 FLOP/s x 3 s.
  assert.equal(step.usefulFlops, 8192);
  assert.ok(Math.abs(step.meshUtilization - 1 / 3) < 1e-12);
});

test('all tokens to one expert: one busy device that drops what passed its capacity', () => {
  const l = only([80, 0, 0, 0, 0, 0, 0, 0], 10);
  assert.equal(l.devices.filter((d) => d.computeTime > 0).length, 1);
  const [busy, ...rest] = l.devices;
  assert.equal(busy.tokens, 10);
  assert.equal(busy.utilization, 1);
  assert.equal(busy.idleFraction, 0);
  assert.equal(busy.dropped, 80 - 10);
  for (const d of rest) {
    assert.equal(d.utilization, 0);
    assert.equal(d.idleFraction, 1);
    assert.equal(d.dropped, 0);
  }
  assert.equal(l.computeTime, busy.computeTime);
});

test('each all-to-all moves E x C x dModel x bytesPerValue in all, whatever the routing', () => {
  const cases = [
    { routed: [13, 2, 7, 0, 9, 11, 4, 3], capacity: 10 }, // one expert per device
    { routed: [13, 2, 7, 0, 9, 11, 4, 3, 1, 1, 5, 6, 0, 2, 8, 9], capacity: 3 }, // two per device
    { routed: [13, 2, 7, 9], capacity: 5 }, // each expert copied on 2 devices, 5 slots shared 3 + 2
  ];
  for (const { routed, capacity } of cases) {
    for (const backward of [false, true]) {
      const l = only(routed, capacity, { ...mesh, backward });
      const oneWay = routed.length * capacity * 4 * 2;
      assert.equal(l.allToAllBytes, oneWay);
      // Dispatch and combine, and their mirrors in the backward pass.
      const allToAlls = backward ? 4 : 2;
      assert.equal(sum(l.devices.map((d) => d.sentBytes)), allToAlls * oneWay);
      assert.equal(sum(l.devices.map((d) => d.receivedBytes)), allToAlls * oneWay);
      assert.equal(sum(l.devices.map((d) => d.slots)), routed.length * capacity);
      assert.equal(sum(l.devices.map((d) => d.tokens)), sum(routed.map((r) => Math.min(r, capacity))));
      assert.equal(sum(l.devices.map((d) => d.dropped)), sum(routed.map((r) => Math.max(0, r - capacity))));
    }
  }
});

test('a copied expert shares its tokens and slots evenly among its copies', () => {
  const l = only([13, 2, 7, 9], 5);
  assert.deepEqual(l.devices.map((d) => d.experts), [[0], [0], [1], [1], [2], [2], [3], [3]]);
  assert.deepEqual(l.devices.map((d) => d.slots), [3, 2, 3, 2, 3, 2, 3, 2]);
  assert.deepEqual(l.devices.map((d) => d.tokens), [3, 2, 1, 1, 3, 2, 3, 2]);
  assert.deepEqual(l.devices.map((d) => d.dropped), [4, 4, 0, 0, 1, 1, 2, 2]);
  // An all-to-all waits for the larger of a device's two sides: 3 slots receive 24 bytes, more than
  // the 4 x 5 / 8 rows = 20 bytes it hands over; 7/8 of that crosses the link at 70 B/s, twice.
  assert.ok(Math.abs(l.devices[0].commTime - (2 * 24 * 7) / 8 / 70) < 1e-12);
  assert.ok(Math.abs(l.devices[1].commTime - (2 * 20 * 7) / 8 / 70) < 1e-12);
});

test('compute time is proportional to the tokens a device processes', () => {
  const l = only([20, 10, 0, 0, 0, 0, 0, 0], 20);
  assert.equal(l.devices[0].computeTime, 2 * l.devices[1].computeTime);
  assert.equal(l.devices[1].computeTime, (10 * 128) / 1024);
  assert.equal(l.devices[1].idleFraction, 0.5);
});

test('the backward pass triples compute and doubles the collectives', () => {
  const forward = only(Array(8).fill(8), 10);
  const training = only(Array(8).fill(8), 10, { ...mesh, backward: true });
  assert.equal(training.devices[0].computeTime, 3 * forward.devices[0].computeTime);
  assert.equal(training.devices[0].commTime, 2 * forward.devices[0].commTime);
  const rowOfTwo = only(Array(8).fill(8), 10, { ...mesh, shape: { data: 8, model: 2 }, backward: true });
  assert.equal(rowOfTwo.devices[0].allReduceBytes, 2 * 10 * 4 * 2); // outputs forward, input gradients backward
});

test('model parallelism m = 2 halves each device compute and adds an all-reduce over the row', () => {
  const routed = [20, 10, 5, 0, 8, 8, 3, 1];
  const m1 = only(routed, 16);
  const m2 = only(routed, 16, { ...mesh, shape: { data: 8, model: 2 } });
  assert.equal(m2.devices.length, 16);
  for (const d of m2.devices) {
    const same = m1.devices[d.data];
    assert.equal(d.computeTime, same.computeTime / 2);
    assert.equal(d.tokens, same.tokens); // a data row's devices hold the same tokens
    assert.equal(d.sentBytes, same.sentBytes); // each model column runs the whole all-to-all
    assert.equal(d.allReduceBytes, d.slots * 4 * 2);
    // Ring all-reduce over 2 devices: each sends half of twice the outputs, at 70 B/s.
    assert.ok(Math.abs(d.commTime - same.commTime - d.allReduceBytes / 70) < 1e-12);
  }
  assert.equal(sum(m2.devices.map((d) => d.sentBytes)), 2 * sum(m1.devices.map((d) => d.sentBytes)));
  assert.ok(m1.devices.every((d) => d.allReduceBytes === 0));
});

test('one device does no collective', () => {
  const l = only([5, 3], 4, { ...mesh, shape: { data: 1, model: 1 } });
  assert.deepEqual(l.devices.map((d) => d.experts), [[0, 1]]);
  assert.equal(l.commTime, 0);
  assert.equal(l.devices[0].utilization, 7 / 8);
});

test('invalid meshes are refused with the field named', () => {
  const bad: [unknown, number | undefined, RegExp][] = [
    [{ ...DEFAULT_MESH_CONFIG, shape: { data: 0, model: 1 } }, undefined, /shape\.data: needs at least 1 device/],
    [{ ...DEFAULT_MESH_CONFIG, shape: { data: 8, model: 0 } }, undefined, /shape\.model: needs at least 1 device/],
    [{ ...DEFAULT_MESH_CONFIG, linkBandwidth: 0 }, undefined, /linkBandwidth/],
    [{ ...DEFAULT_MESH_CONFIG, deviceFlop: 1 }, undefined, /deviceFlop: unknown field/],
    [{ ...DEFAULT_MESH_CONFIG, shape: { data: 4, model: 1 } }, 6, /shape\.data: 6 experts cannot be spread over 4 data-parallel devices/],
  ];
  for (const [raw, experts, message] of bad) {
    assert.throws(() => parseMeshConfig(raw, experts), (e: unknown) => e instanceof ConfigError && message.test(e.message));
  }
  // The same rule holds for a layer's record that does not fit the mesh.
  assert.throws(() => only([1, 2, 3], 2), /shape\.data: 3 experts cannot be spread over 8/);
});

test('the defaults validate, fit every preset, and give a step the schema accepts', () => {
  for (const preset of Object.values(PRESETS)) {
    assert.deepEqual(parseMeshConfig(DEFAULT_MESH_CONFIG, preset.numExperts), DEFAULT_MESH_CONFIG);
  }
  const step = simulateMeshStep([layer([13, 2, 7, 0, 9, 11, 4, 3], 10), layer(Array(8).fill(6), 10)], model, DEFAULT_MESH_CONFIG);
  assert.deepEqual(meshStepSchema.parse(JSON.parse(JSON.stringify(step))), step);
  assert.ok(step.meshUtilization > 0 && step.meshUtilization < 1);
});
