import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram } from './latency.js';

test('percentiles follow the recorded distribution within 3 significant digits', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 10_000; i++) h.recordNs(i * 1000);
  const s = h.summary();
  assert.equal(s.count, 10_000);
  assert.ok(Math.abs(s.p50Ns - 5_000_000) / 5_000_000 < 0.002, `p50 ${s.p50Ns}`);
  assert.ok(Math.abs(s.p99Ns - 9_900_000) / 9_900_000 < 0.002, `p99 ${s.p99Ns}`);
  assert.equal(s.clamped, 0);
});

test('out-of-range samples are clamped and counted, never thrown', () => {
  const h = new LatencyHistogram();
  h.recordNs(-5);
  h.recordNs(Number.NaN);
  h.recordNs(1e15);
  assert.equal(h.count, 3);
  assert.equal(h.clamped, 3);
  h.reset();
  assert.equal(h.count, 0);
  assert.ok(Number.isNaN(h.summary().p50Ns));
});
