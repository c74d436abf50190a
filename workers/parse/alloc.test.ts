// Guards "the hot path allocates nothing per message": after warm-up, V8's
// sampling heap profiler (which also sees objects a scavenge already freed)
// must find (next to) no bytes allocated by parsing price_change and Binance
// frames into a sink that stores into typed arrays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from 'node:inspector/promises';
import { BinanceParser, type BinanceSink } from '../venues/binance/parse.js';
import { PolymarketParser, type PolymarketSink } from '../venues/polymarket/parse.js';
import { captureMissing, hftbacktestFrames } from './testing/data.js';
import { PAIR, priceChangeFrames } from './testing/gen.js';

const acc = new Float64Array(4);

class PolySink implements PolymarketSink {
  onBookBegin(): void {}
  onLevel(): void {}
  onBookEnd(): void {}
  onPriceChange(token: number, side: number, px: number, size: number, bb: number, ba: number, ts: number): void {
    acc[0]! += token + side + px + size + bb + ba + ts;
  }
  onTickSize(): void {}
  onTrade(): void {}
  onBestBidAsk(): void {}
  onMarketEvent(): void {}
}

class BinSink implements BinanceSink {
  onDepthBegin(sym: number, kind: number, e: number, t: number, first: number, last: number, prev: number): void {
    acc[1]! += sym + kind + e + t + first + last + prev;
  }
  onDepthLevel(sym: number, side: number, px: number, qty: number): void {
    acc[1]! += sym + side + px + qty;
  }
  onDepthEnd(): void {}
  onBookTicker(sym: number, bid: number, bq: number, ask: number, aq: number, u: number, e: number, t: number): void {
    acc[2]! += sym + bid + bq + ask + aq + u + e + t;
  }
  onTrade(sym: number, px: number, qty: number, aggr: number, id: number, tMs: number, eMs: number): void {
    acc[3]! += sym + px + qty + aggr + id + tMs + eMs;
  }
  onAggTrade(): void {}
  onLiquidation(): void {}
}

async function bytesPerCall(run: (n: number) => void, n: number): Promise<number> {
  run(n * 2); // warm-up: let TurboFan compile and inline
  const s = new Session();
  s.connect();
  await s.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  });
  run(n);
  const { profile } = await s.post('HeapProfiler.stopSampling');
  s.disconnect();
  let bytes = 0;
  const walk = (node: typeof profile.head): void => {
    // Only allocations made under a parser's parse(); the profiler's own are not ours.
    if (node.callFrame.functionName === 'parse') {
      const sum = (x: typeof node): number => x.selfSize + x.children.reduce((a, c) => a + sum(c), 0);
      bytes += sum(node);
      return;
    }
    node.children.forEach(walk);
  };
  walk(profile.head);
  return bytes / n;
}

test('parsing price_change frames allocates nothing per frame', async () => {
  const frames = priceChangeFrames(1024, 5).map((g) => Buffer.from(g.frame));
  const p = new PolymarketParser(new PolySink());
  p.registerToken(PAIR[0]);
  p.registerToken(PAIR[1]);
  const perFrame = await bytesPerCall((n) => {
    for (let k = 0; k < n; k++) p.parse(frames[k & 1023]!);
  }, 200_000);
  assert.ok(perFrame < 2, `${perFrame.toFixed(2)} B/frame`);
});

test('parsing the Binance capture allocates nothing per frame', { skip: captureMissing('binance_usdm_btcusdt_20240808.gz') }, async () => {
  const frames = hftbacktestFrames('binance_usdm_btcusdt_20240808.gz').filter((f) => f.length < 20000);
  const p = new BinanceParser(new BinSink());
  p.registerSymbol('BTCUSDT', 1);
  const perFrame = await bytesPerCall((n) => {
    for (let k = 0; k < n; k++) p.parse(frames[k % frames.length]!);
  }, 100_000);
  assert.ok(perFrame < 2, `${perFrame.toFixed(2)} B/frame`);
});
