// Feed worker entry: one worker_threads worker per venue feed. It pins itself
// to its configured core first (so the kernel never schedules its socket
// reads next to the decision loop), reports core and thread id, then owns
// the WebSockets, parses frames, keeps the books in shared memory and
// publishes events into its SPSC ring. It never dies on input: frames that
// fail to parse are counted and dropped inside the cores, and an exception
// escaping a callback is counted and reported, not rethrown.
//
//   main thread ──workerData──▶ feed worker ──ring events + SAB books──▶ main thread
//               ◀──ready/stopped──          ◀──{type:'stop'}──
//
// The ring runs with the `drop` policy: the books in shared memory are the
// state and stay exact whatever happens to the ring; a main thread that falls
// behind loses notifications (counted as ringDrops), never book updates, and
// never stalls the socket reads.

import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../engine/native.js';
import { BinanceBookWriter } from './book/binance-book.js';
import { BookSet, Venue } from './book/layout.js';
import { PolymarketBookWriter } from './book/polymarket-book.js';
import { FeedConnection } from './connection.js';
import { COUNTER } from './counters.js';
import type { FeedControlMessage, FeedSpec, FeedWorkerInit, FeedWorkerMessage } from './feed-init.js';
import { BinanceCore } from './feeds/binance-core.js';
import { DeribitCore } from './feeds/deribit-core.js';
import { RingEventSink } from './feeds/event-sink.js';
import { RtdsCore, rtdsSubscribeMessage } from './feeds/rtds-core.js';
import { SnapshotFetcher } from './feeds/snapshots.js';
import { RecordingWriter } from './record/recording.js';
import { Ring } from './ring.js';

interface RunningFeed {
  stop(): void;
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

const recorder = init.record
  ? new RecordingWriter(init.record.dir, init.spec.feed, recordingSources(init.spec), { maxBytes: init.record.maxBytes, maxMs: init.record.maxMs }, Date.now, init.spec)
  : undefined;
const flushTimer = recorder ? setInterval(() => recorder.flush(), 200) : undefined;

/** Source 0 is the WebSocket; source 1 + k the REST snapshots of key k. */
function recordingSources(spec: FeedSpec): string[] {
  const keys = spec.feed === 'polymarket' ? spec.tokenIds.length : spec.feed === 'binance' ? spec.symbols.length : 0;
  return [spec.feed, ...Array.from({ length: keys }, (_, k) => `${spec.feed}:rest:${k}`)];
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

function fetcher(spec: FeedSpec, urlOf: (k: number) => string, deliver: (k: number, body: Uint8Array, ns: number) => boolean): SnapshotFetcher {
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

async function runPolymarket(spec: Extract<FeedSpec, { feed: 'polymarket' }>): Promise<RunningFeed> {
  // Loaded on demand: other feeds' workers never parse the Polymarket code.
  const { planShards, PolymarketCore, subscribeMessage } = await import('./feeds/polymarket-core.js');
  const books = new PolymarketBookWriter(BookSet.attach(init.booksSab!, Venue.Polymarket));
  let snapshots: SnapshotFetcher | undefined;
  const core = new PolymarketCore({
    tokens: spec.tokenIds,
    books,
    events,
    counters,
    source: init.source,
    requestSnapshot: (token) => snapshots?.request(token),
  });
  snapshots = fetcher(spec, (k) => `${spec.restUrl}/book?token_id=${spec.tokenIds[k]!}`, (k, body, ns) => core.onSnapshot(k, body, ns));
  core.start();
  // One connection per shard; a dropped shard resyncs only its own tokens.
  const conns = planShards(spec.tokenIds.length, spec.maxAssetsPerConnection).map((shard) => {
    const ids = shard.map((i) => spec.tokenIds[i]!);
    return connection(
      spec.wsUrl,
      (send) => send(subscribeMessage(ids)),
      (d, ns) => core.onFrame(d, ns),
      () => core.onDown(shard),
      'PING',
    );
  });
  for (const c of conns) c.start();
  return {
    stop() {
      snapshots?.stop();
      for (const c of conns) c.stop();
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

port.on('message', (m: FeedControlMessage) => {
  if (m.type !== 'stop') return;
  running.stop();
  clearInterval(ringDropsTimer);
  counters[COUNTER.ringDrops] = producer.dropped;
  if (flushTimer) clearInterval(flushTimer);
  recorder?.close();
  producer.close();
  post({ type: 'stopped', feed: init.spec.feed, recordedFiles: recorder ? [...recorder.files] : [] });
  port.close();
});
