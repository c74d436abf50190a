// workers/shared-memory/ holds the contracts between threads (this ring, the
// event record, the book layout and its seqlock): feed workers, the main
// thread and the native relay thread (native/src/relay_recv.rs) all obey them,
// and engine/feeds/relay/ring-layout.test.ts checks the Rust side's compiled
// offsets against these definitions.
//
// Single-producer single-consumer ring over a SharedArrayBuffer, in the style
// of ringbuf.js and the LMAX Disruptor: fixed preallocated slots, two
// monotonically growing sequences, no locks and no allocation per record.
//
// Contract
// - Exactly one producer thread and one consumer thread. Each role is claimed
//   in the header (ring.producer() / ring.consumer() throw if it is taken) and
//   handed over only through detach().
// - The producer owns the write sequence, the drop counter and the closed
//   flag; the consumer owns the read sequence. Nobody writes the other
//   side's words (the parked flags below are the one, rare, exception).
// - Sequences only grow. Each side keeps its own as a JS number (exact to
//   2^53, 14 years at 20 M records/s) and stores its low 32 bits into one
//   Int32 word (the consumer with Atomics.store: it is the producer's
//   free-space signal; the producer plainly, see below). The other side
//   rebuilds the full value from its own, since the two are never more than
//   `capacity` apart. The high word changes every 2^32 records, under an
//   epoch, and exists so a role attached later (or stats()) can read the
//   full value.
// - Capacity is a power of two (slot = sequence & mask) between 2 and 2^30,
//   records are recordBytes each (power of two, 8..4096), all preallocated
//   in the SAB after the header. The header carries capacity, record size,
//   policy, sequences and counters, so Ring.attach(sab) on another thread
//   needs nothing else.
// - Publication is in the slots themselves. Each slot has one stamp byte
//   that only the ring writes (byte `stampByte` of the record;
//   EVENT_STAMP_BYTE for event records). publish(n) cuts the n records into
//   runs of at most 127; for each run the producer, after the records' plain
//   stores, plain-stores 0 into the stamps of all but the run's first slot,
//   then Atomics.store()s the first slot's stamp:
//
//       stamp = run length << 1 | (lap & 1),   lap = sequence >>> log2(capacity)
//
//   The consumer Atomics.load()s the stamp at the sequence it expects next;
//   when it is non-zero and carries that sequence's lap parity, the whole
//   run is published, and plain reads of any of its slots see every store
//   before the stamp (Atomics are sequentially consistent, ECMAScript memory
//   model). The next run starts right after it. The consumer gives slots
//   back with Atomics.store(read).
//   Why the parity is enough: every slot is rewritten once per lap, so the
//   slot at an expected run start holds this lap's stamp, or last lap's
//   (other parity), or 0 (it was inside a run, or never written).
//   Why in the slots: a consumer waiting for one record spins on the line the
//   producer writes, so the hop moves one cache line; a separate write index
//   moved the index line and then the slot line, one after the other
//   (bench/ring.ts shows both against a one-word floor). Why runs: one
//   sequentially consistent store (an xchg on x86, ~8 ns) per record cost a
//   quarter of the flood throughput; per run of 127 it is noise.
// - The write index is still kept in the header, stored plainly after each
//   publish: monitoring (stats()) and a later producer (after detach()) read
//   it; no consumer waits on it.
// - Full policy, fixed at construction: `block` waits (spin, then
//   Atomics.wait) until the consumer frees space; `drop` discards the newest
//   records that do not fit and adds them to a shared drop counter. Dropping
//   the oldest would need the producer to move the consumer's index.
// - Consumer wait strategy, chosen per consumer: `spin`, `spin-then-wait`,
//   or `async` (Atomics.waitAsync, for the main thread).
//
// Waking without a syscall on the fast path: a side that is about to sleep
// stores 1 into its parked word, re-checks the ring, then Atomics.wait()s on
// that word. The other side, after each publish / release, loads the parked
// word (a plain load that hits cache: the word is almost never written) and
// only when it reads 1 swaps it to 0 and calls Atomics.notify. Both steps are
// sequentially consistent, so either the sleeper's re-check sees the new
// stamp (or index) or the waker sees the flag (Dekker). Sleeping on a parked
// word of its own lets close() wake a parked consumer without publishing
// anything.
//
// Header, Int32 words; each writer has its own 128-byte block (two cache
// lines, as adjacent-line prefetch moves lines in pairs):
//
//   buffer byte 0 | headerAt (Int32), then padding up to the header
//
//   header byte   0 | magic version capacity recordBytes policy producerRole consumerRole stampByte
//   header byte 128 | writeLo writeHi writeEpoch dropsLo dropsHi dropsEpoch            (producer)
//   header byte 256 | readLo readHi readEpoch readReady                                (consumer)
//   header byte 384 | consumerParked ... closed ... producerParked                     (rarely written)
//   header byte 512 | slot 0 | slot 1 | ... | slot capacity-1
//
// The header starts on a cache-line boundary of the machine's memory, not
// just of the buffer (workers/line-aligned.ts says why and how): otherwise a
// 64-byte record straddles two lines and every hop pays a second transfer.
//
// `closed` sits with the parked words, away from the write index: a spinning
// consumer checks it every turn and must not pull the producer's hot line.

import { EVENT_BYTES, EVENT_STAMP_BYTE } from './event-layout.js';
import { contentOffsetOf, createLineAligned, LEAD_BYTES } from '../line-aligned.js';

export type FullPolicy = 'block' | 'drop';
export type WaitStrategy = 'spin' | 'spin-then-wait' | 'async';

const MAGIC = 0x52494e47; // "RING"
const VERSION = 3;

const H_MAGIC = 0;
const H_VERSION = 1;
const H_CAPACITY = 2;
const H_RECORD_BYTES = 3;
const H_POLICY = 4;
const H_PRODUCER_ROLE = 5;
const H_CONSUMER_ROLE = 6;
const H_STAMP_BYTE = 7;
const H_WRITE = 32; // lo, hi, epoch
const H_DROPS = 35; // lo, hi, epoch
const H_READ = 64; // lo, hi, epoch
const H_CONSUMER_PARKED = 96;
const H_CLOSED = 104;
const H_PRODUCER_PARKED = 112;
/** The consumer's `ready` count, saved by detach() for the next consumer: it may stop inside a run. */
const H_READ_READY = 67;
const LO = 0;
const HI = 1;
const EPOCH = 2;
/** Longest run one stamp publishes: the run length has 7 bits of the stamp byte. */
const MAX_RUN = 127;

const HEADER_BYTES = 512;
const TWO32 = 4294967296;
const MAX_CAPACITY = 2 ** 30;
const POLICY_CODE: Record<FullPolicy, number> = { block: 0, drop: 1 };

/**
 * The header layout a producer outside this file must follow (the native
 * relay receiver mirrors it in native/src/relay_recv.rs); the relay layout
 * test compares the compiled addon's constants with these, name by name.
 */
export const RING_LAYOUT = {
  RING_MAGIC: MAGIC,
  RING_VERSION: VERSION,
  H_MAGIC,
  H_VERSION,
  H_CAPACITY,
  H_RECORD_BYTES,
  H_POLICY,
  H_PRODUCER_ROLE,
  H_CONSUMER_ROLE,
  H_STAMP_BYTE,
  H_WRITE,
  H_DROPS,
  H_READ,
  H_READ_READY,
  H_CONSUMER_PARKED,
  H_CLOSED,
  H_PRODUCER_PARKED,
  LO,
  HI,
  EPOCH,
  MAX_RUN,
  HEADER_BYTES,
  LEAD_BYTES,
  POLICY_BLOCK: POLICY_CODE.block,
  POLICY_DROP: POLICY_CODE.drop,
} as const;

/** Longest single Atomics.wait; waits loop, so a lost wake-up costs at most this. */
const WAIT_SLICE_MS = 50;
const DEFAULT_SPINS = 10_000;

// Atomics.waitAsync is ES2024; Node 20 has it but lib ES2023 does not type it.
type WaitAsync = (
  ta: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

export interface RingOptions {
  /** Slots; a power of two in [2, 2^30]. */
  capacity: number;
  /** Bytes per slot; a power of two in [8, 4096]. Default EVENT_BYTES (64). */
  recordBytes?: number;
  fullPolicy: FullPolicy;
  /** Byte of each record that the ring owns for its publication stamp. Default EVENT_STAMP_BYTE. */
  stampByte?: number;
  /** Sequence of the first record (default 0), e.g. to continue a numbering. */
  firstSequence?: number;
}

export interface RingStats {
  /** Records published so far (the next write sequence). */
  written: number;
  /** Records released by the consumer (the next read sequence). */
  read: number;
  dropped: number;
  closed: boolean;
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Full value of an owner's counter; retries while its high word is being changed. */
function loadCounter(h: Int32Array, at: number): number {
  for (;;) {
    const e = Atomics.load(h, at + EPOCH);
    if ((e & 1) === 0) {
      const hi = Atomics.load(h, at + HI) >>> 0;
      const lo = Atomics.load(h, at + LO) >>> 0;
      if (Atomics.load(h, at + EPOCH) === e) return hi * TWO32 + lo;
    }
  }
}

/** Stores both words under the epoch; the low word is stored last, as the publication. */
function storeCounter(h: Int32Array, at: number, value: number): void {
  const hi = Math.floor(value / TWO32);
  Atomics.add(h, at + EPOCH, 1);
  Atomics.store(h, at + HI, hi);
  Atomics.store(h, at + LO, value - hi * TWO32);
  Atomics.add(h, at + EPOCH, 1);
}

function wake(h: Int32Array, parkedWord: number): void {
  if (Atomics.compareExchange(h, parkedWord, 1, 0) === 1) Atomics.notify(h, parkedWord);
}

export class Ring {
  readonly sab: SharedArrayBuffer;
  /** The Int32 header words (indices are private to this module). */
  readonly header: Int32Array;
  readonly capacity: number;
  readonly mask: number;
  readonly recordBytes: number;
  readonly fullPolicy: FullPolicy;
  /** Where slot 0 starts in `sab` (a cache-line boundary); slot s is at dataByteOffset + s * recordBytes. */
  readonly dataByteOffset: number;
  /** Byte of each record the ring owns (its publication stamp); writers leave it alone. */
  readonly stampByte: number;
  /** Byte view of the whole buffer: the stamp of slot s is bytes[stampAt + s * recordBytes]. */
  readonly bytes: Uint8Array;
  readonly stampAt: number;
  /** log2(capacity): sequence >>> lapShift is the lap. */
  readonly lapShift: number;

  /** SAB size for a ring of this shape. */
  static byteLength(capacity: number, recordBytes: number = EVENT_BYTES): number {
    return LEAD_BYTES + HEADER_BYTES + capacity * recordBytes;
  }

  static create(opts: RingOptions): Ring {
    const { capacity, fullPolicy } = opts;
    const recordBytes = opts.recordBytes ?? EVENT_BYTES;
    const first = opts.firstSequence ?? 0;
    const stampByte = opts.stampByte ?? EVENT_STAMP_BYTE;
    if (!isPow2(capacity) || capacity < 2 || capacity > MAX_CAPACITY) {
      throw new RangeError(`Ring: capacity must be a power of two in [2, 2^30], got ${capacity}`);
    }
    if (!isPow2(recordBytes) || recordBytes < 8 || recordBytes > 4096) {
      throw new RangeError(`Ring: recordBytes must be a power of two in [8, 4096], got ${recordBytes}`);
    }
    if (fullPolicy !== 'block' && fullPolicy !== 'drop') {
      throw new RangeError(`Ring: fullPolicy must be 'block' or 'drop', got ${String(fullPolicy)}`);
    }
    if (!Number.isInteger(stampByte) || stampByte < 0 || stampByte >= recordBytes) {
      throw new RangeError(`Ring: stampByte must be a byte of the ${recordBytes} B record, got ${stampByte}`);
    }
    if (!Number.isSafeInteger(first) || first < 0) {
      throw new RangeError(`Ring: firstSequence must be a safe non-negative integer, got ${first}`);
    }
    const { sab, contentAt } = createLineAligned(HEADER_BYTES + capacity * recordBytes);
    const h = new Int32Array(sab, contentAt, HEADER_BYTES / 4);
    h[H_CAPACITY] = capacity;
    h[H_RECORD_BYTES] = recordBytes;
    h[H_POLICY] = POLICY_CODE[fullPolicy];
    h[H_STAMP_BYTE] = stampByte;
    storeCounter(h, H_WRITE, first);
    storeCounter(h, H_READ, first);
    h[H_VERSION] = VERSION;
    // Magic last: a half-initialised header never passes attach().
    Atomics.store(h, H_MAGIC, MAGIC);
    return new Ring(sab);
  }

  /** Opens a ring created elsewhere (typically on the other thread) from its SAB. */
  static attach(sab: SharedArrayBuffer): Ring {
    if (!(sab instanceof SharedArrayBuffer)) throw new TypeError('Ring.attach: expected a SharedArrayBuffer');
    return new Ring(sab);
  }

  private constructor(sab: SharedArrayBuffer) {
    if (sab.byteLength < LEAD_BYTES + HEADER_BYTES) throw new RangeError(`Ring.attach: buffer of ${sab.byteLength} B is smaller than the ${LEAD_BYTES + HEADER_BYTES} B header`);
    const headerAt = contentOffsetOf(sab);
    if (headerAt === undefined) throw new Error('Ring.attach: buffer is not a ring (bad header offset)');
    const h = new Int32Array(sab, headerAt, HEADER_BYTES / 4);
    if (Atomics.load(h, H_MAGIC) !== MAGIC) throw new Error('Ring.attach: buffer is not a ring (bad magic)');
    if (h[H_VERSION] !== VERSION) throw new Error(`Ring.attach: ring layout version ${h[H_VERSION]}, this build reads ${VERSION}`);
    const capacity = h[H_CAPACITY]!;
    const recordBytes = h[H_RECORD_BYTES]!;
    if (!isPow2(capacity) || !isPow2(recordBytes) || sab.byteLength !== Ring.byteLength(capacity, recordBytes)) {
      throw new Error(`Ring.attach: header says ${capacity} x ${recordBytes} B but the buffer is ${sab.byteLength} B`);
    }
    const stampByte = h[H_STAMP_BYTE]!;
    if (!(stampByte >= 0 && stampByte < recordBytes)) throw new Error(`Ring.attach: stamp byte ${stampByte} is outside the ${recordBytes} B record`);
    this.sab = sab;
    this.header = h;
    this.dataByteOffset = headerAt + HEADER_BYTES;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.recordBytes = recordBytes;
    this.fullPolicy = h[H_POLICY] === POLICY_CODE.drop ? 'drop' : 'block';
    this.stampByte = stampByte;
    this.bytes = new Uint8Array(sab);
    this.stampAt = this.dataByteOffset + stampByte;
    this.lapShift = Math.log2(capacity);
  }

  /** Takes the producer role for the calling thread. */
  producer(opts: { spinsBeforePark?: number } = {}): RingProducer {
    claimRole(this.header, H_PRODUCER_ROLE, 'producer');
    return new RingProducer(this, opts.spinsBeforePark ?? DEFAULT_SPINS);
  }

  /** Takes the consumer role for the calling thread. */
  consumer(opts: { wait?: WaitStrategy; spinsBeforePark?: number } = {}): RingConsumer {
    const wait = opts.wait ?? 'spin-then-wait';
    if (wait !== 'spin' && wait !== 'spin-then-wait' && wait !== 'async') {
      throw new RangeError(`Ring.consumer: wait must be 'spin', 'spin-then-wait' or 'async', got ${String(wait)}`);
    }
    if (wait === 'async' && waitAsync === undefined) throw new Error('Ring.consumer: Atomics.waitAsync is not available in this runtime');
    claimRole(this.header, H_CONSUMER_ROLE, 'consumer');
    return new RingConsumer(this, wait, opts.spinsBeforePark ?? DEFAULT_SPINS);
  }

  /** A consistent-enough snapshot of the counters, for monitoring (allocates). */
  stats(): RingStats {
    const h = this.header;
    return {
      written: loadCounter(h, H_WRITE),
      read: loadCounter(h, H_READ),
      dropped: loadCounter(h, H_DROPS),
      closed: Atomics.load(h, H_CLOSED) === 1,
    };
  }
}

function claimRole(h: Int32Array, word: number, role: string): void {
  if (Atomics.compareExchange(h, word, 0, 1) !== 0) {
    throw new Error(`Ring: the ${role} role is already taken; a ring has one ${role} (detach() the other first)`);
  }
}

/**
 * The writing end. Usage per batch:
 *   const n = p.claim(k);                 // slots granted
 *   for (let i = 0; i < n; i++) write(p.slot(i));
 *   p.publish();                          // one Atomics.store per run of up to 127
 */
export class RingProducer {
  private readonly h: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly stampAt: number;
  private readonly recordBytes: number;
  private readonly lapShift: number;
  private readonly capacity: number;
  private readonly mask: number;
  private readonly dropping: boolean;
  private readonly spins: number;
  private writeSeq: number;
  /** writeSeq mod 2^32, kept separately so the hot path never divides. */
  private writeLo: number;
  /** A lower bound of the consumer's read sequence, refreshed only when the ring looks full. */
  private readSeq: number;
  private claimed = 0;
  private drops: number;
  private closed = false;

  constructor(ring: Ring, spins: number) {
    this.h = ring.header;
    this.bytes = ring.bytes;
    this.stampAt = ring.stampAt;
    this.recordBytes = ring.recordBytes;
    this.lapShift = ring.lapShift;
    this.capacity = ring.capacity;
    this.mask = ring.mask;
    this.dropping = ring.fullPolicy === 'drop';
    this.spins = spins;
    this.writeSeq = loadCounter(this.h, H_WRITE);
    this.writeLo = this.writeSeq % TWO32;
    this.readSeq = loadCounter(this.h, H_READ);
    this.drops = loadCounter(this.h, H_DROPS);
  }

  /** Sequence the next published record will get. */
  get sequence(): number {
    return this.writeSeq;
  }

  /** Records this ring has dropped (drop policy), as counted in the header. */
  get dropped(): number {
    return this.drops;
  }

  /** Published records the consumer has not released yet. */
  backlog(): number {
    this.refreshRead();
    return this.writeSeq - this.readSeq;
  }

  /**
   * Claims up to n slots (1 <= n <= capacity). `block`: waits until all n are
   * free and returns n. `drop`: returns what is free now (possibly 0) and
   * counts the remainder as dropped. Publish before claiming again.
   */
  claim(n: number): number {
    if (this.claimed !== 0 || this.closed) this.misuse('claim');
    if (!(n >= 1 && n <= this.capacity) || (n | 0) !== n) {
      throw new RangeError(`RingProducer.claim: n must be an integer in [1, ${this.capacity}], got ${n}`);
    }
    if (this.capacity - (this.writeSeq - this.readSeq) < n) {
      this.refreshRead();
      const free = this.capacity - (this.writeSeq - this.readSeq);
      if (free < n) {
        if (!this.dropping) {
          this.waitForSpace(n);
        } else {
          this.countDrops(n - free);
          n = free;
        }
      }
    }
    this.claimed = n;
    return n;
  }

  /** Claims up to n free slots without waiting or counting drops; returns how many. */
  tryClaim(n: number): number {
    if (this.claimed !== 0 || this.closed) this.misuse('tryClaim');
    let free = this.capacity - (this.writeSeq - this.readSeq);
    if (free < n) {
      this.refreshRead();
      free = this.capacity - (this.writeSeq - this.readSeq);
    }
    this.claimed = n < free ? (n > 0 ? n : 0) : free;
    return this.claimed;
  }

  /** Slot index of the i-th claimed record. */
  slot(i: number): number {
    return (this.writeLo + i) & this.mask;
  }

  /** Makes the first n claimed records (default: all) visible to the consumer; the rest of the claim lapses. */
  publish(n: number = this.claimed): void {
    if (n > this.claimed || n < 0) throw new RangeError(`RingProducer.publish: ${n} records published but ${this.claimed} claimed`);
    this.claimed = 0;
    if (n === 0) return;
    // `p & mask` and `p >>> lapShift` both see p mod 2^32, as the stamp rule wants.
    const bytes = this.bytes;
    const at = this.stampAt;
    const rb = this.recordBytes;
    const mask = this.mask;
    for (let p = this.writeLo, left = n; left > 0; ) {
      const run = left < MAX_RUN ? left : MAX_RUN;
      for (let i = 1; i < run; i++) bytes[at + ((p + i) & mask) * rb] = 0;
      Atomics.store(bytes, at + (p & mask) * rb, (run << 1) | ((p >>> this.lapShift) & 1));
      p += run;
      left -= run;
    }
    this.writeSeq += n;
    const lo = this.writeLo + n;
    if (lo < TWO32) {
      this.writeLo = lo;
      // Plain store: only monitors read it, and an Int32 element never tears.
      this.h[H_WRITE + LO] = lo;
    } else {
      this.writeLo = lo - TWO32;
      storeCounter(this.h, H_WRITE, this.writeSeq);
    }
    if (Atomics.load(this.h, H_CONSUMER_PARKED) !== 0) wake(this.h, H_CONSUMER_PARKED);
  }

  /** Ends the stream: the consumer drains what was published, then sees `closed`. */
  close(): void {
    if (this.claimed !== 0) this.misuse('close');
    this.closed = true;
    Atomics.store(this.h, H_CLOSED, 1);
    wake(this.h, H_CONSUMER_PARKED);
  }

  /** Gives the producer role back so another thread can take it. */
  detach(): void {
    this.claimed = 0;
    this.closed = true;
    Atomics.store(this.h, H_PRODUCER_ROLE, 0);
  }

  private refreshRead(): void {
    const readLo = Atomics.load(this.h, H_READ + LO);
    this.readSeq = this.writeSeq - ((this.writeLo - readLo) | 0);
  }

  private countDrops(k: number): void {
    const before = this.drops;
    this.drops += k;
    const hiChanged = Math.floor(before / TWO32) !== Math.floor(this.drops / TWO32);
    if (hiChanged) storeCounter(this.h, H_DROPS, this.drops);
    else Atomics.store(this.h, H_DROPS + LO, this.drops % TWO32);
  }

  private waitForSpace(n: number): void {
    const h = this.h;
    for (let spin = 0; ; spin++) {
      this.refreshRead();
      if (this.capacity - (this.writeSeq - this.readSeq) >= n) return;
      if (spin >= this.spins) {
        Atomics.store(h, H_PRODUCER_PARKED, 1);
        this.refreshRead();
        if (this.capacity - (this.writeSeq - this.readSeq) < n) Atomics.wait(h, H_PRODUCER_PARKED, 1, WAIT_SLICE_MS);
        Atomics.store(h, H_PRODUCER_PARKED, 0);
        spin = 0;
      }
    }
  }

  private misuse(op: string): never {
    if (this.closed) throw new Error(`RingProducer.${op}: the producer is closed or detached`);
    throw new Error(`RingProducer.${op}: ${this.claimed} claimed slots not published yet`);
  }
}

/**
 * The reading end. Usage per batch, without a closure per record:
 *   const n = c.available();              // or c.waitForData()
 *   for (let i = 0; i < n; i++) read(c.slot(i));
 *   c.release(n);                         // one Atomics.store for the batch
 */
export class RingConsumer {
  readonly wait: WaitStrategy;
  private readonly h: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly stampAt: number;
  private readonly recordBytes: number;
  private readonly lapShift: number;
  private readonly mask: number;
  private readonly producerMayPark: boolean;
  private readonly spins: number;
  private readSeq: number;
  /** readSeq mod 2^32. */
  private readLo: number;
  /** Records known published and not yet released: available() resumes its scan after them. */
  private ready = 0;

  constructor(ring: Ring, wait: WaitStrategy, spins: number) {
    this.h = ring.header;
    this.bytes = ring.bytes;
    this.stampAt = ring.stampAt;
    this.recordBytes = ring.recordBytes;
    this.lapShift = ring.lapShift;
    this.mask = ring.mask;
    this.producerMayPark = ring.fullPolicy === 'block';
    this.wait = wait;
    this.spins = spins;
    this.readSeq = loadCounter(this.h, H_READ);
    this.readLo = this.readSeq % TWO32;
    this.ready = Atomics.load(this.h, H_READ_READY);
  }

  /** Sequence of the next record to read (slot(0)). */
  get sequence(): number {
    return this.readSeq;
  }

  /** Records dropped by the producer so far (drop policy). */
  get dropped(): number {
    return loadCounter(this.h, H_DROPS);
  }

  /** True once the producer closed the stream; records may still be waiting. */
  get closed(): boolean {
    return Atomics.load(this.h, H_CLOSED) === 1;
  }

  /** Closed and nothing left to read. */
  get done(): boolean {
    // Closed first: everything published before close() is then visible.
    return Atomics.load(this.h, H_CLOSED) === 1 && this.available() === 0;
  }

  /**
   * Records ready to read now; never waits. Reads the run stamps after the
   * records already known ready, so each run's stamp is loaded once however
   * often this is called (and an empty ring costs one load).
   */
  available(): number {
    const limit = this.mask + 1;
    let n = this.ready;
    while (n < limit) {
      const run = this.runAt(this.readLo + n);
      if (run === 0) break;
      n += run;
    }
    this.ready = n;
    return n;
  }

  /**
   * The run that starts at the next sequence, if it is published: what a
   * waiter needs to wake. Unlike available() it does not look past that run:
   * reading ahead loads the stamp of the slot the producer writes next, and a
   * paired A/B (bench/ring.ts's ping-pong, worker side) measured that at 3-5 %
   * of a hop.
   */
  private nextRun(): number {
    if (this.ready === 0) this.ready = this.runAt(this.readLo);
    return this.ready;
  }

  /** Length of the run published at sequence p (mod 2^32); 0 when p's slot holds no stamp of p's lap. */
  private runAt(p: number): number {
    const stamp = Atomics.load(this.bytes, this.stampAt + (p & this.mask) * this.recordBytes);
    return stamp !== 0 && (stamp & 1) === ((p >>> this.lapShift) & 1) ? stamp >>> 1 : 0;
  }

  /** Slot index of the i-th readable record. */
  slot(i: number): number {
    return (this.readLo + i) & this.mask;
  }

  /** Gives n read records back to the producer (n <= the last available()). */
  release(n: number): void {
    if (!(n >= 0 && n <= this.ready)) throw new RangeError(`RingConsumer.release: ${n} released but only ${this.ready} available`);
    if (n === 0) return;
    this.ready -= n;
    this.readSeq += n;
    const lo = this.readLo + n;
    if (lo < TWO32) {
      this.readLo = lo;
      Atomics.store(this.h, H_READ + LO, lo);
    } else {
      this.readLo = lo - TWO32;
      storeCounter(this.h, H_READ, this.readSeq);
    }
    if (this.producerMayPark && Atomics.load(this.h, H_PRODUCER_PARKED) !== 0) wake(this.h, H_PRODUCER_PARKED);
  }

  /**
   * Calls fn(slot, sequence) for up to max ready records, then releases them.
   * Pass a function created once, not a fresh closure per call.
   */
  drain(fn: (slot: number, sequence: number) => void, max: number = this.mask + 1): number {
    let n = this.available();
    if (n > max) n = max;
    const seq = this.readSeq;
    for (let i = 0; i < n; i++) fn((this.readLo + i) & this.mask, seq + i);
    this.release(n);
    return n;
  }

  /**
   * Blocks the calling thread until records are ready (`spin` or
   * `spin-then-wait`). Returns how many: at least the next run (the records
   * one publish() made visible together, up to 127); available() may find
   * more behind it. 0 means the timeout passed or the stream is closed and
   * drained (check `done`).
   */
  waitForData(timeoutMs: number = Infinity): number {
    if (this.wait === 'async') throw new Error("RingConsumer.waitForData: this consumer waits 'async'; use waitForDataAsync()");
    let n = this.nextRun();
    if (n > 0) return n;
    const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
    for (let spin = 1; ; spin++) {
      n = this.nextRun();
      if (n > 0) return n;
      if (Atomics.load(this.h, H_CLOSED) === 1) return this.available();
      // Time is checked every 1024 spins: performance.now() costs ~50 ns.
      if ((spin & 1023) === 0 && performance.now() >= deadline) return 0;
      if (this.wait === 'spin-then-wait' && spin >= this.spins) {
        const left = deadline - performance.now();
        if (left <= 0) return 0;
        if (this.prepareToPark()) Atomics.wait(this.h, H_CONSUMER_PARKED, 1, Math.min(left, WAIT_SLICE_MS));
        Atomics.store(this.h, H_CONSUMER_PARKED, 0);
        spin = 0;
      }
    }
  }

  /**
   * Resolves when records are ready, without blocking the event loop. Call
   * available() first: an async function allocates a promise even when data
   * is already there.
   */
  async waitForDataAsync(timeoutMs: number = Infinity): Promise<number> {
    const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const n = this.available();
      if (n > 0) return n;
      if (Atomics.load(this.h, H_CLOSED) === 1) return this.available();
      const left = deadline - performance.now();
      if (left <= 0) return 0;
      if (this.prepareToPark()) {
        const r = waitAsync!(this.h, H_CONSUMER_PARKED, 1, Math.min(left, WAIT_SLICE_MS));
        if (r.async) await r.value;
      }
      Atomics.store(this.h, H_CONSUMER_PARKED, 0);
    }
  }

  /** Gives the consumer role back so another thread can take it (and the rest of a run it stopped inside). */
  detach(): void {
    Atomics.store(this.h, H_READ_READY, this.ready);
    Atomics.store(this.h, H_CONSUMER_ROLE, 0);
  }

  /** Raises the parked flag; false if data or close arrived meanwhile (then do not sleep). */
  private prepareToPark(): boolean {
    Atomics.store(this.h, H_CONSUMER_PARKED, 1);
    return this.available() === 0 && Atomics.load(this.h, H_CLOSED) === 0;
  }
}
