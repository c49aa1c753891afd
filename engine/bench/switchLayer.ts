// Timings of one Switch feed-forward layer, set up as the PyTorch peer does
// (../shared/peers/torch_switch_bench.py): T tokens in one group, dFf = 4 * dModel, capacity factor
// 1.25, objective = MSE to a fixed random target + 0.01 * load-balancing loss, Adam at lr 1e-3.
import * as tf from '@tensorflow/tfjs-core';
import { PRESETS, type SwitchConfig } from '../model/config';
import { ForwardContext } from '../model/context';
import { DenseActDense } from '../model/denseMlp';
import { dispatchOneHot } from '../model/dispatch';
import { loadBalancingLoss } from '../model/losses';
import { ParamStore } from '../model/params';
import { SparseMlp } from '../model/sparseMlp';
import { Adam, namedGradients } from '../train/adam';

export type Impl = 'switch' | 'switch-onehot' | 'dense';

export interface LayerSize {
  tokens: number;
  dModel: number;
  numExperts: number;
}

export interface PhaseTimes {
  /** Median ms of forward + backward. */
  fwdBwd: number;
  /** Median ms of the Adam update. */
  adam: number;
  /** Median ms of the whole step. */
  step: number;
  /** Matmul FLOPs of one forward + backward (backward = 2x forward). */
  flops: number;
  droppedFraction: number;
}

function layerConfig(size: LayerSize): SwitchConfig {
  return {
    ...PRESETS.tiny,
    dModel: size.dModel,
    dFf: 4 * size.dModel,
    numExperts: size.numExperts,
    capacityFactor: 1.25,
    routerJitterNoise: 0,
    dropoutRate: 0,
    expertDropoutRate: 0,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One layer under training, set up once, stepped on demand. */
class LayerUnderTest {
  private readonly params: ParamStore;
  private readonly sparse: SparseMlp | null;
  private readonly dense: DenseActDense | null;
  private readonly x: tf.Tensor2D;
  private readonly target: tf.Tensor;
  private readonly adam = new Adam();
  private kept = 0;
  readonly fwdBwd: number[] = [];
  readonly adamTimes: number[] = [];
  readonly steps: number[] = [];

  constructor(
    readonly impl: Impl,
    private readonly size: LayerSize,
    private readonly config: SwitchConfig,
  ) {
    const { tokens: t, dModel: d } = size;
    this.params = new ParamStore(0, config.initScale);
    this.sparse = impl === 'dense' ? null : new SparseMlp(config, this.params, 'layer');
    this.dense = impl === 'dense' ? new DenseActDense(this.params, 'layer.mlp', d, config.dFf, 0) : null;
    this.x = tf.randomNormal([t, d], 0, 1, 'float32', 1) as tf.Tensor2D;
    this.target = tf.randomNormal([t, d], 0, 1, 'float32', 2);
  }

  /** One step: forward + backward, then Adam; timed when `record`. */
  step(record: boolean): void {
    const t0 = performance.now();
    const { value, grads } = namedGradients(this.params.vars, () => this.objective());
    value.dataSync(); // wait for the backend: the wasm backend is synchronous, the native one is not
    const t1 = performance.now();
    this.adam.apply(this.params.vars, grads, 1e-3);
    this.params.vars.values().next().value?.dataSync();
    const t2 = performance.now();
    tf.dispose([value, ...grads.values()]);
    if (!record) return;
    this.fwdBwd.push(t1 - t0);
    this.adamTimes.push(t2 - t1);
    this.steps.push(t2 - t0);
  }

  result(): PhaseTimes {
    const { tokens: t, dModel: d, numExperts } = this.size;
    const ff = this.config.dFf;
    const forwardFlops = this.dense ? 4 * t * d * ff : 2 * t * d * numExperts + 4 * this.kept * d * ff;
    return { fwdBwd: median(this.fwdBwd), adam: median(this.adamTimes), step: median(this.steps), flops: 3 * forwardFlops, droppedFraction: this.dense ? 0 : 1 - this.kept / t };
  }

  dispose(): void {
    tf.dispose([this.x, this.target]);
    this.adam.dispose();
    this.params.dispose();
  }

  private objective(): tf.Scalar {
    const ctx = new ForwardContext(true, 0);
    const { x, target } = this;
    if (this.dense) return tf.losses.meanSquaredError(target, this.dense.forward(x, ctx));
    const layer = this.sparse as SparseMlp;
    if (this.impl === 'switch') {
      const out = layer.forward(x, null, ctx);
      this.kept = out.routing.kept.reduce((a, b) => a + b, 0);
      const balance = loadBalancingLoss(out.router.probs, out.router.plan, null);
      return tf.add(tf.losses.meanSquaredError(target, out.y), tf.mul(0.01, balance)) as tf.Scalar;
    }
    const r = layer.router.route(x, null, ctx);
    this.kept = r.plan.dispatchIdx.length;
    const wi = layer.experts.map((e) => e.wi as tf.Tensor2D);
    const wo = layer.experts.map((e) => e.wo as tf.Tensor2D);
    const y = dispatchOneHot(x, r.plan, r.gates, wi, wo);
    return tf.add(tf.losses.meanSquaredError(target, y), tf.mul(0.01, loadBalancingLoss(r.probs, r.plan, null))) as tf.Scalar;
  }
}

/**
 * Times the implementations side by side: their steps alternate (switch, dense, one-hot, switch,
 * ...), so that a load that comes and goes on this shared machine slows them alike and their ratios
 * hold. `iters` gives each one's timed steps, after `warmup` untimed ones.
 */
export function timeLayers(size: LayerSize, iters: Record<Impl, number>, warmup = 2): Record<Impl, PhaseTimes> {
  const config = layerConfig(size);
  const impls = Object.keys(iters) as Impl[];
  const layers = impls.map((impl) => new LayerUnderTest(impl, size, config));
  const rounds = warmup + Math.max(...impls.map((i) => iters[i]));
  for (let round = 0; round < rounds; round++) {
    for (const l of layers) if (round < warmup + iters[l.impl]) l.step(round >= warmup);
  }
  const out = Object.fromEntries(layers.map((l) => [l.impl, l.result()])) as Record<Impl, PhaseTimes>;
  layers.forEach((l) => l.dispose());
  return out;
}

/** The backend's own 2-D matmul throughput, FLOP/s: the ceiling for the layers above. */
export function matmulFlops(m: number, k: number, n: number, iters = 10): number {
  const a = tf.randomNormal([m, k]) as tf.Tensor2D;
  const b = tf.randomNormal([k, n]) as tf.Tensor2D;
  const times: number[] = [];
  for (let i = 0; i < iters + 2; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    if (i >= 2) times.push(performance.now() - t0);
    c.dispose();
  }
  tf.dispose([a, b]);
  return (2 * m * k * n) / (median(times) / 1e3);
}
