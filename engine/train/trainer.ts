// The training loop: one run, stepped without holding the event loop for more than a step, with
// pause, resume and stop, validation and checkpoints on schedule, and a metrics record per step
// appended to the run's metrics.jsonl. Given the same config, seed and backend it is deterministic,
// and a resume from a checkpoint replays exactly the steps an uninterrupted run would have taken.
import * as tf from '@tensorflow/tfjs-core';
import { EventEmitter } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BatchIterator, type Batch, type BatchCursor } from '../data/batches';
import { Tokenizer } from '../data/tokenizer';
import { toHfConfig } from '../model/config';
import { ForwardContext } from '../model/context';
import { SwitchTransformer } from '../model/model';
import type { LayerRouting } from '../model/stats';
import { Adam } from './adam';
import { loadCheckpoint, pruneCheckpoints, saveCheckpoint, type NamedTensor } from './checkpoint';
import { loadDataset, validationBatches, type Dataset } from './dataset';
import { AlertMonitor, DEFAULT_THRESHOLDS } from '../analysis/health';
import { TokenLabels } from '../analysis/tokenLabels';
import { validationRouting, type ValidationLayerPass } from '../analysis/validationRouting';
import type { RunStatus } from '../protocol';
import { layerMetrics, type StepMetrics, type ValidationMetrics } from './metrics';
import { microBatchSizeOf, withVocabSize, type CorpusSpec, type RunConfig } from './runConfig';
import { loadRunModel } from './runModel';
import { createRun, findRun, MetricsWriter, openRun, truncateMetricsAfter, type RunDir } from './runStore';
import { accumulateGradients, concat, mergeRouting, microBatchWeights, splitBatch } from './microBatches';
import { DataParallelGroup } from './dataParallel';
import { microBatchGradients, optimizerStep, type MicroBatchResult } from './replicaStep';
import { checkTrainingFits } from './memoryEstimate';
import type { BackendName } from '../backend';

export type RunState = RunStatus['state'];
export type { RunStatus };

export interface TrainerEvents {
  metrics: [StepMetrics];
  validation: [ValidationMetrics];
  state: [RunStatus];
  checkpoint: [{ step: number; path: string }];
  log: [string];
}

/** A loss that is NaN or infinite, with the first sparse layer whose router went bad, if any. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly layer: string | null,
  ) {
    super(`step ${step}: the loss is not finite (${layer ? `first bad router: ${layer}` : 'no router went bad; the cross-entropy did'})`);
  }
}

/**
 * A new run that starts from another one: that run's tokenizer, weights set by `initModel`, and for
 * distillation a teacher (which the trainer then owns and disposes).
 */
export interface RunStart {
  tokenizer: Tokenizer;
  initModel: (model: SwitchTransformer) => void;
  /** Written to the run's origin.json; a distilled run records its teacher's folder there. */
  origin: { kind: 'finetune' | 'distill'; from: string; step: number };
  teacher?: SwitchTransformer;
}

/** Checkpoints kept per run: the newest few are all a resume or an inspection needs. */
const KEEP_CHECKPOINTS = 3;

interface CheckpointState {
  step: number;
  cursor: BatchCursor;
}

export class Trainer extends EventEmitter<TrainerEvents> {
  private readonly adam = new Adam();
  private readonly batches: BatchIterator;
  private readonly validationBatches: Batch[];
  private readonly metricsWriter: MetricsWriter;
  private readonly alerts: AlertMonitor;
  /** Per sparse layer, each validation token's expert at the last validation (for routingChange). */
  private lastValidationRouting: Map<string, Int32Array> | null = null;
  /** What each validation token is (tag or token class), for NMI(expert; label). */
  private readonly tokenLabels: TokenLabels;
  private stepCount = 0;
  private lastCheckpoint = -1;
  private status: RunState = 'paused';
  private message: string | undefined;
  private wake: (() => void) | null = null;
  private stopRequested = false;
  /** Warnings from loading the run, sent as log events when training starts (listeners exist by then). */
  private readonly startupLogs: string[] = [];
  /** Distillation: the teacher whose distribution the soft loss follows. */
  private teacher: SwitchTransformer | null = null;
  /** Data parallelism: the replicas that run the micro-batches (null: this process runs them in turn). */
  private replicas: DataParallelGroup | null = null;

  private constructor(
    readonly run: RunDir,
    readonly config: RunConfig,
    readonly dataset: Dataset,
    readonly model: SwitchTransformer,
    readonly backend: string,
    resumeFrom?: CheckpointState,
  ) {
    super();
    const t = config.training;
    const vocab = dataset.tokenizer;
    this.batches = new BatchIterator(dataset.train, vocab, { batchSize: t.batchSize, inputLength: t.inputLength, seed: t.seed, sampling: t.sampling }, resumeFrom?.cursor);
    this.validationBatches = validationBatches(dataset, t);
    this.tokenLabels = new TokenLabels(vocab, dataset.tags);
    if (resumeFrom) {
      this.stepCount = resumeFrom.step;
      this.lastCheckpoint = resumeFrom.step;
    }
    this.metricsWriter = new MetricsWriter(run.metricsFile);
    this.alerts = new AlertMonitor({ ...DEFAULT_THRESHOLDS, ...t.alerts });
  }

  /** A new run: loads the corpus and trains the tokenizer before anything is written. */
  static async create(runsDir: string, config: RunConfig, backend: BackendName, start?: RunStart): Promise<Trainer> {
    checkTrainingFits(config, backend);
    const dataset = await loadDataset(config.corpus, config.training.vocabSize, start?.tokenizer);
    const full = withVocabSize({ ...config, corpus: storedCorpus(config.corpus) }, dataset.tokenizer.vocabSize);
    const run = createRun(runsDir, full.preset);
    try {
      run.writeJson('config.json', full);
      run.writeJson('hf_config.json', toHfConfig(full.model));
      run.writeJson('tokenizer.json', dataset.tokenizer.toJSON());
      run.writeJson('tags.json', dataset.tags);
      const trainer = new Trainer(run, full, dataset, new SwitchTransformer(full.model, full.training.seed), backend);
      if (start) {
        start.initModel(trainer.model);
        run.writeJson('origin.json', start.origin);
        trainer.teacher = start.teacher ?? null;
      }
      trainer.startupLogs.push(...dataset.warnings);
      await trainer.startReplicas(backend);
      return trainer;
    } catch (err) {
      // A half-made run would show in every listing: what creation wrote goes with it.
      rmSync(run.path, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * An existing run, from its latest complete checkpoint (or from the start if it has none).
   * `steps` moves the run's target, e.g. to train a finished run further.
   */
  static async open(runsDir: string, id: string, backend: string, steps?: number): Promise<Trainer> {
    const run = openRun(runsDir, id);
    const { config, tokenizer, model, checkpoint: ckpt } = loadRunModel(run, loadCheckpoint);
    if (!(tokenizer instanceof Tokenizer)) {
      model.dispose();
      throw new Error(`run ${id} is a model imported from ${config.imported?.source}: it runs inference only`);
    }
    const dataset = await loadDataset(config.corpus, config.training.vocabSize, tokenizer);
    if (steps !== undefined && steps !== config.training.steps) {
      config.training.steps = steps;
      run.writeJson('config.json', config);
    }
    const state = ckpt ? (ckpt.state as CheckpointState) : undefined;
    const { warnings } = truncateMetricsAfter(run.metricsFile, state?.step ?? 0);
    const trainer = new Trainer(run, config, dataset, model, backend, state);
    if (ckpt) trainer.adam.importState(ckpt.optimizer, model.params.vars);
    const origin = existsSync(join(run.path, 'origin.json')) ? (run.readJson('origin.json') as RunStart['origin']) : null;
    if (origin?.kind === 'distill') trainer.teacher = loadRunModel(findRun(runsDir, origin.from)).model;
    trainer.startupLogs.push(...dataset.warnings, ...warnings);
    try {
      await trainer.startReplicas(backend);
    } catch (err) {
      trainer.dispose();
      throw err;
    }
    return trainer;
  }

  /**
   * With training.dataParallel 2, replicas in worker threads run the step's micro-batches side by
   * side. Distillation (the teacher) and the native backend run them here in turn: same micro-batches,
   * same result, one core.
   */
  private async startReplicas(backend: string): Promise<void> {
    const replicas = this.config.training.dataParallel ?? 1;
    if (replicas === 1) return;
    if (this.teacher || (backend !== 'wasm' && backend !== 'cpu')) {
      this.startupLogs.push(`training.dataParallel ${replicas}: ${this.teacher ? 'distillation' : `the ${backend} backend`} runs the ${replicas} micro-batches in turn in one process`);
      return;
    }
    this.replicas = await DataParallelGroup.start(this.config, backend, this.model, this.adam.exportState(), replicas);
  }

  /** Replicas of the model training side by side (1: this process alone). */
  get dataParallel(): number {
    return this.replicas?.size ?? 1;
  }

  /** Each data-parallel replica's weightsHash (none without replicas): all equal to the engine's own. */
  replicaHashes(): string[] {
    return this.replicas?.hashes() ?? [];
  }

  get step(): number {
    return this.stepCount;
  }

  get state(): RunState {
    return this.status;
  }

  runStatus(): RunStatus {
    return {
      id: this.run.id,
      state: this.status,
      step: this.stepCount,
      steps: this.config.training.steps,
      ...(this.message ? { message: this.message } : {}),
      backend: this.backend,
      ...(this.replicas ? { dataParallel: this.replicas.size } : {}),
      updatedAt: new Date().toISOString(),
    };
  }

  /** Trains until the configured number of steps or a stop; resolves with the final state. */
  async train(): Promise<RunState> {
    const t = this.config.training;
    for (const line of this.startupLogs.splice(0)) this.emit('log', line);
    this.setState('running');
    // A fresh run's first validation is the untrained baseline that later ones are read against.
    if (this.stepCount === 0) this.emit('validation', this.validate());
    while (this.stepCount < t.steps && !this.stopRequested) {
      if (this.status === 'paused') {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      try {
        this.emit('metrics', this.trainStep());
      } catch (err) {
        if (!(err instanceof NonFiniteLossError)) throw err;
        this.setState('paused', err.message);
        continue;
      }
      if (this.stepCount % t.validateEvery === 0 || this.stepCount === t.steps) this.emit('validation', this.validate());
      if (this.stepCount % t.checkpointEvery === 0) this.checkpoint();
      // Let the event loop answer (a server's requests, a signal) between steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.lastCheckpoint !== this.stepCount) this.checkpoint();
    this.setState(this.stopRequested ? 'stopped' : 'completed');
    this.metricsWriter.close();
    return this.status;
  }

  pause(): void {
    if (this.status === 'running') this.setState('paused');
  }

  resume(): void {
    if (this.status !== 'paused') return;
    this.setState('running');
    this.wake?.();
  }

  /** Stops after the current step, with a final checkpoint. */
  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  /** One optimizer step on the next batch. Throws NonFiniteLossError (and changes nothing) on NaN/Inf. */
  trainStep(): StepMetrics {
    const t = this.config.training;
    const step = this.stepCount + 1;
    const batch = this.batches.next() as Batch; // a cycling iterator never ends
    const start = performance.now();
    const microBatches = splitBatch(batch, microBatchSizeOf(t));
    const weights = microBatchWeights(microBatches);
    let grads = new Map<string, tf.Tensor>();
    try {
      const parts = this.replicas ? this.replicas.gradients(step, microBatches, weights) : this.microBatchesHere(microBatches, weights, step, grads);
      const routing = mergeRouting(parts.map((p) => p.routing));
      let [loss, ce, aux, z] = [0, 0, 0, 0];
      for (const [i, p] of parts.entries()) [loss, ce, aux, z] = [loss + p.loss, ce + weights[i] * p.ce, aux + weights[i] * p.aux, z + weights[i] * p.z];
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(step, firstBadLayer(routing));
      if (this.replicas) {
        // The replicas take the step while this copy of the model takes it too.
        this.replicas.apply(step);
        grads = this.replicas.slots.sum();
      }
      const { gradNorm, lr } = optimizerStep(this.model.params.vars, this.adam, grads, t, step);
      if (!Number.isFinite(gradNorm)) throw new NonFiniteLossError(step, firstBadLayer(routing));
      this.stepCount = step;
      const seconds = (performance.now() - start) / 1000;
      const tokens = sum(batch.encoderMask) + sum(batch.decoderMask);
      const record: StepMetrics = {
        type: 'step',
        step,
        time: Date.now(),
        tokens,
        tokensPerSecond: tokens / seconds,
        learningRate: lr,
        loss,
        crossEntropy: ce,
        auxLoss: aux,
        zLoss: z,
        gradNorm,
        layers: routing.map(layerMetrics),
      };
      const { raised } = this.alerts.observe(record);
      if (this.alerts.current.length) record.alerts = this.alerts.current;
      for (const a of raised) this.emit('log', `step ${step}: alert: ${a.message}`);
      this.metricsWriter.append(record);
      return record;
    } finally {
      tf.dispose([...grads.values()]);
    }
  }

  /** Forward and backward of the micro-batches in turn, in this process, their gradients summed into `grads`. */
  private microBatchesHere(microBatches: Batch[], weights: number[], step: number, grads: Map<string, tf.Tensor>): MicroBatchResult[] {
    return microBatches.map((micro, i) => {
      const part = microBatchGradients(this.model, micro, ForwardContext.forMicroBatch(this.config.training.seed, step, i), weights[i], this.teacher);
      accumulateGradients(grads, part.grads);
      return part;
    });
  }

  /** Mean loss over the fixed validation batches, in eval mode (no dropout, eval capacity), and their routing's NMI and change. */
  validate(): ValidationMetrics {
    let loss = 0;
    let ce = 0;
    const parts = new Map<string, { numExperts: number; expert: Int32Array[]; label: Int32Array[] }>();
    for (const [i, batch] of this.validationBatches.entries()) {
      tf.tidy(() => {
        const out = this.model.loss(batch, ForwardContext.forStep(this.config.training.seed, i, false));
        loss += out.loss.dataSync()[0];
        ce += out.crossEntropy.dataSync()[0];
        for (const r of out.routing) {
          const p = parts.get(r.layer) ?? { numExperts: r.numExperts, expert: [], label: [] };
          parts.set(r.layer, p);
          p.expert.push(r.tokens.expert);
          p.label.push(this.tokenLabels.ofBatch(r.layer, batch));
        }
      });
    }
    const n = Math.max(this.validationBatches.length, 1);
    const record: ValidationMetrics = { type: 'validation', step: this.stepCount, time: Date.now(), loss: loss / n, crossEntropy: ce / n };
    const passes = [...parts].map(([layer, p]): ValidationLayerPass => ({
      layer,
      numExperts: p.numExperts,
      numLabels: this.tokenLabels.names(layer).length,
      expert: concat(Int32Array, p.expert),
      label: concat(Int32Array, p.label),
    }));
    Object.assign(record, validationRouting(passes, this.lastValidationRouting));
    this.lastValidationRouting = new Map(passes.map((p) => [p.layer, p.expert]));
    this.metricsWriter.append(record);
    return record;
  }

  checkpoint(): string {
    const weights = new Map<string, NamedTensor>();
    for (const [name, v] of this.model.params.vars) weights.set(name, { shape: v.shape, values: v.dataSync() as Float32Array });
    const state: CheckpointState = { step: this.stepCount, cursor: this.batches.cursor() };
    const path = saveCheckpoint(this.run.checkpoints, { step: this.stepCount, weights, optimizer: this.adam.exportState(), state });
    this.lastCheckpoint = this.stepCount;
    pruneCheckpoints(this.run.checkpoints, KEEP_CHECKPOINTS);
    this.emit('checkpoint', { step: this.stepCount, path });
    return path;
  }

  dispose(): void {
    this.replicas?.dispose();
    this.adam.dispose();
    this.model.dispose();
    this.teacher?.dispose();
  }

  private setState(state: RunState, message?: string): void {
    this.status = state;
    this.message = message;
    const status = this.runStatus();
    this.run.writeJson('status.json', status);
    this.emit('state', status);
  }
}

/**
 * The corpus as the run stores it: a relative file or folder path made absolute, so that a resume
 * from another working folder reads the same files. A glob is kept as given.
 */
export function storedCorpus(corpus: CorpusSpec): CorpusSpec {
  if (corpus.kind !== 'files') return corpus;
  const path = resolve(corpus.spec);
  return existsSync(path) ? { kind: 'files', spec: path } : corpus;
}

function firstBadLayer(routing: LayerRouting[]): string | null {
  const bad = routing.find((r) => !Number.isFinite(r.routerEntropy) || r.meanProb.some((p) => !Number.isFinite(p)));
  return bad ? bad.layer : null;
}

function sum(xs: Float32Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
