// The Specialisation section's data: the `analysis` / `analyze` messages are checked at the webview
// boundary, the top-tokens table reads the analysis as the CLI prints it, and the curves over
// training read the validation records (or the checkpoints of an older run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Analysis } from '../../engine/analysis/analysisSchema';
import { dashboardInboundSchema, dashboardOutboundSchema } from '../../engine/protocol';
import type { ValidationMetrics } from '../../engine/train/metrics';
import { RunHistory } from '../../webview/dashboard/history';
import { overTraining } from '../../webview/dashboard/overTraining';
import { persistDashboard, restoreDashboard } from '../../webview/dashboard/persist';
import { topTokensTable } from '../../webview/dashboard/tables';
import { check } from '../../webview/shared/validate';
import { RUN_ID, summary, validation } from './fixtures';

/** Two experts on one layer: E0 takes nouns ("cat" ×3), E1 verbs ("ran" ×2), nothing else. */
function analysis(): Analysis {
  const expert = (e: number, tokens: number, shares: number[], tokenId: number, count: number) => ({
    expert: e,
    tokens,
    labelShares: shares,
    dominantLabel: shares[0] > shares[1] ? 'NOUN' : 'VERB',
    topByCount: [{ tokenId, count }],
    topByLift: [{ tokenId, count, lift: 5 / count }],
  });
  return {
    run: RUN_ID,
    step: 40,
    router: 'switch',
    evalCapacityFactor: 1.25,
    validationBatches: 2,
    layers: [
      {
        layer: 'encoder.block.1.layer.1',
        tokens: 5,
        droppedShare: 0.2,
        specialisation: { layer: 'encoder.block.1.layer.1', labels: ['NOUN', 'VERB'], counts: [[3, 0], [0, 2]], experts: [expert(0, 3, [1, 0], 7, 3), expert(1, 2, [0, 1], 9, 2)], nmi: 1 },
        load: { routed: [3, 2], kept: [2, 2] },
        dropPosition: [{ from: 0, tokens: 5, dropped: 1, rate: 0.2 }],
        whatIf: [
          { rule: 'switch', capacityFactor: 1, dropped: 1, droppedShare: 0.2 },
          { rule: 'ntlb', capacityFactor: 1, dropped: 0, droppedShare: 0 },
        ],
      },
    ],
    lossAtFactor: [{ capacityFactor: 1, crossEntropy: 4.5 }],
    nmiOverTraining: [{ step: 40, nmi: { 'encoder.block.1.layer.1': 1 } }],
    stability: [],
    tokenTexts: { 7: ' cat', 9: ' ran' },
  };
}

test('analysis messages: valid ones pass, a bad rule or a missing run id is refused', () => {
  const ok = check(dashboardInboundSchema, { type: 'analysis', runId: RUN_ID, analysis: analysis() });
  assert.ok(ok.ok, ok.ok ? '' : ok.reason);
  assert.ok(check(dashboardInboundSchema, { type: 'analysisError', runId: RUN_ID, message: 'no checkpoint' }).ok);
  const a = analysis();
  a.layers[0].whatIf[1] = { ...a.layers[0].whatIf[1], rule: 'top2' as 'ntlb' };
  const bad = check(dashboardInboundSchema, { type: 'analysis', runId: RUN_ID, analysis: a });
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.reason, /rule/);
  assert.ok(check(dashboardOutboundSchema, { type: 'analyze', runId: RUN_ID }).ok);
  assert.equal(check(dashboardOutboundSchema, { type: 'analyze' }).ok, false, 'analyze names its run');
});

test('top tokens per expert: dominant tag with its share, tokens by count and by lift, load before and after capacity', () => {
  const t = topTokensTable(analysis(), 0);
  assert.equal(t.caption, 'Top tokens and load per expert, encoder.block.1.layer.1 (lift: share in the expert / share overall)');
  assert.deepEqual(t.columns, ['Expert', 'Tokens', 'Dominant', 'Top by count', 'Top by lift', 'First choice of (before capacity)', 'Kept (after capacity)']);
  assert.deepEqual(t.rows, [
    ['E0', '3', 'NOUN 100.0%', '" cat" ×3', '" cat" 1.7', '3', '2'],
    ['E1', '2', 'VERB 100.0%', '" ran" ×2', '" ran" 2.5', '2', '2'],
  ]);
});

test('NMI and routing stability over training: from every validation record when they carry them, else the kept checkpoints', () => {
  const L = 'encoder.block.1.layer.1';
  const v = (n: number, nmi?: number, change?: number): ValidationMetrics => ({
    ...validation(n),
    ...(nmi === undefined ? {} : { nmi: { [L]: nmi } }),
    ...(change === undefined ? {} : { routingChange: { [L]: change } }),
  });
  const a = analysis();
  a.stability = [{ from: 20, to: 40, changed: { [L]: 0.5 } }];
  // A run whose records have the fields: one point per validation step (no change at the first).
  const h = RunHistory.fromInit(summary(), [v(0, 0.01), v(10, 0.2, 0.6), v(20, 0.3, 0.25)], 20);
  assert.deepEqual(overTraining('nmi', h.validation, a), { source: 'validation', series: [{ label: L, points: [{ x: 0, y: 0.01 }, { x: 10, y: 0.2 }, { x: 20, y: 0.3 }] }] });
  assert.deepEqual(overTraining('stability', h.validation, null), { source: 'validation', series: [{ label: L, points: [{ x: 10, y: 0.6 }, { x: 20, y: 0.25 }] }] });
  // And they survive the webview state (a reload).
  const back = restoreDashboard(JSON.parse(JSON.stringify(persistDashboard(h, { layer: null, shownTables: [] }))));
  assert.deepEqual(overTraining('nmi', back?.history.validation ?? [], null), overTraining('nmi', h.validation, null));
  assert.deepEqual(overTraining('stability', back?.history.validation ?? [], null), overTraining('stability', h.validation, null));
  // An older run: the analysis's checkpoints; with neither, nothing to draw.
  const old = RunHistory.fromInit(summary(), [v(0), v(10)], 10).validation;
  assert.deepEqual(overTraining('nmi', old, a), { source: 'checkpoints', series: [{ label: L, points: [{ x: 40, y: 1 }] }] });
  assert.deepEqual(overTraining('stability', old, a), { source: 'checkpoints', series: [{ label: L, points: [{ x: 40, y: 0.5 }] }] });
  assert.equal(overTraining('nmi', old, null), null);
});
