import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardInboundSchema, dashboardOutboundSchema, routingInboundSchema, routingOutboundSchema } from '../../engine/protocol';
import { check, describeValue } from '../../webview/shared/validate';
import { inference, mesh, RUN_ID, step, summary, validation } from './fixtures';

test('the fixtures are valid protocol messages', () => {
  for (const m of [
    { type: 'init', run: summary(), history: [step(1), validation(1), step(2, { mesh: mesh() })], totalSteps: 2 },
    { type: 'step', runId: RUN_ID, data: step(3) },
    { type: 'validation', runId: RUN_ID, data: validation(3) },
    { type: 'empty', message: 'No run yet' },
  ]) {
    const r = check(dashboardInboundSchema, m);
    assert.ok(r.ok, r.ok ? '' : r.reason);
  }
  const r = check(routingInboundSchema, { type: 'routing', result: inference(), layer: 1 });
  assert.ok(r.ok, r.ok ? '' : r.reason);
  const notes = [{ layer: 'encoder.block.1.layer.1', expert: 3, description: 'NOUN 54% · “ the”', details: ['Most taken: “ the” ×310'] }];
  assert.ok(check(routingInboundSchema, { type: 'experts', runId: RUN_ID, notes }).ok);
  assert.ok(check(routingInboundSchema, { type: 'experts', runId: RUN_ID, why: 'it shows once the run stops training' }).ok);
  const bad = check(routingInboundSchema, { type: 'experts', runId: RUN_ID, notes: [{ ...notes[0], details: 'one line' }] });
  assert.match(bad.ok ? '' : bad.reason, /details/);
});

test('invalid inbound messages are refused with the bad fields named', () => {
  const bad = check(dashboardInboundSchema, { type: 'step', runId: RUN_ID, data: { ...step(1), step: -1 } });
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.reason, /data\.step/);
  assert.equal(check(dashboardInboundSchema, { type: 'nope' }).ok, false);
  assert.equal(check(dashboardInboundSchema, 'step').ok, false);
  assert.equal(check(routingInboundSchema, { type: 'routing', result: { ...inference(), runId: 'a b' }, layer: 0 }).ok, false);
  assert.equal(describeValue({ type: 'step' }), "'step' message");
  assert.equal(describeValue(null), 'object');
  assert.equal(describeValue('x'), 'string');
  assert.equal(describeValue({}), 'object without a type');
});

test('what the webviews post satisfies the outbound schemas, and only that', () => {
  for (const m of [{ type: 'ready' }, { type: 'ready', runId: RUN_ID }, { type: 'command', command: 'pause' }, { type: 'command', command: 'resume' }, { type: 'command', command: 'stop' }]) {
    assert.ok(check(dashboardOutboundSchema, m).ok, JSON.stringify(m));
  }
  assert.equal(check(dashboardOutboundSchema, { type: 'command', command: 'restart' }).ok, false);
  for (const m of [{ type: 'ready' }, { type: 'selectLayer', layer: 1 }, { type: 'revealToken', index: 0 }]) assert.ok(check(routingOutboundSchema, m).ok);
  assert.equal(check(routingOutboundSchema, { type: 'revealToken', index: -1 }).ok, false);
});
