import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { WsProbe, getJson, upgradeStatus, withSim, delay } from './testkit.js';
import { captureMissing } from '../../workers/parse/testing/data.js';
import { defaultBinanceCapturePath, loadBinanceCapture } from './recorded.js';

const USDM = 'binance_usdm_btcusdt_20240808.gz';
import type { AggTrade, DepthSnapshot, DepthUpdate, ForceOrder, TradeEvent } from './binance-types.js';

type Envelope<T> = { stream: string; data: T };
const CAPTURE_SNAPSHOT_ID = 5123107852948;

let barrierId = 1_000_000;
/** A reply comes after every frame sent before it. */
async function barrier(p: WsProbe): Promise<void> {
  const id = barrierId++;
  p.send({ method: 'LIST_SUBSCRIPTIONS', id });
  await p.waitFor((f) => f.some((x) => x.includes(`"id":${id}`)), 'LIST_SUBSCRIPTIONS barrier');
}

function depthEvents(p: WsProbe, stream = 'btcusdt@depth@0ms'): DepthUpdate[] {
  return (p.json() as Array<Envelope<DepthUpdate>>).filter((m) => m.stream === stream).map((m) => m.data);
}

class LocalBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  constructor(s: DepthSnapshot) {
    this.apply(s.bids, s.asks);
  }
  apply(b: readonly (readonly [string, string])[], a: readonly (readonly [string, string])[]): void {
    for (const [p, q] of b) Number(q) === 0 ? this.bids.delete(p) : this.bids.set(p, q);
    for (const [p, q] of a) Number(q) === 0 ? this.asks.delete(p) : this.asks.set(p, q);
  }
  top(n: number): { bids: string[][]; asks: string[][] } {
    const sorted = (m: Map<string, string>, desc: boolean): string[][] =>
      [...m.entries()].sort((x, y) => (desc ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0]))).slice(0, n);
    return { bids: sorted(this.bids, true), asks: sorted(this.asks, false) };
  }
}

/**
 * The official procedure (protocols.md §9.3): drop u < lastUpdateId, the
 * first applied event has U ≤ lastUpdateId ≤ u, then pu == previous u.
 */
function syncBook(snapshot: DepthSnapshot, buffered: readonly DepthUpdate[]): { book: LocalBook; applied: number; lastU: number } {
  const events = buffered.filter((e) => e.u >= snapshot.lastUpdateId);
  const first = events[0];
  assert.ok(first, 'an event at or after the snapshot was received');
  assert.ok(first.U <= snapshot.lastUpdateId && snapshot.lastUpdateId <= first.u, `first event U=${first.U} u=${first.u} bridges ${snapshot.lastUpdateId}`);
  const book = new LocalBook(snapshot);
  let lastU = 0;
  events.forEach((e, i) => {
    if (i > 0) assert.equal(e.pu, lastU, `pu chain at event ${i}`);
    book.apply(e.b, e.a);
    lastU = e.u;
  });
  return { book, applied: events.length, lastU };
}

async function depth(url: string, limit = 1000): Promise<DepthSnapshot> {
  const r = await getJson(`${url}/fapi/v1/depth?symbol=BTCUSDT&limit=${limit}`);
  assert.equal(r.status, 200);
  return r.body as DepthSnapshot;
}

test('recorded: snapshot before the stream catches up is the captured one; snapshot + diffs sync and match REST later', { skip: captureMissing(USDM) }, async () => {
  await withSim({ venues: ['binance'], source: 'recorded', speed: 'manual' }, async (sim, urls) => {
    const bn = urls.binance!;
    const p = await WsProbe.open(`${bn.wsBaseUrl}/public/stream?streams=btcusdt@depth@0ms`);
    const snap = await depth(bn.restUrl);
    assert.equal(snap.lastUpdateId, CAPTURE_SNAPSHOT_ID);
    assert.equal(snap.bids.length, 1000);
    sim.advance('binance', 3000);
    await barrier(p);
    const { book, applied, lastU } = syncBook(snap, depthEvents(p));
    assert.ok(applied > 100, `applied ${applied}`);
    const later = await depth(bn.restUrl);
    assert.equal(later.lastUpdateId, lastU, 'REST lastUpdateId = last delivered u');
    assert.deepEqual({ bids: later.bids, asks: later.asks }, book.top(1000));
    await p.close();
  });
});

test('recorded: a snapshot fetched mid-stream bridges the buffered events (U ≤ lastUpdateId ≤ u) and the chain holds', { skip: captureMissing(USDM) }, async () => {
  await withSim({ venues: ['binance'], source: 'recorded', speed: 'manual' }, async (sim, urls) => {
    const bn = urls.binance!;
    const p = await WsProbe.open(`${bn.wsBaseUrl}/stream?streams=btcusdt@depth@0ms`);
    sim.advance('binance', 2000);
    await barrier(p);
    const snap = await depth(bn.restUrl, 500);
    assert.ok(snap.lastUpdateId > CAPTURE_SNAPSHOT_ID);
    assert.equal(snap.bids.length, 500);
    sim.advance('binance', 2000);
    await barrier(p);
    const { book } = syncBook(snap, depthEvents(p));
    const later = await depth(bn.restUrl, 100);
    assert.deepEqual({ bids: later.bids, asks: later.asks }, book.top(100));
    await p.close();
  });
});

test('recorded: combined frames are the captured frames byte for byte; raw endpoint sends the bare data', { skip: captureMissing(USDM) }, async () => {
  const lines = gunzipSync(readFileSync(defaultBinanceCapturePath())).toString('utf8').split('\n', 400);
  const captured = lines.map((l) => l.slice(l.indexOf(' ') + 1)).filter((j) => j.startsWith('{"stream"'));
  await withSim({ venues: ['binance'], source: 'recorded', speed: 'manual', binance: { routing: 'lenient' } }, async (sim, urls) => {
    const bn = urls.binance!;
    const all = await WsProbe.open(`${bn.wsBaseUrl}/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade`);
    const raw = await WsProbe.open(`${bn.wsBaseUrl}/ws/btcusdt@bookTicker`);
    sim.advance('binance', captured.length);
    await barrier(all);
    await barrier(raw);
    const frames = all.frames.filter((f) => f.startsWith('{"stream"'));
    assert.deepEqual(frames, captured);
    const tickers = captured.filter((c) => c.startsWith('{"stream":"btcusdt@bookTicker"')).map((c) => c.slice(c.indexOf('"data":') + 7, -1));
    assert.deepEqual(raw.frames.filter((f) => f.startsWith('{"e":"bookTicker"')), tickers);
    await all.close();
    await raw.close();
  });
});

test('routing: book streams only on /public (and unrouted), trades on /market; aggTrade sums the trades it covers', { skip: captureMissing(USDM) }, async () => {
  await withSim({ venues: ['binance'], source: 'recorded', speed: 'manual', seed: 3 }, async (sim, urls) => {
    const bn = urls.binance!;
    const pub = await WsProbe.open(`${bn.wsBaseUrl}/public/stream?streams=btcusdt@trade/btcusdt@depth@0ms`);
    const mkt = await WsProbe.open(`${bn.wsBaseUrl}/market/stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@depth@0ms/btcusdt@forceOrder`);
    sim.advance('binance', 8000);
    await barrier(pub);
    await barrier(mkt);
    const streams = (p: WsProbe): Set<string> => new Set((p.json() as Array<{ stream?: string }>).map((m) => m.stream).filter((s) => s !== undefined));
    assert.deepEqual(streams(pub), new Set(['btcusdt@depth@0ms']));
    assert.deepEqual(streams(mkt), new Set(['btcusdt@trade', 'btcusdt@aggTrade', 'btcusdt@forceOrder']));
    const msgs = mkt.json() as Array<Envelope<unknown>>;
    const trades = new Map<number, TradeEvent>();
    for (const m of msgs) if (m.stream === 'btcusdt@trade') trades.set((m.data as TradeEvent).t, m.data as TradeEvent);
    const aggs = msgs.filter((m) => m.stream === 'btcusdt@aggTrade').map((m) => m.data as AggTrade);
    assert.ok(aggs.length > 50);
    let prevA = 0;
    for (const a of aggs) {
      assert.equal(a.e, 'aggTrade');
      assert.ok(a.a > prevA, 'aggregate ids increase');
      prevA = a.a;
      let sum = 0;
      for (let t = a.f; t <= a.l; t++) {
        const tr = trades.get(t);
        assert.ok(tr, `trade ${t} was streamed`);
        assert.equal(tr.p, a.p);
        assert.equal(tr.m, a.m);
        sum += Math.round(Number(tr.q) * 1000);
      }
      assert.equal(Math.round(Number(a.q) * 1000), sum, `aggTrade ${a.a} quantity`);
    }
    const liqs = msgs.filter((m) => m.stream === 'btcusdt@forceOrder').map((m) => m.data as ForceOrder);
    assert.ok(liqs.length > 0, 'liquidations generated');
    const seconds = liqs.map((l) => Math.floor(l.E / 1000));
    assert.equal(new Set(seconds).size, seconds.length, 'at most one forceOrder per second');
    for (const l of liqs) {
      assert.equal(l.o.s, 'BTCUSDT');
      assert.ok(['BUY', 'SELL'].includes(l.o.S));
      assert.ok(Math.abs(Number(l.o.p) / 61800 - 1) < 0.05, `liquidation price ${l.o.p} near the market`);
    }
    await pub.close();
    await mkt.close();
  });
});

test('live SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS replies and errors; bad URLs are refused', { skip: captureMissing(USDM) }, async () => {
  await withSim({ venues: ['binance'], source: 'recorded', speed: 'manual' }, async (sim, urls) => {
    const bn = urls.binance!;
    const p = await WsProbe.open(`${bn.wsBaseUrl}/public/ws`);
    p.send({ method: 'SUBSCRIBE', params: ['btcusdt@bookTicker'], id: 1 });
    p.send({ method: 'LIST_SUBSCRIPTIONS', id: 2 });
    p.send('not json');
    p.send({ method: 'SUBSCRIBE', params: ['BTCUSDT@bookTicker'], id: 3 });
    p.send({ method: 'PUBLISH', params: [], id: 4 });
    p.send({ method: 'SUBSCRIBE', params: ['btcusdt@bookTicker'], id: 5, extra: true });
    p.send({ method: 'SUBSCRIBE', params: 'btcusdt@trade', id: 6 });
    await p.waitFor((f) => f.length >= 7, 'seven replies');
    const replies = p.json() as Array<{ id: unknown; result?: unknown; error?: { code: number; msg: string } }>;
    assert.deepEqual(replies[0], { result: null, id: 1 });
    assert.deepEqual(replies[1], { result: ['btcusdt@bookTicker'], id: 2 });
    assert.deepEqual([replies[2]?.error?.code, replies[2]?.id], [3, null]);
    assert.deepEqual([replies[3]?.error?.code, replies[3]?.id], [2, 3]);
    assert.match(replies[3]?.error?.msg ?? '', /invalid stream name/);
    assert.equal(replies[4]?.error?.code, 2);
    assert.equal(replies[5]?.error?.code, 0);
    assert.equal(replies[6]?.error?.code, 1);
    sim.advance('binance', 50);
    await barrier(p);
    const tickers = p.frames.filter((f) => f.startsWith('{"e":"bookTicker"'));
    assert.ok(tickers.length > 10, 'raw frames after live SUBSCRIBE');
    p.send({ method: 'UNSUBSCRIBE', params: ['btcusdt@bookTicker'], id: 7 });
    await barrier(p);
    const mark = p.frames.length;
    sim.advance('binance', 50);
    await barrier(p);
    assert.equal(p.frames.slice(mark).filter((f) => f.startsWith('{"e"')).length, 0, 'nothing after UNSUBSCRIBE');
    assert.equal(await upgradeStatus(`${bn.wsBaseUrl}/stream?streams=btcusdt@depth@7ms`), 400);
    assert.equal(await upgradeStatus(`${bn.wsBaseUrl}/ws/a/b`), 400);
    await p.close();
  });
});

test('throttled @depth@100ms merges diffs without breaking pu; @depth20@100ms is the top of the same book', { skip: captureMissing(USDM) }, async () => {
  await withSim({ venues: ['binance'], source: 'recorded', speed: 'manual' }, async (sim, urls) => {
    const bn = urls.binance!;
    const p = await WsProbe.open(`${bn.wsBaseUrl}/stream?streams=btcusdt@depth@100ms/btcusdt@depth20@100ms`);
    sim.advance('binance', 100);
    await barrier(p);
    const snap = await depth(bn.restUrl);
    sim.advance('binance', 3000);
    await barrier(p);
    const merged = depthEvents(p, 'btcusdt@depth@100ms');
    assert.ok(merged.length > 20);
    for (let i = 1; i < merged.length; i++) {
      assert.equal(merged[i]?.pu, merged[i - 1]?.u, 'merged pu chain');
      assert.ok(Math.floor((merged[i]?.E ?? 0) / 100) > Math.floor((merged[i - 1]?.E ?? 0) / 100), 'one event per 100 ms window');
    }
    const { book } = syncBook(snap, merged);
    const partial = depthEvents(p, 'btcusdt@depth20@100ms');
    const last = partial.at(-1);
    assert.ok(last);
    assert.equal(last.u, merged.at(-1)?.u);
    assert.equal(last.b.length, 20);
    assert.deepEqual({ bids: last.b, asks: last.a }, book.top(20));
    await p.close();
  });
});

test('REST depth validates symbol and limit', async () => {
  await withSim({ venues: ['binance'], speed: 'manual' }, async (_sim, urls) => {
    const base = `${urls.binance!.restUrl}/fapi/v1/depth`;
    const codes = async (q: string): Promise<[number, number | undefined]> => {
      const r = await getJson(`${base}${q}`);
      return [r.status, (r.body as { code?: number }).code];
    };
    assert.deepEqual(await codes(''), [400, -1102]);
    assert.deepEqual(await codes('?symbol=ETHUSDT'), [400, -1121]);
    assert.deepEqual(await codes('?symbol=BTCUSDT&limit=7'), [400, -1100]);
    assert.deepEqual(await codes('?symbol=BTCUSDT&limit=5x'), [400, -1100]);
    const ok = await getJson(`${base}?symbol=btcusdt&limit=5`);
    assert.equal(ok.status, 200);
    const s = ok.body as DepthSnapshot;
    assert.equal(s.bids.length, 5);
    assert.ok(Number(s.bids[0]?.[0]) < Number(s.asks[0]?.[0]));
  });
});

test('scenario: generated book satisfies the sync procedure and is reproducible by seed', async () => {
  const run = async (): Promise<string[]> =>
    withSim({ venues: ['binance'], source: 'scenario', speed: 'manual', seed: 42 }, async (sim, urls) => {
      const bn = urls.binance!;
      const p = await WsProbe.open(`${bn.wsBaseUrl}/public/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker`);
      sim.advance('binance', 30);
      await barrier(p);
      const snap = await depth(bn.restUrl);
      sim.advance('binance', 600);
      await barrier(p);
      const { book } = syncBook(snap, depthEvents(p));
      const rest = await depth(bn.restUrl, 50);
      assert.deepEqual({ bids: rest.bids, asks: rest.asks }, book.top(50));
      const tickers = (p.json() as Array<Envelope<{ b: string; a: string }>>).filter((m) => m.stream === 'btcusdt@bookTicker');
      assert.ok(tickers.every((t) => Number(t.data.b) < Number(t.data.a)), 'bookTicker never crossed');
      await p.close();
      // Prices and sizes only (timestamps are wall clock).
      return depthEvents(p).map((e) => JSON.stringify([e.U, e.u, e.pu, e.b, e.a]));
    });
  const [a, b] = [await run(), await run()];
  assert.deepEqual(a, b);
});

test('pacing: speed 1 follows the capture clock; max speed replays the whole capture with an unbroken chain', { skip: captureMissing(USDM) }, async () => {
  const capture = loadBinanceCapture(defaultBinanceCapturePath());
  const t0 = capture.events[0]?.atMs ?? 0;
  const dueBy = (ms: number): number => capture.events.filter((e) => e.atMs - t0 <= ms).length;
  await withSim({ venues: ['binance'], source: 'recorded', speed: 1 }, async (sim) => {
    const started = performance.now();
    await delay(400);
    const emitted = sim.stats().venues.binance?.eventsEmitted ?? 0;
    const elapsed = performance.now() - started;
    assert.ok(emitted <= dueBy(elapsed), `not ahead of the capture clock (${emitted} > ${dueBy(elapsed)})`);
    assert.ok(emitted >= dueBy(elapsed - 150), `keeps up with the capture clock (${emitted} < ${dueBy(elapsed - 150)})`);
  });
  await withSim({ venues: ['binance'], source: 'recorded', speed: Infinity }, async (sim, urls) => {
    const p = await WsProbe.open(`${urls.binance!.wsBaseUrl}/stream?streams=btcusdt@depth@0ms`);
    const deadline = Date.now() + 10_000;
    while (!sim.stats().venues.binance?.sourceExhausted && Date.now() < deadline) await delay(50);
    assert.ok(sim.stats().venues.binance?.sourceExhausted, 'capture fully replayed');
    await barrier(p);
    const ev = depthEvents(p);
    assert.ok(ev.length > 6000, `${ev.length} depth events`);
    for (let i = 1; i < ev.length; i++) assert.equal(ev[i]?.pu, ev[i - 1]?.u);
    await p.close();
  });
});
