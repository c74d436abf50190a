import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from './native.js';

test('monotonic clock advances', () => {
  const a = native.nowNs();
  const b = native.nowNs();
  assert.ok(b >= a);
});
