// Spawning feed workers from the main thread: allocate the shared buffers
// (ring, counters, books), start the worker with its spec, and wait for it
// to report the core it pinned itself to.

import { Worker } from 'node:worker_threads';
import { createBinanceBooks } from '../../workers/venues/binance/book.js';
import { B_STATUS, BookFlag, type BookSet } from '../../workers/shared-memory/book-layout.js';
import { createPolymarketBooks } from '../../workers/venues/polymarket/book.js';
import { createCounters } from '../../workers/counters.js';
import { isTokenId } from '../../workers/venues/polymarket/feed.js';
import {
  DEFAULT_TUNING,
  polymarketSlots,
  type ConnectionTuning,
  type FeedControlMessage,
  type FeedSpec,
  type FeedWorkerInit,
  type FeedWorkerMessage,
  type RecordSpec,
} from '../../workers/feed-init.js';
import { Ring } from '../../workers/shared-memory/ring.js';

const WORKER_URL = new URL('../../workers/feed-worker.js', import.meta.url);

export interface FeedReady {
  feed: string;
  cpu: number;
  tid: number;
  affinity: number[];
}

export interface StartFeedOptions {
  spec: FeedSpec;
  /** Source index the hub gave this feed. */
  source: number;
  /** Ring created beforehand (so the hub can register it first). */
  ring: Ring;
  cpu: number;
  tuning?: Partial<ConnectionTuning>;
  record?: RecordSpec | undefined;
  /** Reports worker errors (exceptions escaping a callback; the worker keeps running). */
  onError?: (message: string) => void;
}

export interface FeedHandle {
  readonly name: string;
  readonly ring: Ring;
  readonly counters: Float64Array;
  readonly books: BookSet | undefined;
  readonly ready: Promise<FeedReady>;
  readonly worker: Worker;
  /**
   * Polymarket: token `tokenId` takes vacant token slot `slot` (book `slot`),
   * over the live connection, no reconnect. The book is gated (Resyncing)
   * at once and goes live once rebuilt; a Resync event (Assigned) marks the
   * change. Throws RangeError for another feed, a slot outside [0, slots) or
   * a malformed id; an occupied slot or an id another slot holds is reported
   * through onError by the worker, which then changes nothing.
   */
  assign(slot: number, tokenId: string): void;
  /** Polymarket: the slot's token is unsubscribed; its book is cleared and stays gated. Same errors as assign (a vacant slot via onError). */
  release(slot: number): void;
  /** Stops the worker (closing its sockets and recordings); resolves with the recorded files. */
  stop(): Promise<string[]>;
}

/** Ring for a feed: 2^16 events of 64 B (4 MiB) absorbs a multi-second main-thread pause at venue rates. */
export function createFeedRing(capacity = 1 << 16): Ring {
  return Ring.create({ capacity, fullPolicy: 'drop' });
}

/** The shared books a feed writes, allocated here so the main thread owns them. */
export function createFeedBooks(spec: FeedSpec): BookSet | undefined {
  const set =
    spec.feed === 'polymarket'
      ? createPolymarketBooks(polymarketSlots(spec))
      : spec.feed === 'binance'
        ? createBinanceBooks(spec.symbols.map((s) => ({ tickValue: 10 ** -s.tickExp })))
        : undefined;
  // Gated from birth: until its worker has started and built them, an empty book must not read as a live one.
  // Plain stores are enough: no writer exists yet, and posting the buffer to the worker orders them before it.
  if (set) for (let b = 0; b < set.books; b++) set.i32[set.i32Base(b) + B_STATUS] = BookFlag.Resyncing;
  return set;
}

export function startFeed(opts: StartFeedOptions, books: BookSet | undefined = createFeedBooks(opts.spec)): FeedHandle {
  const counters = createCounters();
  const init: FeedWorkerInit = {
    spec: opts.spec,
    source: opts.source,
    cpu: opts.cpu,
    ringSab: opts.ring.sab,
    countersSab: counters.buffer as SharedArrayBuffer,
    booksSab: books?.sab,
    tuning: { ...DEFAULT_TUNING, ...opts.tuning },
    record: opts.record,
  };
  const worker = new Worker(WORKER_URL, { workerData: init, name: `feed-${opts.spec.feed}` });
  let stopped: ((files: string[]) => void) | undefined;
  const stoppedP = new Promise<string[]>((r) => (stopped = r));
  const ready = new Promise<FeedReady>((resolve, reject) => {
    worker.on('message', (m: FeedWorkerMessage) => {
      if (m.type === 'ready') resolve({ feed: m.feed, cpu: m.cpu, tid: m.tid, affinity: m.affinity });
      else if (m.type === 'error') opts.onError?.(m.message);
      else if (m.type === 'stopped') stopped?.(m.recordedFiles);
    });
    worker.once('error', (err) => {
      reject(err);
      opts.onError?.(`feed worker ${opts.spec.feed} failed: ${err.message}`);
      stopped?.([]);
    });
    worker.once('exit', () => stopped?.([]));
  });
  const spec = opts.spec;
  const control = (slot: number, m: FeedControlMessage): void => {
    if (spec.feed !== 'polymarket') throw new RangeError(`${m.type}: the ${spec.feed} feed has no token slots`);
    const slots = polymarketSlots(spec);
    if (!Number.isInteger(slot) || slot < 0 || slot >= slots) throw new RangeError(`${m.type}: slot ${slot} outside [0, ${slots})`);
    worker.postMessage(m);
  };
  return {
    name: spec.feed,
    ring: opts.ring,
    counters,
    books,
    ready,
    worker,
    assign(slot, tokenId) {
      if (!isTokenId(tokenId)) throw new RangeError(`assign: not a decimal token id: ${JSON.stringify(tokenId)}`);
      control(slot, { type: 'assign', slot, tokenId });
    },
    release(slot) {
      control(slot, { type: 'release', slot });
    },
    async stop() {
      worker.postMessage({ type: 'stop' });
      const timeout = new Promise<string[]>((r) => setTimeout(() => r([]), 3_000).unref());
      const files = await Promise.race([stoppedP, timeout]);
      await worker.terminate();
      return files;
    },
  };
}
