// What the analyses call each routed token: an encoder token of the tagged Brown corpus by its
// universal part-of-speech tag, a decoder token or any token of a user corpus by its token class,
// padding and the objective's markers (sentinels, </s>) by nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TOKEN_CLASSES } from '../../engine/analysis/tokenClass';
import { TokenLabels } from '../../engine/analysis/tokenLabels';
import { UNIVERSAL_TAGS } from '../../engine/analysis/universalTags';
import type { Batch } from '../../engine/data/batches';
import { trainTokenizer } from '../../engine/data/bpeTrainer';

const tok = trainTokenizer(['the cat ran 42 times , my_var .', 'the cat ran 42 times , my_var .'], { vocabSize: 400 });
const id = (text: string) => {
  const ids = Array.from(tok.encode(text).ids);
  assert.equal(ids.length, 1, `${JSON.stringify(text)} is one token: ${ids}`);
  return ids[0];
};

/** One row: " cat" " 42" "," <extra_id_0> </s> <pad>; Brown tags nn, cd, "," on the first three. */
function batch(): Batch {
  const ids = Int32Array.from([id(' cat'), id(' 42'), id(' ,'), tok.sentinelId(0), tok.eosId, tok.padId]);
  const mask = Int32Array.from([1, 1, 1, 1, 1, 0]);
  return { encoderIds: ids, encoderMask: mask, encoderTags: Int32Array.from([0, 1, 2, -1, -1, -1]), decoderInputIds: ids, decoderMask: mask } as unknown as Batch;
}

test('token labels: universal tags on a tagged encoder, token classes elsewhere, none for markers and padding', () => {
  const tagged = new TokenLabels(tok, ['nn', 'cd', ',']);
  assert.equal(tagged.names('encoder.block.1.layer.1'), UNIVERSAL_TAGS);
  assert.equal(tagged.names('decoder.block.1.layer.2'), TOKEN_CLASSES);
  const u = (t: string) => UNIVERSAL_TAGS.indexOf(t as (typeof UNIVERSAL_TAGS)[number]);
  const c = (t: string) => TOKEN_CLASSES.indexOf(t as (typeof TOKEN_CLASSES)[number]);
  assert.deepEqual(Array.from(tagged.ofBatch('encoder.block.1.layer.1', batch())), [u('NOUN'), u('NUM'), u('.'), -1, -1, -1]);
  assert.deepEqual(Array.from(tagged.ofBatch('decoder.block.1.layer.2', batch())), [c('word'), c('number'), c('punctuation'), -1, -1, -1]);
  // A user corpus (no tags): the encoder by token class too.
  const user = new TokenLabels(tok, []);
  assert.equal(user.names('encoder.block.1.layer.1'), TOKEN_CLASSES);
  assert.deepEqual(Array.from(user.ofBatch('encoder.block.1.layer.1', batch())), [c('word'), c('number'), c('punctuation'), -1, -1, -1]);
});
