import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InferenceResult } from '../../engine/protocol';
import type { Analysis } from '../../engine/analysis/analysisSchema';
import { tokenHover, tokenRanges } from '../../extension/routing/tokenRanges';
import { expertNotes } from '../../extension/runs/specialisationText';
import { explainToken, explanationMarkdown, explanationParts } from '../../webview/shared/tokenExplanation';

const result: InferenceResult = {
  runId: 'r',
  step: 10,
  tokens: [
    { id: 300, text: 'The', start: 0, end: 3 },
    { id: 301, text: ' cat', start: 3, end: 7 },
    { id: 4095, text: '<extra_id_0>', start: 8, end: 20 },
    { id: 1, text: '', start: 20, end: 20 },
  ],
  layers: [
    {
      layer: 'encoder.block.1.layer.1',
      numExperts: 8,
      capacity: 2,
      tokens: [
        { expert: 3, prob: 0.5, dropped: false, entropy: 1.2 },
        { expert: 3, prob: 0.25, dropped: true, entropy: 1.9 },
        { expert: 0, prob: 0.9, dropped: false, entropy: 0.3 },
        { expert: 1, prob: 0.2, dropped: false, entropy: 2 },
      ],
    },
  ],
  fills: [{ sentinel: 0, text: 'sat' }],
  output: '<extra_id_0> sat',
};

test('token offsets map to document offsets past the selection start; empty tokens get no range', () => {
  assert.deepEqual(tokenRanges(100, result.tokens), [
    { index: 0, start: 100, end: 103 },
    { index: 1, start: 103, end: 107 },
    { index: 2, start: 108, end: 120 },
  ]);
});

test('the hover lists every layer with expert, probability and drop', () => {
  const hover = tokenHover(result, 1);
  assert.ok(hover.startsWith(`**" cat"** (token 301)`));
  assert.match(hover, /\| encoder\.block\.1\.layer\.1 \| 3 \| 0\.250 \| 1\.90 \| dropped \|/);
});

test('the explanation: the token class, and what its expert usually takes from the analysis', () => {
  const expert = { expert: 3, tokens: 10, labelShares: [0.8, 0.2], dominantLabel: 'NOUN', topByCount: [{ tokenId: 301, count: 6 }], topByLift: [{ tokenId: 301, count: 6, lift: 2.5 }] };
  const empty = { expert: 0, tokens: 0, labelShares: [0, 0], topByCount: [], topByLift: [] };
  const layer = { layer: 'encoder.block.1.layer.1', tokens: 10, droppedShare: 0, load: { routed: [0, 0, 0, 10], kept: [0, 0, 0, 10] }, dropPosition: [], whatIf: [] };
  const analysis = {
    run: 'r', step: 10, router: 'switch', evalCapacityFactor: 1, validationBatches: 1, lossAtFactor: [], nmiOverTraining: [], stability: [], tokenTexts: { 301: ' cat' },
    layers: [{ ...layer, specialisation: { layer: layer.layer, labels: ['NOUN', 'VERB'], counts: [], experts: [empty, empty, empty, expert], nmi: 0.5 } }],
  };
  const tokenExplanation = (i: number, a: Analysis | undefined, why?: string) => {
    const x = explainToken(result, i, 0, a && expertNotes(a), why);
    assert.ok(x);
    return explanationMarkdown(x);
  };
  const text = tokenExplanation(1, analysis);
  assert.ok(text.startsWith('**" cat"** is a *word* token; at encoder.block.1.layer.1 expert 3 took it (then dropped it: over capacity).'), text);
  assert.match(text, /Expert 3 usually takes: NOUN 80% · “ cat”/);
  assert.match(text, /- Labels: NOUN 80%, VERB 20%/);
  assert.match(text, /- Most taken: “ cat” ×6/);
  assert.match(tokenExplanation(0, undefined, 'it shows once the run stops training'), /What expert 3 usually takes: it shows once the run stops training\.$/);
  assert.match(tokenExplanation(2, undefined), /is a \*sentinel\* token/, 'a sentinel is no identifier');
  // The Routing view's tooltip: the same facts as plain text, from the notes the extension sends it.
  const notes = expertNotes(analysis);
  assert.equal(notes.length, 4, 'one note per expert of each layer');
  const plain = explanationParts(explainToken(result, 1, 0, notes) ?? assert.fail('no explanation'));
  assert.equal(plain.head, '" cat" is a word token; at encoder.block.1.layer.1 expert 3 took it (then dropped it: over capacity).');
  assert.equal(plain.takes, 'Expert 3 usually takes: NOUN 80% · “ cat”');
  assert.deepEqual(plain.details, ['At step 10 on the validation batches: 10 tokens', 'Labels: NOUN 80%, VERB 20%', 'Most taken: “ cat” ×6', 'Most over-represented: “ cat” ×2.5']);
  const other = { ...result, layers: [{ ...result.layers[0], layer: 'decoder.block.1.layer.2' }] };
  assert.equal(explanationParts(explainToken(other, 1, 0, notes) ?? assert.fail('no explanation')).takes, 'What expert 3 usually takes: the analysis has no decoder.block.1.layer.2.');
  assert.equal(explainToken(result, 9, 0, notes), undefined, 'no such token');
});
