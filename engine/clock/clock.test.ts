import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FeedClock, VirtualClock, WallClock, type Clock } from './clock.js';

test('a feed clock follows the first source that stamps a price, never goes back, and ignores other sources', () => {
  const c = new FeedClock();
  assert.equal(c.known, false);
  assert.equal(c.observe(2, 0), false, 'an unstamped price says nothing of the time');
  assert.equal(c.known, false);
  const past = Date.now() - 86_400_000;
  assert.equal(c.observe(2, past), true);
  assert.equal(c.known, true);
  const t1 = c.nowMs();
  assert.ok(t1 >= past && t1 < past + 60_000, `${t1} runs on from the stamp ${past}`);
  assert.equal(c.observe(5, Date.now()), false, 'another source does not drag it');
  assert.ok(c.nowMs() < past + 60_000);
  assert.equal(c.observe(2, past - 10_000), true, 'an older stamp of its source is still its source');
  assert.ok(c.nowMs() >= t1, 'but does not move it back');
  assert.equal(c.observe(2, past + 3_600_000), true);
  assert.ok(c.nowMs() >= past + 3_600_000);
  const wall = Date.now();
  assert.ok(c.fromWall(wall) - wall >= 3_600_000 - 86_400_000 - 1_000, 'a receive stamp moves by the same offset');
});

test('a wall clock is known at once, reads the wall and follows no feed', () => {
  const c: Clock = new WallClock();
  assert.equal(c.known, true);
  assert.equal(c.observe(0, 1), false);
  const before = Date.now();
  const t = c.nowMs();
  assert.ok(t >= before && t <= Date.now());
  assert.equal(c.fromWall(123), 123);
});

test('a virtual clock moves only when set, never back', () => {
  const c = new VirtualClock(1_000);
  assert.equal(c.nowMs(), 1_000);
  assert.equal(c.wallMs(), 1_000);
  c.advance(500);
  assert.equal(c.nowMs(), 1_500);
  c.set(2_000);
  const asClock: Clock = c;
  assert.equal(asClock.fromWall(Date.now()), 2_000, 'events land at the virtual now');
  assert.throws(() => c.set(1_999), RangeError);
  assert.throws(() => c.advance(Number.NaN), RangeError);
  assert.equal(c.nowMs(), 2_000);
  assert.equal(asClock.observe(0, 5_000), false);
});
