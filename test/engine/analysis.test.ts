// The routing analyses on hand-made routing with known answers: a perfectly specialised router, a
// uniform one that ignores the label, a collapsed one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capacityLoad } from '../../engine/analysis/capacityLoad';
import { capacityWhatIf } from '../../engine/analysis/capacityWhatIf';
import { dropByPosition } from '../../engine/analysis/dropPosition';
import { activeFraction, AlertMonitor, DEFAULT_THRESHOLDS, maxVio, type HealthInput } from '../../engine/analysis/health';
import type { RoutedTokens } from '../../engine/analysis/routedTokens';
import { normalisedMutualInformation, specialisation } from '../../engine/analysis/specialisation';
import { routingChange } from '../../engine/analysis/stability';
import { tokenClass } from '../../engine/analysis/tokenClass';
import { universalTag } from '../../engine/analysis/universalTags';
import { validationRouting, type ValidationLayerPass } from '../../engine/analysis/validationRouting';

/** Tokens with the given experts and labels; positions count within sequences of `seqLength`. */
function routed(expert: number[], label: number[], opts: { numExperts?: number; tokenId?: number[]; dropped?: number[]; seqLength?: number; probs?: number[] } = {}): RoutedTokens {
  const n = expert.length;
  const numExperts = opts.numExperts ?? 3;
  return {
    layer: 'encoder.block.1',
    numExperts,
    labels: ['NOUN', 'VERB', 'DET'],
    position: Int32Array.from({ length: n }, (_, i) => i % (opts.seqLength ?? n)),
    label: Int32Array.from(label),
    tokenId: Int32Array.from(opts.tokenId ?? label),
    expert: Int32Array.from(expert),
    dropped: Uint8Array.from(opts.dropped ?? new Array<number>(n).fill(0)),
    probs: Float32Array.from(opts.probs ?? expert.flatMap((e) => Array.from({ length: numExperts }, (_, j) => (j === e ? 1 : 0)))),
    groupSizes: [n],
  };
}

test('Brown tags map onto the universal tags, compounds by their first part, foreign words to X', () => {
  const cases: [string, string][] = [
    ['nn', 'NOUN'], ['nns$-tl', 'NOUN'], ['np-hl', 'NOUN'], ['vbd', 'VERB'], ['bez', 'VERB'], ['md*', 'VERB'], ['hvz', 'VERB'],
    ['jjr', 'ADJ'], ['rb', 'ADV'], ['wrb', 'ADV'], ['ql', 'ADV'], ['pps', 'PRON'], ['ppss+md', 'PRON'], ['wps', 'PRON'], ['ex', 'PRON'],
    ['at', 'DET'], ['dt', 'DET'], ['abn', 'DET'], ['wdt', 'DET'], ['in', 'ADP'], ['cd', 'NUM'], ['od', 'NUM'], ['cc', 'CONJ'], ['cs', 'CONJ'],
    ['rp', 'PRT'], ['to', 'PRT'], [',', '.'], ['--', '.'], ["''", '.'], ['(-hl', '.'], ['fw-nn', 'X'], ['uh', 'X'], ['nil', 'X'],
  ];
  for (const [brown, universal] of cases) assert.equal(universalTag(brown), universal, brown);
});

test('token classes for a corpus without tags', () => {
  const cases: [string, string][] = [[' the', 'word'], ['Paris', 'word'], [' 1,024', 'number'], ['3.5', 'number'], [' ;', 'punctuation'], ['})', 'punctuation'], ['  ', 'whitespace'], ['\n', 'whitespace'], [' snake_case', 'identifier'], ['getValue', 'identifier'], ['utf8', 'identifier']];
  for (const [text, cls] of cases) assert.equal(tokenClass(text), cls, JSON.stringify(text));
});

test('a perfectly specialised router: each expert takes one tag, NMI 1', () => {
  const label = [0, 1, 2, 0, 1, 2, 0, 1, 2];
  const s = specialisation(routed(label, label));
  assert.equal(s.nmi, 1);
  assert.deepEqual(
    s.experts.map((e) => e.dominantLabel),
    ['NOUN', 'VERB', 'DET'],
  );
  assert.deepEqual(s.experts[1].labelShares, [0, 1, 0]);
  assert.deepEqual(s.counts, [
    [3, 0, 0],
    [0, 3, 0],
    [0, 0, 3],
  ]);
});

test('a router that ignores the tag: every expert sees every tag equally, NMI 0', () => {
  // Expert e takes one token of each tag: expert and tag are independent.
  const expert = [0, 0, 0, 1, 1, 1, 2, 2, 2];
  const label = [0, 1, 2, 0, 1, 2, 0, 1, 2];
  const s = specialisation(routed(expert, label));
  assert.ok(Math.abs(s.nmi) < 1e-12, `nmi ${s.nmi}`);
  for (const e of s.experts) assert.deepEqual(e.labelShares, [1 / 3, 1 / 3, 1 / 3]);
});

test('a collapsed router: one expert takes everything, the others nothing, NMI 0', () => {
  const s = specialisation(routed([0, 0, 0, 0], [0, 1, 1, 2]));
  assert.equal(s.nmi, 0, 'a constant expert carries no information about the tag');
  assert.equal(s.experts[0].tokens, 4);
  assert.equal(s.experts[0].dominantLabel, 'VERB');
  assert.equal(s.experts[1].dominantLabel, undefined);
  assert.deepEqual(s.experts[1].topByCount, []);
});

test('top tokens by count and by lift, by hand', () => {
  // Token 7 is common everywhere; token 9 is rare overall but all of it goes to expert 1.
  const tokenId = [7, 7, 7, 7, 7, 7, 9, 9, 9, 5];
  const expert = [0, 0, 0, 1, 1, 1, 1, 1, 1, 0];
  const s = specialisation(routed(expert, new Array<number>(10).fill(0), { tokenId }), { top: 2, minCount: 2 });
  assert.deepEqual(s.experts[1].topByCount, [
    { tokenId: 7, count: 3 },
    { tokenId: 9, count: 3 },
  ]);
  // Expert 1: token 9 share 3/6 against 3/10 overall -> lift 5/3; token 7: (3/6) / (6/10) = 5/6.
  const lift = s.experts[1].topByLift.map((t) => [t.tokenId, +t.lift.toFixed(6)]);
  assert.deepEqual(lift, [
    [9, +(5 / 3).toFixed(6)],
    [7, +(5 / 6).toFixed(6)],
  ]);
  assert.deepEqual(
    s.experts[0].topByLift.map((t) => t.tokenId),
    [7],
    'token 5 (count 1) is under minCount',
  );
});

test('NMI of a hand-computed table', () => {
  // [[2,0],[1,1]]: H(row)=ln2, H(col)=H(3/4,1/4), I = H(col) - H(col|row) = H(.75) - 0.5·ln2.
  const h = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  const expected = (h(0.75) - 0.5 * Math.log(2)) / Math.sqrt(Math.log(2) * h(0.75));
  assert.ok(Math.abs(normalisedMutualInformation([[2, 0], [1, 1]]) - expected) < 1e-12);
  assert.equal(normalisedMutualInformation([[0, 0], [0, 0]]), 0);
});

test('drop position: the late tokens of each sequence drop, by bucket', () => {
  // Two sequences of 4; the last two positions of each dropped, and one early token.
  const r = routed([0, 0, 0, 0, 1, 1, 1, 1], new Array<number>(8).fill(0), { seqLength: 4, dropped: [0, 0, 1, 1, 0, 1, 1, 1] });
  assert.deepEqual(dropByPosition(r, 2), [
    { from: 0, tokens: 4, dropped: 1, rate: 0.25 },
    { from: 2, tokens: 4, dropped: 4, rate: 1 },
  ]);
});

test('capacity what-if: six tokens that all want expert 0, three experts, switch and ntlb', () => {
  const r = routed([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]);
  // capacity = ceil(6 / 3 × factor): 0.5 -> 1 slot, 1 -> 2, 1.5 -> 3, 3 -> 6.
  // switch: only expert 0's slots count: 5, 4, 3, 0 dropped.
  // ntlb: the dropped try expert 1, then expert 2 (ties: lower index first): 6 - 3 slots = 3, then none.
  assert.deepEqual(
    capacityWhatIf(r, { factors: [0.5, 1, 1.5, 3] }).map((p) => [p.rule, p.capacityFactor, p.dropped]),
    [
      ['switch', 0.5, 5],
      ['switch', 1, 4],
      ['switch', 1.5, 3],
      ['switch', 3, 0],
      ['ntlb', 0.5, 3],
      ['ntlb', 1, 0],
      ['ntlb', 1.5, 0],
      ['ntlb', 3, 0],
    ],
  );
  // ntlbMaxTries 2: a token tries experts 0 and 1 only: 6 - 2 slots at factor 0.5.
  assert.deepEqual(
    capacityWhatIf(r, { factors: [0.5], rules: ['ntlb'], ntlbMaxTries: 2 }).map((p) => p.dropped),
    [4],
  );
  // Balanced routing drops nothing at factor 1 under either rule; capacity is per group.
  const balanced = { ...routed([0, 1, 2, 0, 1, 2], [0, 0, 0, 0, 0, 0]), groupSizes: [3, 3] };
  assert.deepEqual(
    capacityWhatIf(balanced, { factors: [1] }).map((p) => p.droppedShare),
    [0, 0],
  );
  // Per group: [0,0,0] and [0,0,0] at factor 1 (1 slot each): switch drops 2 + 2, ntlb 0 + 0.
  const grouped = { ...r, groupSizes: [3, 3] };
  assert.deepEqual(
    capacityWhatIf(grouped, { factors: [1] }).map((p) => p.dropped),
    [4, 0],
  );
});

test('pre- vs post-capacity load: first choices per expert beside what each kept', () => {
  // A collapsed router: every token to expert 0, which keeps 2 of them.
  assert.deepEqual(capacityLoad(routed([0, 0, 0, 0], [0, 1, 2, 0], { dropped: [0, 0, 1, 1] })), { routed: [4, 0, 0], kept: [2, 0, 0] });
  // Re-routed (ntlb): token 1's first choice is expert 0, expert 1 kept it; padding (-1) counts nowhere.
  const probs = [0.8, 0.1, 0.1, 0.6, 0.3, 0.1, 0.2, 0.2, 0.6, 1, 0, 0];
  assert.deepEqual(capacityLoad(routed([0, 1, 2, -1], [0, 1, 2, 0], { probs })), { routed: [2, 0, 1], kept: [1, 1, 1] });
});

test('routing stability: the share of the same tokens whose expert changed', () => {
  const a = routed([0, 1, 2, 0], [0, 0, 0, 0]);
  const b = routed([0, 2, 2, 1], [0, 0, 0, 0]);
  assert.equal(routingChange(a.expert, b.expert), 0.5);
  assert.equal(routingChange(a.expert, a.expert), 0);
  assert.equal(routingChange([0, -1, 1], [1, 2, -1]), 1, 'padding (-1) on either side is left out');
  assert.throws(() => routingChange(a.expert, [0]), /not the same tokens/);
});

test('each validation step: NMI(expert; label) per layer and the share of tokens whose expert changed', () => {
  const pass = (layer: string, expert: number[], label: number[]): ValidationLayerPass => ({ layer, numExperts: 3, numLabels: 3, expert: Int32Array.from(expert), label: Int32Array.from(label) });
  const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, -1];
  // Expert e takes exactly the tokens of label e (the padding, -1, aside): the label decides.
  const specialised = pass('encoder.block.1', [0, 1, 2, 0, 1, 2, 0, 1, 2, -1], labels);
  // A Latin square: each label goes once to each expert, each expert takes each label once: the label tells nothing.
  const uniform = pass('decoder.block.1', [0, 1, 2, 1, 2, 0, 2, 0, 1, -1], labels);
  const first = validationRouting([specialised, uniform], null);
  assert.equal(first.nmi['encoder.block.1'], 1);
  assert.equal(first.nmi['decoder.block.1'], 0);
  assert.equal(first.routingChange, undefined, 'the first validation has nothing to compare with');
  // The same routing again: nothing changed; then one layer moves 3 of its 9 real tokens.
  const previous = new Map([specialised, uniform].map((p) => [p.layer, p.expert]));
  assert.deepEqual(validationRouting([specialised, uniform], previous).routingChange, { 'encoder.block.1': 0, 'decoder.block.1': 0 });
  const moved = pass('encoder.block.1', [1, 2, 0, 0, 1, 2, 0, 1, 2, -1], labels);
  const second = validationRouting([moved, uniform], previous);
  assert.equal(second.routingChange?.['encoder.block.1'], 3 / 9);
  assert.ok((second.nmi['encoder.block.1'] ?? 1) < 1, 'a less specialised layer scores less');
  // A collapsed router (one expert takes everything): NMI 0, whatever the labels.
  assert.equal(validationRouting([pass('encoder.block.1', labels.map((l) => (l < 0 ? -1 : 0)), labels)], null).nmi['encoder.block.1'], 0);
  assert.throws(() => validationRouting([pass('x', [0], [0, 1])], null), /1 experts for 2 labels/);
});

test('MaxVio and the active fraction', () => {
  assert.equal(maxVio([10, 10, 10, 10]), 0);
  assert.equal(maxVio([40, 0, 0, 0]), 3);
  assert.equal(maxVio([0, 0]), 0);
  assert.equal(activeFraction([40, 0, 0, 0]), 0.25);
});

test('alerts fire at their thresholds and clear when the router recovers', () => {
  const t = { ...DEFAULT_THRESHOLDS, collapseFactor: 2, collapseSteps: 3, deadSteps: 2, zLossBaselineSteps: 2 };
  const monitor = new AlertMonitor(t);
  const input = (step: number, routed: number[], overflowRate = 0, zLoss = 1): HealthInput => ({ step, zLoss, layers: [{ layer: 'L', routed, overflowRate }] });
  const kinds = (r: { raised: { kind: string; expert?: number }[] }) => r.raised.map((a) => `${a.kind}${a.expert ?? ''}`);
  const collapsed = [97, 1, 1, 1]; // expert 0: 97% > 2 × 25%
  assert.deepEqual(kinds(monitor.observe(input(1, collapsed))), []);
  assert.deepEqual(kinds(monitor.observe(input(2, collapsed))), []);
  assert.deepEqual(kinds(monitor.observe(input(3, collapsed))), ['collapse0'], 'after collapseSteps steps in a row');
  assert.deepEqual(kinds(monitor.observe(input(4, collapsed))), [], 'an alert fires once while it holds');
  const recovered = monitor.observe(input(5, [25, 25, 25, 25]));
  assert.deepEqual(
    recovered.cleared.map((a) => [a.kind, a.step]),
    [['collapse', 3]],
  );
  assert.equal(monitor.current.length, 0);
  // A dead expert after deadSteps steps; overflow at once; a streak broken starts over.
  assert.deepEqual(kinds(monitor.observe(input(6, [30, 30, 40, 0]))), []);
  assert.deepEqual(kinds(monitor.observe(input(7, [30, 30, 40, 0], 0.5))), ['deadExpert3', 'overflow']);
  assert.deepEqual(kinds(monitor.observe(input(8, [30, 30, 39, 1], 0.1, 1))), []);
  assert.equal(monitor.current.length, 0, 'both cleared');
  // z-loss: baseline 1 over the first two steps; 10× over it fires, NaN too.
  assert.deepEqual(kinds(monitor.observe(input(9, [25, 25, 25, 25], 0, 10))), []);
  assert.deepEqual(kinds(monitor.observe(input(10, [25, 25, 25, 25], 0, 10.5))), ['zLoss']);
  monitor.observe(input(11, [25, 25, 25, 25], 0, 1));
  assert.deepEqual(kinds(monitor.observe(input(12, [25, 25, 25, 25], 0, NaN))), ['zLoss']);
});
