import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FeedClock, VirtualClock } from './clock.js';
import { ClockTimers, wallTimers } from './timers.js';

test('engine-time timers run when the clock reaches them, earliest first, whatever the wall does', () => {
  const clock = new VirtualClock(1_000);
  const errors: unknown[] = [];
  const timers = new ClockTimers(clock, (e) => errors.push(e));
  const ran: string[] = [];
  timers.after(500, () => ran.push('b'));
  timers.after(100, () => ran.push('a'));
  timers.after(500, () => ran.push('c'));
  assert.equal(timers.nextDueMs, 1_100);
  assert.equal(timers.run(), 0, 'nothing is due at the start');
  clock.advance(99);
  assert.equal(timers.run(), 0);
  clock.advance(1);
  assert.equal(timers.run(), 1);
  assert.deepEqual(ran, ['a']);
  // A minute of engine time in one step: everything due runs at once, in due order, ties in the order set.
  clock.advance(60_000);
  assert.equal(timers.run(), 2);
  assert.deepEqual(ran, ['a', 'b', 'c']);
  assert.equal(timers.pending, 0);
  assert.equal(timers.nextDueMs, Infinity);
  assert.deepEqual(errors, []);
});

test('a cancelled engine-time timer never runs; one set by a callback waits for the next run; one that throws is reported and the rest run', () => {
  const clock = new VirtualClock(0);
  const errors: unknown[] = [];
  const timers = new ClockTimers(clock, (e) => errors.push(e));
  const ran: string[] = [];
  const gone = timers.after(10, () => ran.push('cancelled'));
  timers.after(20, () => {
    ran.push('first');
    timers.after(0, () => ran.push('set by first'));
  });
  timers.after(20, () => {
    throw new Error('boom');
  });
  timers.after(30, () => ran.push('after the throw'));
  timers.cancel(gone);
  timers.cancel(gone);
  assert.equal(timers.nextDueMs, 20);
  clock.set(30);
  assert.equal(timers.run(), 3);
  assert.deepEqual(ran, ['first', 'after the throw']);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /boom/);
  assert.equal(timers.nextDueMs, 30, 'the timer set from inside a run is due at once');
  assert.equal(timers.run(), 1);
  assert.deepEqual(ran, ['first', 'after the throw', 'set by first']);
  assert.equal(timers.after(Number.NaN, () => ran.push('nan')) !== undefined, true);
  assert.equal(timers.run(), 1, 'a NaN delay is as soon as possible');
});

test('a timer set on a feed clock before its first stamp keeps its remaining delay when the clock jumps to the recording', () => {
  const clock = new FeedClock();
  const timers = new ClockTimers(clock, (e) => assert.fail(String(e)));
  let ran = 0;
  timers.after(60_000, () => ran++);
  const recorded = Date.now() - 400 * 86_400_000;
  clock.observe(3, recorded);
  assert.equal(timers.run(), 0, 'not run by the jump');
  // The wall runs on between the stamp and the run (a millisecond, or a few on a busy machine).
  assert.ok(timers.nextDueMs > recorded && timers.nextDueMs <= recorded + 60_000 + 1_000, `due ${timers.nextDueMs - recorded} ms after the first stamp`);
  clock.observe(3, recorded + 50_000);
  assert.equal(timers.run(), 0);
  clock.observe(3, recorded + 61_000);
  assert.equal(timers.run(), 1);
  assert.equal(ran, 1);
});

test('wall timers run on the wall and cancel', async () => {
  let ran = 0;
  const h = wallTimers.after(1, () => ran++);
  wallTimers.cancel(wallTimers.after(1, () => ran++));
  await new Promise<void>((r) => wallTimers.after(20, r));
  assert.equal(ran, 1);
  wallTimers.cancel(h);
});
