// Worker side of the torn-read test: rewrites two Polymarket books as fast as
// it can. Each batch draws a best bid b, a level count k and a salt, and
// writes levels a reader can check from any single consistent read:
//   bid level i:  tick b - 3i,            size 8 * salt + i + 1     (i < k)
//   ask level i:  tick 10 000 - b + 3i,   the same size
//   exchTsMs = 2 * lastUpdateNs
// A read that mixes two batches almost surely breaks one of these.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Prng } from '../prng.js';
import { Side } from './book-layout.js';
import { attachPolymarketBooks, PolymarketBookWriter } from '../venues/polymarket/book.js';

export interface TornWriterData {
  books: SharedArrayBuffer;
  /** Int32 flag: the main thread stores 1 to stop the writer. */
  stop: SharedArrayBuffer;
  seed: number;
}

function run(data: TornWriterData): void {
  const w = new PolymarketBookWriter(attachPolymarketBooks(data.books));
  const stop = new Int32Array(data.stop);
  const rnd = new Prng(data.seed);
  let batch = 1;
  for (; Atomics.load(stop, 0) === 0; batch++) {
    const book = batch & 1;
    w.begin(book);
    w.clear(book);
    const bid = 100 + rnd.int(4800);
    const salt = 1 + rnd.int(100_000);
    // Deepest level first, so the best moves while the batch is open.
    for (let i = rnd.int(5); i >= 0; i--) {
      w.setLevel(book, Side.Bid, bid - 3 * i, 8 * salt + i + 1);
      w.setLevel(book, Side.Ask, 10_000 - bid + 3 * i, 8 * salt + i + 1);
    }
    w.setTimes(book, batch, 2 * batch);
    w.end(book);
    // A short random gap (0 to a few us) between batches. A writer that
    // rewrites the same book back to back starves seqlock readers (each read
    // spans several cross-core cache misses), which no real feed does; with
    // the gap, reads still overlap writes constantly.
    for (let spin = rnd.int(1024); spin > 0; spin--) Atomics.load(stop, 0);
  }
  parentPort!.postMessage({ batches: batch - 1 });
}

if (!isMainThread) run(workerData as TornWriterData);
