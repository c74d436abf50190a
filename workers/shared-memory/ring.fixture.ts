// Worker side of the ring tests: produces a seeded stream of event records
// into a ring from a real worker thread. The payload of venue sequence s is
// a pure function of (seed, s), so the main thread can check every record it
// receives even when the ring dropped some in between.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { EventViews, newEventRecord, type EventRecord } from './event-layout.js';
import { hash32, Prng } from '../prng.js';
import { Ring, type FullPolicy } from './ring.js';

export interface RingFixtureData {
  /** Ring to attach to; when absent the worker creates one and posts its SAB. */
  sab?: SharedArrayBuffer;
  create?: { capacity: number; fullPolicy: FullPolicy };
  seed: number;
  count: number;
  /** Largest claim; each batch size is drawn in [1, batchMax]. */
  batchMax: number;
}

export type RingFixtureMessage =
  | { type: 'created'; sab: SharedArrayBuffer }
  | { type: 'done'; produced: number; dropped: number };

/** Writes the expected payload of venue sequence `seq` into `e`. */
export function fillTestEvent(seed: number, seq: number, e: EventRecord): void {
  const a = hash32(seed, seq);
  const b = hash32(seed ^ 0x5bd1e995, seq);
  const c = hash32(seed + 1, seq);
  e.kind = 1 + (a % 12);
  e.flags = (a >>> 8) & 7;
  e.source = (a >>> 11) & 0xff;
  e.token = b | 0;
  e.recvNs = seq * 1000 + (c & 1023);
  e.exchTsMs = 1_700_000_000_000 + seq;
  e.seq = seq;
  e.price = c | 0;
  e.price2 = (a ^ c) | 0;
  e.size = b / 65536;
  e.aux0 = a / 3;
  e.aux1 = -c;
}

function run(data: RingFixtureData): void {
  const ring = data.sab ? Ring.attach(data.sab) : Ring.create({ capacity: data.create!.capacity, fullPolicy: data.create!.fullPolicy });
  const producer = ring.producer();
  if (!data.sab) parentPort!.postMessage({ type: 'created', sab: ring.sab } satisfies RingFixtureMessage);
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const sizes = new Prng(data.seed ^ 0xa5a5a5a5);
  const e = newEventRecord();
  let seq = 0;
  while (seq < data.count) {
    const want = Math.min(1 + sizes.int(data.batchMax), data.count - seq);
    // drop policy: the newest want - n records of this batch are dropped.
    const n = producer.claim(want);
    for (let i = 0; i < n; i++) {
      fillTestEvent(data.seed, seq + i, e);
      views.write(producer.slot(i), e);
    }
    producer.publish();
    seq += want;
  }
  producer.close();
  parentPort!.postMessage({ type: 'done', produced: seq, dropped: producer.dropped } satisfies RingFixtureMessage);
}

if (!isMainThread) run(workerData as RingFixtureData);
