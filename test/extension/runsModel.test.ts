import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EngineEvent, RunSummary, StepEventData } from '../../engine/protocol';
import { expertDescription, layerDescription, loadBar, lossText, RunsModel } from '../../extension/runs/runsModel';

const summary = (id: string, state: 'running' | 'stopped'): RunSummary => ({
  id,
  preset: 'tiny',
  router: 'switch',
  numExperts: 4,
  status: { id, state, step: 3, steps: 10, backend: 'wasm', updatedAt: '2026-11-25T00:00:00Z' },
  layers: ['encoder.block.1.layer.1'],
  active: state === 'running',
});

const layer = { layer: 'encoder.block.1.layer.1', numExperts: 4, capacity: 3, assignments: 10, routed: [5, 3, 2, 0], kept: [3, 3, 2, 0], shares: [0.5, 0.3, 0.2, 0], dropped: 2, overflowRate: 0.2, routerEntropy: 1, normalizedEntropy: 0.72, loadCv: 0.6, maxShare: 0.5, unusedExperts: 1, meanProb: [0.4, 0.3, 0.2, 0.1] };
const step = (n: number): StepEventData => ({ type: 'step', step: n, time: 0, tokens: 10, tokensPerSecond: 100, learningRate: 1e-3, loss: 5 - n / 10, crossEntropy: 5, auxLoss: 1, zLoss: 2, gradNorm: 1, layers: [layer] });

test('the tree model follows step and state events of the runs it lists', () => {
  const model = new RunsModel();
  model.setRuns([summary('20261125-a', 'stopped'), summary('20261125-b', 'running')]);
  assert.deepEqual(
    model.list().map((r) => r.id),
    ['20261125-b', '20261125-a'],
  );
  assert.deepEqual(model.get('20261125-b')?.layers, [], 'no layer figures before a step');

  const changed = model.apply({ type: 'event', event: 'step', runId: '20261125-b', data: step(4), coalesced: 0 });
  assert.equal(changed, '20261125-b');
  const run = model.get('20261125-b')!;
  assert.equal(run.step, 4);
  assert.equal(run.crossEntropy, 5);
  assert.deepEqual(run.layers, [layer], 'the layers as the engine sent them, under the same names');
  assert.deepEqual(run.alerts, [], 'no alert in force');
  const alert = { kind: 'overflow' as const, layer: layer.layer, step: 5, message: 'overflow' };
  model.apply({ type: 'event', event: 'step', runId: '20261125-b', data: { ...step(5), alerts: [alert] }, coalesced: 0 });
  assert.deepEqual(model.get('20261125-b')?.alerts, [alert], 'the alerts of the latest step event');
  model.apply({ type: 'event', event: 'step', runId: '20261125-b', data: step(6), coalesced: 0 });
  assert.deepEqual(model.get('20261125-b')?.alerts, [], 'cleared when the step has none');

  const stopped: EngineEvent = { type: 'event', event: 'state', runId: '20261125-b', data: { id: '20261125-b', state: 'paused', step: 4, steps: 10, message: 'step 5: the loss is not finite', backend: 'wasm', updatedAt: 'x' } };
  model.apply(stopped);
  assert.equal(model.get('20261125-b')?.state, 'paused');
  assert.equal(model.get('20261125-b')?.message, 'step 5: the loss is not finite');
  assert.equal(model.get('20261125-b')?.dataParallel, undefined, 'one process');
  model.apply({ type: 'event', event: 'state', runId: '20261125-b', data: { id: '20261125-b', state: 'running', step: 4, steps: 10, backend: 'wasm', dataParallel: 2, updatedAt: 'x' } });
  assert.equal(model.get('20261125-b')?.dataParallel, 2, 'the replicas the state event names');
  model.setRuns([{ ...summary('20261125-b', 'running'), status: { ...summary('20261125-b', 'running').status!, dataParallel: 2 } }]);
  assert.equal(model.get('20261125-b')?.dataParallel, 2, 'and the listed status');
  model.apply(stopped);
  assert.equal(model.apply({ type: 'event', event: 'step', runId: 'unknown', data: step(1), coalesced: 0 }), undefined);
  assert.equal(model.apply({ type: 'event', event: 'log', level: 'info', message: 'x' }), undefined);

  // A refresh keeps the live figures of runs it still lists.
  model.setRuns([summary('20261125-b', 'running')]);
  assert.equal(model.get('20261125-b')?.layers.length, 1);
  assert.equal(model.has('20261125-a'), false);
});

test('load bar', () => {
  assert.equal(loadBar(0), '░░░░░░░░');
  assert.equal(loadBar(0.5), '████░░░░');
  assert.equal(loadBar(1.7), '████████');
});

test('an imported model keeps its source folder, and progress events change no run', () => {
  const model = new RunsModel();
  model.setRuns([{ ...summary('20261205-hf', 'stopped'), preset: 'imported', importedFrom: '/models/switch-base-8' }, summary('20261205-a', 'stopped')]);
  assert.equal(model.get('20261205-hf')?.importedFrom, '/models/switch-base-8');
  assert.equal(model.get('20261205-a')?.importedFrom, undefined);
  const progress: EngineEvent = { type: 'event', event: 'progress', task: 'importHf', folder: '/models/switch-base-8', done: 3, total: 10, message: 'reading shared.weight' };
  assert.equal(model.apply(progress), undefined);
});

test('experiments: listed newest first; an experiment event replaces its record or adds a new one; a run event leaves them alone', () => {
  const m = new RunsModel();
  const exp = (id: string, createdAt: string, state: 'running' | 'interrupted' | 'completed') => ({
    id,
    name: `${id}.json`,
    budget: { steps: 10 },
    runs: [{ name: 'switch', runId: null, state: 'pending' as const }],
    state,
    createdAt,
    updatedAt: createdAt,
  });
  m.setExperiments([exp('a', '2026-12-01T00:00:00Z', 'completed'), exp('b', '2026-12-02T00:00:00Z', 'interrupted')]);
  assert.deepEqual(m.experiments().map((e) => e.id), ['b', 'a']);
  m.applyExperiment(exp('b', '2026-12-02T00:00:00Z', 'running'));
  m.applyExperiment(exp('c', '2026-12-03T00:00:00Z', 'running'));
  assert.deepEqual(m.experiments().map((e) => `${e.id}:${e.state}`), ['c:running', 'b:running', 'a:completed']);
  const event: EngineEvent = { type: 'event', event: 'experiment', data: exp('a', '2026-12-01T00:00:00Z', 'running') };
  assert.equal(m.apply(event), undefined, 'the runs model does not take experiment events as run events');
  assert.equal(m.experiment('a')?.state, 'completed');
  m.setExperiments([]);
  assert.deepEqual(m.experiments(), []);
});

test("rows for a producer's partial records say what was logged and nothing else", () => {
  assert.equal(layerDescription(layer), 'overflow 20.0% · entropy 0.72');
  const gate = { layer: 'mixtral.gate', numExperts: 4, routed: [5, 3, 2, 0], shares: [0.5, 0.3, 0.2, 0], loadCv: 0.6, normalizedEntropy: 0.9 };
  assert.equal(layerDescription(gate), 'entropy 0.90', 'no capacity: no overflow');
  assert.equal(layerDescription({ layer: 'm', numExperts: 4, routed: [5, 3, 2, 0], loadCv: 0.6 }), 'load CV 0.60', 'routed counts only');
  assert.equal(expertDescription(gate, 1).description, `${loadBar(0.3)} 30.0% · routed 3`);
  assert.equal(expertDescription({ layer: 'm', numExperts: 2, routed: [3, 1] }, 0).description, `${loadBar(0.75)} 75.0% · routed 3`, 'share from the counts');
  assert.equal(expertDescription(layer, 0).description, `${loadBar(0.5)} 50.0% · kept 3 · dropped 2`);
  assert.deepEqual([lossText({ crossEntropy: 2, loss: 3 }), lossText({ loss: 3 }), lossText({})], [' · cross-entropy 2.000', ' · loss 3.000', '']);
});
