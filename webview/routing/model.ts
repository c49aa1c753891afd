// What the routing side panel shows for an inference result, as plain data: per token its expert,
// router probability, entropy and whether it was dropped at the selected layer, and a description
// covering every layer. DOM-free.
import { z } from 'zod';
import { expertNoteSchema, inferenceResultSchema, type InferenceResult } from '../../engine/protocol';
import { formatNumber, formatPercent } from '../shared/format';

export interface TokenView {
  index: number;
  /** The token's text with whitespace made visible. */
  label: string;
  expert: number;
  dropped: boolean;
  prob: number;
  /** Router entropy, nats. */
  entropy: number;
  /** entropy / ln(E), 0..1. */
  normalizedEntropy: number;
  /** Expert, probability and entropy at every layer. */
  description: string;
}

/** `layer` if the result has it, else 0. */
export function clampLayer(result: InferenceResult, layer: number): number {
  return Number.isInteger(layer) && layer >= 0 && layer < result.layers.length ? layer : 0;
}

/** Whitespace made visible so that every token has something to see and click. */
export function displayText(text: string): string {
  if (text === '') return '∅';
  const shown = text.replace(/\t/g, '⇥').replace(/\r?\n/g, '↵\n');
  return shown.trim() === '' ? shown.replace(/ /g, '·') : shown;
}

export function normalizedEntropy(entropy: number, numExperts: number): number {
  if (!(numExperts > 1) || !Number.isFinite(entropy)) return 0;
  return Math.min(1, Math.max(0, entropy / Math.log(numExperts)));
}

/** "Token 3 “ walks”. encoder.1: expert 2, p 83.0%, entropy 0.41 nats; encoder.3: expert 5 (dropped), ..." */
export function tokenDescription(result: InferenceResult, index: number): string {
  const t = result.tokens[index];
  const parts = result.layers.map((l) => {
    const r = l.tokens[index];
    if (!r) return `${l.layer}: no routing`;
    const ent = `entropy ${formatNumber(r.entropy, 3)} nats (${formatPercent(normalizedEntropy(r.entropy, l.numExperts), 0)} of max)`;
    return `${l.layer}: expert ${r.expert}${r.dropped ? ' (dropped: over capacity, passed on by the residual)' : ''}, probability ${formatPercent(r.prob)}, ${ent}`;
  });
  return `Token ${index} “${t?.text ?? ''}”. ${parts.join('; ')}`;
}

export function tokenViews(result: InferenceResult, layer: number): TokenView[] {
  const l = result.layers[clampLayer(result, layer)];
  return result.tokens.map((t, i) => {
    const r = l?.tokens[i];
    return {
      index: i,
      label: displayText(t.text),
      expert: r?.expert ?? -1,
      dropped: r?.dropped ?? false,
      prob: r?.prob ?? 0,
      entropy: r?.entropy ?? 0,
      normalizedEntropy: r ? normalizedEntropy(r.entropy, l.numExperts) : 0,
      description: tokenDescription(result, i),
    };
  });
}

export interface LegendEntry {
  expert: number;
  /** Tokens routed to it at the layer. */
  tokens: number;
  /** Of which dropped. */
  dropped: number;
}

export function legendEntries(result: InferenceResult, layer: number): LegendEntry[] {
  const l = result.layers[clampLayer(result, layer)];
  if (!l) return [];
  const entries = Array.from({ length: l.numExperts }, (_, e) => ({ expert: e, tokens: 0, dropped: 0 }));
  for (const r of l.tokens) {
    const e = entries[r.expert];
    if (!e) continue;
    e.tokens++;
    if (r.dropped) e.dropped++;
  }
  return entries;
}

export interface LayerSummary {
  layer: string;
  numExperts: number;
  capacity: number;
  tokens: number;
  dropped: number;
  meanNormalizedEntropy: number;
}

export function layerSummary(result: InferenceResult, layer: number): LayerSummary | null {
  const l = result.layers[clampLayer(result, layer)];
  if (!l) return null;
  const dropped = l.tokens.filter((t) => t.dropped).length;
  const mean = l.tokens.length ? l.tokens.reduce((s, t) => s + normalizedEntropy(t.entropy, l.numExperts), 0) / l.tokens.length : 0;
  return { layer: l.layer, numExperts: l.numExperts, capacity: l.capacity, tokens: l.tokens.length, dropped, meanNormalizedEntropy: mean };
}

/** Keys that move the focus between tokens: the index to move to, or null for other keys. */
export function nextTokenIndex(key: string, current: number, count: number): number | null {
  if (count <= 0) return null;
  const clamp = (i: number): number => Math.min(count - 1, Math.max(0, i));
  switch (key) {
    case 'ArrowRight':
    case 'ArrowDown':
      return clamp(current + 1);
    case 'ArrowLeft':
    case 'ArrowUp':
      return clamp(current - 1);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    case 'PageDown':
      return clamp(current + 10);
    case 'PageUp':
      return clamp(current - 10);
    default:
      return null;
  }
}

// ---- Webview state

export const persistedRoutingSchema = z.object({
  v: z.literal(1),
  result: inferenceResultSchema,
  layer: z.number().int().min(0),
  focused: z.number().int().min(0),
  /** What the run's experts usually take, once the extension sent it. */
  notes: z.object({ runId: z.string(), notes: z.array(expertNoteSchema).optional(), why: z.string().optional() }).optional(),
});
export type PersistedRouting = z.infer<typeof persistedRoutingSchema>;

export function restoreRouting(raw: unknown): PersistedRouting | null {
  const r = persistedRoutingSchema.safeParse(raw);
  return r.success ? r.data : null;
}
