// Feed worker entry: one worker_threads worker per venue feed. It pins itself
// to its configured core first (so the kernel never schedules its socket
// reads next to the decision loop), reports core and thread id, then owns
// the WebSockets, parses frames, keeps the books in shared memory and
// publishes events into its SPSC ring. It never dies on input: frames that
// fail to parse are counted and dropped inside the cores, and an exception
// escaping a callback is counted and reported, not rethrown.
//
//   main thread ──workerData──▶ feed worker ──ring events + SAB books──▶ main thread
//               ◀──ready/stopped/error──    ◀──{type:'stop' | 'assign' | 'release'}──
//
// The ring runs with the `drop` policy: the books in shared memory are the
// state and stay exact whatever happens to the ring; a main thread that falls
// behind loses notifications (counted as ringDrops), never book updates, and
// never stalls the socket reads.

import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../engine/native.js';
import { BinanceBookWriter } from './venues/binance/book.js';
import { BookSet, Venue } from './shared-memory/book-layout.js';
import { PolymarketBookWriter } from './venues/polymarket/book.js';
import { FeedConnection } from './connection.js';
import { COUNTER } from './counters.js';
import { polymarketSlots, type FeedControlMessage, type FeedSpec, type FeedWorkerInit, type FeedWorkerMessage, type PolymarketFeedSpec } from './feed-init.js';
import { BinanceCore } from './venues/binance/feed.js';
import { DeribitCore } from './venues/deribit/feed.js';
import { RingEventSink } from './event-sink.js';
import { RtdsCore, rtdsSubscribeMessage } from './venues/rtds/feed.js';
import { SnapshotFetcher } from './snapshots.js';
import { encodeSlotOp, RecordingWriter, slotOpsSource, type SlotOp } from './recording/recording.js';
import { Ring } from './shared-memory/ring.js';

interface RunningFeed {
  stop(): void;
  /** Polymarket only: slot assignment over the live connections. Throws RangeError on a caller error, having changed nothing. */
  assign?(slot: number, tokenId: string): void;
  release?(slot: number): void;
}

const init = workerData as FeedWorkerInit;
const port = parentPort;
if (!port) throw new Error('feed-worker.js must run as a worker thread');

function post(m: FeedWorkerMessage): void {
  port!.postMessage(m);
}

const counters = new Float64Array(init.countersSab);
const ring = Ring.attach(init.ringSab);
const producer = ring.producer();
const events = new RingEventSink(ring, producer);

let cpu = -1;
if (init.cpu >= 0) {
  native.pinCurrentThread(init.cpu);
  cpu = init.cpu;
}
post({ type: 'ready', feed: init.spec.feed, cpu, tid: native.currentThreadId(), affinity: native.currentThreadAffinity() });

/** What each recording file's header says about the feed; the Polymarket feed adds the slots' occupants once they change. */
let recordingMeta: () => unknown = () => init.spec;
const recorder = init.record
  ? new RecordingWriter(init.record.dir, init.spec.feed, recordingSources(init.spec), { maxBytes: init.record.maxBytes, maxMs: init.record.maxMs }, Date.now, () => recordingMeta())
  : undefined;
const flushTimer = recorder ? setInterval(() => recorder.flush(), 200) : undefined;

/** Source 0 is the WebSocket; source 1 + k the REST snapshots of key k; Polymarket's last source its slot assignments. */
function recordingSources(spec: FeedSpec): string[] {
  const keys = spec.feed === 'polymarket' ? polymarketSlots(spec) : spec.feed === 'binance' ? spec.symbols.length : 0;
  const rest = Array.from({ length: keys }, (_, k) => `${spec.feed}:rest:${k}`);
  return spec.feed === 'polymarket' ? [spec.feed, ...rest, slotOpsSource(spec.feed)] : [spec.feed, ...rest];
}

/** Wraps a frame handler so one throwing callback never takes the worker down. */
function guarded(fn: (data: Buffer, recvNs: number) => void): (data: Buffer, recvNs: bigint) => void {
  return (data, recvNs) => {
    const ns = Number(recvNs);
    recorder?.append(0, ns, Date.now(), data);
    try {
      fn(data, ns);
    } catch (err) {
      counters[COUNTER.parseErrors]!++;
      post({ type: 'error', feed: init.spec.feed, message: `frame handler threw: ${(err as Error).message}` });
    }
  };
}

function connection(url: string, onOpen: (send: (t: string) => void) => void, onFrame: (d: Buffer, ns: number) => void, onDown?: () => void, pingText?: string): FeedConnection {
  const t = init.tuning;
  return new FeedConnection({
    url,
    pingText,
    pingIntervalMs: t.pingIntervalMs,
    stallMs: t.stallMs,
    backoffBaseMs: t.backoffBaseMs,
    backoffMaxMs: t.backoffMaxMs,
    counters,
    onOpen: (send) => onOpen(send),
    onFrame: guarded(onFrame),
    onDown: onDown ? () => onDown() : undefined,
  });
}

function fetcher(spec: FeedSpec, urlOf: (k: number) => string | undefined, deliver: (k: number, body: Uint8Array, ns: number) => boolean): SnapshotFetcher {
  return new SnapshotFetcher(urlOf, {
    counters,
    backoffBaseMs: init.tuning.backoffBaseMs,
    backoffMaxMs: init.tuning.backoffMaxMs,
    deliver: (k, body, ns) => {
      try {
        return deliver(k, body, ns);
      } catch (err) {
        counters[COUNTER.restErrors]!++;
        post({ type: 'error', feed: spec.feed, message: `snapshot handler threw: ${(err as Error).message}` });
        return false;
      }
    },
    onBody: recorder ? (k, body, ns) => recorder.append(1 + k, ns, Date.now(), body) : undefined,
  });
}

/** A fixed range of token slots and the connection that carries them while any is occupied. */
interface PolymarketShard {
  readonly slots: readonly number[];
  conn: FeedConnection | undefined;
}

async function runPolymarket(spec: PolymarketFeedSpec): Promise<RunningFeed> {
  // Loaded on demand: other feeds' workers never parse the Polymarket code.
  const { operationMessage, planShards, PolymarketCore, subscribeMessage } = await import('./venues/polymarket/feed.js');
  const books = new PolymarketBookWriter(BookSet.attach(init.booksSab!, Venue.Polymarket));
  const slotCount = polymarketSlots(spec);
  let snapshots: SnapshotFetcher | undefined;
  const core = new PolymarketCore({
    tokens: spec.tokenIds,
    slots: slotCount,
    books,
    events,
    counters,
    source: init.source,
    requestSnapshot: (slot) => snapshots?.request(slot),
  });
  // Every attempt fetches the slot's token of the moment, which is the one
  // the request was made for: release() cancels the slot's request, so none
  // outlives its occupant, and a vacant slot is never fetched.
  snapshots = fetcher(
    spec,
    (k) => {
      const tokenId = core.tokenAt(k);
      return tokenId === undefined ? undefined : `${spec.restUrl}/book?token_id=${tokenId}`;
    },
    (k, body, ns) => core.onSnapshot(k, body, ns),
  );
  core.start();

  const max = spec.maxAssetsPerConnection;
  const shards: PolymarketShard[] = planShards(slotCount, max).map((slots) => ({ slots, conn: undefined }));
  const occupied = (sh: PolymarketShard): number[] => sh.slots.filter((s) => core.tokenAt(s) !== undefined);
  /** A shard's connection, from its first occupied slot; every open (re)subscribes to what the shard holds then. */
  const connect = (sh: PolymarketShard): void => {
    sh.conn = connection(
      spec.wsUrl,
      (send) => send(subscribeMessage(occupied(sh).map((s) => core.tokenAt(s)!))),
      (d, ns) => core.onFrame(d, ns),
      // A dropped shard resyncs only its own occupied slots.
      () => core.onDown(occupied(sh)),
      'PING',
    );
    sh.conn.start();
  };
  for (const sh of shards) if (occupied(sh).length > 0) connect(sh);

  let reassigned = false;
  recordingMeta = () => (reassigned ? { ...spec, assigned: Array.from({ length: slotCount }, (_, s) => core.tokenAt(s) ?? null) } : spec);
  const recordOp = (op: SlotOp): void => {
    // Before the op takes effect, so a file it starts describes the slots as they were.
    recorder?.append(1 + slotCount, Number(native.nowNs()), Date.now(), encodeSlotOp(op));
  };
  return {
    stop() {
      snapshots?.stop();
      for (const sh of shards) sh.conn?.stop();
    },
    assign(slot, tokenId) {
      recordOp({ op: 'assign', slot, tokenId });
      core.assign(slot, tokenId, Number(native.nowNs()));
      reassigned = true;
      const sh = shards[Math.floor(slot / max)]!;
      // A connection that is not open yet (or backing off) subscribes to it when it opens.
      if (sh.conn === undefined) connect(sh);
      else sh.conn.send(operationMessage('subscribe', [tokenId]));
    },
    release(slot) {
      recordOp({ op: 'release', slot });
      const tokenId = core.tokenAt(slot);
      core.release(slot, Number(native.nowNs()));
      // The core has ended the slot's request; so must the fetcher, or its retries would go on for a token nobody holds.
      snapshots?.cancel(slot);
      reassigned = true;
      const sh = shards[Math.floor(slot / max)]!;
      if (occupied(sh).length === 0) {
        sh.conn!.stop();
        sh.conn = undefined;
      } else {
        sh.conn!.send(operationMessage('unsubscribe', [tokenId!]));
      }
    },
  };
}

function runBinance(spec: Extract<FeedSpec, { feed: 'binance' }>): RunningFeed {
  const books = new BinanceBookWriter(BookSet.attach(init.booksSab!, Venue.Binance));
  let snapshots: SnapshotFetcher | undefined;
  const core = new BinanceCore({ symbols: spec.symbols, books, events, counters, source: init.source, requestSnapshot: (s) => snapshots?.request(s) });
  snapshots = fetcher(spec, (k) => `${spec.restUrl}/fapi/v1/depth?symbol=${spec.symbols[k]!.symbol}&limit=1000`, (k, body, ns) => core.onSnapshot(k, body, ns));
  const lower = spec.symbols.map((s) => s.symbol.toLowerCase());
  // Book streams live on /public, trades and liquidations on /market (§11.18).
  const book = lower.flatMap((s) => [`${s}${spec.depthStream}`, ...(spec.bookTicker ? [`${s}@bookTicker`] : [])]);
  const market = lower.flatMap((s) => [...(spec.trades ? [`${s}@aggTrade`] : []), ...(spec.liquidations ? [`${s}@forceOrder`] : [])]);
  const conns = [connection(`${spec.wsBaseUrl}/public/stream?streams=${book.join('/')}`, () => {}, (d, ns) => core.onFrame(d, ns), () => core.onDown())];
  if (market.length > 0) conns.push(connection(`${spec.wsBaseUrl}/market/stream?streams=${market.join('/')}`, () => {}, (d, ns) => core.onFrame(d, ns)));
  core.start();
  for (const c of conns) c.start();
  return {
    stop() {
      snapshots?.stop();
      for (const c of conns) c.stop();
    },
  };
}

function runRtds(spec: Extract<FeedSpec, { feed: 'rtds' }>): RunningFeed {
  const core = new RtdsCore({ symbols: spec.symbols, events, counters, source: init.source });
  const conn = connection(
    spec.wsUrl,
    (send) => {
      core.lastPriceWallMs = Date.now();
      send(rtdsSubscribeMessage(spec.symbols));
    },
    (d, ns) => core.onFrame(d, ns),
    undefined,
    'PING',
  );
  // RTDS can stop sending prices while still answering PING (§4.3).
  const watchdog = setInterval(() => {
    if (conn.isOpen && Date.now() - core.lastPriceWallMs > spec.priceStallMs) conn.drop();
  }, Math.max(100, Math.floor(spec.priceStallMs / 4)));
  conn.start();
  return {
    stop() {
      clearInterval(watchdog);
      conn.stop();
    },
  };
}

function runDeribit(spec: Extract<FeedSpec, { feed: 'deribit' }>): RunningFeed {
  let conn: FeedConnection | undefined;
  const core = new DeribitCore({ indices: spec.indices, events, counters, source: init.source, send: (t) => conn?.send(t) ?? false });
  conn = connection(
    spec.wsUrl,
    (send) => {
      for (const m of core.openMessages()) send(m);
    },
    (d, ns) => core.onFrame(d, ns),
  );
  conn.start();
  return { stop: () => conn?.stop() };
}

async function run(spec: FeedSpec): Promise<RunningFeed> {
  switch (spec.feed) {
    case 'polymarket':
      return runPolymarket(spec);
    case 'binance':
      return runBinance(spec);
    case 'rtds':
      return runRtds(spec);
    case 'deribit':
      return runDeribit(spec);
  }
}

const running = await run(init.spec);
const ringDropsTimer = setInterval(() => {
  counters[COUNTER.ringDrops] = producer.dropped;
}, 100);

/** assign / release: a caller error is reported back and changes nothing; the worker carries on. */
function control(m: Exclude<FeedControlMessage, { type: 'stop' }>): void {
  try {
    if (!running.assign || !running.release) throw new RangeError(`the ${init.spec.feed} feed has no token slots`);
    if (m.type === 'assign') running.assign(m.slot, m.tokenId);
    else running.release(m.slot);
  } catch (err) {
    post({ type: 'error', feed: init.spec.feed, message: `${m.type} refused: ${(err as Error).message}` });
  }
}

port.on('message', (m: FeedControlMessage) => {
  if (m.type !== 'stop') return control(m);
  running.stop();
  clearInterval(ringDropsTimer);
  counters[COUNTER.ringDrops] = producer.dropped;
  if (flushTimer) clearInterval(flushTimer);
  recorder?.close();
  producer.close();
  post({ type: 'stopped', feed: init.spec.feed, recordedFiles: recorder ? [...recorder.files] : [] });
  port.close();
});
