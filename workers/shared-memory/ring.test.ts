import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { EVENT_STAMP_BYTE, EventViews, newEventRecord, type EventRecord } from './event-layout.js';
import { fillTestEvent, type RingFixtureData, type RingFixtureMessage } from './ring.fixture.js';
import { Prng } from '../prng.js';
import { Ring, type RingConsumer, type RingProducer } from './ring.js';
import { native } from '../../engine/native.js';

const TWO32 = 4294967296;

function startProducer(data: RingFixtureData): { worker: Worker; done: Promise<{ produced: number; dropped: number }>; created: Promise<SharedArrayBuffer> } {
  const worker = new Worker(new URL('./ring.fixture.js', import.meta.url), { workerData: data });
  let onCreated: (sab: SharedArrayBuffer) => void = () => {};
  const created = new Promise<SharedArrayBuffer>((resolve) => (onCreated = resolve));
  const done = new Promise<{ produced: number; dropped: number }>((resolve, reject) => {
    worker.on('message', (m: RingFixtureMessage) => {
      if (m.type === 'created') onCreated(m.sab);
      else resolve(m);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`producer exited with ${code}`))));
  });
  return { worker, done, created };
}

/** Checks one received record against the generator; returns its venue sequence. */
class Verifier {
  private readonly got = newEventRecord();
  private readonly want = newEventRecord();
  lastVenueSeq = -1;
  received = 0;

  constructor(
    private readonly seed: number,
    private readonly views: EventViews,
  ) {}

  check(slot: number): void {
    const got = this.views.read(slot, this.got);
    if (!(got.seq > this.lastVenueSeq)) assert.fail(`venue seq ${got.seq} arrived after ${this.lastVenueSeq}`);
    fillTestEvent(this.seed, got.seq, this.want);
    assertSameEvent(got, this.want);
    this.lastVenueSeq = got.seq;
    this.received++;
  }
}

function assertSameEvent(got: EventRecord, want: EventRecord): void {
  // Field by field first: deepEqual on every record would dominate the run time.
  if (
    got.kind !== want.kind || got.flags !== want.flags || got.source !== want.source || got.token !== want.token ||
    got.recvNs !== want.recvNs || got.exchTsMs !== want.exchTsMs || got.seq !== want.seq || got.price !== want.price ||
    got.price2 !== want.price2 || got.size !== want.size || got.aux0 !== want.aux0 || got.aux1 !== want.aux1
  ) {
    assert.deepEqual(got, want);
  }
}

/** Claims up to `want` free slots, fills them with the seeded records from venue sequence `next` on, publishes them; returns how many. */
function publishSeeded(p: RingProducer, views: EventViews, seed: number, next: number, want: number, e: EventRecord): number {
  const n = p.tryClaim(want);
  for (let i = 0; i < n; i++) {
    fillTestEvent(seed, next + i, e);
    views.write(p.slot(i), e);
  }
  p.publish();
  return n;
}

function consumeBlocking(c: RingConsumer, v: Verifier, pauseEvery = 0): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let batches = 0;
  while (!c.done) {
    const n = c.waitForData(5000);
    if (n === 0 && !c.done) assert.fail('no data for 5 s and the producer did not close');
    for (let i = 0; i < n; i++) v.check(c.slot(i));
    c.release(n);
    // A consumer that naps makes a dropping producer drop.
    if (pauseEvery > 0 && ++batches % pauseEvery === 0) Atomics.wait(nap, 0, 0, 1);
  }
}

test('event record round-trips every field through the views', () => {
  const views = new EventViews(new SharedArrayBuffer(4 * 64), 0, 4);
  const e = newEventRecord();
  const out = newEventRecord();
  for (let s = 0; s < 4; s++) {
    fillTestEvent(7, 1000 + s, e);
    views.write(s, e);
  }
  for (let s = 0; s < 4; s++) {
    fillTestEvent(7, 1000 + s, e);
    assert.deepEqual(views.read(s, out), e);
    assert.equal(views.kind(s), e.kind);
    assert.equal(views.seq(s), 1000 + s);
  }
  // seq and recvNs are float64: exact up to 2^53.
  e.seq = 2 ** 53 - 1;
  e.recvNs = 2 ** 53 - 3;
  views.write(0, e);
  assert.equal(views.read(0, out).seq, 2 ** 53 - 1);
  assert.equal(out.recvNs, 2 ** 53 - 3);
  assert.throws(() => new EventViews(new SharedArrayBuffer(100), 0, 2), /do not fit/);
});

test('invalid construction gives clear errors', () => {
  assert.throws(() => Ring.create({ capacity: 0, fullPolicy: 'block' }), /capacity must be a power of two/);
  assert.throws(() => Ring.create({ capacity: 1000, fullPolicy: 'block' }), /capacity must be a power of two.*1000/);
  assert.throws(() => Ring.create({ capacity: 2 ** 31, fullPolicy: 'block' }), /capacity/);
  assert.throws(() => Ring.create({ capacity: 8, recordBytes: 48, fullPolicy: 'block' }), /recordBytes must be a power of two.*48/);
  assert.throws(() => Ring.create({ capacity: 8, fullPolicy: 'wait' as 'block' }), /fullPolicy must be 'block' or 'drop'/);
  assert.throws(() => Ring.create({ capacity: 8, fullPolicy: 'drop', firstSequence: -1 }), /firstSequence/);
  assert.throws(() => Ring.attach(new ArrayBuffer(1024) as unknown as SharedArrayBuffer), /expected a SharedArrayBuffer/);
  assert.throws(() => Ring.attach(new SharedArrayBuffer(16)), /smaller than the 576 B header/);
  assert.throws(() => Ring.attach(new SharedArrayBuffer(1024)), /bad header offset/);
  const noMagic = new SharedArrayBuffer(1024);
  new Int32Array(noMagic)[0] = 64;
  assert.throws(() => Ring.attach(noMagic), /bad magic/);
  const ring = Ring.create({ capacity: 8, fullPolicy: 'block' });
  const bigger = new SharedArrayBuffer(ring.sab.byteLength + 64);
  new Uint8Array(bigger).set(new Uint8Array(ring.sab));
  assert.throws(() => Ring.attach(bigger), /header says 8 x 64 B but the buffer is/);
  assert.throws(() => ring.consumer({ wait: 'poll' as 'spin' }), /wait must be/);
});

test('one producer and one consumer per ring; detach hands the role over', () => {
  const ring = Ring.create({ capacity: 4, fullPolicy: 'block' });
  const p = ring.producer();
  assert.throws(() => Ring.attach(ring.sab).producer(), /producer role is already taken/);
  const c = ring.consumer();
  assert.throws(() => ring.consumer(), /consumer role is already taken/);
  p.claim(1);
  p.publish();
  p.detach();
  const p2 = Ring.attach(ring.sab).producer();
  assert.equal(p2.sequence, 1, 'the new producer continues the sequence');
  c.detach();
  const c2 = ring.consumer();
  assert.equal(c2.available(), 1);
  assert.equal(c2.sequence, 0);
});

// The deadline is set on the first clock read, not on entry: a consumer that parks before its
// 1024th spin must still set it first (an unset deadline would make the park wait forever).
for (const [wait, spinsBeforePark] of [['spin', 10_000], ['spin-then-wait', 10_000], ['spin-then-wait', 5]] as const) {
  test(`waitForData on an empty open ring returns 0 once its timeout passed (${wait}, park after ${spinsBeforePark} spins)`, { timeout: 20_000 }, () => {
    const ring = Ring.create({ capacity: 8, fullPolicy: 'block' });
    const p = ring.producer();
    const c = ring.consumer({ wait, spinsBeforePark });
    for (const timeoutMs of [0, 1, 30]) {
      const t0 = performance.now();
      assert.equal(c.waitForData(timeoutMs), 0);
      assert.ok(performance.now() - t0 >= timeoutMs, `returned before its ${timeoutMs} ms timeout`);
    }
    p.claim(1);
    p.publish();
    assert.equal(c.waitForData(30), 1, 'a published record ends the wait at once');
  });
}

test('claim/publish/release misuse is rejected', () => {
  const ring = Ring.create({ capacity: 4, fullPolicy: 'block' });
  const p = ring.producer();
  const c = ring.consumer({ wait: 'async' });
  assert.throws(() => p.claim(5), /n must be an integer in \[1, 4\]/);
  assert.throws(() => p.claim(0), /n must be/);
  p.claim(2);
  assert.throws(() => p.claim(1), /2 claimed slots not published/);
  assert.throws(() => p.publish(3), /3 records published but 2 claimed/);
  p.publish(1);
  assert.equal(c.available(), 1, 'publish(1) of a claim of 2 publishes one');
  assert.throws(() => c.release(2), /2 released but only 1 available/);
  assert.throws(() => c.waitForData(), /use waitForDataAsync/);
  p.close();
  assert.throws(() => p.claim(1), /closed/);
});

test('single thread: wraps around many times with random batches, payload intact', () => {
  const ring = Ring.create({ capacity: 8, fullPolicy: 'block' });
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const p = ring.producer();
  const c = ring.consumer({ wait: 'spin' });
  const rnd = new Prng(42);
  const v = new Verifier(42, views);
  const e = newEventRecord();
  let next = 0;
  while (next < 10_000) {
    next += publishSeeded(p, views, 42, next, 1 + rnd.int(8), e);
    const k = rnd.int(c.available() + 1);
    for (let i = 0; i < k; i++) v.check(c.slot(i));
    c.release(k);
  }
  const left = c.drain((slot) => v.check(slot));
  assert.equal(v.lastVenueSeq, next - 1);
  assert.ok(left <= 8);
  assert.deepEqual(ring.stats(), { written: next, read: next, dropped: 0, closed: false });
  assert.ok(next / ring.capacity > 1000, 'wrapped around more than 1000 times');
});

test('drop policy keeps the oldest, drops and counts the newest', () => {
  const ring = Ring.create({ capacity: 4, fullPolicy: 'drop' });
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const p = ring.producer();
  const c = ring.consumer({ wait: 'spin' });
  const write = (seqs: number) => {
    const n = p.claim(seqs);
    for (let i = 0; i < n; i++) views.f64[p.slot(i) * 8 + 2] = p.sequence + i;
    p.publish();
    return n;
  };
  assert.equal(write(3), 3);
  assert.equal(write(3), 1, 'one free slot left');
  assert.equal(p.dropped, 2);
  assert.equal(write(1), 0);
  assert.equal(c.dropped, 3, 'the consumer sees the shared counter');
  assert.equal(c.available(), 4);
  assert.deepEqual([0, 1, 2, 3].map((i) => views.seq(c.slot(i))), [0, 1, 2, 3]);
  c.release(4);
  assert.equal(write(2), 2);
  assert.deepEqual(ring.stats(), { written: 6, read: 4, dropped: 3, closed: false });
});

test('block policy: tryClaim grants only free slots; a full ring grants 0', () => {
  const ring = Ring.create({ capacity: 4, fullPolicy: 'block' });
  const p = ring.producer();
  const c = ring.consumer();
  assert.equal(p.tryClaim(3), 3);
  p.publish();
  assert.equal(p.tryClaim(3), 1);
  p.publish();
  assert.equal(p.tryClaim(1), 0);
  assert.equal(p.backlog(), 4);
  c.available();
  c.release(2);
  assert.equal(p.backlog(), 2);
  assert.equal(p.tryClaim(4), 2);
});

test('publication is by runs: written but unpublished records stay invisible, record writers never touch the stamp', () => {
  const ring = Ring.create({ capacity: 8, fullPolicy: 'block' });
  assert.equal(ring.stampByte, EVENT_STAMP_BYTE);
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const p = ring.producer();
  const c = ring.consumer({ wait: 'spin' });
  const e = newEventRecord();
  fillTestEvent(7, 0, e);
  Object.assign(e, { kind: 255, flags: 255, source: 255, token: -1, price: -1, price2: -1 });
  const stampOf = (slot: number) => ring.bytes[ring.dataByteOffset + slot * ring.recordBytes + EVENT_STAMP_BYTE];
  assert.equal(p.claim(2), 2);
  views.write(p.slot(0), e);
  views.write(p.slot(1), e);
  assert.equal(c.available(), 0, 'claimed and written is not published');
  assert.equal(stampOf(0), 0, 'a full record write leaves the stamp byte alone');
  p.publish(1);
  assert.equal(c.available(), 1);
  assert.equal(stampOf(0), (1 << 1) | 0, 'a run of one on lap 0');
  assert.equal(stampOf(1), 0);
  assert.equal(p.claim(5), 5);
  p.publish();
  assert.deepEqual([1, 2, 3, 4, 5].map(stampOf), [(5 << 1) | 0, 0, 0, 0, 0], 'one stamp for the run, at its first slot');
  assert.equal(c.available(), 6);
  c.release(6);
  assert.equal(p.claim(4), 4);
  p.publish();
  assert.deepEqual([6, 7, 0, 1].map(stampOf), [(4 << 1) | 0, 0, 0, 0], 'a run may wrap: its stamp carries its first sequence\'s lap');
  assert.equal(c.available(), 4);
  c.release(4);
  assert.equal(p.claim(1), 1);
  p.publish();
  assert.equal(stampOf(2), (1 << 1) | 1, 'lap 1');
  assert.equal(c.available(), 1);
});

test('runs longer than one stamp holds are split; random batches over many laps arrive once and in order', () => {
  const ring = Ring.create({ capacity: 512, fullPolicy: 'block' });
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const p = ring.producer();
  const c = ring.consumer({ wait: 'spin' });
  const v = new Verifier(5, views);
  const rnd = new Prng(5);
  const e = newEventRecord();
  let next = 0;
  while (next < 512 * 300) {
    next += publishSeeded(p, views, 5, next, 1 + rnd.int(512), e);
    // The consumer sees every published record at once, however the runs were cut.
    assert.equal(c.available(), next - c.sequence);
    const k = rnd.int(c.available() + 1);
    for (let i = 0; i < k; i++) v.check(c.slot(i));
    c.release(k);
  }
  c.drain((slot) => v.check(slot));
  assert.equal(v.received, next);
});

test('a consumer that stops inside a run hands the rest of it to the next consumer', () => {
  const ring = Ring.create({ capacity: 16, fullPolicy: 'block' });
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const p = ring.producer();
  p.claim(10);
  for (let i = 0; i < 10; i++) views.f64[p.slot(i) * 8 + 2] = 100 + i;
  p.publish();
  const first = ring.consumer({ wait: 'spin' });
  assert.equal(first.available(), 10);
  first.release(4);
  first.detach();
  const second = Ring.attach(ring.sab).consumer({ wait: 'spin' });
  assert.equal(second.available(), 6);
  const got: number[] = [];
  second.drain((slot) => got.push(views.seq(slot)));
  assert.deepEqual(got, [104, 105, 106, 107, 108, 109]);
});

test('stamps tell a lap from the one before and never look like a zeroed slot, from any first sequence', () => {
  for (let lap = 0; lap < 300; lap++) {
    for (const offset of [0, 1, 3]) {
      const ring = Ring.create({ capacity: 4, fullPolicy: 'block', firstSequence: lap * 4 + offset });
      assert.equal(ring.consumer().available(), 0, `fresh ring at lap ${lap} + ${offset} shows nothing`);
    }
  }
  // Capacity 2: one record per slot per lap, so every lap's stamp is checked against the previous lap's.
  const ring = Ring.create({ capacity: 2, fullPolicy: 'block' });
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const p = ring.producer();
  const c = ring.consumer({ wait: 'spin' });
  for (let seq = 0; seq < 2 * 1000; seq++) {
    p.claim(1);
    views.f64[p.slot(0) * 8 + 2] = seq;
    p.publish();
    assert.equal(c.available(), 1, `seq ${seq}: exactly one record ready`);
    assert.equal(views.seq(c.slot(0)), seq);
    c.release(1);
    assert.equal(c.available(), 0, `seq ${seq}: the slot's previous lap does not show`);
  }
});

test('slots start on a cache line of the memory, whatever the buffer\'s alignment', () => {
  const offsets = new Set<number>();
  for (let i = 0; i < 64; i++) {
    const capacity = 2 ** (1 + (i % 16));
    const ring = Ring.create({ capacity, fullPolicy: 'block' });
    offsets.add(native.cacheLineOffset(new Uint8Array(ring.sab, 0, 1)));
    assert.equal(native.cacheLineOffset(new Uint8Array(ring.sab, ring.dataByteOffset, 1)), 0, `capacity ${capacity}`);
    assert.equal(native.cacheLineOffset(new Uint8Array(ring.header.buffer, ring.header.byteOffset, 1)), 0);
    // Another thread's attach finds the same layout from word 0.
    assert.equal(Ring.attach(ring.sab).dataByteOffset, ring.dataByteOffset);
  }
  // The buffers themselves were not all on a line: the test saw the padding at work.
  assert.ok([...offsets].some((o) => o !== 0), `buffer line offsets seen: ${[...offsets].join(', ')}`);
});

test('the stamp byte must lie inside the record, and attach checks it', () => {
  assert.throws(() => Ring.create({ capacity: 8, recordBytes: 8, fullPolicy: 'block' }), /stampByte must be a byte of the 8 B record, got 51/);
  assert.throws(() => Ring.create({ capacity: 8, recordBytes: 8, stampByte: -1, fullPolicy: 'block' }), /stampByte/);
  const small = Ring.create({ capacity: 8, recordBytes: 8, stampByte: 7, fullPolicy: 'block' });
  const p = small.producer();
  p.claim(1);
  p.publish();
  assert.equal(small.consumer().available(), 1);
  const bad = new SharedArrayBuffer(small.sab.byteLength);
  new Uint8Array(bad).set(new Uint8Array(small.sab));
  const words = new Int32Array(bad);
  words[words[0]! / 4 + 7] = 8;
  assert.throws(() => Ring.attach(bad), /stamp byte 8 is outside the 8 B record/);
});

test('sequences stay exact across the 32-bit carry of the shared index words', () => {
  const first = TWO32 - 5;
  const ring = Ring.create({ capacity: 8, fullPolicy: 'drop', firstSequence: first });
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const p = ring.producer();
  let c = ring.consumer({ wait: 'spin' });
  let expect = first;
  for (let round = 0; round < 6; round++) {
    const n = p.claim(3);
    for (let i = 0; i < n; i++) views.f64[p.slot(i) * 8 + 2] = p.sequence + i;
    p.publish();
    const got = c.drain((slot, seq) => {
      assert.equal(seq, expect);
      assert.equal(views.seq(slot), expect);
      expect++;
    });
    assert.equal(got, 3);
    if (round === 2) {
      // A consumer attached after the carry resumes at the exact full sequence.
      c.detach();
      c = Ring.attach(ring.sab).consumer({ wait: 'spin' });
      assert.equal(c.sequence, first + 9);
    }
  }
  assert.equal(expect, first + 18);
  assert.deepEqual(ring.stats(), { written: first + 18, read: first + 18, dropped: 0, closed: false });
});

test('worker producer, block policy, spin-then-wait consumer: every record once, in order', async () => {
  const ring = Ring.create({ capacity: 256, fullPolicy: 'block' });
  const c = ring.consumer({ wait: 'spin-then-wait', spinsBeforePark: 200 });
  const seed = 1234;
  const count = 300_000;
  const { done } = startProducer({ sab: ring.sab, seed, count, batchMax: 32 });
  const v = new Verifier(seed, new EventViews(ring.sab, ring.dataByteOffset, ring.capacity));
  consumeBlocking(c, v);
  const r = await done;
  assert.equal(r.dropped, 0);
  assert.equal(v.received, count);
  assert.equal(v.lastVenueSeq, count - 1);
  assert.equal(c.sequence, count);
  assert.ok(count / ring.capacity > 1000, 'wrapped around more than 1000 times');
});

test('worker producer, async consumer on the event loop', async () => {
  const ring = Ring.create({ capacity: 64, fullPolicy: 'block' });
  const c = ring.consumer({ wait: 'async' });
  const seed = 99;
  const count = 100_000;
  const { done } = startProducer({ sab: ring.sab, seed, count, batchMax: 16 });
  const v = new Verifier(seed, new EventViews(ring.sab, ring.dataByteOffset, ring.capacity));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  while (!c.done) {
    const n = c.available() || (await c.waitForDataAsync(5000));
    if (n === 0 && !c.done) assert.fail('no data for 5 s and the producer did not close');
    for (let i = 0; i < n; i++) v.check(c.slot(i));
    c.release(n);
    // Yield now and then so the timer proves the loop is not blocked.
    if (v.received % 8192 < n) await new Promise((r) => setImmediate(r));
  }
  clearInterval(timer);
  await done;
  assert.equal(v.received, count);
  assert.equal(v.lastVenueSeq, count - 1);
  assert.ok(ticks > 0, 'the event loop kept running while waiting');
});

test('a blocked producer parks and is woken as soon as the consumer frees space', async () => {
  const ring = Ring.create({ capacity: 16, fullPolicy: 'block' });
  const c = ring.consumer({ wait: 'spin-then-wait', spinsBeforePark: 100 });
  const seed = 4242;
  const count = 2000;
  const t0 = performance.now();
  const { done } = startProducer({ sab: ring.sab, seed, count, batchMax: 4 });
  const v = new Verifier(seed, new EventViews(ring.sab, ring.dataByteOffset, ring.capacity));
  // ~1 ms naps: far longer than the producer's spin phase, so it parks on every full ring.
  consumeBlocking(c, v, 2);
  await done;
  assert.equal(v.received, count);
  assert.equal(v.lastVenueSeq, count - 1);
  // A missed wake-up would cost a 50 ms wait slice per full ring: seconds in all.
  const ms = performance.now() - t0;
  assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
});

test('worker producer, drop policy, slow consumer: drops counted, survivors ordered and intact', async () => {
  const ring = Ring.create({ capacity: 64, fullPolicy: 'drop' });
  const c = ring.consumer({ wait: 'spin-then-wait', spinsBeforePark: 100 });
  const seed = 777;
  const count = 200_000;
  const { done } = startProducer({ sab: ring.sab, seed, count, batchMax: 8 });
  const v = new Verifier(seed, new EventViews(ring.sab, ring.dataByteOffset, ring.capacity));
  consumeBlocking(c, v, 4);
  const r = await done;
  assert.ok(r.dropped > 0, 'a napping consumer makes the producer drop');
  assert.equal(c.dropped, r.dropped, 'the shared counter matches the producer');
  assert.equal(v.received + r.dropped, count, 'every record either arrived or was counted as dropped');
  assert.equal(c.sequence, v.received, 'ring sequences stay contiguous');
});

test('ring created in the worker, attached on the main thread', async () => {
  const seed = 5;
  const count = 50_000;
  const { created, done } = startProducer({ create: { capacity: 128, fullPolicy: 'block' }, seed, count, batchMax: 64 });
  const ring = Ring.attach(await created);
  assert.equal(ring.capacity, 128);
  assert.equal(ring.fullPolicy, 'block');
  const c = ring.consumer({ wait: 'spin' });
  const v = new Verifier(seed, new EventViews(ring.sab, ring.dataByteOffset, ring.capacity));
  consumeBlocking(c, v);
  await done;
  assert.equal(v.received, count);
  assert.equal(v.lastVenueSeq, count - 1);
});

test('a parked consumer wakes on publish and on close', async () => {
  const ring = Ring.create({ capacity: 8, fullPolicy: 'block' });
  const c = ring.consumer({ wait: 'async' });
  const p = ring.producer();
  // Without the wake-up each wait would sit out its 50 ms slice.
  let waiting = c.waitForDataAsync(5000);
  await new Promise((r) => setTimeout(r, 5)); // let it park
  let t0 = performance.now();
  p.claim(1);
  p.publish();
  assert.equal(await waiting, 1);
  assert.ok(performance.now() - t0 < 40, `woke ${(performance.now() - t0).toFixed(1)} ms after publish`);
  c.release(1);

  waiting = c.waitForDataAsync(5000);
  await new Promise((r) => setTimeout(r, 5));
  t0 = performance.now();
  p.close();
  assert.equal(await waiting, 0);
  assert.ok(c.done);
  assert.ok(performance.now() - t0 < 40, `woke ${(performance.now() - t0).toFixed(1)} ms after close`);
});
