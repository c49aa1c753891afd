import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  clampLayer,
  displayText,
  layerSummary,
  legendEntries,
  nextTokenIndex,
  normalizedEntropy,
  restoreRouting,
  tokenDescription,
  tokenViews,
} from '../../webview/routing/model';
import { inference } from './fixtures';

test('token views at the selected layer', () => {
  const r = inference();
  const v0 = tokenViews(r, 0);
  assert.equal(v0.length, 5);
  assert.deepEqual(v0.map((t) => t.expert), [0, 1, 1, 1, 3]);
  assert.deepEqual(v0.map((t) => t.dropped), [false, false, false, true, false]);
  assert.equal(v0[2].normalizedEntropy, 1);
  assert.deepEqual(tokenViews(r, 1).map((t) => t.expert), [2, 2, 0, 2, 0]);
  assert.deepEqual(tokenViews(r, 9).map((t) => t.expert), [0, 1, 1, 1, 3], 'an unknown layer shows the first');
  assert.equal(clampLayer(r, 1), 1);
  assert.equal(clampLayer(r, 2), 0);
  assert.equal(clampLayer(r, -1), 0);
});

test('each token’s description covers every layer', () => {
  const d = tokenDescription(inference(), 3);
  assert.match(d, /^Token 3 “\n”\./);
  assert.match(d, /encoder\.block\.1: expert 1 \(dropped[^)]*\), probability 40\.0%, entropy 1\.2 nats \(87% of max\)/);
  assert.match(d, /encoder\.block\.3: expert 2 \(dropped[^)]*\), probability 80\.0%/);
  assert.equal(tokenViews(inference(), 0)[3].description, d);
});

test('whitespace is made visible', () => {
  assert.equal(displayText('The'), 'The');
  assert.equal(displayText(' walks'), ' walks');
  assert.equal(displayText(''), '∅');
  assert.equal(displayText('\n'), '↵\n');
  assert.equal(displayText('  '), '··');
  assert.equal(displayText('\t'), '⇥');
  assert.equal(normalizedEntropy(Math.log(8), 8), 1);
  assert.equal(normalizedEntropy(1, 1), 0);
  assert.equal(normalizedEntropy(NaN, 4), 0);
});

test('legend counts and the layer summary', () => {
  const r = inference();
  assert.deepEqual(legendEntries(r, 0), [
    { expert: 0, tokens: 1, dropped: 0 },
    { expert: 1, tokens: 3, dropped: 1 },
    { expert: 2, tokens: 0, dropped: 0 },
    { expert: 3, tokens: 1, dropped: 0 },
  ]);
  const s = layerSummary(r, 1);
  assert.equal(s?.layer, 'encoder.block.3');
  assert.equal(s?.dropped, 1);
  assert.equal(s?.tokens, 5);
  assert.equal(layerSummary({ ...r, layers: [] }, 0), null);
  assert.deepEqual(legendEntries({ ...r, layers: [] }, 0), []);
});

test('roving focus keys', () => {
  assert.equal(nextTokenIndex('ArrowRight', 0, 5), 1);
  assert.equal(nextTokenIndex('ArrowDown', 4, 5), 4);
  assert.equal(nextTokenIndex('ArrowLeft', 0, 5), 0);
  assert.equal(nextTokenIndex('ArrowUp', 3, 5), 2);
  assert.equal(nextTokenIndex('Home', 3, 5), 0);
  assert.equal(nextTokenIndex('End', 0, 5), 4);
  assert.equal(nextTokenIndex('PageDown', 0, 50), 10);
  assert.equal(nextTokenIndex('PageUp', 3, 50), 0);
  assert.equal(nextTokenIndex('a', 0, 5), null);
  assert.equal(nextTokenIndex('ArrowRight', 0, 0), null);
});

test('the persisted result restores only when it checks', () => {
  const s = { v: 1, result: inference(), layer: 1, focused: 2 };
  assert.deepEqual(restoreRouting(JSON.parse(JSON.stringify(s))), s);
  assert.equal(restoreRouting(undefined), null);
  assert.equal(restoreRouting({ ...s, v: 2 }), null);
  assert.equal(restoreRouting({ ...s, result: { runId: 'x' } }), null);
  // With the experts' notes the tooltip reads (kept so that a reloaded view explains at once).
  const notes = { runId: 'x', notes: [{ layer: 'encoder.block.1.layer.1', expert: 0, description: 'NOUN 54% · “ the”', details: ['At step 200 on the validation batches: 1042 tokens'] }] };
  assert.deepEqual(restoreRouting(JSON.parse(JSON.stringify({ ...s, notes }))), { ...s, notes });
  assert.equal(restoreRouting({ ...s, notes: { ...notes, notes: [{ layer: 'l', expert: -1, description: '', details: [] }] } }), null);
});
