import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DepthSync, Verdict } from './depth-sync.js';

test('the official procedure: buffer, drop stale, bridge, then chain by pu', () => {
  const s = new DepthSync();
  assert.equal(s.onEvent(90, 95, 89), Verdict.Buffer);
  s.onSnapshot(100);
  assert.equal(s.onEvent(90, 95, 89), Verdict.Stale);
  assert.equal(s.onEvent(96, 103, 95), Verdict.Apply, 'U <= 100 <= u bridges');
  assert.equal(s.state, 'live');
  assert.equal(s.onEvent(104, 110, 103), Verdict.Apply);
  // Futures U need not be previous u + 1: only pu counts.
  assert.equal(s.onEvent(120, 130, 110), Verdict.Apply);
  assert.equal(s.onEvent(131, 140, 125), Verdict.Gap);
  assert.equal(s.state, 'need-snapshot');
  assert.equal(s.gaps, 1);
});

test('a snapshot newer than the first buffered event that follows it is a gap', () => {
  const s = new DepthSync();
  s.onSnapshot(100);
  assert.equal(s.onEvent(105, 110, 104), Verdict.Gap);
  assert.equal(s.gaps, 1);
});

test('an event ending exactly at the snapshot id bridges', () => {
  const s = new DepthSync();
  s.onSnapshot(100);
  assert.equal(s.onEvent(95, 100, 94), Verdict.Apply);
  assert.equal(s.onEvent(101, 102, 100), Verdict.Apply);
});

test('an event whose pu is the snapshot id follows it directly: it bridges (the one ending at the snapshot came before this connection)', () => {
  const s = new DepthSync();
  s.onSnapshot(100);
  assert.equal(s.onEvent(104, 110, 100), Verdict.Apply);
  assert.equal(s.state, 'live');
  assert.equal(s.gaps, 0);
});

test('once live, a late event older than the snapshot (reordered behind the one that bridged) is stale, not a gap', () => {
  const s = new DepthSync();
  s.onSnapshot(110);
  assert.equal(s.onEvent(105, 110, 100), Verdict.Apply, 'bridges');
  assert.equal(s.onEvent(96, 100, 90), Verdict.Stale, 'the diff before it, delivered after it');
  assert.equal(s.onEvent(111, 115, 110), Verdict.Apply);
  // A repeat of the last applied event is not older than the snapshot: the chain breaks.
  assert.equal(s.onEvent(111, 115, 110), Verdict.Gap);
  assert.equal(s.gaps, 1);
});
