import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatInt, formatNumber, formatPercent, formatSeconds, niceTicks } from '../../webview/shared/format';

test('number formats for labels and tables', () => {
  assert.equal(formatInt(1234567), '1,234,567');
  assert.equal(formatNumber(2.345678), '2.346');
  assert.equal(formatNumber(0.012345, 3), '0.0123');
  assert.equal(formatNumber(123456), '123,456');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(1.5e-7), '1.5e-7');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatPercent(0.1234), '12.3%');
  assert.equal(formatPercent(1, 0), '100%');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(131072), '131 KB');
  assert.equal(formatBytes(2.5e9), '2.50 GB');
  assert.equal(formatSeconds(3.2e-6), '3.2 µs');
  assert.equal(formatSeconds(0.0123), '12.3 ms');
  assert.equal(formatSeconds(2.5), '2.5 s');
  assert.equal(formatSeconds(0), '0 s');
  assert.equal(formatSeconds(5e-10), '0.5 ns');
});

test('round step ticks', () => {
  assert.deepEqual(niceTicks(1, 630, 8), [100, 200, 300, 400, 500, 600]);
  assert.deepEqual(niceTicks(0, 10_000, 6), [0, 2000, 4000, 6000, 8000, 10_000]);
  assert.deepEqual(niceTicks(3, 7, 8), [3, 4, 5, 6, 7]);
  assert.deepEqual(niceTicks(5, 5), [5]);
  assert.deepEqual(niceTicks(0.5, 1.6, 3), [1]);
  assert.deepEqual(niceTicks(2, 1), []);
});
