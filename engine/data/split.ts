// Train/validation split by a hash of each document's id. Hashing (rather than
// "every k-th document") keeps a document on the same side when files are added
// to or removed from a user corpus, and needs no shared state between runs.

export interface Split<T> {
  train: T[];
  validation: T[];
}

/**
 * FNV-1a over UTF-16 code units, then murmur3's finalizer: FNV alone leaves
 * short, similar ids (ca01, ca02, ...) clustered in the high bits.
 */
export function hashId(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function isValidationId(id: string, validationFraction: number): boolean {
  return hashId(id) / 0x100000000 < validationFraction;
}

export function splitByHash<T>(items: T[], idOf: (item: T) => string, validationFraction = 0.1): Split<T> {
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new RangeError(`validationFraction must be in [0, 1), got ${validationFraction}`);
  }
  const split: Split<T> = { train: [], validation: [] };
  for (const item of items) {
    (isValidationId(idOf(item), validationFraction) ? split.validation : split.train).push(item);
  }
  return split;
}
