import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlState, isLiveState, NO_CONTROLS } from '../../webview/dashboard/controls';
import { FrameScheduler } from '../../webview/dashboard/scheduler';
import { status } from './fixtures';

test('commands offered by run state', () => {
  assert.deepEqual(controlState(status('running'), true), { pause: true, resume: false, stop: true });
  assert.deepEqual(controlState(status('paused'), true), { pause: false, resume: true, stop: true });
  assert.deepEqual(controlState(status('stopped'), true), NO_CONTROLS);
  assert.deepEqual(controlState(status('completed'), true), NO_CONTROLS);
  assert.deepEqual(controlState(null, true), NO_CONTROLS);
  assert.deepEqual(controlState(status('running'), false), NO_CONTROLS, 'not the engine’s active run');
  assert.deepEqual(controlState(status('running'), true, true), NO_CONTROLS, 'a command awaits its state');
  assert.equal(isLiveState(status('paused')), true);
  assert.equal(isLiveState(status('completed')), false);
  assert.equal(isLiveState(null), false);
});

test('the scheduler draws one chart per frame, the longest-dirty first, each once per burst', () => {
  const frames: (() => void)[] = [];
  const drawn: string[] = [];
  const s = new FrameScheduler<string>((k) => drawn.push(k), (cb) => frames.push(cb));
  s.mark(['loss', 'overflow']);
  s.mark(['loss', 'heatmap']);
  assert.equal(frames.length, 1, 'one frame requested');
  assert.equal(s.pending, 3);
  frames.shift()!();
  assert.deepEqual(drawn, ['loss']);
  s.mark(['loss']);
  assert.equal(frames.length, 1);
  frames.shift()!();
  frames.shift()!();
  frames.shift()!();
  assert.deepEqual(drawn, ['loss', 'overflow', 'heatmap', 'loss']);
  assert.equal(frames.length, 0, 'no frame requested when nothing is dirty');
  s.mark(['a', 'b']);
  s.flushAll();
  assert.deepEqual(drawn.slice(-2), ['a', 'b']);
  assert.equal(s.isDirty('a'), false);
  frames.shift()!();
  assert.equal(drawn.length, 6, 'a stale frame draws nothing');
});

test('a whole new picture (init, theme) is drawn in one frame', () => {
  const frames: (() => void)[] = [];
  const drawn: string[] = [];
  const s = new FrameScheduler<string>((k) => drawn.push(k), (cb) => frames.push(cb));
  s.mark(['a', 'b', 'c'], true);
  frames.shift()!();
  assert.deepEqual(drawn, ['a', 'b', 'c']);
  s.mark(['a', 'b']);
  frames.shift()!();
  assert.deepEqual(drawn, ['a', 'b', 'c', 'a'], 'live updates go back to one chart per frame');
});
