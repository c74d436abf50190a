import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASK, BID, BinanceParser, DepthKind, type BinanceSink } from './parse.js';
import { Status } from '../../parse/json.js';
import { binanceFile, captureMissing, hftbacktestFrames } from '../../parse/testing/data.js';
import { BinanceRecorder, firstDifference } from '../../parse/testing/recorders.js';
import { refBinance } from '../../parse/testing/reference.js';

const USDM = 'binance_usdm_btcusdt_20240808.gz';
const SPOT = 'binance_spot_btcusdt_20240808.gz';
const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

function setup(tickExp = 1): { p: BinanceParser; rec: BinanceRecorder } {
  const rec = new BinanceRecorder();
  const p = new BinanceParser(rec);
  rec.parser = p;
  p.snapshotSymbol = p.registerSymbol('BTCUSDT', tickExp);
  return { p, rec };
}

/** Counts events and checks the diff-depth id chain while parsing a capture. */
class ChainSink implements BinanceSink {
  depth = 0;
  levels = 0;
  bookTickers = 0;
  trades = 0;
  lastU = NaN;
  gaps = 0;
  snapshotId = NaN;
  bridged = false;
  crossed = 0;
  onDepthBegin(_s: number, kind: number, _e: number, _t: number, first: number, last: number, prev: number): void {
    if (kind === DepthKind.SNAPSHOT) {
      this.snapshotId = last;
      return;
    }
    this.depth++;
    if (this.lastU === this.lastU && prev !== this.lastU) this.gaps++;
    if (first <= this.snapshotId && this.snapshotId <= last) this.bridged = true;
    this.lastU = last;
  }
  onDepthLevel(): void {
    this.levels++;
  }
  onDepthEnd(): void {}
  onBookTicker(_s: number, bid: number, _bq: number, ask: number): void {
    this.bookTickers++;
    if (!(bid < ask)) this.crossed++;
  }
  onTrade(): void {
    this.trades++;
  }
  onAggTrade(): void {}
  onLiquidation(): void {}
}

test('USD-M capture: every frame parses, counts match PROVENANCE, pu chain unbroken', { skip: captureMissing(USDM) }, () => {
  const frames = hftbacktestFrames(USDM);
  assert.equal(frames.length, 93954);
  const sink = new ChainSink();
  const p = new BinanceParser(sink);
  const btc = p.registerSymbol('BTCUSDT', 1);
  p.snapshotSymbol = btc;
  for (const f of frames) assert.equal(p.parse(f), Status.OK);
  assert.equal(sink.depth, 6551);
  assert.equal(sink.bookTickers, 66089);
  assert.equal(sink.trades, 21313);
  assert.equal(p.counters.snapshots, 1);
  assert.equal(p.counters.malformed + p.counters.badField + p.counters.unknownEvent + p.counters.unknownSymbol, 0);
  assert.equal(sink.gaps, 0);
  assert.equal(sink.snapshotId, 5123107852948);
  assert.equal(sink.crossed, 0);
  assert.equal(p.counters.levels, sink.levels);
});

test('first depthUpdate, bookTicker, trade and the REST snapshot, field by field', { skip: captureMissing(USDM) }, () => {
  const frames = hftbacktestFrames(USDM);
  const { p, rec } = setup();
  const first = (pred: (s: string) => boolean): Buffer => frames.find((f) => pred(f.subarray(0, 40).toString()))!;
  assert.equal(p.parse(first((s) => s.includes('@depth'))), Status.OK);
  assert.deepEqual(rec.out.slice(0, 8), ['depth', 0, DepthKind.DIFF, 1723161256299, 1723161256298, 5123107832006, 5123107837557, 5123107831937]);
  assert.deepEqual(rec.out.slice(8, 15), ['dl', 0, BID, 587102, 0.014, '58710.20', '0.014']);
  assert.deepEqual(rec.out.slice(22, 29), ['dl', 0, BID, 615109, 0, '61510.90', '0.000']); // "0.000" removes the level
  rec.out = [];
  assert.equal(p.parse(first((s) => s.includes('@bookTicker'))), Status.OK);
  assert.deepEqual(rec.out, ['bt', 0, 618002, 2.507, 618003, 2.51, 5123107839020, 1723161256313, 1723161256313, '61800.20', '2.507', '61800.30', '2.510']);
  rec.out = [];
  assert.equal(p.parse(first((s) => s.includes('@trade'))), Status.OK);
  // m=false: the buyer was the taker.
  assert.deepEqual(rec.out, ['trade', 0, 618003, 0.006, BID, 5266583935, 1723161256322, 1723161256322, '61800.30', '0.006']);
  rec.out = [];
  assert.equal(p.parse(first((s) => s.startsWith('{"lastUpdateId"'))), Status.OK);
  assert.deepEqual(rec.out.slice(0, 8), ['depth', 0, DepthKind.SNAPSHOT, 1723161256501, 1723161256493, NaN, 5123107852948, NaN]);
  assert.deepEqual(rec.out.slice(8, 15), ['dl', 0, BID, 618002, 2.909, '61800.20', '2.909']);
  assert.equal(rec.out.filter((x) => x === 'dl').length, 2000);
});

test('spot capture (0.01 grid, bookTicker without "e", depth without pu) parses with zero errors', { skip: captureMissing(SPOT) }, () => {
  const frames = hftbacktestFrames(SPOT);
  const { p } = setup(2);
  for (const f of frames) assert.equal(p.parse(f), Status.OK);
  assert.equal(p.counters.depth, 3451);
  assert.equal(p.counters.bookTickers, 28040);
  assert.equal(p.counters.trades, 9757);
  assert.equal(p.counters.snapshots, 1);
});

test('aggTrade, forceOrder, partial depth, raw frames, acks, unknown symbols', () => {
  const { p, rec } = setup();
  // Composed from the §9.4 field list with the first recorded trade's values; m=true: the taker sold.
  const agg = '{"e":"aggTrade","E":1723161256322,"s":"BTCUSDT","a":2247000001,"p":"61800.30","q":"0.006","f":5266583935,"l":5266583936,"T":1723161256322,"m":true}';
  assert.equal(p.parse(buf(agg)), Status.OK);
  assert.deepEqual(rec.out, ['agg', 0, 618003, 0.006, ASK, 2247000001, 5266583935, 5266583936, 1723161256322, 1723161256322, '61800.30', '0.006']);
  rec.out = [];
  assert.equal(p.parse(binanceFile('futures_forceOrder_docs_example.json')), Status.OK);
  assert.deepEqual(rec.out, ['liq', 0, ASK, 9910, 9910.12345678, 0.014, 0.014, 0.014, 1568014460893, 1568014460893]);
  rec.out = [];
  const depth = '{"e":"depthUpdate","E":1571889248277,"T":1571889248276,"s":"BTCUSDT","U":390497796,"u":390497878,"pu":390497794,"b":[["7403.80","0.002"]],"a":[["7405.90","3.340"]]}';
  assert.equal(p.parse(buf(`{"stream":"btcusdt@depth20@100ms","data":${depth}}`)), Status.OK);
  assert.equal(rec.out[2], DepthKind.PARTIAL);
  rec.out = [];
  assert.equal(p.parse(buf(depth)), Status.OK);
  assert.equal(rec.out[2], DepthKind.DIFF);
  const partialRaw = new BinanceParser(new BinanceRecorder(), { rawDepthKind: DepthKind.PARTIAL });
  partialRaw.registerSymbol('BTCUSDT', 1);
  assert.equal(partialRaw.parse(buf(depth)), Status.OK);
  assert.equal(p.parse(buf('{"result":null,"id":1}')), Status.CONTROL);
  assert.equal(p.parse(buf(depth.replace('BTCUSDT', 'ETHUSDT'))), Status.UNKNOWN_ID);
  assert.equal(p.parse(buf(depth.replace('"7403.80"', '"7403.85"'))), Status.BAD_FIELD, 'off the 0.1 grid');
  assert.equal(p.parse(buf('{"e":"markPriceUpdate","E":1}')), Status.UNKNOWN_EVENT);
  assert.equal(p.parse(buf('')), Status.EMPTY);
  assert.equal(p.parse(buf('{"stream":"x","data":')), Status.MALFORMED);
  assert.equal(p.counters.control, 1);
  assert.equal(p.counters.unknownSymbol, 1);
});

test('differential: scanner equals the JSON.parse reference on the whole USD-M capture', { skip: captureMissing(USDM) }, () => {
  const frames = hftbacktestFrames(USDM);
  const { p, rec } = setup();
  const opts = { symbols: new Map([['BTCUSDT', { index: 0, exp: 1 }]]), snapshotSymbol: 'BTCUSDT' };
  for (const f of frames) {
    rec.out = [];
    const status = p.parse(f);
    const ref = refBinance(f, opts);
    assert.equal(status, ref.status);
    const d = firstDifference(rec.out, ref.events);
    assert.equal(d, -1, `${f.subarray(0, 80).toString()} @${d}: ${String(rec.out[d])} vs ${String(ref.events[d])}`);
  }
});
