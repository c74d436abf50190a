import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Side as BookSide } from '../../workers/shared-memory/book-layout.js';
import { createPolymarketBooks, PolymarketBookWriter } from '../../workers/venues/polymarket/book.js';
import { BookReader } from '../../workers/shared-memory/book-reader.js';
import { Prng } from '../../workers/prng.js';
import { validate } from '../config/schema.js';
import { feeMicros, marketInSlot, Side, UNIT, vacantSlot, type ExecutionListener, type Fill, type MarketInfo, type Order, type RejectReason, type TokenInfo } from '../trading/types.js';
import { slotTables, updownMarket } from '../trading/markets.fixture.js';
import { PaperExecutor, paperParamsSchema, type PaperParams } from './paper.js';

const S = UNIT; // one share in micro-shares

const tokens: TokenInfo[] = [
  { index: 0, tokenId: '1', market: 0, outcome: 'Yes', complement: 1 },
  { index: 1, tokenId: '2', market: 0, outcome: 'No', complement: 0 },
];
const markets: MarketInfo[] = [
  {
    index: 0,
    conditionId: '0x01',
    slug: 'test-market',
    tokens: [0, 1],
    tickSize: 100,
    minSize: 5 * S,
    feeRate: 0.25,
    feeExponent: 2,
    negRisk: false,
    startMs: NaN,
    endMs: NaN,
    underlying: '',
  },
];

type Entry = { at: number; kind: 'ack' | 'reject' | 'fill' | 'cancel' | 'expire'; id: string; reason?: RejectReason; fill?: Fill };

/** Records every report with the engine time it was delivered at. */
class Recorder implements ExecutionListener {
  now = 0;
  readonly log: Entry[] = [];
  onAck(o: Order): void {
    this.log.push({ at: this.now, kind: 'ack', id: o.id });
  }
  onReject(o: Order, reason: RejectReason): void {
    this.log.push({ at: this.now, kind: 'reject', id: o.id, reason });
  }
  onFill(f: Fill): void {
    this.log.push({ at: this.now, kind: 'fill', id: f.orderId, fill: f });
  }
  onCancel(o: Order): void {
    this.log.push({ at: this.now, kind: 'cancel', id: o.id });
  }
  onExpire(o: Order): void {
    this.log.push({ at: this.now, kind: 'expire', id: o.id });
  }
  fills(id?: string): Fill[] {
    return this.log.flatMap((e) => (e.fill !== undefined && (id === undefined || e.id === id) ? [e.fill] : []));
  }
  kinds(id: string): string[] {
    return this.log.filter((e) => e.id === id).map((e) => (e.reason === undefined ? e.kind : `${e.kind}:${e.reason}`));
  }
}

const INSTANT = params({ post: { meanMs: 0, jitterMs: 0 }, cancel: { meanMs: 0, jitterMs: 0 }, ack: { meanMs: 0, jitterMs: 0 } });

function params(raw: unknown): PaperParams {
  const r = validate(paperParamsSchema, raw);
  if (!r.ok) throw new Error(JSON.stringify(r.violations));
  return r.value;
}

function setup(p: PaperParams = INSTANT) {
  return executorOver(markets, tokens, p);
}

/** A paper executor over real books for `markets` and `tokens`, with a recorder of its reports. */
function executorOver(markets: MarketInfo[], tokens: TokenInfo[], p: PaperParams) {
  const set = createPolymarketBooks(tokens.length);
  const w = new PolymarketBookWriter(set);
  const rec = new Recorder();
  const ex = new PaperExecutor({ books: new BookReader(set), markets, tokens, params: p, listener: rec });
  /** Writes levels [side, tick, shares] in one batch and tells the executor, at engine time t. */
  const book = (t: number, levels: [BookSide, number, number][], token = 0) => {
    w.begin(token);
    for (const [side, tick, shares] of levels) w.setLevel(token, side, tick, shares);
    w.end(token);
    rec.now = t;
    ex.onBook(token, t);
  };
  const at = (t: number) => {
    rec.now = t;
    return ex;
  };
  return { ex, rec, book, at };
}

let nextId = 0;
function order(o: Partial<Order> & Pick<Order, 'side' | 'price' | 'size'>): Order {
  return {
    id: `o${++nextId}`,
    strategy: 'mm',
    token: 0,
    type: 'GTC',
    postOnly: false,
    expiresMs: NaN,
    reason: 'test',
    status: 'pending',
    filled: 0,
    createdMs: 0,
    ackMs: NaN,
    ...o,
  };
}

/** Submits and, with zero latency, delivers the ack at once. */
function send(ex: PaperExecutor, o: Order, t: number): Order {
  ex.submit(o, t);
  ex.advance(t);
  return o;
}

test('params schema: defaults, and bad values reported by path', () => {
  const d = params({});
  assert.equal(d.seed, 1);
  assert.ok(d.post.meanMs > 0 && d.cancel.meanMs > 0 && d.ack.meanMs > 0);
  const bad = validate(paperParamsSchema, { post: { meanMs: -1 }, seed: 1.5, extra: 1 });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(bad.violations.map((v) => v.path).sort(), ['extra', 'post.meanMs', 'seed']);
});

test('queue: ahead is the level at arrival, shrinks on trades at the price and on cancels pro rata, then partial fills', () => {
  const { ex, rec, book, at } = setup();
  book(0, [
    [BookSide.Bid, 5000, 100],
    [BookSide.Ask, 5200, 100],
  ]);
  const o = send(at(1), order({ side: Side.Buy, price: 5000, size: 10 * S }), 1);
  assert.equal(o.status, 'open');
  assert.equal(ex.queueAhead(o.id), 100 * S);

  // A sell of 30 at our price eats 30 ahead of us; the book then shows it: no cancel inferred.
  at(2).onTrade(0, 5000, 30 * S, Side.Sell, 2);
  assert.equal(ex.queueAhead(o.id), 70 * S);
  book(3, [[BookSide.Bid, 5000, 70]]);
  assert.equal(ex.queueAhead(o.id), 70 * S);

  // Trades elsewhere, or on the other side, do not move us.
  at(4).onTrade(0, 5100, 5 * S, Side.Sell, 4);
  at(4).onTrade(0, 5000, 5 * S, Side.Buy, 4);
  assert.equal(ex.queueAhead(o.id), 70 * S);

  // 35 of 70 cancelled with no trade: half the level, so half of what is ahead.
  book(5, [[BookSide.Bid, 5000, 35]]);
  assert.equal(ex.queueAhead(o.id), 35 * S);
  // New size joins behind us.
  book(6, [[BookSide.Bid, 5000, 135]]);
  assert.equal(ex.queueAhead(o.id), 35 * S);
  // 27 of 135 cancelled: ahead loses floor(27 × 35 / 135) = 7.
  book(7, [[BookSide.Bid, 5000, 108]]);
  assert.equal(ex.queueAhead(o.id), 28 * S);

  // 33 sold at our price: 28 ahead, then 5 of our 10.
  at(8).onTrade(0, 5000, 33 * S, Side.Sell, 8);
  assert.equal(ex.queueAhead(o.id), 0);
  assert.deepEqual(
    rec.fills(o.id).map((f) => [f.price, f.size, f.fee, f.liquidity, f.tsMs]),
    [[5000, 5 * S, 0, 'maker', 8]],
  );
  assert.equal(o.filled, 5 * S);
  assert.equal(o.status, 'open');
  at(9).onTrade(0, 5000, 20 * S, Side.Sell, 9);
  assert.equal(o.filled, 10 * S);
  assert.equal(o.status, 'filled');
  assert.deepEqual(rec.kinds(o.id), ['ack', 'fill', 'fill']);
  assert.ok(Number.isNaN(ex.queueAhead(o.id)));
});

test('queue: a print through our price fills up to its size; our earlier order stands in front of our later one', () => {
  const { ex, rec, book, at } = setup();
  book(0, [[BookSide.Bid, 5000, 100]]);
  const a = send(at(1), order({ side: Side.Buy, price: 5000, size: 10 * S }), 1);
  const b = send(at(2), order({ side: Side.Buy, price: 5000, size: 10 * S }), 2);
  assert.equal(ex.queueAhead(b.id), 100 * S);
  // 105 at our price: 100 ahead of a, then 5 of a; b is behind a's 10.
  at(3).onTrade(0, 5000, 105 * S, Side.Sell, 3);
  assert.deepEqual([a.filled, b.filled], [5 * S, 0]);
  assert.equal(ex.queueAhead(b.id), 0);
  // 10 more: a's last 5, then 5 of b.
  at(4).onTrade(0, 5000, 10 * S, Side.Sell, 4);
  assert.deepEqual([a.filled, b.filled], [10 * S, 5 * S]);
  // A better-priced bid is hit by a print below it, up to the print's size.
  const c = send(at(5), order({ side: Side.Buy, price: 5100, size: 20 * S }), 5);
  at(6).onTrade(0, 4900, 8 * S, Side.Sell, 6);
  assert.equal(c.filled, 8 * S);
  // That 8 went to c (better price), leaving b untouched.
  assert.equal(b.filled, 5 * S);
  assert.deepEqual(
    rec.fills(c.id).map((f) => [f.price, f.liquidity]),
    [[5100, 'maker']],
  );
});

test('a resting order the other side crosses fills as maker at its own price, once per displayed size', () => {
  const { rec, book, at } = setup();
  book(0, [
    [BookSide.Bid, 4900, 50],
    [BookSide.Ask, 5300, 50],
  ]);
  const o = send(at(1), order({ side: Side.Buy, price: 5000, size: 40 * S }), 1);
  book(2, [[BookSide.Ask, 4900, 30]]);
  assert.deepEqual(
    rec.fills(o.id).map((f) => [f.price, f.size, f.fee, f.liquidity]),
    [[5000, 30 * S, 0, 'maker']],
  );
  // An unrelated change: the same 30 are not ours to take again.
  book(3, [[BookSide.Bid, 4800, 10]]);
  assert.equal(o.filled, 30 * S);
  // 15 more appear at the crossing price: 10 of them complete us.
  book(4, [[BookSide.Ask, 4900, 45]]);
  assert.equal(o.filled, 40 * S);
  assert.equal(o.status, 'filled');
});

test('FOK fills completely or not at all, walking levels up to the limit', () => {
  const { rec, book, at } = setup();
  book(0, [
    [BookSide.Ask, 5500, 50],
    [BookSide.Ask, 5600, 30],
    [BookSide.Ask, 5700, 100],
  ]);
  const tooBig = send(at(1), order({ side: Side.Buy, price: 5600, size: 100 * S, type: 'FOK' }), 1);
  assert.deepEqual(rec.kinds(tooBig.id), ['reject:fok_unfilled']);
  assert.equal(tooBig.status, 'rejected');
  const tooTight = send(at(2), order({ side: Side.Buy, price: 5500, size: 80 * S, type: 'FOK' }), 2);
  assert.deepEqual(rec.kinds(tooTight.id), ['reject:fok_unfilled']);
  // The rejected attempts consumed nothing: 80 within 0.56 is all there.
  const ok = send(at(3), order({ side: Side.Buy, price: 5600, size: 80 * S, type: 'FOK' }), 3);
  assert.deepEqual(rec.kinds(ok.id), ['ack', 'fill', 'fill']);
  assert.deepEqual(
    rec.fills(ok.id).map((f) => [f.price, f.size, f.liquidity]),
    [
      [5500, 50 * S, 'taker'],
      [5600, 30 * S, 'taker'],
    ],
  );
  assert.equal(ok.status, 'filled');
  // Selling: walks bids downwards.
  book(4, [
    [BookSide.Bid, 5000, 10],
    [BookSide.Bid, 4900, 10],
  ]);
  const sell = send(at(5), order({ side: Side.Sell, price: 4900, size: 20 * S, type: 'FOK' }), 5);
  assert.deepEqual(
    rec.fills(sell.id).map((f) => [f.price, f.size]),
    [
      [5000, 10 * S],
      [4900, 10 * S],
    ],
  );
});

test('FAK fills what it can and cancels the rest; a crossing GTC rests its remainder', () => {
  const { ex, rec, book, at } = setup();
  book(0, [
    [BookSide.Ask, 5500, 50],
    [BookSide.Ask, 5600, 30],
    [BookSide.Bid, 5400, 20],
  ]);
  const fak = send(at(1), order({ side: Side.Buy, price: 5500, size: 100 * S, type: 'FAK' }), 1);
  assert.deepEqual(rec.kinds(fak.id), ['ack', 'fill', 'cancel']);
  assert.deepEqual([fak.status, fak.filled], ['cancelled', 50 * S]);
  const gtc = send(at(2), order({ side: Side.Buy, price: 5600, size: 50 * S }), 2);
  assert.deepEqual(
    rec.fills(gtc.id).map((f) => [f.price, f.size, f.liquidity]),
    [[5600, 30 * S, 'taker']],
  );
  assert.deepEqual([gtc.status, gtc.filled], ['open', 30 * S]);
  assert.equal(ex.queueAhead(gtc.id), 0);
  const none = send(at(3), order({ side: Side.Buy, price: 5000, size: 10 * S, type: 'FAK' }), 3);
  assert.deepEqual(rec.kinds(none.id), ['ack', 'cancel']);
});

test('post-only that would cross is rejected, not repriced; one that does not cross rests', () => {
  const { ex, rec, book, at } = setup();
  book(0, [
    [BookSide.Bid, 5000, 10],
    [BookSide.Ask, 5100, 10],
  ]);
  const cross = send(at(1), order({ side: Side.Buy, price: 5100, size: 10 * S, postOnly: true }), 1);
  assert.deepEqual(rec.kinds(cross.id), ['reject:post_only_cross']);
  assert.equal(rec.fills().length, 0);
  const sellCross = send(at(2), order({ side: Side.Sell, price: 5000, size: 10 * S, postOnly: true, type: 'GTD', expiresMs: 60_000 }), 2);
  assert.deepEqual(rec.kinds(sellCross.id), ['reject:post_only_cross']);
  const passive = send(at(3), order({ side: Side.Buy, price: 5000, size: 10 * S, postOnly: true }), 3);
  assert.deepEqual(rec.kinds(passive.id), ['ack']);
  assert.equal(ex.queueAhead(passive.id), 10 * S);
  const fokPostOnly = send(at(4), order({ side: Side.Buy, price: 5100, size: 10 * S, postOnly: true, type: 'FOK' }), 4);
  assert.deepEqual(rec.kinds(fokPostOnly.id), ['reject:invalid_order']);
});

test('GTD expires at its expiry; one already expired on arrival is rejected', () => {
  const p = params({ post: { meanMs: 20, jitterMs: 0 }, cancel: { meanMs: 20, jitterMs: 0 }, ack: { meanMs: 10, jitterMs: 0 } });
  const { ex, rec, book, at } = setup(p);
  book(0, [[BookSide.Bid, 5000, 10]]);
  const o = order({ side: Side.Buy, price: 4900, size: 10 * S, type: 'GTD', expiresMs: 10_000 });
  at(1).submit(o, 1);
  at(31).advance(31);
  assert.deepEqual(rec.kinds(o.id), ['ack']);
  assert.equal(o.ackMs, 31);
  at(10_009).advance(10_009);
  assert.equal(o.status, 'open');
  at(10_010).advance(10_010);
  assert.deepEqual(rec.kinds(o.id), ['ack', 'expire']);
  assert.equal(o.status, 'expired');
  assert.equal(ex.cancel(o.id, 10_011), false);

  const late = order({ side: Side.Buy, price: 4900, size: 10 * S, type: 'GTD', expiresMs: 20_015 });
  at(20_000).submit(late, 20_000);
  at(20_100).advance(20_100);
  assert.deepEqual(rec.kinds(late.id), ['reject:expired']);
  assert.equal(ex.nextDueMs(), Infinity);
});

test('orders the venue would refuse are rejected with a reason', () => {
  const { rec, at } = setup();
  const cases: [Partial<Order> & Pick<Order, 'side' | 'price' | 'size'>, RejectReason][] = [
    [{ side: Side.Buy, price: 5050, size: 10 * S }, 'invalid_order'], // off the 0.01 tick
    [{ side: Side.Buy, price: 0, size: 10 * S }, 'invalid_order'],
    [{ side: Side.Buy, price: 10_000, size: 10 * S }, 'invalid_order'],
    [{ side: Side.Buy, price: 5000, size: 4 * S }, 'invalid_order'], // below the 5-share minimum
    [{ side: Side.Buy, price: 5000, size: 10 * S + 1 }, 'invalid_order'], // not a lot multiple
    [{ side: Side.Buy, price: 5000, size: 10 * S, type: 'GTD' }, 'invalid_order'], // no expiry
    [{ side: Side.Buy, price: 5000, size: 10 * S, status: 'open' }, 'invalid_order'],
    [{ side: Side.Buy, price: 5000, size: 10 * S, token: 7 }, 'unknown_token'],
  ];
  for (const [o, reason] of cases) {
    const sent = send(at(1), order(o), 1);
    assert.deepEqual(rec.kinds(sent.id), [`reject:${reason}`], JSON.stringify(o));
  }
  const first = send(at(2), order({ side: Side.Buy, price: 4000, size: 10 * S }), 2);
  const dup = send(at(3), order({ side: Side.Buy, price: 4000, size: 10 * S, id: first.id }), 3);
  assert.equal(rec.log.at(-1)?.reason, 'duplicate_id');
  assert.equal(dup.status, 'rejected');
  assert.equal(first.status, 'open');
});

test('bad public trades are counted and dropped', () => {
  const { ex } = setup();
  ex.onTrade(9, 5000, S, Side.Buy, 1);
  ex.onTrade(0, 5000.5, S, Side.Buy, 1);
  ex.onTrade(0, 5000, -1, Side.Buy, 1);
  ex.onTrade(0, 5000, S, 3 as Side, 1);
  ex.onBook(9, 1);
  assert.deepEqual([ex.droppedTrades, ex.droppedBooks], [4, 1]);
});

test('taker fees follow the V2 formula on worked numbers; makers pay nothing', () => {
  const { rec, book, at } = setup();
  book(0, [
    [BookSide.Ask, 5500, 100],
    [BookSide.Bid, 5000, 100],
  ]);
  const buy = send(at(1), order({ side: Side.Buy, price: 5500, size: 100 * S, type: 'FOK' }), 1);
  // 100 × 0.25 × (0.55 × 0.45)² = 1.53140625 pUSD, rounded up to the micro.
  assert.equal(rec.fills(buy.id)[0]!.fee, 1_531_407);
  assert.equal(rec.fills(buy.id)[0]!.fee, feeMicros(5500, 100 * S, 0.25, 2));
  // At 0.50: 40 × 0.25 × 0.0625 = 0.625 pUSD exactly.
  const sell = send(at(2), order({ side: Side.Sell, price: 5000, size: 40 * S, type: 'FAK' }), 2);
  assert.equal(rec.fills(sell.id)[0]!.fee, 625_000);
  const maker = send(at(3), order({ side: Side.Sell, price: 5600, size: 10 * S }), 3);
  at(4).onTrade(0, 5600, 10 * S, Side.Buy, 4);
  assert.deepEqual(
    rec.fills(maker.id).map((f) => [f.fee, f.liquidity]),
    [[0, 'maker']],
  );
});

test('two of our orders cannot take the same displayed size', () => {
  const { rec, book, at } = setup();
  book(0, [[BookSide.Ask, 5500, 50]]);
  const ex = at(1);
  const a = order({ side: Side.Buy, price: 5500, size: 40 * S, type: 'FAK' });
  const b = order({ side: Side.Buy, price: 5500, size: 40 * S, type: 'FAK' });
  ex.submit(a, 1);
  ex.submit(b, 1);
  ex.advance(1);
  assert.deepEqual([a.filled, b.filled], [40 * S, 10 * S]);
  // Another level changes: the 0.55 level still shows 50, all of it ours already.
  book(2, [[BookSide.Bid, 5000, 10]]);
  const c = send(ex, order({ side: Side.Buy, price: 5500, size: 40 * S, type: 'FAK' }), 2);
  assert.equal(c.filled, 0);
  // The feed drops the level to 20 (public takers took 30 of the 50): still nothing for us.
  book(3, [[BookSide.Ask, 5500, 20]]);
  const d = send(ex, order({ side: Side.Buy, price: 5500, size: 40 * S, type: 'FAK' }), 3);
  assert.equal(d.filled, 0);
  // 25 new shares arrive: those are available.
  book(4, [[BookSide.Ask, 5500, 45]]);
  const e = send(ex, order({ side: Side.Buy, price: 5500, size: 40 * S, type: 'FAK' }), 4);
  assert.equal(e.filled, 25 * S);
  assert.equal(rec.fills().reduce((s, f) => s + f.size, 0), 75 * S);
});

test('an order can fill while its cancel is in flight; the cancel then removes the rest', () => {
  const p = params({ post: { meanMs: 10, jitterMs: 0 }, cancel: { meanMs: 50, jitterMs: 0 }, ack: { meanMs: 5, jitterMs: 0 } });
  const { ex, rec, book, at } = setup(p);
  book(0, [[BookSide.Bid, 5000, 0]]);
  const o = order({ side: Side.Buy, price: 5000, size: 10 * S });
  at(0).submit(o, 0);
  at(15).advance(15);
  assert.equal(o.status, 'open');
  assert.equal(ex.cancel(o.id, 20), true);
  at(30).onTrade(0, 5000, 4 * S, Side.Sell, 30); // the cancel reaches the venue at 70
  at(69).advance(69);
  assert.equal(o.filled, 4 * S);
  at(75).advance(75);
  assert.deepEqual(rec.kinds(o.id), ['ack', 'fill', 'cancel']);
  assert.deepEqual([o.status, o.filled], ['cancelled', 4 * S]);
  assert.equal(ex.cancel(o.id, 80), false);
  assert.equal(ex.cancel('nope', 80), false);
});

/** A seeded session: orders, cancels, trades and book changes, time stepped 1 ms at a time. */
function session(seed: number): Entry[] {
  const p = params({ seed, post: { meanMs: 40, jitterMs: 20 }, cancel: { meanMs: 30, jitterMs: 20 }, ack: { meanMs: 20, jitterMs: 10 } });
  const { ex, rec, book, at } = setup(p);
  book(0, [
    [BookSide.Bid, 5000, 100],
    [BookSide.Ask, 5200, 100],
  ]);
  const rng = new Prng(99); // the session's inputs, independent of the latency seed
  const ids: string[] = [];
  let n = 0;
  for (let t = 1; t <= 3_000; t++) {
    at(t).advance(t);
    const r = rng.int(100);
    if (r < 3) {
      const buy = rng.int(2) === 0;
      const o = order({ id: `s${n++}`, side: buy ? Side.Buy : Side.Sell, price: buy ? 4900 + 100 * rng.int(4) : 5000 + 100 * rng.int(4), size: (5 + rng.int(20)) * S, type: rng.int(4) === 0 ? 'FAK' : 'GTC' });
      ids.push(o.id);
      ex.submit(o, t);
    } else if (r < 5 && ids.length > 0) {
      ex.cancel(ids[rng.int(ids.length)]!, t);
    } else if (r < 8) {
      ex.onTrade(0, 5000 + 100 * rng.int(3), (1 + rng.int(30)) * S, rng.int(2) === 0 ? Side.Buy : Side.Sell, t);
    } else if (r < 10) {
      book(t, [[rng.int(2) === 0 ? BookSide.Bid : BookSide.Ask, 5000 + 100 * rng.int(3), rng.int(150)]]);
    }
  }
  at(10_000).advance(10_000);
  return rec.log;
}

test('latency: the same seed gives the same event sequence; another seed other timings; links stay FIFO', () => {
  const a = session(7);
  const b = session(7);
  const c = session(8);
  assert.ok(a.length > 100, `a busy session (${a.length} reports)`);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.map((e) => e.at),
    c.map((e) => e.at),
  );
  for (const log of [a, c]) {
    // Delivery times never go backwards, and each order's story starts with its ack or reject.
    const first = new Map<string, string>();
    for (let i = 0; i < log.length; i++) {
      const e = log[i]!;
      if (i > 0) assert.ok(e.at >= log[i - 1]!.at);
      if (!first.has(e.id)) first.set(e.id, e.kind);
    }
    for (const k of first.values()) assert.ok(k === 'ack' || k === 'reject', k);
  }
});

/** Two market slots, the engine's way: slot 0 holds a market, slot 1 is vacant; `place` replaces a slot in place. */
function slotSetup(p: PaperParams = INSTANT) {
  const { markets, tokens, place } = slotTables(2);
  place(0, marketInSlot(0, updownMarket('a', { underlying: 'eth' })));
  return { ...executorOver(markets, tokens, p), place };
}

test('orders on a vacant slot are unknown_token; occupying the slot in place opens it, vacating closes it', () => {
  const { rec, at, place } = slotSetup();
  const early = send(at(1), order({ token: 2, side: Side.Buy, price: 4000, size: 10 * S }), 1);
  assert.deepEqual(rec.kinds(early.id), ['reject:unknown_token']);
  place(1, marketInSlot(1, updownMarket('b', { underlying: 'eth' })));
  const ok = send(at(2), order({ token: 2, side: Side.Buy, price: 4000, size: 10 * S }), 2);
  assert.deepEqual(rec.kinds(ok.id), ['ack']);
  place(0, vacantSlot(0));
  const late = send(at(3), order({ token: 1, side: Side.Sell, price: 6000, size: 10 * S }), 3);
  assert.deepEqual(rec.kinds(late.id), ['reject:unknown_token']);
});

test('resetToken cancels what still rests there and forgets the token’s shadows and queues; other tokens are untouched', () => {
  const { ex, rec, book, at } = slotSetup();
  book(0, [
    [BookSide.Bid, 5000, 100],
    [BookSide.Ask, 5200, 50],
  ]);
  book(0, [[BookSide.Bid, 4000, 30]], 1);
  // A taker takes 20 of the 50 displayed: only 30 are left for us while the level stands.
  const take = send(at(1), order({ token: 0, side: Side.Buy, price: 5200, size: 20 * S, type: 'FAK' }), 1);
  assert.equal(take.filled, 20 * S);
  const resting = send(at(2), order({ token: 0, side: Side.Buy, price: 5000, size: 10 * S }), 2);
  const other = send(at(2), order({ token: 1, side: Side.Buy, price: 4000, size: 10 * S }), 2);
  assert.deepEqual([ex.queueAhead(resting.id), ex.queueAhead(other.id)], [100 * S, 30 * S]);

  at(3).resetToken(0);
  assert.deepEqual(rec.kinds(resting.id), ['ack', 'cancel']);
  assert.equal(resting.status, 'cancelled');
  assert.ok(Number.isNaN(ex.queueAhead(resting.id)));
  assert.equal(ex.cancel(resting.id, 3), false);
  // A print at its price no longer reaches it.
  at(4).onTrade(0, 5000, 500 * S, Side.Sell, 4);
  assert.equal(resting.filled, 0);
  // The shadow is gone: all 50 displayed are there for the token's next market.
  const again = send(at(5), order({ token: 0, side: Side.Buy, price: 5200, size: 50 * S, type: 'FAK' }), 5);
  assert.equal(again.filled, 50 * S);
  // Token 1 kept its order and its place in the queue.
  assert.equal(other.status, 'open');
  assert.equal(ex.queueAhead(other.id), 30 * S);
  at(6).onTrade(1, 4000, 35 * S, Side.Sell, 6);
  assert.equal(other.filled, 5 * S);
});

test('resetToken on an order still in flight cancels it at once; it never reaches the venue', () => {
  const p = params({ post: { meanMs: 10, jitterMs: 0 }, cancel: { meanMs: 10, jitterMs: 0 }, ack: { meanMs: 5, jitterMs: 0 } });
  const { ex, rec, book, at } = slotSetup(p);
  book(0, [[BookSide.Ask, 5200, 50]]);
  const o = order({ token: 0, side: Side.Buy, price: 5200, size: 10 * S });
  at(0).submit(o, 0);
  at(1).resetToken(0);
  assert.deepEqual(rec.kinds(o.id), ['cancel']);
  at(100).advance(100);
  assert.deepEqual(rec.kinds(o.id), ['cancel']);
  assert.equal(ex.nextDueMs(), Infinity);
  // Nothing was taken on its behalf: the full 50 are still there.
  const next = order({ token: 0, side: Side.Buy, price: 5200, size: 50 * S, type: 'FAK' });
  at(100).submit(next, 100);
  at(200).advance(200);
  assert.equal(next.filled, 50 * S);
});

test('reinstate: an order a previous run left resting comes back under its id, price and remaining size, at the back of its level like a fresh order', () => {
  const { ex, rec, book, at } = setup();
  book(0, [
    [BookSide.Bid, 5000, 100],
    [BookSide.Ask, 5200, 100],
  ]);
  // Journaled open with 8 of 20 filled by the previous run.
  const prev = order({ id: 'prev-7', side: Side.Buy, price: 5000, size: 20 * S, postOnly: true, status: 'open', filled: 8 * S, ackMs: -50 });
  at(1).reinstate(prev, 1, 'run2');
  ex.advance(1);
  assert.deepEqual(rec.kinds('prev-7'), ['ack']);
  assert.equal(prev.status, 'open');
  assert.equal(prev.ackMs, 1, 'acknowledged by this venue');
  // The displayed level at its arrival is ahead of it, as for a fresh order sent now.
  const fresh = send(at(1), order({ side: Side.Buy, price: 5000, size: 12 * S, postOnly: true }), 1);
  assert.equal(ex.queueAhead('prev-7'), 100 * S);
  assert.equal(ex.queueAhead(fresh.id), 100 * S);

  // 100 ahead, then 5 of its remaining 12; then the rest, and no more than the rest.
  at(2).onTrade(0, 5000, 105 * S, Side.Sell, 2);
  assert.equal(prev.filled, 13 * S);
  at(3).onTrade(0, 5000, 30 * S, Side.Sell, 3);
  assert.equal(prev.filled, 20 * S);
  assert.equal(prev.status, 'filled');
  assert.deepEqual(
    rec.fills('prev-7').map((f) => [f.fillId, f.price, f.size, f.liquidity]),
    [
      ['prev-7:run2-1', 5000, 5 * S, 'maker'],
      ['prev-7:run2-2', 5000, 7 * S, 'maker'],
    ],
  );
  // Behind it at the level, the fresh order took 12 of the 23 left of the second print.
  assert.equal(fresh.filled, 12 * S);
});

test('reinstate: a post-only order the book now crosses is rejected, not repriced, and does not rest', () => {
  const { ex, rec, book, at } = setup();
  book(0, [
    [BookSide.Bid, 4900, 100],
    [BookSide.Ask, 5000, 100],
  ]);
  // It rested at 0.50 bid before the restart; the ask has come down to 0.50 since.
  const prev = order({ id: 'prev-8', side: Side.Buy, price: 5000, size: 20 * S, postOnly: true, status: 'open', filled: 0, ackMs: -50 });
  at(1).reinstate(prev, 1, 'run2');
  ex.advance(1);
  assert.deepEqual(rec.kinds('prev-8'), ['reject:post_only_cross']);
  assert.equal(prev.status, 'rejected');
  assert.equal(prev.filled, 0);
  assert.equal(rec.fills().length, 0);
  assert.ok(Number.isNaN(ex.queueAhead('prev-8')));
  // Not post-only, the same order takes what it crosses, as a fresh one would, and rests the rest.
  const taker = order({ id: 'prev-9', side: Side.Buy, price: 5000, size: 120 * S, postOnly: false, status: 'open', filled: 0, ackMs: -50 });
  at(2).reinstate(taker, 2, 'run2');
  ex.advance(2);
  assert.deepEqual(
    rec.fills('prev-9').map((f) => [f.price, f.size, f.liquidity]),
    [[5000, 100 * S, 'taker']],
  );
  assert.equal(taker.status, 'open');
  assert.equal(ex.queueAhead('prev-9'), 0, 'the rest rests at 0.50, where no bid is displayed');
});
