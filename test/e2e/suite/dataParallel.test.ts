// Data-parallel training in the real extension host: the engine (dist/engine.js, the host's child
// process) starts its two replicas from dist/dataParallelWorker.js, trains, and the run's state
// events and the Runs tree's tooltip say it ran on 2 replicas.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunSummary } from '../../../engine/protocol';
import type { SwitchyardApi } from '../../../extension/extension';
import { ensureEngine, EventLog, getApi, isState, isStep, label, SMALL_CONFIG, smallChoice, treeChildren } from './helpers';

const STEPS = 4;

suite('data parallel', () => {
  let api: SwitchyardApi;

  suiteSetup(async () => {
    api = await getApi();
  });

  test('a run with training.dataParallel 2 trains on two replicas in the engine child process, and the Runs tree says so', async function () {
    this.timeout(180_000);
    await ensureEngine(api);
    const log = new EventLog(api);
    try {
      const choice = { ...smallChoice(STEPS), config: { ...SMALL_CONFIG, training: { ...SMALL_CONFIG.training, dataParallel: 2 } } };
      const run = await vscode.commands.executeCommand<RunSummary | undefined>('switchyard.startTraining', choice);
      assert.ok(run, 'switchyard.startTraining returned nothing');
      await log.waitFor(`${run.id} completed`, isState(run.id, 'completed'), 150_000);
      await log.waitFor(`the final step event of ${run.id}`, isStep(run.id, STEPS), 10_000);
      const states = log.events.filter((e) => e.event === 'state' && e.runId === run.id);
      assert.deepEqual(
        states.map((e) => (e.event === 'state' ? [e.data.state, e.data.dataParallel] : [])),
        [
          ['running', 2],
          ['completed', 2],
        ],
      );
      assert.ok(
        log.steps(run.id).every((e) => Number.isFinite(e.data.loss) && e.data.layers.length > 0),
        'every step has a finite loss and routing',
      );
      const mine = (await treeChildren(api)).find((r) => label(r.item) === run.id);
      assert.ok(mine, `the Runs tree lists ${run.id}`);
      assert.equal(String(mine.item.tooltip), `${run.id}\ncompleted\ndata-parallel: 2 replicas (worker threads)`);
    } finally {
      log.dispose();
    }
  });
});
