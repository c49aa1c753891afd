// One color per expert, the same in every view (dashboard heatmap legend, routing side panel).
// The first 12 come from a fixed qualitative palette (Tableau-10-like hues, mid lightness so that
// each stands out on light and dark editor backgrounds); experts past 12 get hues rotated by the
// golden angle. An expert's color depends only on its index, never on how many experts there are.
import { hslToRgb, parseColor, readableTextColor, toHex } from './color';

export const EXPERT_PALETTE: readonly string[] = [
  '#4e79a7', // blue
  '#f28e2b', // orange
  '#e15759', // red
  '#499894', // teal
  '#59a14f', // green
  '#edc948', // yellow
  '#b07aa1', // purple
  '#ff9da7', // pink
  '#9c755f', // brown
  '#38b6e8', // sky
  '#a5c33b', // lime
  '#7b5cd6', // violet
];

const GOLDEN_ANGLE = 137.508;

export interface ExpertColor {
  /** The expert's color (#rrggbb). */
  background: string;
  /** Black or white: whichever reads better on `background`. */
  text: string;
}

/** The color of expert `index` (#rrggbb). */
export function expertColor(index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`expert index must be a whole number >= 0, got ${index}`);
  if (index < EXPERT_PALETTE.length) return EXPERT_PALETTE[index];
  const k = index - EXPERT_PALETTE.length;
  // Start between the palette's hues; alternate lightness and saturation bands so that hues that
  // come close again after many turns still differ.
  const hue = 20 + k * GOLDEN_ANGLE;
  const band = k % 3;
  const lightness = [0.5, 0.64, 0.4][band];
  const saturation = [0.62, 0.55, 0.5][band];
  return toHex(hslToRgb(hue, saturation, lightness));
}

/** The text color to write on expert `index`'s color. */
export function expertTextColor(index: number): string {
  return readableTextColor(parseColor(expertColor(index))!);
}

/** Colors for experts 0..count-1. */
export function expertColors(count: number): ExpertColor[] {
  return Array.from({ length: Math.max(0, Math.floor(count)) }, (_, i) => ({ background: expertColor(i), text: expertTextColor(i) }));
}
