// The outbox's order and coalescing, on events made by hand: each run's steps are held to the rate
// on their own, and a run's other events never overtake its held step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineEvent } from '../../engine/protocol';
import { Outbox } from '../../engine/server/outbox';

const step = (runId: string, n: number) => ({ type: 'event', event: 'step', runId, data: { step: n }, coalesced: 0 }) as unknown as EngineEvent;
const stopped = (runId: string, n: number) => ({ type: 'event', event: 'state', runId, data: { state: 'stopped', step: n } }) as unknown as EngineEvent;

/** An outbox at one step a second per run, and what it sent as `run:event:step(+coalesced)`. */
function outbox() {
  const sent: string[] = [];
  const box = new Outbox(
    (m) => {
      const e = JSON.parse(m) as { runId: string; event: string; data: { step: number }; coalesced?: number };
      sent.push(`${e.runId}:${e.event}:${e.data.step}${e.coalesced ? `+${e.coalesced}` : ''}`);
    },
    () => 0,
    { rate: 1, maxBuffered: 1 << 20, maxQueued: 16 },
  );
  return { box, sent };
}

test("two runs side by side: each run's steps coalesce on their own, and a run's stop follows its last step", () => {
  const { box, sent } = outbox();
  box.push(step('a', 1));
  box.push(step('b', 1)); // b's first goes at once: a's rate does not hold it
  box.push(step('a', 2));
  box.push(step('a', 3)); // held: a sent a step under a second ago; replaces a:2
  box.push(step('b', 2)); // held
  assert.deepEqual(sent, ['a:step:1', 'b:step:1']);
  box.push(stopped('a', 3));
  assert.deepEqual(sent, ['a:step:1', 'b:step:1', 'a:step:3+1', 'a:state:3'], "a's held step goes before its stop, b's stays held");
  box.drain();
  assert.deepEqual(sent.slice(4), ['b:step:2']);
  box.close();
});

test('a run stopped with no step held: its state goes at once, and a held step of another run is not lost', () => {
  const { box, sent } = outbox();
  box.push(step('a', 1));
  box.push(step('a', 2));
  box.push(stopped('b', 7));
  assert.deepEqual(sent, ['a:step:1', 'b:state:7']);
  box.drain();
  assert.deepEqual(sent, ['a:step:1', 'b:state:7', 'a:step:2']);
  box.close();
});
