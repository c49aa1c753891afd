// Number formatting for labels, tooltips and data tables. Fixed to en-US so that what tests and
// screen readers see does not depend on the machine's locale.

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 12,345 */
export function formatInt(x: number): string {
  return Number.isFinite(x) ? intFmt.format(x) : String(x);
}

/** Up to `digits` significant digits, no exponent for everyday magnitudes: 0.0123, 2.31, 1,234. */
export function formatNumber(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const ax = Math.abs(x);
  if (ax >= 1e6 || ax < 1e-4) return x.toExponential(Math.max(0, digits - 1)).replace(/\.?0+e/, 'e');
  if (ax >= 10 ** digits) return intFmt.format(Math.round(x));
  return new Intl.NumberFormat('en-US', { maximumSignificantDigits: digits }).format(x);
}

/** 0.1234 -> "12.3%" */
export function formatPercent(fraction: number, decimals = 1): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(decimals)}%` : String(fraction);
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Decimal units (1 KB = 1000 B): 131072 -> "131 KB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1000 && u < BYTE_UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  const s = u === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${bytes < 0 ? '-' : ''}${s} ${BYTE_UNITS[u]}`;
}

/** Seconds with a unit that fits: 3.2e-6 -> "3.2 µs", 0.0123 -> "12.3 ms", 2.5 -> "2.5 s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  const a = Math.abs(s);
  if (a === 0) return '0 s';
  const [v, unit] = a < 1e-6 ? [s * 1e9, 'ns'] : a < 1e-3 ? [s * 1e6, 'µs'] : a < 1 ? [s * 1e3, 'ms'] : [s, 's'];
  return `${formatNumber(v, 3)} ${unit}`;
}

/** Round tick values (multiples of 1, 2 or 5 × 10^k) inside [min, max], at most about `maxCount`. */
export function niceTicks(min: number, max: number, maxCount = 8): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, maxCount - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}
