// Training, in the real extension host with the real engine: Start Training spawns the engine and its
// step events arrive; the Runs tree shows the run, its sparse layers and their experts with the
// counts of those events; Pause, Resume and Stop return the run's status and the engine says so in
// state events; the dashboard opens on the run.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EngineEvent, RunStatus, RunSummary } from '../../../engine/protocol';
import { stepMetricsSchema } from '../../../engine/train/metrics';
import type { SwitchyardApi } from '../../../extension/extension';
import { ensureEngine, enginePid, EventLog, getApi, isState, isStep, label, smallChoice, spyErrorMessages, treeChildren } from './helpers';

const STEPS = 40;

suite('training', () => {
  let api: SwitchyardApi;
  let log: EventLog;

  suiteSetup(async () => {
    api = await getApi();
  });

  setup(() => {
    log = new EventLog(api);
  });

  teardown(async () => {
    log.dispose();
    // Leave no run training for the next test or suite.
    const active = api.engine.state.state === 'running' ? (await api.engine.request('status', {})).activeRun : null;
    if (active) await api.engine.request('stop', { runId: active.id });
  });

  let trained: RunSummary | undefined;
  let lastStep: Extract<EngineEvent, { event: 'step' }> | undefined;

  test('Start Training on tiny spawns the real engine and its step events arrive', async function () {
    this.timeout(180_000);
    await vscode.commands.executeCommand('switchyard.restartEngine');
    const pid = enginePid(api);
    const run = await vscode.commands.executeCommand<RunSummary | undefined>('switchyard.startTraining', smallChoice(STEPS));
    assert.ok(run, 'switchyard.startTraining returned nothing');
    assert.equal(run.preset, 'tiny');
    assert.equal(run.router, 'switch');
    assert.equal(run.numExperts, 4);
    assert.ok(run.layers.length >= 2, `sparse layers: ${run.layers.join(', ')}`);
    // The engine that trains is a real process of its own.
    assert.doesNotThrow(() => process.kill(pid, 0), `engine pid ${pid} is not alive`);
    assert.notEqual(pid, process.pid);

    const first = await log.waitFor(`a step event of ${run.id}`, isStep(run.id), 120_000);
    // The engine's own runs carry every field of a step record (an external producer's need not).
    const firstData = stepMetricsSchema.parse(first.data);
    assert.equal(first.data.layers.length, run.layers.length);
    assert.deepEqual(
      first.data.layers.map((l) => l.layer),
      run.layers,
    );
    for (const l of firstData.layers) {
      assert.equal(l.routed.length, 4, `${l.layer} routed ${JSON.stringify(l.routed)}`);
      assert.equal(l.kept.length, 4);
      assert.equal(l.routed.reduce((s, x) => s + x, 0), l.assignments);
    }
    assert.ok(Number.isFinite(firstData.loss) && firstData.loss > 0, `loss ${firstData.loss}`);

    await log.waitFor(`${run.id} completed`, isState(run.id, 'completed'), 120_000);
    // The last step event can follow the state event by one event interval (step events are paced).
    lastStep = await log.waitFor(`the final step event of ${run.id}`, isStep(run.id, STEPS), 10_000);
    const steps = log.steps(run.id).map((e) => e.data.step);
    assert.deepEqual(
      steps,
      [...steps].sort((a, b) => a - b),
      `step events out of order: ${steps.join(',')}`,
    );
    assert.ok(
      log.events.some((e) => e.event === 'validation' && e.runId === run.id),
      'no validation event',
    );
    assert.deepEqual(log.states(run.id), ['running', 'completed']);
    trained = run;
  });

  test('the Runs tree shows the run, its sparse layers and experts with the counts of the step events', async function () {
    this.timeout(120_000);
    if (!trained || !lastStep) this.skip();
    const run = trained!;
    const step = { data: stepMetricsSchema.parse(lastStep!.data) };
    const runs = await treeChildren(api);
    const mine = runs.find((r) => label(r.item) === run.id);
    assert.ok(mine, `the tree lists ${runs.map((r) => label(r.item)).join(', ')}, not ${run.id}`);
    assert.equal(mine.item.contextValue, 'run.completed');
    assert.match(String(mine.item.description), new RegExp(`^tiny · switch ×4 · step ${STEPS}/${STEPS} · cross-entropy ${step.data.crossEntropy.toFixed(3)}$`));

    const layers = await treeChildren(api, mine.node);
    assert.deepEqual(
      layers.map((l) => label(l.item)),
      run.layers,
    );
    for (const l of layers) {
      const metrics = step.data.layers.find((m) => m.layer === label(l.item));
      assert.ok(metrics, `no metrics for ${label(l.item)}`);
      assert.equal(l.item.description, `overflow ${(100 * metrics.overflowRate).toFixed(1)}% · entropy ${metrics.normalizedEntropy.toFixed(2)}`);
      // Router health in the tooltip: MaxVio and the share of active experts, as the step record has them.
      const mean = metrics.assignments / 4;
      const vio = (Math.max(...metrics.routed) - mean) / mean;
      assert.match(String(l.item.tooltip), new RegExp(`\\nMaxVio ${vio.toFixed(2)} .*\\n${((100 * metrics.routed.filter((r) => r > 0).length) / 4).toFixed(0)}% of the experts took tokens`), String(l.item.tooltip));
      const experts = await treeChildren(api, l.node);
      assert.deepEqual(
        experts.map((e) => label(e.item)),
        ['expert 0', 'expert 1', 'expert 2', 'expert 3'],
      );
      experts.forEach((e, i) => {
        const kept = metrics.kept[i];
        const dropped = metrics.routed[i] - kept;
        assert.match(String(e.item.description), new RegExp(` · kept ${kept} · dropped ${dropped}( · |$)`), `${label(l.item)} ${label(e.item)}`);
        assert.match(String(e.item.tooltip), new RegExp(`^${metrics.routed[i]} assignments routed, ${kept} kept, ${dropped} dropped`));
      });
    }
  });

  test('Pause, Resume and Stop return the run status, and state events follow', async function () {
    this.timeout(180_000);
    await ensureEngine(api);
    const run = await vscode.commands.executeCommand<RunSummary | undefined>('switchyard.startTraining', smallChoice(100_000));
    assert.ok(run, 'switchyard.startTraining returned nothing');
    await log.waitFor(`a step event of ${run.id}`, isStep(run.id), 120_000);

    const paused = await vscode.commands.executeCommand<RunStatus | undefined>('switchyard.pauseTraining', run.id);
    assert.equal(paused?.state, 'paused', JSON.stringify(paused));
    assert.equal(paused.id, run.id);
    await log.waitFor(`${run.id} paused`, isState(run.id, 'paused'), 10_000);
    assert.equal(api.runs.get(run.id)?.state, 'paused');
    assert.equal(api.runsTree.getTreeItem({ kind: 'run', runId: run.id }).contextValue, 'run.paused');
    // While paused, status says so and the step stays put.
    const status = await api.engine.request('status', {});
    assert.equal(status.activeRun?.state, 'paused');
    assert.equal(status.activeRun.step, paused.step);

    const resumed = await vscode.commands.executeCommand<RunStatus | undefined>('switchyard.resumeTraining', run.id);
    assert.equal(resumed?.state, 'running', JSON.stringify(resumed));
    await log.waitFor(`a step after ${paused.step} once resumed`, isStep(run.id, paused.step + 1), 60_000);
    await log.waitFor(
      `${run.id} running again`,
      (e) => isState(run.id, 'running')(e) && log.events.indexOf(e) > log.events.findIndex(isState(run.id, 'paused')),
      10_000,
    );

    // Stop: without an argument, it stops the run that trains; it answers after the final checkpoint.
    const stopped = await vscode.commands.executeCommand<RunStatus | undefined>('switchyard.stopTraining');
    assert.equal(stopped?.state, 'stopped', JSON.stringify(stopped));
    assert.equal(stopped.id, run.id);
    assert.ok(stopped.step > paused.step, `stopped at ${stopped.step}, paused at ${paused.step}`);
    await log.waitFor(`${run.id} stopped`, isState(run.id, 'stopped'), 10_000);
    assert.deepEqual(log.states(run.id), ['running', 'paused', 'running', 'stopped']);
    assert.equal(api.runsTree.getTreeItem({ kind: 'run', runId: run.id }).contextValue, 'run.stopped');
    assert.equal((await api.engine.request('status', {})).activeRun, null);

    // A control with no run training says so instead of failing silently.
    const spy = spyErrorMessages();
    try {
      const again = await vscode.commands.executeCommand<RunStatus | undefined>('switchyard.pauseTraining', run.id);
      assert.equal(again, undefined);
      assert.deepEqual(
        spy.messages.map((m) => m.text),
        ['Switchyard: could not pause training: no run is training'],
      );
    } finally {
      spy.restore();
    }
  });

  test('Open Dashboard opens on the newest run and loads its data once', async function () {
    this.timeout(60_000);
    await ensureEngine(api);
    await vscode.commands.executeCommand('switchyard.refreshRuns');
    const newest = api.runs.list()[0];
    assert.ok(newest, 'no run listed');
    // Count the engine requests the dashboard makes (the panel holds the same EngineManager).
    const engine = api.engine as { request: (...args: unknown[]) => Promise<unknown> };
    const request = engine.request;
    const methods: unknown[] = [];
    engine.request = function (this: unknown, ...args: unknown[]) {
      methods.push(args[0]);
      return request.apply(this, args);
    };
    try {
      const shown = await vscode.commands.executeCommand<{ runId: string | undefined }>('switchyard.openDashboard');
      assert.equal(shown.runId, newest.id);
      assert.equal(api.dashboard.visibleRunId, newest.id);
      await new Promise((r) => setTimeout(r, 1500)); // a second load would follow within this
      // A finished run's Specialisation section asks for its analysis once, besides the data; a run
      // listed as running may have finished by the time the dashboard reads it (then it may ask too).
      const finishedBefore = newest.state !== 'running' && newest.state !== 'paused';
      const analyses = methods.slice(2);
      assert.deepEqual(methods.slice(0, 2), ['listRuns', 'getMetrics'], 'one listRuns and one getMetrics for one open');
      assert.deepEqual(analyses, finishedBefore || analyses.length > 0 ? ['analyzeRun'] : [], 'and one analyzeRun for a finished run');
    } finally {
      engine.request = request;
    }
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
