// Replays the real Binance USD-M capture (hftbacktest, MIT) through the same
// core the live worker uses: the book must rebuild with zero gaps and agree
// with the venue's own bookTicker wherever both describe the same update id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceBookWriter, createBinanceBooks } from './book.js';
import { COUNTER, createCounters } from '../../counters.js';
import { EventKind, type EventRecord } from '../../shared-memory/event-layout.js';
import { readHftbacktestCapture } from '../../recording/hftbacktest.js';
import { captureMissing, hftbacktestPath } from '../../parse/testing/data.js';
import { BinanceCore, type TopChange } from './feed.js';

const USDM = 'binance_usdm_btcusdt_20240808.gz';
const CAPTURE = hftbacktestPath(USDM);

function newCore(extra: Partial<ConstructorParameters<typeof BinanceCore>[0]> = {}) {
  const books = new BinanceBookWriter(createBinanceBooks([{ tickValue: 0.1 }]));
  const counters = createCounters();
  const events: number[] = [];
  const requests: number[] = [];
  const core = new BinanceCore({
    symbols: [{ symbol: 'BTCUSDT', tickExp: 1 }],
    books,
    counters,
    source: 1,
    events: { emit: (e: EventRecord) => events.push(e.kind) },
    requestSnapshot: (sym) => requests.push(sym),
    ...extra,
  });
  return { core, books, counters, events, requests };
}

test('USD-M capture: zero gaps, and the rebuilt top of book equals the venue bookTicker at the same update id', { skip: captureMissing(USDM) }, async () => {
  const ours = new Map<number, string>();
  let compared = 0;
  let mismatches = 0;
  const key = (t: TopChange) => `${t.bidTicks}/${t.bidQty}/${t.askTicks}/${t.askQty}`;
  const venueTops: Array<[number, string]> = [];
  const { core, counters, events } = newCore({
    onTopChange: (t) => ours.set(t.u, key(t)),
    onVenueTop: (t) => venueTops.push([t.u, key(t)]),
  });
  core.start();
  let frames = 0;
  for await (const line of readHftbacktestCapture(CAPTURE)) {
    const ns = Number(line.localNs % 1_000_000_000_000n);
    if (line.snapshot) assert.ok(core.onSnapshot(0, line.frame, ns));
    else core.onFrame(line.frame, ns);
    frames++;
  }
  assert.equal(frames, 93_954);
  assert.equal(counters[COUNTER.gaps], 0);
  assert.equal(counters[COUNTER.parseErrors], 0);
  assert.equal(counters[COUNTER.restSnapshots], 1);
  assert.ok(core.isLive(0));
  // bookTicker u and depth u share one id space; where a depth event ends
  // exactly at a bookTicker's id, both describe the same book.
  for (const [u, venue] of venueTops) {
    const mine = ours.get(u);
    if (mine === undefined) continue;
    compared++;
    if (mine !== venue) mismatches++;
  }
  assert.ok(compared > 500, `only ${compared} comparable points`);
  assert.equal(mismatches, 0, `${mismatches} of ${compared} tops disagree`);
  assert.ok(events.filter((k) => k === EventKind.BestBidAsk).length > 1000);
  assert.ok(events.includes(EventKind.Trade));
});

test('a broken pu chain is a counted gap: book gated, snapshot requested, frames held for the next snapshot', () => {
  const { core, books, counters, events, requests } = newCore();
  core.start();
  assert.deepEqual(requests, [0]);
  const diff = (U: number, u: number, pu: number, bid: string) =>
    Buffer.from(`{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":${U},"u":${u},"pu":${pu},"b":[["${bid}","1.000"]],"a":[["61800.30","2.000"]]}}`);
  core.onFrame(diff(95, 101, 94, '61800.10'), 1);
  assert.ok(core.onSnapshot(0, Buffer.from('{"lastUpdateId":100,"E":1,"T":1,"bids":[["61800.00","5.000"]],"asks":[["61800.50","5.000"]]}'), 2));
  assert.ok(core.isLive(0));
  assert.equal(core.lastUpdateId(0), 101);
  core.onFrame(diff(102, 105, 101, '61800.20'), 3);
  assert.equal(core.lastUpdateId(0), 105);
  core.onFrame(diff(110, 120, 108, '61800.20'), 4);
  assert.equal(counters[COUNTER.gaps], 1);
  assert.equal(counters[COUNTER.resyncs], 1);
  assert.ok(!core.isLive(0));
  assert.deepEqual(requests, [0, 0]);
  assert.ok(events.includes(EventKind.Gap) && events.includes(EventKind.Resync));
  const status = books.set.i32[books.set.i32Base(0) + 6]!;
  assert.ok((status & (1 << 9)) !== 0, 'book flagged Resyncing');
  assert.ok(core.onSnapshot(0, Buffer.from('{"lastUpdateId":115,"E":1,"T":1,"bids":[["61800.00","5.000"]],"asks":[["61800.50","5.000"]]}'), 5));
  assert.ok(core.isLive(0), 'the held frame bridges the new snapshot');
  assert.equal(core.lastUpdateId(0), 120);
});

test('a snapshot alone leaves the book gated; the first diff that bridges to it ungates it', () => {
  const { core, books } = newCore();
  core.start();
  const resyncing = () => (books.set.i32[books.set.i32Base(0) + 6]! & (1 << 9)) !== 0;
  // As after a reconnect with the socket still down: the snapshot lands before any diff.
  assert.ok(core.onSnapshot(0, Buffer.from('{"lastUpdateId":100,"E":1,"T":1,"bids":[["61800.00","5.000"]],"asks":[["61800.50","5.000"]]}'), 1));
  assert.ok(resyncing(), 'nothing shows the stream is flowing yet');
  core.onFrame(Buffer.from('{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":2,"T":2,"s":"BTCUSDT","U":101,"u":103,"pu":100,"b":[["61800.10","1.000"]],"a":[]}}'), 2);
  assert.ok(!resyncing(), 'bridged: the book is live');
  assert.ok(core.isLive(0));
});

test('malformed and truncated frames are counted and dropped, never thrown', () => {
  const { core, counters } = newCore();
  core.start();
  for (const bad of ['{', '{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","U":', 'garbage', '[]]']) core.onFrame(Buffer.from(bad), 1);
  assert.equal(counters[COUNTER.parseErrors], 4);
  assert.equal(counters[COUNTER.frames], 4);
  assert.ok(!core.onSnapshot(0, Buffer.from('{"lastUpdateId":'), 1));
  assert.equal(counters[COUNTER.restErrors], 1);
});
