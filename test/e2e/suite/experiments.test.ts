// Experiments, in the real extension host with the real engine: Run Experiment on a tiny grid (its
// arguments skip the picks), the Experiments node of the Runs tree with its runs, Stop and Resume
// Experiment (the interrupted run carries on from its checkpoint), two runs at a time (both rows
// running at once, the status bar counting both, both stopped), the confirmation's estimate from
// the runs already measured (with three seeds, six runs), a bad grid named field by field; the
// Compare view with its Markdown and PNG exports; Distill and Fine-tune on a run; Train Experiment
// Longer… on the finished grid.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ExperimentSummary } from '../../../engine/experiments/experimentSchema';
import type { EngineEvent, RunSummary } from '../../../engine/protocol';
import type { CompareResult } from '../../../extension/commands/compareRuns';
import type { ExperimentChoice } from '../../../extension/commands/runExperiment';
import type { SwitchyardApi } from '../../../extension/extension';
import { ensureEngine, EventLog, getApi, isState, label, SMALL_CONFIG, spyErrorMessages, treeChildren } from './helpers';

const grid = (name: string, steps: number): ExperimentChoice => ({
  name,
  entries: [
    { name: 'switch', model: { router: 'switch' } },
    { name: 'dense', model: { router: 'dense' } },
  ],
  preset: 'tiny',
  config: SMALL_CONFIG,
  corpus: 'brown',
  steps,
  confirmed: true,
});

const isExperiment = (id: string, state: ExperimentSummary['state']) => (e: EngineEvent): e is Extract<EngineEvent, { event: 'experiment' }> =>
  e.event === 'experiment' && e.data.id === id && e.data.state === state;

/** The open Compare views' editor tabs. */
const compareTabs = () =>
  vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('switchyard.compare'));

async function experimentRows(api: SwitchyardApi, id: string) {
  await api.refreshRuns();
  const [group] = await treeChildren(api);
  assert.equal(label(group.item), 'Experiments', 'the Runs tree starts with the Experiments node');
  const experiments = await treeChildren(api, group.node);
  const row = experiments.find((x) => x.item.id === `experiment:${id}`);
  assert.ok(row, `experiment ${id} under Experiments: ${experiments.map((x) => x.item.id).join(', ')}`);
  return { row, runs: await treeChildren(api, row.node) };
}

suite('experiments', () => {
  let api: SwitchyardApi;
  let log: EventLog;
  let finished: ExperimentSummary | undefined;

  suiteSetup(async () => {
    api = await getApi();
    await ensureEngine(api);
  });
  setup(() => (log = new EventLog(api)));
  teardown(() => log.dispose());

  test('Run Experiment trains the grid one run after the other; the Experiments node groups its runs', async function () {
    this.timeout(300_000);
    const started = await vscode.commands.executeCommand<ExperimentSummary | undefined>('switchyard.runExperiment', grid('tiny-grid.json', 10));
    assert.ok(started, 'switchyard.runExperiment returned nothing');
    assert.equal(started.state, 'running');
    assert.deepEqual(started.runs.map((r) => r.name), ['switch', 'dense']);
    const done = await log.waitFor(`experiment ${started.id} completed`, isExperiment(started.id, 'completed'), 280_000);
    finished = done.data;
    assert.deepEqual(finished.runs.map((r) => r.state), ['completed', 'completed']);
    const { row, runs } = await experimentRows(api, started.id);
    assert.equal(label(row.item), 'tiny-grid.json');
    assert.equal(row.item.description, 'completed · 2/2 runs · 10 steps each');
    assert.equal(row.item.contextValue, 'experiment.completed');
    assert.deepEqual(runs.map((r) => label(r.item)), ['switch', 'dense']);
    for (const [i, r] of runs.entries()) {
      assert.match(String(r.item.description), /^completed · step 10\/10 · cross-entropy \d+\.\d{3}$/, `row ${label(r.item)}`);
      assert.equal(r.item.tooltip, finished.runs[i].runId);
      assert.equal(r.item.contextValue, 'run.completed', 'a run of an experiment has the run menu (Distill, Fine-tune…)');
    }
  });

  test("an experiment's Compare opens the Compare view on its runs; its table exports as Markdown and its charts as PNG", async function () {
    this.timeout(90_000);
    assert.ok(finished, 'needs the first test');
    const out = await vscode.commands.executeCommand<CompareResult | undefined>('switchyard.compareRuns', { experimentId: finished.id });
    assert.ok(out, 'switchyard.compareRuns returned nothing');
    assert.equal(compareTabs().length, 1, 'one Compare view open');
    assert.equal(compareTabs()[0].label, 'Switchyard: Compare');
    const shown = api.compare.current;
    assert.ok(shown, 'the view holds the comparison');
    assert.equal(shown.title, `Experiment tiny-grid.json (${finished.id})`);
    assert.deepEqual(shown.init.runs.map((r) => r.name), ['switch', 'dense'], 'the runs by their grid names');
    assert.deepEqual(out.runIds, finished.runs.map((r) => r.runId));
    for (const r of shown.init.runs) {
      assert.equal(r.history.filter((x) => x.type === 'step').length, 10, `${r.name}: every step of the 10 charted`);
      assert.equal(r.clock.length, 11, `${r.name}: a training time for each step and the validation at step 0`);
    }
    assert.deepEqual(out.columns.slice(0, 4), ['run', 'state', 'steps', 'val CE @ step 10']);
    assert.equal(out.rows.length, 2);
    for (const row of out.rows) assert.match(row.slice(0, 6).join(' | '), /^(switch|dense) \| completed \| 10 \| \d+\.\d{3} \| \d+\.\d{3} \| \d+\.\d{3}$/);
    assert.deepEqual(out.rows.find((r) => r[0] === 'dense')!.slice(-5), ['—', '—', '—', '—', 'no'], 'a dense run has no overflow, load CV or entropy');
    assert.match(out.rows.find((r) => r[0] === 'switch')![8], /^\d+\.\d%$/, 'the switch run has an overflow mean');

    const dir = mkdtempSync(join(tmpdir(), 'switchyard-compare-'));
    try {
      const md = await vscode.commands.executeCommand<string | undefined>('switchyard.exportCompareMarkdown', { path: join(dir, 'results.md') });
      assert.equal(md, join(dir, 'results.md'));
      const text = readFileSync(md, 'utf8');
      assert.equal(text, out.markdown, 'the file holds the results table');
      const lines = text.split('\n');
      assert.equal(lines[0], `# Experiment tiny-grid.json (${finished.id})`);
      assert.equal(lines.find((l) => l.startsWith('| run |')), `| ${out.columns.join(' | ')} |`);
      for (const row of out.rows) assert.ok(lines.includes(`| ${row.join(' | ')} |`), `row ${row[0]} in results.md`);
      for (const chart of ['loss-step', 'loss-time', 'overflow', 'heatmap-0', 'heatmap-1']) {
        const file = await vscode.commands.executeCommand<string | undefined>('switchyard.exportComparePng', { chart, path: join(dir, `${chart}.png`) });
        assert.equal(file, join(dir, `${chart}.png`), chart);
        const png = readFileSync(file);
        assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${chart}: a PNG`);
        const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
        assert.ok(width >= 200 && height >= 100, `${chart}: ${width}×${height} px`);
        assert.ok(png.length > 2_000, `${chart}: ${png.length} bytes, more than a blank canvas`);
      }
      const errors = spyErrorMessages();
      try {
        assert.equal(await vscode.commands.executeCommand('switchyard.exportComparePng', { chart: 'heatmap-7', path: join(dir, 'x.png') }), undefined);
        assert.equal(await vscode.commands.executeCommand('switchyard.exportComparePng', { chart: 'nope', path: join(dir, 'x.png') }), undefined);
        assert.deepEqual(errors.messages.map((m) => m.text), [
          'Switchyard: could not export: no chart heatmap-7 in this Compare view',
          'Switchyard: not a chart of the Compare view: "nope"',
        ]);
        assert.equal(existsSync(join(dir, 'x.png')), false, 'nothing written');
      } finally {
        errors.restore();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const ids = finished.runs.map((r) => r.runId!);
    const selection = await vscode.commands.executeCommand<CompareResult | undefined>('switchyard.compareRuns', { runId: ids[0] }, ids.map((runId) => ({ kind: 'run', runId })));
    assert.ok(selection);
    assert.equal(compareTabs().length, 1, 'the same view shows the new selection');
    assert.deepEqual(selection.names, ids, 'runs picked in the tree go by their ids');
    assert.deepEqual(selection.rows.map((r) => r.slice(0, 3)), ids.map((id) => [id, 'completed', '10']));
    const errors = spyErrorMessages();
    try {
      assert.equal(await vscode.commands.executeCommand('switchyard.compareRuns', { runId: ids[0] }, [{ kind: 'run', runId: ids[0] }]), undefined);
      assert.match(errors.messages[0]?.text ?? '', /^Switchyard: select two or more runs to compare/);
    } finally {
      errors.restore();
    }
    await vscode.window.tabGroups.close(compareTabs());
    assert.equal(api.compare.current, null, 'closed');
  });

  test('the confirmation estimates the time from the runs measured here; a bad grid names its field', async function () {
    this.timeout(60_000);
    const params = grid('tiny-grid.json', 100);
    delete params.confirmed;
    const plan = await api.engine.request('planExperiment', params);
    assert.deepEqual(plan.runs.map((r) => `${r.name}:${r.router}`), ['switch:switch', 'dense:dense']);
    assert.ok(plan.seconds !== null && plan.seconds > 0, `estimate: ${JSON.stringify(plan)}`);
    assert.match(plan.basis, /^100 steps × 2 runs at the speed of earlier runs here \(2 of 2 of the same shape/);
    // Three seeds: every entry with seed 0, then 1, then 2; the estimate counts all six runs.
    const seeded = await api.engine.request('planExperiment', { ...params, seeds: 3 });
    assert.deepEqual(
      seeded.runs.map((r) => `${r.name}:${r.entry}:${r.seed}`),
      ['switch-seed0:switch:0', 'dense-seed0:dense:0', 'switch-seed1:switch:1', 'dense-seed1:dense:1', 'switch-seed2:switch:2', 'dense-seed2:dense:2'],
    );
    assert.match(seeded.basis, /^100 steps × 6 runs at the speed/);
    assert.ok(seeded.seconds !== null && Math.abs(seeded.seconds - 3 * plan.seconds) < 1e-6 * plan.seconds, `three times the one-seed estimate: ${seeded.seconds} vs ${plan.seconds}`);
    const errors = spyErrorMessages();
    try {
      const bad = await vscode.commands.executeCommand('switchyard.runExperiment', { ...grid('bad.json', 10), entries: [{ model: { numExperts: -1 } }, { model: { router: 'nope' } }] });
      assert.equal(bad, undefined);
      assert.equal(errors.messages.length, 1, JSON.stringify(errors.messages));
      assert.match(errors.messages[0].text, /^Switchyard: could not run the experiment: grid: invalid config:.*\[0\]\.model\.numExperts: .*\[1\]\.model\.router: /s);
    } finally {
      errors.restore();
    }
  });

  test('Stop Experiment interrupts it after a checkpoint; Resume Experiment carries on the same run', async function () {
    this.timeout(300_000);
    const started = await vscode.commands.executeCommand<ExperimentSummary | undefined>('switchyard.runExperiment', grid('stop-grid.json', 40));
    assert.ok(started);
    const step = await log.waitFor('a step past 12 of the first run', (e) => e.event === 'step' && e.data.step > 12, 120_000);
    const stopped = await vscode.commands.executeCommand<ExperimentSummary | undefined>('switchyard.stopExperiment', { experimentId: started.id });
    assert.ok(stopped);
    assert.equal(stopped.state, 'interrupted');
    assert.equal(stopped.runs[0].state, 'running', 'the interrupted run is kept to resume');
    assert.equal(stopped.runs[1].state, 'pending');
    const firstRun = stopped.runs[0].runId;
    assert.equal(firstRun, step.event === 'step' ? step.runId : '');
    let { row } = await experimentRows(api, started.id);
    assert.equal(row.item.description, 'interrupted · 0/2 runs · 40 steps each');
    assert.equal(row.item.contextValue, 'experiment.interrupted');

    const resumed = await vscode.commands.executeCommand<ExperimentSummary | undefined>('switchyard.resumeExperiment', { experimentId: started.id });
    assert.ok(resumed);
    const done = await log.waitFor(`experiment ${started.id} completed`, isExperiment(started.id, 'completed'), 280_000);
    assert.equal(done.data.runs[0].runId, firstRun, 'the first run resumed, not restarted');
    ({ row } = await experimentRows(api, started.id));
    assert.equal(row.item.description, 'completed · 2/2 runs · 40 steps each');
    const metrics = await api.engine.request('getMetrics', { runId: firstRun! });
    const steps = metrics.records.filter((r) => r.type === 'step').map((r) => r.step);
    assert.equal(steps.at(-1), 40);
    assert.equal(new Set(steps).size, steps.length, 'no step trained twice');
  });

  test('Run Experiment two at a time trains both runs at once: both rows read running; Stop Experiment takes both, each kept to resume', async function () {
    this.timeout(180_000);
    const started = await vscode.commands.executeCommand<ExperimentSummary | undefined>('switchyard.runExperiment', { ...grid('side-grid.json', 400), parallel: 2 });
    assert.ok(started, 'switchyard.runExperiment returned nothing');
    assert.equal(started.parallel, 2);
    const both = await log.waitFor(
      'both runs training',
      (e): e is Extract<EngineEvent, { event: 'experiment' }> => e.event === 'experiment' && e.data.id === started.id && e.data.runs.every((r) => r.state === 'running'),
      60_000,
    );
    const ids = both.data.runs.map((r) => r.runId!);
    let row, runs;
    try {
      for (const id of ids) await log.waitFor(`step 3 of run ${id}`, (e) => e.event === 'step' && e.runId === id && e.data.step >= 3, 60_000);
      ({ row, runs } = await experimentRows(api, started.id));
      assert.equal(row.item.description, 'running · 0/2 runs · 400 steps each · 2 at a time');
      assert.deepEqual(runs.map((r) => label(r.item)), ['switch', 'dense']);
      for (const r of runs) assert.match(String(r.item.description), /^running · step \d+\/400/, `row ${label(r.item)} while both train`);
      assert.match(api.statusBar.text, /Switchyard: 2 runs training · steps \d+, \d+$/, `the status bar counts both: ${api.statusBar.text}`);
    } catch (err) {
      await api.engine.request('stopExperiment', { id: started.id }, 120_000); // the next tests need the engine idle
      throw err;
    }

    const stopped = await vscode.commands.executeCommand<ExperimentSummary | undefined>('switchyard.stopExperiment', { experimentId: started.id });
    assert.ok(stopped);
    assert.equal(stopped.state, 'interrupted');
    assert.deepEqual(stopped.runs.map((r) => [r.runId, r.state]), ids.map((id) => [id, 'running']), 'both interrupted runs are kept to resume');
    ({ row, runs } = await experimentRows(api, started.id));
    assert.equal(row.item.description, 'interrupted · 0/2 runs · 400 steps each · 2 at a time');
    for (const r of runs) assert.match(String(r.item.description), /^interrupted · step \d+\/400/, `row ${label(r.item)} after the stop`);
    assert.match(api.statusBar.text, /Switchyard: stopped at step \d+$/);
  });

  test('Distill on a Switch run makes a dense student; Fine-tune… continues a run on the workspace files', async function () {
    this.timeout(240_000);
    assert.ok(finished, 'needs the first test');
    const teacher = finished.runs[0].runId!;
    const student = await vscode.commands.executeCommand<RunSummary | undefined>('switchyard.distillRun', { runId: teacher, steps: 5 });
    assert.ok(student, 'switchyard.distillRun returned nothing');
    assert.equal(student.router, 'dense');
    await log.waitFor(`student ${student.id} completed`, isState(student.id, 'completed'), 120_000);
    const corpus = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const tuned = await vscode.commands.executeCommand<RunSummary | undefined>('switchyard.finetuneRun', { runId: teacher, corpus, steps: 5 });
    assert.ok(tuned, 'switchyard.finetuneRun returned nothing');
    assert.equal(tuned.router, 'switch');
    await log.waitFor(`fine-tuned ${tuned.id} completed`, isState(tuned.id, 'completed'), 120_000);
    await api.refreshRuns();
    const rows = await treeChildren(api);
    for (const run of [student, tuned]) {
      const r = rows.find((x) => x.item.id === `run:${run.id}`);
      assert.ok(r, `run ${run.id} in the Runs tree`);
      assert.match(String(r.item.description), /step 5\/5/);
    }
    const errors = spyErrorMessages();
    try {
      assert.equal(await vscode.commands.executeCommand('switchyard.distillRun', { runId: student.id, steps: 5 }), undefined);
      assert.match(errors.messages[0]?.text ?? '', /^Switchyard: could not distill: .*is dense: distillation needs a Switch teacher/);
    } finally {
      errors.restore();
    }
  });

  test('Train Experiment Longer… trains the finished runs on from their last checkpoint: the rows read the new step count; fewer steps are refused', async function () {
    this.timeout(300_000);
    assert.ok(finished, 'needs the first test');
    const id = finished.id;
    const errors = spyErrorMessages();
    try {
      assert.equal(await vscode.commands.executeCommand('switchyard.trainExperimentLonger', { experimentId: id, steps: 5 }), undefined);
      assert.match(errors.messages[0]?.text ?? '', /^Switchyard: could not train experiment tiny-grid\.json longer: experiment \S+'s runs train to 10 steps already: give 10 or more to train them on$/);
    } finally {
      errors.restore();
    }
    const longer = await vscode.commands.executeCommand<ExperimentSummary | undefined>('switchyard.trainExperimentLonger', { experimentId: id, steps: 20 });
    assert.ok(longer, 'switchyard.trainExperimentLonger returned nothing');
    assert.equal(longer.state, 'running');
    assert.deepEqual(longer.budget, { steps: 20 });
    const done = await log.waitFor(`experiment ${id} completed again`, isExperiment(id, 'completed'), 280_000);
    assert.deepEqual(done.data.runs.map((r) => r.runId), finished.runs.map((r) => r.runId), 'the same runs, trained on');
    const { row, runs } = await experimentRows(api, id);
    assert.equal(row.item.description, 'completed · 2/2 runs · 20 steps each');
    for (const r of runs) assert.match(String(r.item.description), /^completed · step 20\/20 · cross-entropy \d+\.\d{3}$/, `row ${label(r.item)}`);
    for (const run of done.data.runs) {
      const steps = (await api.engine.request('getMetrics', { runId: run.runId! })).records.filter((r) => r.type === 'step').map((r) => r.step);
      assert.deepEqual(steps, Array.from({ length: 20 }, (_, i) => i + 1), `${run.name}: steps 11-20 follow 1-10, none twice`);
    }
  });
});
