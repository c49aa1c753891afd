// The Specialisation section's curves over training: NMI(expert; tag) and the routing change per
// sparse layer. A run's validation records carry both at every validation step (`nmi`,
// `routingChange`); an older run's do not, and the curves fall back to its kept checkpoints (the
// analysis). DOM-free.
import type { Analysis } from '../../engine/analysis/analysisSchema';
import type { ValidationRow } from './history';

export type OverTrainingKind = 'nmi' | 'stability';

export interface OverTrainingSeries {
  label: string;
  points: { x: number; y: number }[];
}

export interface OverTraining {
  /** Where the points come from: every validation step, or the kept checkpoints. */
  source: 'validation' | 'checkpoints';
  series: OverTrainingSeries[];
}

const FIELD = { nmi: 'nmi', stability: 'routingChange' } as const;

/** The curves of `kind`, or null when neither the validation records nor an analysis has them. */
export function overTraining(kind: OverTrainingKind, validation: readonly ValidationRow[], a: Analysis | null): OverTraining | null {
  const field = FIELD[kind];
  const rows = validation.filter((r) => r[field] && Object.keys(r[field]).length);
  if (rows.length) {
    const layers = [...new Set(rows.flatMap((r) => Object.keys(r[field] ?? {})))];
    return { source: 'validation', series: layers.map((layer) => ({ label: layer, points: rows.flatMap((r) => (r[field] && layer in r[field] ? [{ x: r.step, y: r[field][layer] }] : [])) })) };
  }
  if (!a) return null;
  const series = a.layers.map((l) =>
    kind === 'nmi'
      ? { label: l.layer, points: a.nmiOverTraining.filter((n) => l.layer in n.nmi).map((n) => ({ x: n.step, y: n.nmi[l.layer] })) }
      : { label: l.layer, points: a.stability.filter((s) => l.layer in s.changed).map((s) => ({ x: s.to, y: s.changed[l.layer] })) },
  );
  return { source: 'checkpoints', series };
}
