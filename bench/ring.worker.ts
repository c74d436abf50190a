// Worker side of bench/ring.ts: echoes pings (latency) or floods events
// (throughput), through a Ring or through postMessage, so both transports
// are measured against the same thread on the other end.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { EventKind, EventViews, newEventRecord, type EventRecord } from '../workers/shared-memory/event-layout.js';
import { Ring } from '../workers/shared-memory/ring.js';

export type RingBenchJob =
  | { mode: 'ring-echo'; ping: SharedArrayBuffer; pong: SharedArrayBuffer }
  | { mode: 'post-echo' }
  | { mode: 'word-echo'; words: SharedArrayBuffer }
  | { mode: 'ring-flood'; ring: SharedArrayBuffer; go: SharedArrayBuffer; count: number; batch: number }
  | { mode: 'post-flood'; go: SharedArrayBuffer; count: number };

const SPIN_TIMEOUT_MS = 10_000;

/** The event both transports carry in the throughput runs: a level update. */
export function floodEvent(e: EventRecord, seq: number): void {
  e.kind = EventKind.LevelUpdate;
  e.flags = seq & 1;
  e.source = 1;
  e.token = 7;
  e.recvNs = 1_000_000 + seq;
  e.exchTsMs = 1_700_000_000_000 + seq;
  e.seq = seq;
  e.price = 5000 + (seq & 255);
  e.price2 = 0;
  e.size = 10 + (seq & 15);
  e.aux0 = 0;
  e.aux1 = 0;
}

function ringEcho(job: Extract<RingBenchJob, { mode: 'ring-echo' }>): void {
  const ping = Ring.attach(job.ping);
  const pong = Ring.attach(job.pong);
  const c = ping.consumer({ wait: 'spin' });
  const p = pong.producer();
  const from = new EventViews(ping.sab, ping.dataByteOffset, ping.capacity);
  const to = new EventViews(pong.sab, pong.dataByteOffset, pong.capacity);
  const e = newEventRecord();
  parentPort!.postMessage('ready');
  for (;;) {
    const n = c.waitForData(SPIN_TIMEOUT_MS);
    if (n === 0) break; // closed, or the main thread went away
    for (let i = 0; i < n; i++) {
      from.read(c.slot(i), e);
      p.claim(1);
      to.write(p.slot(0), e);
      p.publish();
    }
    c.release(n);
  }
  p.close();
}

/** The floor: echo one Int32 word (ping at word 0, pong 32 words = 128 B away), no ring, no record. */
function wordEcho(job: Extract<RingBenchJob, { mode: 'word-echo' }>): void {
  const w = new Int32Array(job.words);
  parentPort!.postMessage('ready');
  let last = 0;
  for (;;) {
    const v = Atomics.load(w, 0);
    if (v === last) continue;
    if (v < 0) break;
    last = v;
    Atomics.store(w, 32, v);
  }
}

function postEcho(): void {
  parentPort!.on('message', (m: unknown) => {
    if (m === 'stop') parentPort!.close();
    else parentPort!.postMessage(m);
  });
  parentPort!.postMessage('ready');
}

function waitForGo(go: SharedArrayBuffer): void {
  const flag = new Int32Array(go);
  parentPort!.postMessage('ready');
  while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 100);
}

function ringFlood(job: Extract<RingBenchJob, { mode: 'ring-flood' }>): void {
  const ring = Ring.attach(job.ring);
  const p = ring.producer({ spinsBeforePark: 1_000_000 });
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const e = newEventRecord();
  waitForGo(job.go);
  for (let seq = 0; seq < job.count; ) {
    const n = p.claim(Math.min(job.batch, job.count - seq));
    for (let i = 0; i < n; i++) {
      floodEvent(e, seq + i);
      views.write(p.slot(i), e);
    }
    p.publish();
    seq += n;
  }
  p.close();
}

function postFlood(job: Extract<RingBenchJob, { mode: 'post-flood' }>): void {
  const e = newEventRecord();
  waitForGo(job.go);
  for (let seq = 0; seq < job.count; seq++) {
    floodEvent(e, seq);
    parentPort!.postMessage(e);
  }
}

if (!isMainThread) {
  const job = workerData as RingBenchJob;
  if (job.mode === 'ring-echo') ringEcho(job);
  else if (job.mode === 'post-echo') postEcho();
  else if (job.mode === 'word-echo') wordEcho(job);
  else if (job.mode === 'ring-flood') ringFlood(job);
  else postFlood(job);
}
