import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { B_BEST_ASK, B_BEST_BID, BF_LEVELS, Side } from './book-layout.js';
import { createPolymarketBooks, POLY_LEVELS } from '../venues/polymarket/book.js';
import { BookReader, TopOfBook, VwapResult } from './book-reader.js';
import type { TornWriterData } from './torn-writer.fixture.js';

test('reads during concurrent writes from a worker always see one whole batch', async (t) => {
  const set = createPolymarketBooks(2);
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL('./torn-writer.fixture.js', import.meta.url), {
    workerData: { books: set.sab, stop, seed: 31337 } satisfies TornWriterData,
  });
  const finished = once(worker, 'message') as Promise<[{ batches: number }]>;
  let writerError: unknown;
  worker.on('error', (e) => (writerError = e));
  // Whatever happens below, the writer must stop or the test process never exits.
  t.after(async () => {
    Atomics.store(new Int32Array(stop), 0, 1);
    await worker.terminate();
  });

  const r = new BookReader(set);
  const top = new TopOfBook();
  const again = new TopOfBook();
  const buy = new VwapResult();
  const sell = new VwapResult();
  const bidTicks = new Int32Array(8);
  const bidSizes = new Float64Array(8);
  const askTicks = new Int32Array(8);
  const askSizes = new Float64Array(8);
  const versions = new Set<number>();
  let reads = 0;
  let bracketed = 0;
  let rawMismatches = 0;

  // One side as the writer wrote it: ticks 3 apart from the best, sizes 8 * salt + i + 1.
  const checkSide = (side: string, ticks: Int32Array, sizes: Float64Array, n: number, step: number) => {
    if (n < 1 || n > 5) assert.fail(`torn ${side} depth: ${n} levels`);
    const salt = Math.floor((sizes[0]! - 1) / 8);
    for (let i = 0; i < n; i++) {
      if (ticks[i] !== ticks[0]! + step * i || sizes[i] !== 8 * salt + i + 1) assert.fail(`torn ${side} depth at level ${i}`);
    }
  };

  // Read for 1 s, or up to 3 s on a busy machine until enough write batches were overlapped.
  const start = performance.now();
  for (;;) {
    const elapsed = performance.now() - start;
    if (writerError !== undefined || elapsed > 3000 || (elapsed > 1000 && versions.size > 2000)) break;
    for (let book = 0; book < 2; book++) {
      r.top(book, top);
      if (top.lastUpdateNs === 0) continue; // the writer has not reached this book yet
      reads++;
      versions.add(top.version * 2 + book);
      if (top.bidTick + top.askTick !== 10_000 || top.bidSize !== top.askSize || (top.bidSize - 1) % 8 !== 0 || top.exchTsMs !== 2 * top.lastUpdateNs || top.flags !== 0) {
        assert.fail(`torn top: ${JSON.stringify(top)}`);
      }
      const nb = r.depth(book, Side.Bid, 8, bidTicks, bidSizes);
      checkSide('bid', bidTicks, bidSizes, nb, -3);
      const na = r.depth(book, Side.Ask, 8, askTicks, askSizes);
      checkSide('ask', askTicks, askSizes, na, 3);
      const size = 1 + (reads % 3000);
      r.vwap(book, Side.Ask, size, buy);
      r.vwap(book, Side.Bid, size, sell);
      // When no batch landed between the two top() calls, all reads between them saw the
      // same state: the sides must mirror each other and VWAP must agree with depth.
      if (r.top(book, again).version === top.version) {
        bracketed++;
        assert.equal(na, nb);
        assert.equal(bidTicks[0], top.bidTick);
        assert.equal(askTicks[0], top.askTick);
        for (let i = 0; i < nb; i++) assert.equal(bidTicks[i]! + askTicks[i]!, 10_000);
        let left = size;
        let notional = 0;
        for (let i = 0; i < na && left > 0; i++) {
          const take = Math.min(askSizes[i]!, left);
          notional += take * askTicks[i]!;
          left -= take;
        }
        assert.equal(buy.filled, size - left);
        assert.equal(buy.avgTick, notional / (size - left));
        assert.ok(Math.abs(sell.avgTick + buy.avgTick - 10_000) < 1e-6, 'the bid side mirrors the ask side');
      }

      // Control: the same check without the seqlock, to show what it protects against.
      const hb = set.i32Base(book);
      const bid = set.i32[hb + B_BEST_BID]!;
      const ask = set.i32[hb + B_BEST_ASK]!;
      const levels = set.f64Base(book) + BF_LEVELS;
      if (bid + ask !== 10_000 || set.f64[levels + bid] !== set.f64[levels + POLY_LEVELS + ask]) rawMismatches++;
    }
  }
  if (writerError !== undefined) throw writerError;
  Atomics.store(new Int32Array(stop), 0, 1);
  const [{ batches }] = await finished;
  t.diagnostic(`reads ${reads} (${bracketed} bracketed), versions seen ${versions.size}, writer batches ${batches}, reader retries ${r.retries}, unsynchronised reads torn ${rawMismatches}`);
  assert.ok(reads > 1000, `enough reads (${reads})`);
  assert.ok(versions.size > 100, `reads overlapped many write batches (${versions.size} versions)`);
});
