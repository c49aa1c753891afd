// What each expert specialises in: the distribution of the tokens it took over labels (part-of-speech
// tags or token classes), its top tokens by count and by lift, and per layer the normalised mutual
// information between expert and label (0: the router ignores the label; 1: the label decides it).
import { contingency, type RoutedTokens } from './routedTokens';

export interface ExpertSpecialisation {
  expert: number;
  tokens: number;
  /** [labels] share of this expert's tokens with each label. */
  labelShares: number[];
  /** The label with the largest share (undefined for an expert that took nothing). */
  dominantLabel?: string;
  /** Most frequent token ids in this expert. */
  topByCount: { tokenId: number; count: number }[];
  /** Token ids most over-represented here: (share in this expert) / (share overall), count ≥ minCount. */
  topByLift: { tokenId: number; count: number; lift: number }[];
}

export interface LayerSpecialisation {
  layer: string;
  labels: readonly string[];
  /** [E][labels] token counts. */
  counts: number[][];
  experts: ExpertSpecialisation[];
  /** I(expert; label) / sqrt(H(expert) · H(label)), in [0, 1]. */
  nmi: number;
}

export interface SpecialisationOptions {
  top?: number;
  /** Least count of a token in an expert for its lift to be listed (rare tokens have noisy lift). */
  minCount?: number;
}

export function specialisation(r: RoutedTokens, { top = 5, minCount = 3 }: SpecialisationOptions = {}): LayerSpecialisation {
  const counts = contingency(r.expert, r.label, r.numExperts, r.labels.length);
  const overall = tokenCounts(r.tokenId, (i) => r.expert[i] >= 0);
  const total = [...overall.values()].reduce((s, c) => s + c, 0);
  const experts = counts.map((row, e): ExpertSpecialisation => {
    const mine = tokenCounts(r.tokenId, (i) => r.expert[i] === e);
    const n = [...mine.values()].reduce((s, c) => s + c, 0);
    const labelled = row.reduce((s, c) => s + c, 0);
    const best = row.indexOf(Math.max(...row));
    const byCount = [...mine].map(([tokenId, count]) => ({ tokenId, count })).sort((a, b) => b.count - a.count || a.tokenId - b.tokenId);
    const byLift = byCount
      .filter((t) => t.count >= minCount)
      .map((t) => ({ ...t, lift: t.count / n / ((overall.get(t.tokenId) as number) / total) }))
      .sort((a, b) => b.lift - a.lift || b.count - a.count || a.tokenId - b.tokenId);
    return {
      expert: e,
      tokens: n,
      labelShares: row.map((c) => (labelled ? c / labelled : 0)),
      ...(labelled ? { dominantLabel: r.labels[best] } : {}),
      topByCount: byCount.slice(0, top),
      topByLift: byLift.slice(0, top),
    };
  });
  return { layer: r.layer, labels: r.labels, counts, experts, nmi: normalisedMutualInformation(counts) };
}

function tokenCounts(ids: Int32Array, keep: (i: number) => boolean): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) if (keep(i)) m.set(ids[i], (m.get(ids[i]) ?? 0) + 1);
  return m;
}

/** NMI of a contingency table, geometric normalisation; 0 when either variable is constant. */
export function normalisedMutualInformation(table: number[][]): number {
  const n = table.flat().reduce((s, c) => s + c, 0);
  if (n === 0) return 0;
  const rows = table.map((r) => r.reduce((s, c) => s + c, 0));
  const cols = table[0]?.map((_, j) => table.reduce((s, r) => s + r[j], 0)) ?? [];
  const h = (xs: number[]) => -xs.reduce((s, c) => (c > 0 ? s + (c / n) * Math.log(c / n) : s), 0);
  const [hr, hc] = [h(rows), h(cols)];
  if (hr === 0 || hc === 0) return 0;
  let mi = 0;
  table.forEach((r, i) => r.forEach((c, j) => (c > 0 ? (mi += (c / n) * Math.log((c * n) / (rows[i] * cols[j]))) : 0)));
  return Math.min(1, Math.max(0, mi / Math.sqrt(hr * hc)));
}
