// A smaller Brown corpus as a folder of text files, one per document named by its Brown id, so that
// `--corpus FOLDER` splits it as Brown is split: every validation document, and every K-th training one.
// Usage: npx tsx scripts/brownSubset.ts OUT_FOLDER K
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBrown, splitBrown } from '../engine/data/brown';

const [out, kText] = process.argv.slice(2);
const k = Number(kText);
if (!out || !Number.isInteger(k) || k < 1) {
  console.error('usage: npx tsx scripts/brownSubset.ts OUT_FOLDER K   (K: keep every K-th training document)');
  process.exit(2);
}
const split = splitBrown(loadBrown());
const train = split.train.filter((_, i) => i % k === 0);
mkdirSync(out, { recursive: true });
for (const doc of [...split.validation, ...train]) writeFileSync(join(out, doc.id), doc.text);
console.log(`${out}: ${split.validation.length} validation + ${train.length} of ${split.train.length} training documents`);
