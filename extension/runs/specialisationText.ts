// What an expert learned, in words: its dominant label and top tokens (from a run's analysis), for
// the Runs tree's expert rows, the editor's routing hover and the Routing view's tooltip. Pure.
import type { Analysis } from '../../engine/analysis/analysisSchema';
import type { ExpertNote } from '../../engine/protocol';

export type ExpertAnalysis = Analysis['layers'][number]['specialisation']['experts'][number];

/** "NOUN 52% · “ the” “ of” “ and”" for the row; counts, lifts and every label's share for the tooltip. */
export function describeSpecialisation(e: ExpertAnalysis, a: Analysis): { description: string; tooltip: string } {
  const text = (id: number) => `“${a.tokenTexts[id] ?? `#${id}`}”`;
  const layer = a.layers.find((l) => l.specialisation.experts.includes(e));
  const labels = layer?.specialisation.labels ?? [];
  const dominant = e.dominantLabel ? `${e.dominantLabel} ${(100 * Math.max(...e.labelShares)).toFixed(0)}%` : 'no tokens';
  const top = e.topByLift.length ? e.topByLift : e.topByCount;
  const shares = e.labelShares
    .map((s, j) => [labels[j], s] as const)
    .filter(([, s]) => s > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([l, s]) => `${l} ${(100 * s).toFixed(0)}%`);
  return {
    description: [dominant, ...top.slice(0, 3).map((t) => text(t.tokenId))].join(' · '),
    tooltip: [
      `At step ${a.step} on the validation batches: ${e.tokens} tokens`,
      shares.length ? `Labels: ${shares.join(', ')}` : '',
      e.topByCount.length ? `Most taken: ${e.topByCount.map((t) => `${text(t.tokenId)} ×${t.count}`).join(', ')}` : '',
      e.topByLift.length ? `Most over-represented: ${e.topByLift.map((t) => `${text(t.tokenId)} ×${t.lift.toFixed(1)}`).join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
  };
}

/** Every expert of every layer of the analysis, in words (what the routing hovers show). */
export function expertNotes(a: Analysis): ExpertNote[] {
  return a.layers.flatMap((l) =>
    l.specialisation.experts.map((e) => {
      const { description, tooltip } = describeSpecialisation(e, a);
      return { layer: l.layer, expert: e.expert, description, details: tooltip.split('\n') };
    }),
  );
}
