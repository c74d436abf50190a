// Feed ingest: frame bytes → parsed levels → book, per venue, against
// JSON.parse of the same frames alone (the baseline: what any JSON-based
// design pays before touching a book) and against the common bot design
// (JSON.parse, a Map of price string → size per side, a sort for the best).
//
// Books: the shared-memory ladder books of workers/shared-memory and workers/venues (PolymarketBookWriter,
// BinanceBookWriter), one seqlock batch per token / instrument per frame, as
// the feed worker runs them.
//
// Polymarket frames: seeded `price_change` traffic in the current format, two
// entries per frame (the two complementary tokens, §2.5), ~750 bytes each.
// Binance frames: the 6,551 real `depthUpdate` frames of the USD-M capture,
// applied on top of its REST snapshot.
//
// Run alone: node dist/bench/ingest.js [--quick]
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { compareThroughput, formatTable, type BenchContext, type Suite } from './harness.js';
import { BinanceParser, DepthKind, type BinanceSink } from '../workers/venues/binance/parse.js';
import { PolymarketParser, type PolymarketSink } from '../workers/venues/polymarket/parse.js';
import { PAIR, priceChangeFrames } from '../workers/parse/testing/gen.js';
import { captureMissing, hftbacktestFrames } from '../workers/parse/testing/data.js';
import { PolymarketBookWriter, createPolymarketBooks } from '../workers/venues/polymarket/book.js';
import { BinanceBookWriter, createBinanceBooks } from '../workers/venues/binance/book.js';
import { Side } from '../workers/shared-memory/book-layout.js';

const BATCH = 256;
const utf8 = new TextDecoder();
const USDM_CAPTURE = 'binance_usdm_btcusdt_20240808.gz';

/** Applies price_change levels to the shared ladder, one seqlock batch per level's token. */
class PolyBookSink implements PolymarketSink {
  constructor(readonly w: PolymarketBookWriter) {}
  onBookBegin(token: number, tsMs: number): void {
    this.w.begin(token);
    this.w.clear(token);
    this.w.setTimes(token, 0, tsMs);
  }
  onLevel(token: number, side: number, priceTicks: number, size: number): void {
    this.w.setLevel(token, side as Side, priceTicks, size);
  }
  onBookEnd(token: number): void {
    this.w.end(token);
  }
  onPriceChange(token: number, side: number, priceTicks: number, size: number, _bb: number, _ba: number, tsMs: number): void {
    this.w.begin(token);
    this.w.setLevel(token, side as Side, priceTicks, size);
    this.w.setTimes(token, 0, tsMs);
    this.w.end(token);
  }
  onTickSize(): void {}
  onTrade(): void {}
  onBestBidAsk(): void {}
  onMarketEvent(): void {}
}

/** Diff levels go straight into the ladder; snapshot levels are collected and applied whole. */
class BinanceBookSink implements BinanceSink {
  private snap = false;
  private nb = 0;
  private na = 0;
  private readonly bt = new Float64Array(2048);
  private readonly bs = new Float64Array(2048);
  private readonly at = new Float64Array(2048);
  private readonly as = new Float64Array(2048);
  constructor(readonly w: BinanceBookWriter) {}
  onDepthBegin(sym: number, kind: number, eventMs: number): void {
    this.snap = kind !== DepthKind.DIFF;
    this.nb = this.na = 0;
    this.w.begin(sym);
    this.w.setTimes(sym, 0, eventMs);
  }
  onDepthLevel(sym: number, side: number, priceTicks: number, qty: number): void {
    if (!this.snap) this.w.setLevel(sym, side as Side, priceTicks, qty);
    else if (side === Side.Bid && this.nb < 2048) {
      this.bt[this.nb] = priceTicks;
      this.bs[this.nb++] = qty;
    } else if (side === Side.Ask && this.na < 2048) {
      this.at[this.na] = priceTicks;
      this.as[this.na++] = qty;
    }
  }
  onDepthEnd(sym: number): void {
    if (this.snap) this.w.applySnapshot(sym, this.bt, this.bs, this.nb, this.at, this.as, this.na);
    this.w.end(sym);
  }
  onBookTicker(): void {}
  onTrade(): void {}
  onAggTrade(): void {}
  onLiquidation(): void {}
}

interface PriceChangeJson {
  price_changes: { asset_id: string; price: string; size: string; side: string; best_bid?: string; best_ask?: string }[];
}

interface MapBook {
  bids: Map<string, number>;
  asks: Map<string, number>;
  bestBid: number;
  bestAsk: number;
}

function newMapBook(): MapBook {
  return { bids: new Map(), asks: new Map(), bestBid: NaN, bestAsk: NaN };
}

/** The usual bot: apply the level to a Map keyed by the price text, then sort the side for its best price. */
function mapApply(book: MapBook, side: string, price: string, size: number): void {
  const levels = side === 'BUY' ? book.bids : book.asks;
  if (size === 0) levels.delete(price);
  else levels.set(price, size);
  const sorted = [...levels.keys()].map(Number).sort((a, b) => a - b);
  if (side === 'BUY') book.bestBid = sorted.length ? sorted[sorted.length - 1]! : NaN;
  else book.bestAsk = sorted.length ? sorted[0]! : NaN;
}

/** Minor GCs while running fn: 0 means fn allocated (next to) nothing that needed collecting. */
async function countGcs(fn: () => void): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    n += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return n;
}

async function polymarket(ctx: BenchContext): Promise<void> {
  const gen = priceChangeFrames(4096, 2024);
  const frames = gen.map((g) => Buffer.from(g.frame));
  const strings = gen.map((g) => g.frame);
  const bytes = frames.reduce((s, f) => s + f.length, 0);
  ctx.log(`polymarket: ${frames.length} price_change frames, 2 entries each, mean ${(bytes / frames.length).toFixed(0)} B`);

  const books = createPolymarketBooks(2);
  const writer = new PolymarketBookWriter(books);
  const sink = new PolyBookSink(writer);
  const parser = new PolymarketParser(sink);
  parser.registerToken(PAIR[0], 0);
  parser.registerToken(PAIR[1], 1);
  // Start every design from the same ~40-level books (levels every cent around the mid).
  const mapBooks = new Map<string, MapBook>([
    [PAIR[0], newMapBook()],
    [PAIR[1], newMapBook()],
  ]);
  for (let t = 0; t < 2; t++) {
    writer.begin(t);
    for (let c = 1; c <= 99; c++) {
      const mid = t === 0 ? 54 : 46;
      if (Math.abs(c - mid) > 20) continue;
      const side = c <= mid ? Side.Bid : Side.Ask;
      writer.setLevel(t, side, c * 100, 100 + c);
      const text = (c / 100).toString();
      const mb = mapBooks.get(PAIR[t]!)!;
      (side === Side.Bid ? mb.bids : mb.asks).set(text, 100 + c);
    }
    writer.end(t);
  }

  let i = 0;
  let sinkN = 0;
  const next = (): number => {
    const k = i;
    i = (i + 1) & 4095;
    return k;
  };
  const run = (): void => {
    for (let k = 0; k < BATCH; k++) parser.parse(frames[next()]!);
  };
  await compareThroughput(
    ctx,
    'ingest',
    'polymarket price_change (2 entries/frame)',
    {
      name: 'JSON.parse(string) only',
      opsPerCall: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) sinkN += (JSON.parse(strings[next()]!) as PriceChangeJson).price_changes.length;
      },
    },
    [
      {
        name: 'utf8 decode + JSON.parse only',
        opsPerCall: BATCH,
        fn: () => {
          for (let k = 0; k < BATCH; k++) sinkN += (JSON.parse(utf8.decode(frames[next()]!)) as PriceChangeJson).price_changes.length;
        },
      },
      { name: 'polyedge: bytes → scanner → ladder book', opsPerCall: BATCH, fn: run },
      {
        name: 'bot: JSON.parse + Map + sort',
        opsPerCall: BATCH,
        fn: () => {
          for (let k = 0; k < BATCH; k++) {
            const msg = JSON.parse(utf8.decode(frames[next()]!)) as PriceChangeJson;
            for (const c of msg.price_changes) {
              const book = mapBooks.get(c.asset_id);
              if (book) mapApply(book, c.side, c.price, parseFloat(c.size));
            }
          }
        },
      },
    ],
  );
  if (sinkN < 0) ctx.log(String(sinkN));
  const gcs = await countGcs(() => {
    for (let k = 0; k < 400; k++) run();
  });
  ctx.log(`polymarket: ${400 * BATCH} frames through scanner + book: ${gcs} GC events; errors ${parser.counters.malformed + parser.counters.badField}`);
}

async function binance(ctx: BenchContext): Promise<void> {
  const missing = captureMissing(USDM_CAPTURE);
  if (missing) {
    ctx.log(`binance depth ingest: not run, ${missing}`);
    return;
  }
  const all = hftbacktestFrames(USDM_CAPTURE);
  const snapshot = all.find((f) => f[2] === 0x6c)!; // {"lastUpdateId"…
  const frames = all.filter((f) => f.subarray(0, 32).toString().includes('@depth'));
  const strings = frames.map((f) => f.toString());
  const bytes = frames.reduce((s, f) => s + f.length, 0);
  ctx.log(`binance: ${frames.length} real depthUpdate frames, mean ${(bytes / frames.length).toFixed(0)} B`);

  const books = createBinanceBooks([{ tickValue: 0.1 }]);
  const writer = new BinanceBookWriter(books);
  const parser = new BinanceParser(new BinanceBookSink(writer));
  parser.snapshotSymbol = parser.registerSymbol('BTCUSDT', 1);
  parser.parse(snapshot);

  const mapBook = newMapBook();
  const snap = JSON.parse(snapshot.toString()) as { bids: [string, string][]; asks: [string, string][] };
  for (const [p, q] of snap.bids) mapBook.bids.set(p, Number(q));
  for (const [p, q] of snap.asks) mapBook.asks.set(p, Number(q));

  const n = frames.length;
  let i = 0;
  let sinkN = 0;
  const next = (): number => {
    const k = i;
    i = i + 1 === n ? 0 : i + 1;
    return k;
  };
  await compareThroughput(
    ctx,
    'ingest',
    'binance depthUpdate (real frames)',
    {
      name: 'JSON.parse(string) only',
      opsPerCall: BATCH,
      fn: () => {
        for (let k = 0; k < BATCH; k++) sinkN += (JSON.parse(strings[next()]!) as { data: { u: number } }).data.u;
      },
    },
    [
      {
        name: 'utf8 decode + JSON.parse only',
        opsPerCall: BATCH,
        fn: () => {
          for (let k = 0; k < BATCH; k++) sinkN += (JSON.parse(utf8.decode(frames[next()]!)) as { data: { u: number } }).data.u;
        },
      },
      {
        name: 'polyedge: bytes → scanner → ladder book',
        opsPerCall: BATCH,
        fn: () => {
          for (let k = 0; k < BATCH; k++) parser.parse(frames[next()]!);
        },
      },
      {
        // ~1000x slower than the rest: one frame per call keeps tinybench's minimum sample count affordable.
        name: 'bot: JSON.parse + Map + sort',
        opsPerCall: 1,
        fn: () => {
          for (let k = 0; k < 1; k++) {
            const d = (JSON.parse(utf8.decode(frames[next()]!)) as { data: { b: [string, string][]; a: [string, string][] } }).data;
            for (const [p, q] of d.b) {
              const v = parseFloat(q);
              if (v === 0) mapBook.bids.delete(p);
              else mapBook.bids.set(p, v);
            }
            for (const [p, q] of d.a) {
              const v = parseFloat(q);
              if (v === 0) mapBook.asks.delete(p);
              else mapBook.asks.set(p, v);
            }
            // One sort per side per frame (not per level): the kindest version of this design.
            const bids = [...mapBook.bids.keys()].map(Number).sort((x, y) => y - x);
            const asks = [...mapBook.asks.keys()].map(Number).sort((x, y) => x - y);
            mapBook.bestBid = bids[0] ?? NaN;
            mapBook.bestAsk = asks[0] ?? NaN;
          }
        },
      },
    ],
  );
  if (sinkN < 0) ctx.log(String(sinkN));
  ctx.log(`binance: Map book holds ${mapBook.bids.size} bids + ${mapBook.asks.size} asks (never trimmed, as such bots run); parser errors ${parser.counters.malformed + parser.counters.badField}`);
}

export const suite: Suite = {
  name: 'ingest',
  baseline: 'JSON.parse of the same frames (pre-decoded strings), no book update',
  async run(ctx) {
    await polymarket(ctx);
    await binance(ctx);
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ctx: BenchContext = { quick: process.argv.includes('--quick'), rows: [], log: (l) => process.stdout.write(`${l}\n`) };
  process.stdout.write(`# ${suite.name}: baseline = ${suite.baseline}\n`);
  await suite.run(ctx);
  process.stdout.write(`${formatTable(ctx.rows)}\n`);
}
