// A client that authenticates and then stops reading, while a run streams large step events at
// --event-rate 1000: the engine must hold a bounded amount for it (its memory must not follow the
// stream), a normal client must go on getting steps, and once the slow client reads again it must
// get a current step event that says how many it missed (`coalesced`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEFAULT_MESH_CONFIG } from '../../engine/mesh/meshConfig';
import { cleanUp, ensureBuilt, makeCorpus, RawClient, rssMb, startEngine, tempDir, type Engine } from './server-harness';

/** Fast steps (a few tens of ms); a 4 x 128 device mesh makes each step event ~240 KB. */
const FAST = {
  model: { dModel: 16, dKv: 4, dFf: 32, numHeads: 2, numExperts: 4 },
  training: { batchSize: 1, inputLength: 16, vocabSize: 512, validateEvery: 50, checkpointEvery: 100_000, validationBatches: 1 },
};
const MESH = { ...DEFAULT_MESH_CONFIG, shape: { data: 4, model: 128 } };
/** Allowed growth of the engine's resident memory while the slow client stalls, MB. */
const MAX_GROWTH_MB = 100;
/**
 * The stall lasts at least this long, and until the stream carried 1.5 x the allowed growth, however
 * long that takes on a busy machine (MAX_STALL_MS only ends a run that stopped streaming).
 */
const MIN_STALL_MS = 20_000;
const MAX_STALL_MS = 600_000;

interface Summary {
  type?: string;
  event?: string;
  id?: unknown;
  step?: number;
  coalesced?: number;
  bytes: number;
}
/** Keeps a message's gist, not its ~240 KB of mesh. */
function summarize(m: unknown): Summary {
  const x = m as { type?: string; event?: string; id?: unknown; coalesced?: number; data?: { step?: number } };
  return { type: x.type, event: x.event, id: x.id, step: x.data?.step, coalesced: x.coalesced, bytes: JSON.stringify(m).length };
}
const isStepSummary = (m: unknown) => (m as Summary).event === 'step';

let engine: Engine;
let normal: RawClient;
let corpus: string;

before(async () => {
  ensureBuilt();
  const dir = tempDir('slow');
  corpus = makeCorpus(dir);
  engine = await startEngine(join(dir, 'runs'), { args: ['--event-rate', '1000'] });
});

after(async () => {
  normal?.ws.close();
  await cleanUp();
});

/** Every consecutive pair of step events: `coalesced` counts exactly the steps in between. */
function assertAccounted(label: string, steps: Summary[]): void {
  for (let i = 1; i < steps.length; i++) {
    const [a, b] = [steps[i - 1], steps[i]];
    assert.equal(b.coalesced, (b.step as number) - (a.step as number) - 1, `${label}: step ${b.step} after ${a.step}`);
  }
}

test('a client that stops reading costs the engine bounded memory, and on reading again gets a current step with coalesced > 0', async (t) => {
  normal = await RawClient.hello(engine, summarize);
  normal.send({ type: 'request', id: 'start', method: 'startTraining', params: { preset: 'tiny', steps: 1_000_000, corpus, config: FAST, mesh: MESH } });
  const started = (await normal.messages.waitFor((m) => (m as Summary).id === 'start', 'the startTraining reply')) as Summary;
  assert.equal(started.type, 'response');
  const normalSteps = () => normal.messages.items.filter(isStepSummary) as Summary[];
  const lastNormal = () => normalSteps().at(-1)?.step ?? 0;
  const warm = (await normal.messages.waitFor((m) => isStepSummary(m) && ((m as Summary).step ?? 0) >= 30, 'step 30', 120_000)) as Summary;
  assert.ok(warm.bytes > 150_000, `a step event is ${warm.bytes} bytes`);

  const slow = await RawClient.hello(engine, summarize);
  await slow.messages.waitFor(isStepSummary, 'the slow client’s first step event');
  slow.ws.pause(); // stops reading its socket (ws calls _socket.pause())
  const pausedAtStep = lastNormal();
  const slowMark = slow.messages.mark;
  const rss0 = rssMb(engine.pid);
  const bytes0 = normal.bytes;
  let rssMax = rss0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(engine.pid))), 500);
  const t0 = performance.now();
  try {
    // The signal: how much the stream carried. At least MIN_STALL_MS, and enough volume to matter.
    while (performance.now() - t0 < MAX_STALL_MS) {
      const elapsed = performance.now() - t0;
      if (elapsed >= MIN_STALL_MS && normal.bytes - bytes0 > 1.5 * MAX_GROWTH_MB * 2 ** 20) break;
      await normal.messages.waitFor(isStepSummary, 'a step event during the stall', 30_000, normal.messages.mark);
    }
  } finally {
    clearInterval(sampler);
  }
  const stallSeconds = (performance.now() - t0) / 1000;
  const rss1 = rssMb(engine.pid);
  const streamedMb = (normal.bytes - bytes0) / 2 ** 20;
  const resumedAtStep = lastNormal();
  t.diagnostic(
    `stall ${stallSeconds.toFixed(1)} s: steps ${pausedAtStep} -> ${resumedAtStep}, ${streamedMb.toFixed(0)} MB streamed to the normal client; ` +
      `engine RSS ${rss0.toFixed(0)} -> ${rss1.toFixed(0)} MB (max ${rssMax.toFixed(0)})`,
  );
  assert.ok(streamedMb > MAX_GROWTH_MB, `the stream (${streamedMb.toFixed(0)} MB) was larger than the memory bound, so the bound means something`);
  assert.ok(rss1 - rss0 < MAX_GROWTH_MB, `RSS grew ${(rss1 - rss0).toFixed(0)} MB`);
  assert.ok(rssMax - rss0 < MAX_GROWTH_MB, `RSS peaked ${(rssMax - rss0).toFixed(0)} MB above the start`);
  assert.ok(resumedAtStep > pausedAtStep + 50, `the normal client saw training go on (${pausedAtStep} -> ${resumedAtStep})`);
  assertAccounted('normal client', normalSteps());
  assert.equal(slow.ws.readyState, slow.ws.OPEN, 'the slow client was not dropped');

  slow.ws.resume();
  const caughtUp = (await slow.messages.waitFor((m) => isStepSummary(m) && ((m as Summary).coalesced ?? 0) > 0, 'a step event with coalesced > 0', 60_000, slowMark)) as Summary;
  assert.ok((caughtUp.step as number) >= resumedAtStep, `the step it gets (${caughtUp.step}) is current (>= ${resumedAtStep})`);
  const slowSteps = slow.messages.items.filter(isStepSummary) as Summary[];
  const receivedInStall = slowSteps.filter((s) => (s.step as number) > pausedAtStep && (s.step as number) <= (caughtUp.step as number)).length;
  t.diagnostic(`the slow client got ${receivedInStall} step events for ${(caughtUp.step as number) - pausedAtStep} steps; coalesced ${caughtUp.coalesced} into step ${caughtUp.step}`);
  assert.ok(receivedInStall < ((caughtUp.step as number) - pausedAtStep) / 2, 'most of the stalled steps were coalesced, not buffered');
  assertAccounted('slow client', slowSteps);
  // And it streams normally again.
  await slow.messages.waitFor((m) => isStepSummary(m) && ((m as Summary).step as number) > (caughtUp.step as number), 'a step after catching up', 30_000);
  slow.ws.close();

  normal.send({ type: 'request', id: 'stop', method: 'stop', params: {} });
  assert.equal(((await normal.messages.waitFor((m) => (m as Summary).id === 'stop', 'the stop reply', 60_000)) as Summary).type, 'response');
});
