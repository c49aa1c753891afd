// What the dashboard keeps in the webview state (vscode.setState) so that a reloaded panel draws
// at once: the run, its status and a compact, capped history in columns with rounded numbers.
// Validated on the way back in: the state may come from an older build.
import { z } from 'zod';
import { meshStepSchema } from '../../engine/mesh/meshStep';
import { runStatusSchema, runSummarySchema } from '../../engine/protocol';
import { RunHistory, type HistoryOptions, type LayerRow, type StepRow } from './history';

export const PERSIST_VERSION = 1;
/** Step rows kept in the state; a longer history is thinned evenly (the last row always kept). */
export const PERSIST_STEPS = 2_000;
/** Numbers kept in the state at most (~1 MB of JSON): fewer rows for runs with many layers and experts. */
export const PERSIST_NUMBERS = 150_000;

const num = z.number();
const col = z.array(num);
const optCol = z.array(num.nullable());

const layerColumnsSchema = z.object({
  overflowRate: optCol,
  normalizedEntropy: optCol,
  loadCv: optCol,
  shares: z.array(z.array(num).nullable()),
});

export const uiStateSchema = z.object({
  /** Selected sparse layer's name. */
  layer: z.string().nullable(),
  /** Charts whose data table is shown. */
  shownTables: z.array(z.string()),
});
export type UiState = z.infer<typeof uiStateSchema>;

export const persistedDashboardSchema = z.object({
  v: z.literal(PERSIST_VERSION),
  /** The run shown, at the top level for the extension's WebviewPanelSerializer (state.runId). */
  runId: z.string(),
  run: runSummarySchema,
  status: runStatusSchema.nullable(),
  totalSteps: z.number().int().min(0),
  layers: z.array(z.string()),
  /** null: a figure the record did not have (an external producer logs less). */
  steps: z.object({
    step: col,
    time: optCol,
    loss: optCol,
    crossEntropy: optCol,
    auxLoss: optCol,
    zLoss: optCol,
    tokensPerSecond: optCol,
    learningRate: optCol,
    layers: z.array(layerColumnsSchema),
  }),
  validation: z.object({
    step: col,
    time: optCol,
    loss: optCol,
    crossEntropy: optCol,
    /** Per validation, the record's per-layer figures (null where it had none); absent in older states. */
    nmi: z.array(z.record(z.string(), num).nullable()).optional(),
    routingChange: z.array(z.record(z.string(), num).nullable()).optional(),
  }),
  /** A trainer's gate figures by name: [step, value] pairs, thinned like the steps. */
  gate: z.record(z.string(), z.array(z.tuple([num, num]))).optional(),
  mesh: z.object({ step: z.number().int().min(0), data: meshStepSchema }).nullable(),
  ui: uiStateSchema,
});
export type PersistedDashboard = z.infer<typeof persistedDashboardSchema>;

/** `x` to `digits` significant digits (smaller JSON); non-finite values pass through. */
export function round(x: number, digits = 5): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}

function roundRecord(r: Record<string, number> | undefined): Record<string, number> | null {
  return r ? Object.fromEntries(Object.entries(r).map(([k, x]) => [k, round(x, 4)])) : null;
}

/** round(), with a figure not logged kept as null. */
function roundOpt(x: number | undefined, digits = 5): number | null {
  return x === undefined ? null : round(x, digits);
}

/** A persisted null back to a figure not logged. */
const opt = (x: number | null | undefined): number | undefined => x ?? undefined;

/** Indices of at most `max` of `n` items, evenly spread, always with the last. */
export function evenIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max <= 1) return n ? [n - 1] : [];
  const out: number[] = [];
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)));
  return out;
}

/** How many step rows fit the budget, given the numbers one row holds. */
export function rowsForBudget(h: RunHistory, maxSteps = PERSIST_STEPS, maxNumbers = PERSIST_NUMBERS): number {
  const experts = h.rows.length ? Math.max(0, ...h.rows[h.rows.length - 1].layers.map((l) => l?.shares.length ?? 0)) : 0;
  const perRow = 8 + h.layers.length * (3 + experts);
  return Math.max(1, Math.min(maxSteps, Math.floor(maxNumbers / perRow)));
}

export function persistDashboard(h: RunHistory, ui: UiState, maxSteps = PERSIST_STEPS, maxNumbers = PERSIST_NUMBERS): PersistedDashboard {
  const rows = evenIndices(h.rows.length, rowsForBudget(h, maxSteps, maxNumbers)).map((i) => h.rows[i]);
  const pick = (f: (r: StepRow) => number | undefined, digits = 5): (number | null)[] => rows.map((r) => roundOpt(f(r), digits));
  const layerCol = (i: number, f: (l: LayerRow) => number | undefined): (number | null)[] => rows.map((r) => roundOpt(r.layers[i] && f(r.layers[i]), 4));
  return {
    v: PERSIST_VERSION,
    runId: h.runId,
    run: h.run,
    status: h.status,
    totalSteps: h.totalSteps,
    layers: [...h.layers],
    steps: {
      step: rows.map((r) => r.step),
      time: rows.map((r) => r.time ?? null),
      loss: pick((r) => r.loss),
      crossEntropy: pick((r) => r.crossEntropy),
      auxLoss: pick((r) => r.auxLoss),
      zLoss: pick((r) => r.zLoss),
      tokensPerSecond: pick((r) => r.tokensPerSecond, 4),
      learningRate: pick((r) => r.learningRate, 4),
      layers: h.layers.map((_, i) => ({
        overflowRate: layerCol(i, (l) => l.overflowRate),
        normalizedEntropy: layerCol(i, (l) => l.normalizedEntropy),
        loadCv: layerCol(i, (l) => l.loadCv),
        shares: rows.map((r) => r.layers[i]?.shares.map((s) => round(s, 3)) ?? null),
      })),
    },
    validation: {
      step: h.validation.map((v) => v.step),
      time: h.validation.map((v) => v.time ?? null),
      loss: h.validation.map((v) => roundOpt(v.loss)),
      crossEntropy: h.validation.map((v) => roundOpt(v.crossEntropy)),
      nmi: h.validation.map((v) => roundRecord(v.nmi)),
      routingChange: h.validation.map((v) => roundRecord(v.routingChange)),
    },
    gate: Object.fromEntries(
      [...h.gate].map(([name, points]) => [name, evenIndices(points.length, maxSteps).map((i) => [points[i].x, round(points[i].y)] as [number, number])]),
    ),
    mesh: h.mesh,
    ui,
  };
}

export interface Restored {
  history: RunHistory;
  ui: UiState;
}

/** The history and UI state from a persisted state; null when there is none or it does not check. */
export function restoreDashboard(raw: unknown, options?: HistoryOptions): Restored | null {
  const r = persistedDashboardSchema.safeParse(raw);
  if (!r.success) return null;
  const p = r.data;
  const s = p.steps;
  const n = s.step.length;
  const columns = [s.time, s.loss, s.crossEntropy, s.auxLoss, s.zLoss, s.tokensPerSecond, s.learningRate];
  if (columns.some((c) => c.length !== n)) return null;
  const h = new RunHistory({ ...p.run, layers: p.layers }, options);
  for (let k = 0; k < n; k++) {
    const layers = s.layers.flatMap((lc, i) => {
      const shares = lc.shares[k];
      if (shares == null || i >= h.layers.length) return [];
      // routed: the shares stand in for the counts, which are not kept (only shares are drawn).
      return [{ layer: h.layers[i], numExperts: shares.length, routed: shares, shares, overflowRate: opt(lc.overflowRate[k]), normalizedEntropy: opt(lc.normalizedEntropy[k]), loadCv: opt(lc.loadCv[k]) }];
    });
    h.addStep({
      type: 'step',
      step: s.step[k],
      time: opt(s.time[k]),
      tokensPerSecond: opt(s.tokensPerSecond[k]),
      learningRate: opt(s.learningRate[k]),
      loss: opt(s.loss[k]),
      crossEntropy: opt(s.crossEntropy[k]),
      auxLoss: opt(s.auxLoss[k]),
      zLoss: opt(s.zLoss[k]),
      layers,
    });
  }
  const v = p.validation;
  for (let k = 0; k < v.step.length; k++) {
    const nmi = v.nmi?.[k];
    const change = v.routingChange?.[k];
    h.addValidation({
      type: 'validation',
      step: v.step[k],
      time: opt(v.time[k]),
      loss: opt(v.loss[k]),
      crossEntropy: opt(v.crossEntropy[k]),
      ...(nmi ? { nmi } : {}),
      ...(change ? { routingChange: change } : {}),
    });
  }
  for (const [name, points] of Object.entries(p.gate ?? {})) h.gate.set(name, points.map(([x, y]) => ({ x, y })));
  h.mesh = p.mesh;
  h.status = p.status;
  h.totalSteps = Math.max(p.totalSteps, h.rows.length);
  return { history: h, ui: p.ui };
}
