// Everything the dashboard knows about one run: a row per step record, the per-series point arrays
// the charts draw (appended in place, so a live step costs O(layers)), validation records and the
// latest mesh. DOM-free; the view reads it and redraws what `addStep` & co. report as changed.
// A record from another producer may lack any figure but the routed counts: a row keeps the hole
// and a series gets no point, so a chart never draws a value nobody logged.
import type { MeshStep } from '../../engine/mesh/meshStep';
import type { RunStatus, RunSummary, StepEventData, ValidationEventData } from '../../engine/protocol';
import { routedLoad } from '../../engine/train/metrics';
import type { LayerRecord } from '../../engine/train/runFormat';

/** A chart point in chart.js's internal format (parsing: false): x = step. */
export interface Point {
  x: number;
  y: number;
}

/** A figure the record did not have is absent. */
export interface LayerRow {
  overflowRate?: number;
  normalizedEntropy?: number;
  loadCv?: number;
  /** [E] routed / assignments. */
  shares: number[];
}

export interface StepRow {
  step: number;
  time?: number;
  loss?: number;
  crossEntropy?: number;
  auxLoss?: number;
  zLoss?: number;
  tokensPerSecond?: number;
  learningRate?: number;
  /** Indexed like RunHistory.layers; a hole where a record lacks that layer. */
  layers: (LayerRow | undefined)[];
}

export interface ValidationRow {
  step: number;
  time?: number;
  loss?: number;
  crossEntropy?: number;
  /** Per sparse layer (the record's optional fields): NMI(expert; label), share of tokens that changed expert. */
  nmi?: Record<string, number>;
  routingChange?: Record<string, number>;
}

export type ChartKind = 'loss' | 'overflow' | 'entropy' | 'loadcv' | 'throughput' | 'heatmap' | 'mesh' | 'comm' | 'gate';
export const CHART_KINDS: readonly ChartKind[] = ['loss', 'overflow', 'entropy', 'loadcv', 'throughput', 'heatmap', 'mesh', 'comm', 'gate'];

/** Step rows kept in memory before the older ones are thinned. */
export const DEFAULT_CAP = 20_000;

/**
 * Halves the resolution of all but the last `keepRecent` items (keeps every other one, starting
 * with the first), so a long run keeps its whole span at a resolution that falls with age.
 */
export function thinOlder<T>(items: readonly T[], keepRecent: number): T[] {
  const cut = Math.max(0, items.length - Math.max(0, keepRecent));
  const out: T[] = [];
  for (let i = 0; i < cut; i += 2) out.push(items[i]);
  for (let i = cut; i < items.length; i++) out.push(items[i]);
  return out;
}

/** Index of the first item whose key is >= `value`, in items sorted by key (binary search). */
export function lowerBound<T>(items: readonly T[], value: number, key: (item: T) => number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(items[mid]) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const px = (p: Point): number => p.x;

/** One sparse layer's record, reduced to what the dashboard draws. */
export function layerRow(l: LayerRecord): LayerRow {
  return { overflowRate: l.overflowRate, normalizedEntropy: l.normalizedEntropy, loadCv: l.loadCv, shares: l.shares ?? routedLoad(l.routed).shares };
}

/** Appends (x, y) when y was logged. */
function pushPoint(series: Point[], x: number, y: number | undefined): void {
  if (y !== undefined) series.push({ x, y });
}

export interface HistoryOptions {
  /** Step rows kept before thinning (default DEFAULT_CAP). */
  cap?: number;
}

export class RunHistory {
  status: RunStatus | null = null;
  /** Step records the run has had: those its (possibly thinned) history was made from, plus live ones. */
  totalSteps = 0;
  /** Sparse layers by index: the run's list, then any other a record names. */
  readonly layers: string[];
  rows: StepRow[] = [];
  validation: ValidationRow[] = [];
  trainCrossEntropy: Point[] = [];
  /** The total loss: drawn for a run that logs no cross-entropy (a PyTorch probe's). */
  trainLoss: Point[] = [];
  auxLoss: Point[] = [];
  zLoss: Point[] = [];
  throughput: Point[] = [];
  valCrossEntropy: Point[] = [];
  /** Per layer, like `layers`. */
  overflow: Point[][] = [];
  entropy: Point[][] = [];
  loadCv: Point[][] = [];
  /** A trainer's scalar gate figures (a record's gateMetrics: fairseq's), by its names. */
  gate = new Map<string, Point[]>();
  mesh: { step: number; data: MeshStep } | null = null;
  readonly cap: number;

  constructor(
    readonly run: RunSummary,
    options: HistoryOptions = {},
  ) {
    this.cap = Math.max(16, options.cap ?? DEFAULT_CAP);
    this.layers = [];
    for (const name of run.layers) this.layerIndex(name);
    if (run.status) this.status = { ...run.status };
  }

  /** A history from an `init` message. */
  static fromInit(run: RunSummary, history: readonly (StepEventData | ValidationEventData)[], totalSteps: number, options?: HistoryOptions): RunHistory {
    const h = new RunHistory(run, options);
    for (const r of history) {
      if (r.type === 'step') h.addStep(r);
      else h.addValidation(r);
    }
    h.totalSteps = Math.max(totalSteps, h.rows.length);
    return h;
  }

  get runId(): string {
    return this.run.id;
  }

  get lastStep(): number | null {
    return this.rows.length ? this.rows[this.rows.length - 1].step : null;
  }

  /** The index of layer `name`, adding it (with empty series) when new. */
  layerIndex(name: string): number {
    let i = this.layers.indexOf(name);
    if (i < 0) {
      i = this.layers.push(name) - 1;
      this.overflow.push([]);
      this.entropy.push([]);
      this.loadCv.push([]);
    }
    return i;
  }

  /** Adds a step record; one at or before the last step (a run resumed from a checkpoint) first drops the records from its step on. */
  addStep(d: StepEventData): Set<ChartKind> {
    const changed = new Set<ChartKind>(['loss', 'overflow', 'entropy', 'loadcv', 'throughput', 'heatmap', ...(d.gateMetrics ? (['gate'] as const) : [])]);
    const last = this.lastStep;
    if (last !== null && d.step <= last) {
      const before = this.rows.length;
      this.truncateFrom(d.step);
      this.totalSteps = Math.max(this.rows.length, this.totalSteps - (before - this.rows.length));
      changed.add('mesh').add('comm');
    }
    const layers: (LayerRow | undefined)[] = [];
    for (const l of d.layers) layers[this.layerIndex(l.layer)] = layerRow(l);
    this.rows.push({
      step: d.step,
      time: d.time,
      loss: d.loss,
      crossEntropy: d.crossEntropy,
      auxLoss: d.auxLoss,
      zLoss: d.zLoss,
      tokensPerSecond: d.tokensPerSecond,
      learningRate: d.learningRate,
      layers,
    });
    const x = d.step;
    pushPoint(this.trainCrossEntropy, x, d.crossEntropy);
    pushPoint(this.trainLoss, x, d.loss);
    pushPoint(this.auxLoss, x, d.auxLoss);
    pushPoint(this.zLoss, x, d.zLoss);
    pushPoint(this.throughput, x, d.tokensPerSecond);
    layers.forEach((l, i) => {
      if (!l) return;
      pushPoint(this.overflow[i], x, l.overflowRate);
      pushPoint(this.entropy[i], x, l.normalizedEntropy);
      pushPoint(this.loadCv[i], x, l.loadCv);
    });
    for (const [name, y] of Object.entries(d.gateMetrics ?? {})) {
      const series = this.gate.get(name) ?? this.gate.set(name, []).get(name)!;
      series.push({ x, y });
    }
    if (d.mesh) {
      this.mesh = { step: d.step, data: d.mesh };
      changed.add('mesh').add('comm');
    }
    if (this.status && d.step > this.status.step) this.status = { ...this.status, step: d.step };
    this.totalSteps++;
    if (this.rows.length > this.cap) this.thin();
    return changed;
  }

  addValidation(v: ValidationEventData): Set<ChartKind> {
    const last = this.validation[this.validation.length - 1];
    if (last && v.step <= last.step) this.truncateValidation(v.step);
    this.validation.push({
      step: v.step,
      time: v.time,
      loss: v.loss,
      crossEntropy: v.crossEntropy,
      ...(v.nmi ? { nmi: v.nmi } : {}),
      ...(v.routingChange ? { routingChange: v.routingChange } : {}),
    });
    pushPoint(this.valCrossEntropy, v.step, v.crossEntropy);
    if (this.validation.length > this.cap) {
      const keep = Math.floor(this.cap / 4);
      this.validation = thinOlder(this.validation, keep);
      this.valCrossEntropy = thinOlder(this.valCrossEntropy, keep);
    }
    return new Set<ChartKind>(['loss']);
  }

  setStatus(s: RunStatus): void {
    this.status = { ...s };
  }

  /** Drops the step records (and validations) at or after `step`. */
  private truncateFrom(step: number): void {
    this.rows.length = lowerBound(this.rows, step, (r) => r.step);
    for (const s of this.allStepSeries()) s.length = lowerBound(s, step, px);
    if (this.mesh && this.mesh.step >= step) this.mesh = null;
    this.truncateValidation(step);
  }

  private truncateValidation(step: number): void {
    this.validation.length = lowerBound(this.validation, step, (r) => r.step);
    this.valCrossEntropy.length = lowerBound(this.valCrossEntropy, step, px);
  }

  private allStepSeries(): Point[][] {
    return [this.trainCrossEntropy, this.trainLoss, this.auxLoss, this.zLoss, this.throughput, ...this.overflow, ...this.entropy, ...this.loadCv, ...this.gate.values()];
  }

  private thin(): void {
    const keep = Math.floor(this.cap / 4);
    this.rows = thinOlder(this.rows, keep);
    this.trainCrossEntropy = thinOlder(this.trainCrossEntropy, keep);
    this.trainLoss = thinOlder(this.trainLoss, keep);
    this.auxLoss = thinOlder(this.auxLoss, keep);
    this.zLoss = thinOlder(this.zLoss, keep);
    this.throughput = thinOlder(this.throughput, keep);
    this.overflow = this.overflow.map((s) => thinOlder(s, keep));
    this.entropy = this.entropy.map((s) => thinOlder(s, keep));
    this.loadCv = this.loadCv.map((s) => thinOlder(s, keep));
    for (const [name, s] of this.gate) this.gate.set(name, thinOlder(s, keep));
  }
}
