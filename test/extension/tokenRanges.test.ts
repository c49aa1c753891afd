import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InferenceResult } from '../../engine/protocol';
import { tokenHover, tokenRanges } from '../../extension/routing/tokenRanges';

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
