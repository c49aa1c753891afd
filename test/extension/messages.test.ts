import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardInboundSchema, dashboardOutboundSchema, routingOutboundSchema } from '../../engine/protocol';

test('webview messages are validated in both directions', () => {
  assert.ok(dashboardOutboundSchema.safeParse({ type: 'ready' }).success);
  assert.ok(dashboardOutboundSchema.safeParse({ type: 'command', command: 'pause' }).success);
  assert.ok(!dashboardOutboundSchema.safeParse({ type: 'command', command: 'rm -rf' }).success);
  assert.ok(!dashboardOutboundSchema.safeParse({ type: 'ready', runId: '../etc' }).success, 'a run id cannot be a path');
  assert.ok(!routingOutboundSchema.safeParse({ type: 'revealToken', index: -1 }).success);
  assert.ok(!routingOutboundSchema.safeParse({ type: 'selectLayer', layer: 1.5 }).success);
  assert.ok(dashboardInboundSchema.safeParse({ type: 'empty', message: 'No run yet' }).success);
  assert.ok(!dashboardInboundSchema.safeParse({ type: 'step', runId: 'r', data: { step: 'x' } }).success);
});
