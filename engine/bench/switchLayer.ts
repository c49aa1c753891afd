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

/** Times `iters` training steps of one layer after `warmup` untimed ones. */
export function timeLayer(impl: Impl, size: LayerSize, warmup: number, iters: number): PhaseTimes {
  const config = layerConfig(size);
  const { tokens: t, dModel: d } = size;
  const params = new ParamStore(0, config.initScale);
  const sparse = impl === 'dense' ? null : new SparseMlp(config, params, 'layer');
  const dense = impl === 'dense' ? new DenseActDense(params, 'layer.mlp', d, config.dFf, 0) : null;
  const x = tf.randomNormal([t, d], 0, 1, 'float32', 1) as tf.Tensor2D;
  const target = tf.randomNormal([t, d], 0, 1, 'float32', 2);
  const adam = new Adam();
  const fwdBwd: number[] = [];
  const adamTimes: number[] = [];
  const steps: number[] = [];
  let kept = 0;

  const objective = (): tf.Scalar => {
    const ctx = new ForwardContext(true, 0);
    if (dense) return tf.losses.meanSquaredError(target, dense.forward(x, ctx));
    const layer = sparse as SparseMlp;
    if (impl === 'switch') {
      const out = layer.forward(x, null, ctx);
      kept = out.routing.keptPerExpert.reduce((a, b) => a + b, 0);
      return tf.add(tf.losses.meanSquaredError(target, out.y), tf.mul(0.01, out.auxLoss)) as tf.Scalar;
    }
    const r = layer.router.route(x, null, ctx);
    kept = r.plan.dispatchIdx.length;
    const wi = layer.experts.map((e) => e.wi as tf.Tensor2D);
    const wo = layer.experts.map((e) => e.wo as tf.Tensor2D);
    const y = dispatchOneHot(x, r.plan, r.gates, wi, wo);
    return tf.add(tf.losses.meanSquaredError(target, y), tf.mul(0.01, loadBalancingLoss(r.probs, r.plan, null))) as tf.Scalar;
  };

  for (let i = 0; i < warmup + iters; i++) {
    const t0 = performance.now();
    const { value, grads } = namedGradients(params.vars, objective);
    value.dataSync(); // wait for the backend: the wasm backend is synchronous, the native one is not
    const t1 = performance.now();
    adam.apply(params.vars, grads, 1e-3);
    params.vars.values().next().value?.dataSync();
    const t2 = performance.now();
    tf.dispose([value, ...grads.values()]);
    if (i >= warmup) {
      fwdBwd.push(t1 - t0);
      adamTimes.push(t2 - t1);
      steps.push(t2 - t0);
    }
  }
  const ff = config.dFf;
  const forwardFlops = dense ? 4 * t * d * ff : 2 * t * d * size.numExperts + 4 * kept * d * ff;
  tf.dispose([x, target]);
  adam.dispose();
  params.dispose();
  return { fwdBwd: median(fwdBwd), adam: median(adamTimes), step: median(steps), flops: 3 * forwardFlops, droppedFraction: dense ? 0 : 1 - kept / t };
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
