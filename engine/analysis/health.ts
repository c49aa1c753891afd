// Router health per layer and step, and alerts that fire while a router goes wrong and clear when it
// recovers: expert collapse (one expert's share over k × its fair share for N steps), dead experts (no
// token for N steps), overflow over x%, and a z-loss blowing up (over k × its early level).
import { z } from 'zod';
import type { Alert } from '../train/metrics';

/** (max − mean) / mean tokens per expert (Wang et al. 2024's MaxVio); 0 is perfectly balanced. */
export function maxVio(routed: readonly number[]): number {
  const mean = routed.reduce((s, x) => s + x, 0) / routed.length;
  return mean > 0 ? (Math.max(...routed) - mean) / mean : 0;
}

/** Share of the experts that took at least one token. */
export function activeFraction(routed: readonly number[]): number {
  return routed.length ? routed.filter((x) => x > 0).length / routed.length : 0;
}

export const alertThresholdsSchema = z
  .object({
    /** Collapse: an expert's share above this many times the fair share 1/E ... */
    collapseFactor: z.number().positive(),
    /** ... for this many steps in a row. */
    collapseSteps: z.number().int().positive(),
    /** Dead: an expert with no token for this many steps in a row. */
    deadSteps: z.number().int().positive(),
    /** Overflow: a layer's overflow rate above this (0..1). */
    overflowRate: z.number().min(0).max(1),
    /** z-loss: above this many times its mean over the first `zLossBaselineSteps` steps. */
    zLossFactor: z.number().positive(),
    zLossBaselineSteps: z.number().int().positive(),
  })
  .strict();
export type AlertThresholds = z.infer<typeof alertThresholdsSchema>;

export const DEFAULT_THRESHOLDS: AlertThresholds = { collapseFactor: 4, collapseSteps: 20, deadSteps: 50, overflowRate: 0.2, zLossFactor: 10, zLossBaselineSteps: 20 };

export type { Alert };

/** What a step's record gives the monitor: per layer its routed counts and overflow rate, and the z-loss; a producer that did not log the last two gets no alert on them. */
export interface HealthInput {
  step: number;
  zLoss?: number;
  layers: readonly { layer: string; routed: readonly number[]; overflowRate?: number }[];
}

const keyOf = (a: Pick<Alert, 'kind' | 'layer' | 'expert'>) => `${a.kind}/${a.layer ?? ''}/${a.expert ?? ''}`;

export class AlertMonitor {
  private readonly active = new Map<string, Alert>();
  /** Steps in a row each (kind, layer, expert) condition has held. */
  private readonly streaks = new Map<string, number>();
  private readonly zLossSeen: number[] = [];

  constructor(private readonly t: AlertThresholds = DEFAULT_THRESHOLDS) {}

  /** Feeds one step; returns the alerts that fired and those that cleared at it. */
  observe(s: HealthInput): { raised: Alert[]; cleared: Alert[] } {
    const held = new Set<string>(); // conditions true at this step
    const firing = new Map<string, Omit<Alert, 'step'>>(); // ... and true for long enough
    const hold = (a: Omit<Alert, 'step'>, forSteps: number) => {
      const key = keyOf(a);
      const n = (this.streaks.get(key) ?? 0) + 1;
      this.streaks.set(key, n);
      held.add(key);
      if (n >= forSteps) firing.set(key, a);
    };
    for (const l of s.layers) {
      const total = l.routed.reduce((x, y) => x + y, 0);
      const fair = 1 / l.routed.length;
      l.routed.forEach((r, expert) => {
        const share = total ? r / total : 0;
        if (total && share > this.t.collapseFactor * fair) {
          hold({ kind: 'collapse', layer: l.layer, expert, message: `${l.layer}: expert ${expert} takes ${(100 * share).toFixed(0)}% of the tokens (fair share ${(100 * fair).toFixed(0)}%)` }, this.t.collapseSteps);
        }
        if (r === 0) hold({ kind: 'deadExpert', layer: l.layer, expert, message: `${l.layer}: expert ${expert} has had no token for ${this.t.deadSteps} steps` }, this.t.deadSteps);
      });
      if (l.overflowRate !== undefined && l.overflowRate > this.t.overflowRate) {
        hold({ kind: 'overflow', layer: l.layer, message: `${l.layer}: ${(100 * l.overflowRate).toFixed(0)}% of the tokens overflow their expert's capacity` }, 1);
      }
    }
    if (s.zLoss !== undefined) this.observeZLoss(s.zLoss, hold);
    for (const key of [...this.streaks.keys()]) if (!held.has(key)) this.streaks.delete(key);
    const raised: Alert[] = [];
    for (const [key, a] of firing) {
      if (this.active.has(key)) continue;
      const alert = { ...a, step: s.step };
      this.active.set(key, alert);
      raised.push(alert);
    }
    const cleared = [...this.active.entries()].filter(([key]) => !firing.has(key));
    for (const [key] of cleared) this.active.delete(key);
    return { raised, cleared: cleared.map(([, a]) => a) };
  }

  private observeZLoss(zLoss: number, hold: (a: Omit<Alert, 'step'>, forSteps: number) => void): void {
    if (this.zLossSeen.length < this.t.zLossBaselineSteps) return void this.zLossSeen.push(zLoss);
    const base = this.zLossSeen.reduce((a, b) => a + b, 0) / this.zLossSeen.length;
    // NaN counts as blown up.
    if (!(zLoss <= this.t.zLossFactor * base)) hold({ kind: 'zLoss', message: `the router z-loss is ${zLoss.toPrecision(3)}, over ${this.t.zLossFactor}× its early level ${base.toPrecision(3)}` }, 1);
  }

  /** Alerts in force now. */
  get current(): Alert[] {
    return [...this.active.values()];
  }
}
