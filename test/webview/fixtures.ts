// Sample messages for the webview tests, shaped like the engine's (and checked against its schemas
// in fixtures.test.ts).
import type { MeshStep } from '../../engine/mesh/meshStep';
import type { InferenceResult, RunStatus, RunSummary, StepEventData } from '../../engine/protocol';
import type { LayerMetrics, ValidationMetrics } from '../../engine/train/metrics';

export const RUN_ID = 'run-test_1';
export const LAYERS = ['encoder.block.1', 'decoder.block.1'];

export function status(state: RunStatus['state'] = 'running', step = 0, message?: string): RunStatus {
  return { id: RUN_ID, state, step, steps: 1000, backend: 'cpu', updatedAt: '2025-11-25T12:00:00.000Z', ...(message ? { message } : {}) };
}

export function summary(over: Partial<RunSummary> = {}): RunSummary {
  return { id: RUN_ID, preset: 'tiny', router: 'switch', numExperts: 4, status: status(), layers: LAYERS, active: true, ...over };
}

export function layer(name: string, routed: number[], capacity = 3): LayerMetrics {
  const assignments = routed.reduce((s, x) => s + x, 0);
  const kept = routed.map((r) => Math.min(r, capacity));
  const dropped = assignments - kept.reduce((s, x) => s + x, 0);
  return {
    layer: name,
    numExperts: routed.length,
    capacity,
    assignments,
    routed,
    kept,
    shares: routed.map((r) => (assignments ? r / assignments : 0)),
    dropped,
    overflowRate: assignments ? dropped / assignments : 0,
    routerEntropy: 1,
    normalizedEntropy: 1 / Math.log(routed.length),
    loadCv: 0.5,
    maxShare: Math.max(...routed) / assignments,
    unusedExperts: routed.filter((x) => x === 0).length,
    meanProb: routed.map(() => 1 / routed.length),
  };
}

export function step(n: number, over: Partial<StepEventData> = {}): StepEventData {
  return {
    type: 'step',
    step: n,
    time: 1_700_000_000_000 + n * 1000,
    tokens: 64,
    tokensPerSecond: 1000 + n,
    learningRate: 1e-3,
    loss: 10 - n * 0.01,
    crossEntropy: 9 - n * 0.01,
    auxLoss: 1 + n * 1e-4,
    zLoss: 0.1,
    gradNorm: 1,
    layers: [layer(LAYERS[0], [4, 2, 1, 1]), layer(LAYERS[1], [2, 2, 2, 2])],
    ...over,
  };
}

export function validation(n: number, ce = 8): ValidationMetrics {
  return { type: 'validation', step: n, time: 1_700_000_000_000 + n * 1000 + 1, loss: ce + 0.1, crossEntropy: ce };
}

export function mesh(utilization = 0.5): MeshStep {
  const devices = [0, 1].flatMap((d) =>
    [0, 1].map((j) => ({
      data: d,
      model: j,
      experts: [d * 2, d * 2 + 1],
      tokens: 3,
      slots: 6,
      utilization,
      idleFraction: 0.1,
      dropped: 1,
      sentBytes: 100,
      receivedBytes: 100,
      allReduceBytes: 10,
      computeTime: 1e-6,
      commTime: 2e-6,
    })),
  );
  return {
    shape: { data: 2, model: 2 },
    backward: true,
    layers: LAYERS.map((name, i) => ({ layer: name, numExperts: 4, capacity: 3, allToAllBytes: 1000 * (i + 1), computeTime: 1e-6, commTime: 3e-6, time: 4e-6, devices })),
    time: 8e-6,
    usefulFlops: 1e6,
    meshUtilization: 0.25,
  };
}

export function inference(): InferenceResult {
  const words = ['The', ' <extra_id_0>', ' walks', '\n', ''];
  let pos = 0;
  const tokens = words.map((text, i) => {
    const start = pos;
    pos += text.length;
    return { id: 10 + i, text, start, end: pos };
  });
  return {
    runId: RUN_ID,
    step: 100,
    tokens,
    layers: [
      {
        layer: 'encoder.block.1',
        numExperts: 4,
        capacity: 2,
        tokens: [
          { expert: 0, prob: 0.9, dropped: false, entropy: 0.2 },
          { expert: 1, prob: 0.6, dropped: false, entropy: 0.9 },
          { expert: 1, prob: 0.5, dropped: false, entropy: Math.log(4) },
          { expert: 1, prob: 0.4, dropped: true, entropy: 1.2 },
          { expert: 3, prob: 0.7, dropped: false, entropy: 0.5 },
        ],
      },
      {
        layer: 'encoder.block.3',
        numExperts: 4,
        capacity: 2,
        tokens: [
          { expert: 2, prob: 0.8, dropped: false, entropy: 0.3 },
          { expert: 2, prob: 0.8, dropped: false, entropy: 0.3 },
          { expert: 0, prob: 0.8, dropped: false, entropy: 0.3 },
          { expert: 2, prob: 0.8, dropped: true, entropy: 0.3 },
          { expert: 0, prob: 0.8, dropped: false, entropy: 0.3 },
        ],
      },
    ],
    fills: [{ sentinel: 0, text: 'man' }],
    output: '<extra_id_0> man',
  };
}
