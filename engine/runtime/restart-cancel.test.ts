// The ways a restart refuses to put an order back. A journal written with the
// real Journal writer, as a run killed with SIGKILL would leave it (a market
// in slot 0, a filled buy behind a position, a maker quote resting), is
// opened by a real engine over real books and the paper venue; each test
// changes one thing a restart can meet (the strategy dropped from the config,
// the market settled or its slot empty, the window about to end, a smaller
// risk limit, a GTD that expired while the engine was down, a book that never
// comes live) and checks the journaled outcome, that the order is not live,
// that positions and money are the journal's, and that a second restart on
// the same journal does not bring the order back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Config } from '../config/config.js';
import { loadConfig } from '../config/load.js';
import { polymarketHub, quoteBooks } from '../feeds/hub.fixture.js';
import { Journal } from '../journal/journal.js';
import type { JournalInput, JournalRecord } from '../journal/records.js';
import { restore } from '../journal/ledger.js';
import { native } from '../native.js';
import { updownMarket } from '../trading/markets.fixture.js';
import { Side, UNIT, type MarketDescriptor, type Order } from '../trading/types.js';
import { EventKind } from '../../workers/shared-memory/event-layout.js';
import { Side as BookSide } from '../../workers/shared-memory/book-layout.js';
import { Engine } from './engine.js';
import { until } from './session.fixture.js';

const SHARES = UNIT;
const FILLED_ID = 'prev-1';
const RESTING_ID = 'prev-2';

/** Slot 0's market, its window `leftMs` from its end. */
function market(leftMs: number): MarketDescriptor {
  return updownMarket('rc', { conditionId: `0x${'ab'.repeat(32)}`, tokenIds: ['301', '302'], startMs: Date.now() + leftMs - 300_000 });
}

function order(id: string, over: Partial<Order> = {}): Order {
  const nowMs = Date.now();
  return {
    id,
    strategy: 'maker',
    token: 0,
    side: Side.Buy,
    price: 4_500,
    size: 10 * SHARES,
    filled: 0,
    type: 'GTC',
    postOnly: true,
    expiresMs: Number.NaN,
    reason: 'quote_bid',
    status: 'pending',
    createdMs: nowMs - 5_000,
    ackMs: Number.NaN,
    ...over,
  };
}

interface Previous {
  /** Slot 0's market (absent: the order's slot is empty). */
  market?: MarketDescriptor;
  /** The resting order as journaled. */
  resting: Order;
  /** Records after the resting order's ack (a settlement, ...). */
  after?: JournalInput[];
}

/**
 * What a run killed while `resting` rested leaves: slot 0's market, a maker
 * buy of 10 shares at 0.40 acknowledged and filled (a position and money to
 * keep), `resting` acknowledged, nothing more. Written and closed with the
 * engine's own journal writer.
 */
function writePrevious(path: string, p: Previous): void {
  const { journal } = Journal.open(path, { fsync: 'never', compact: false });
  const t = Date.now() - 5_000;
  const put = (r: JournalInput): number => journal.append(r);
  put({ type: 'session', tsMs: t, event: 'start', note: 'session killed' });
  if (p.market) put({ type: 'market', tsMs: t, slot: 0, market: p.market });
  const filled = order(FILLED_ID, { price: 4_000, size: 10 * SHARES });
  put({ type: 'order', tsMs: t, order: filled });
  put({ type: 'ack', tsMs: t + 1, orderId: FILLED_ID, ackMs: t + 1, venueId: '' });
  put({
    type: 'fill',
    tsMs: t + 2,
    fill: { orderId: FILLED_ID, strategy: 'maker', token: filled.token, side: Side.Buy, price: 4_000, size: 10 * SHARES, fee: 0, liquidity: 'maker', tsMs: t + 2, fillId: `${FILLED_ID}:a-1` },
  });
  put({ type: 'order', tsMs: t + 3, order: p.resting });
  put({ type: 'ack', tsMs: t + 4, orderId: p.resting.id, ackMs: t + 4, venueId: '' });
  for (const r of p.after ?? []) put(r);
  journal.close();
}


interface Restart {
  cfg?: (base: Config) => Config;
  cancelBeforeEndMs?: number;
  restoreWaitMs?: number;
  /** Slot 0's books quoted before the engine starts (default); false: they never are. */
  books?: boolean;
}

interface Running {
  engine: Engine;
  logs: string[];
  /** Journal records before this engine started. */
  recordsBefore: number;
  startedMs: number;
  stop(): Promise<void>;
}

/** An engine on `path` (two market slots, wall clock), started over real books and the paper venue. */
function restartOn(path: string, r: Restart = {}): Running {
  const base = loadConfig();
  const cfg = r.cfg ? r.cfg(base) : base;
  const rig = polymarketHub(4, 1024);
  const logs: string[] = [];
  const recordsBefore = Journal.replay(path).records.length;
  const engine = new Engine({ cfg, slots: 2, hub: rig.hub, polySource: rig.source, references: [], volatilities: [], journalPath: path, log: (l) => logs.push(l) });
  if (r.cancelBeforeEndMs !== undefined) engine.exit = { cancel_before_end_ms: r.cancelBeforeEndMs };
  if (r.restoreWaitMs !== undefined) engine.restoreWaitMs = r.restoreWaitMs;
  if (r.books !== false) quoteBooks(rig);
  // The loop's waits on the rings do not hold the process open.
  const keepAlive = setInterval(() => {}, 1_000);
  const startedMs = Date.now();
  engine.start();
  return {
    engine,
    logs,
    recordsBefore,
    startedMs,
    async stop() {
      try {
        await engine.stop();
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}

const money = (e: Engine) => ({
  entries: e.portfolio.entries().map((p) => ({ strategy: p.strategy, token: p.token, position: p.position, cost: p.cost, realised: p.realised, fees: p.fees })),
  total: (({ realised, fees }) => ({ realised, fees }))(e.portfolio.total(e.marks)),
});

/** The engine's restore pass is over: every journaled open order went back or was ended. */
const restoreDone = (s: Running) => until('the restore pass ends', () => (s.logs.some((l) => l.startsWith('restart: ')) ? true : undefined), 20_000, 10);

/** Whether the journal, replayed as a restart would, still holds `id` open (money is the engine's to check: this applier keeps none). */
function openInJournal(path: string, id: string): boolean {
  const orderOnly = { applyFill: () => true, settle: () => true, correct: () => true, retireMarket: () => {}, restore: () => {} };
  return restore(Journal.replay(path).records, orderOnly).state.openOrders.has(id);
}

/**
 * Runs the scenario: the previous run's journal, a restart that must end the
 * resting order with `want` (a cancel reason, or 'expire'), then a second
 * restart on the same journal. Returns the first restart's records since it started.
 */
async function refusedAtRestart(prev: Previous, restart: Restart, want: string | RegExp): Promise<{ since: JournalRecord[]; first: Running }> {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-restart-cancel-'));
  const path = join(dir, 'j');
  try {
    writePrevious(path, prev);
    const first = restartOn(path, restart);
    let since: JournalRecord[];
    let before: ReturnType<typeof money>;
    try {
      const e = first.engine;
      assert.equal(e.restoredFrom.openOrders, 1, 'the journal holds the resting order open');
      before = money(e);
      // Held, or (its market settled) paid out at 1 pUSD a share: 10 × (1 − 0.40).
      assert.ok(before.entries.some((p) => p.position === 10 * SHARES || p.realised === 6 * UNIT), `the filled buy is in the accounts: ${JSON.stringify(before)}`);
      await restoreDone(first);
      since = Journal.replay(path).records.slice(first.recordsBefore);
      const ended = since.filter((x) => (x.type === 'cancel' || x.type === 'expire' || x.type === 'restored' || x.type === 'reject') && x.orderId === RESTING_ID);
      assert.equal(ended.length, 1, `one outcome for the resting order: ${JSON.stringify(ended)}`);
      const got = ended[0]!;
      const reason = got.type === 'cancel' ? got.reason : got.type;
      if (typeof want === 'string') assert.equal(reason, want);
      else assert.match(reason, want);
      assert.equal(e.restart.outcome.reinstated, 0);
      assert.equal(e.restart.outcome.cancelled + e.restart.outcome.expired, 1);
      assert.ok(!e.liveOrders().some((o) => o.id === RESTING_ID), 'not live in the engine');
      assert.ok(Number.isNaN(e.orders.venue.queueAhead(RESTING_ID)), 'not on the paper venue');
      assert.ok(!openInJournal(path, RESTING_ID), 'closed in the journal');
      assert.equal(since.filter((x) => x.type === 'fill').length, 0, 'nothing filled');
      assert.deepEqual(money(e), before, 'positions and money as journaled');
      assert.equal(e.faultReport().faults, 0);
    } finally {
      await first.stop();
    }

    const second = restartOn(path, restart);
    try {
      // Its own quotes, cancelled at the first stop, are the only orders the first restart could have left open.
      assert.equal(second.engine.restoredFrom.openOrders, 0, 'nothing left open for the second restart');
      assert.equal(second.engine.restart.outcome.reinstated + second.engine.restart.outcome.cancelled, 0);
      // Some passes of the second engine's loop: a restore or a cancel of the order would be journaled at its first.
      await new Promise((r) => setTimeout(r, 100));
      const again = Journal.replay(path).records.slice(second.recordsBefore);
      assert.deepEqual(
        again.filter((x) => 'orderId' in x && x.orderId === RESTING_ID),
        [],
        'the second restart neither restores nor ends it again',
      );
      assert.ok(!second.engine.liveOrders().some((o) => o.id === RESTING_ID));
      assert.deepEqual(money(second.engine), before, 'positions and money survive both restarts');
    } finally {
      await second.stop();
    }
    return { since, first };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A control for the scenarios below: the same journal, nothing changed, puts the order back.
test('restart control: the journaled resting order goes back on the paper venue', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-restart-cancel-'));
  const path = join(dir, 'j');
  try {
    writePrevious(path, { market: market(240_000), resting: order(RESTING_ID) });
    // The maker keeps the quote it finds (no requote for price or age): otherwise it replaces it by its own.
    const keep = (base: Config): Config => ({ ...base, strategy: { ...base.strategy, maker: { ...base.strategy.maker, min_requote_ticks: 1000, max_quote_age_ms: 3_600_000 } } });
    const s = restartOn(path, { cfg: keep });
    try {
      await restoreDone(s);
      assert.deepEqual(s.engine.restart.outcome, { reinstated: 1, cancelled: 0, expired: 0 });
      await until('resting again', () => (Number.isFinite(s.engine.orders.venue.queueAhead(RESTING_ID)) ? true : undefined), 10_000, 10).catch((err: unknown) =>
        assert.fail(`${String(err)}: ${JSON.stringify(Journal.replay(path).records.slice(s.recordsBefore))} ${JSON.stringify(s.engine.liveOrders())}`),
      );
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('restart: an order of a strategy no longer configured is cancelled, restart:strategy_not_running', async () => {
  const running = (base: Config): Config => ({ ...base, engine: { ...base.engine, strategies: ['directional'] } });
  await refusedAtRestart({ market: market(240_000), resting: order(RESTING_ID) }, { cfg: running }, 'restart:strategy_not_running');
});

test('restart: an order on a market that settled is cancelled, restart:market_closed', async () => {
  const m = market(240_000);
  const settle: JournalInput = {
    type: 'settle',
    tsMs: Date.now() - 1_000,
    settlement: { settleId: m.conditionId, conditionId: m.conditionId, market: 0, tokens: [0, 1], winner: 0, open: 100_000, close: 100_100, exact: true },
  };
  await refusedAtRestart({ market: m, resting: order(RESTING_ID), after: [settle] }, {}, 'restart:market_closed');
});

test('restart: an order on a slot no market holds any more is cancelled, restart:market_closed', async () => {
  // Slot 1 never had a market record: its tokens (2, 3) belong to nothing the engine runs.
  const { first } = await refusedAtRestart({ market: market(240_000), resting: order(RESTING_ID, { token: 2 }) }, {}, 'restart:market_closed');
  assert.ok(first.logs.some((l) => /restart: 0 open orders back on the paper venue, 1 cancelled/.test(l)), first.logs.join('\n'));
});

test('restart: an order whose window ends within exit.cancel_before_end_ms is cancelled, restart:window_ended', async () => {
  await refusedAtRestart({ market: market(240_000), resting: order(RESTING_ID) }, { cancelBeforeEndMs: 250_000 }, 'restart:window_ended');
});

test('restart: an order whose window is over is cancelled, restart:window_ended', async () => {
  await refusedAtRestart({ market: market(-1_000), resting: order(RESTING_ID) }, {}, 'restart:window_ended');
});

test('restart: an order the risk gate now refuses (smaller max_position) is cancelled, restart:risk_<reason>', async () => {
  // 10 shares held and 10 more bid: within the default 500, over a limit of 15.
  const smaller = (base: Config): Config => ({ ...base, risk: { ...base.risk, max_position: 15 } });
  await refusedAtRestart({ market: market(240_000), resting: order(RESTING_ID) }, { cfg: smaller }, 'restart:risk_token_position');
});

test('restart: a GTD order that expired while the engine was down is journaled expired', async () => {
  const gtd = order(RESTING_ID, { type: 'GTD', expiresMs: Date.now() - 1_000 });
  await refusedAtRestart({ market: market(240_000), resting: gtd }, {}, 'expire');
});

test('restart: an order whose book never comes live within restoreWaitMs is cancelled, restart:not_live:<last refusal>', async () => {
  const waitMs = 300;
  const { since, first } = await refusedAtRestart({ market: market(240_000), resting: order(RESTING_ID) }, { books: false, restoreWaitMs: waitMs }, /^restart:not_live:book_stale$/);
  const cancel = since.find((x) => x.type === 'cancel' && x.orderId === RESTING_ID)!;
  assert.ok(cancel.tsMs >= first.startedMs + waitMs, `waited restoreWaitMs before giving up (cancelled ${cancel.tsMs - first.startedMs} ms after the start)`);
});

test('restart: a busy book among the paper venue\'s due reports as an order goes back: it is put back once, and reaches the venue', async () => {
  // Three orders on token 1 go back first and arrive at the venue together two seconds later; token 0's order
  // waits for its book. When the arrivals fall due, token 1's book is held mid-write by its writer: the pass's
  // venue calls fail on the first two, and the third is still due as token 0's order goes back. Met inside the
  // venue call after the order was journaled restored, it used to queue the order to be put back again (a
  // second 'restored' record, the order twice in the strategy's list); met before it, the order would be live
  // in the engine but never sent. It must meet it before the journal record, and wait for the next pass.
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-restart-cancel-'));
  const path = join(dir, 'j');
  try {
    const m = market(240_000);
    writePrevious(path, {
      market: m,
      resting: order(RESTING_ID),
      after: ['prev-3', 'prev-4', 'prev-5'].flatMap((id, i): JournalInput[] => [
        { type: 'order', tsMs: Date.now() - 4_000, order: order(id, { token: 1, price: 4_500 - 100 * i }) },
        { type: 'ack', tsMs: Date.now() - 4_000, orderId: id, ackMs: Date.now() - 4_000, venueId: '' },
      ]),
    });
    const slow = { meanMs: 2_000, jitterMs: 0 };
    const cfg = (base: Config): Config => ({
      ...base,
      engine: { ...base.engine, strategies: ['maker'] },
      strategy: { ...base.strategy, maker: { ...base.strategy.maker, min_requote_ticks: 1000, max_quote_age_ms: 3_600_000 } },
      paper: { ...base.paper, post: slow },
    });
    const base = loadConfig();
    const rig = polymarketHub(4, 1024);
    const logs: string[] = [];
    const recordsBefore = Journal.replay(path).records.length;
    const engine = new Engine({ cfg: cfg(base), slots: 2, hub: rig.hub, polySource: rig.source, references: [], volatilities: [], journalPath: path, log: (l) => logs.push(l) });
    const write = (book: number): void => {
      rig.writer.begin(book);
      rig.writer.setLevel(book, BookSide.Bid, 4_800, 200);
      rig.writer.setLevel(book, BookSide.Ask, 5_200, 200);
      rig.writer.setTimes(book, Number(native.nowNs()), Date.now());
      rig.writer.end(book);
      rig.publish(1, (e) => {
        e.kind = EventKind.LevelUpdate;
        e.source = rig.source;
        e.token = book;
        e.recvNs = Number(native.nowNs());
        e.exchTsMs = Date.now();
      });
    };
    write(1);
    const keepAlive = setInterval(() => {}, 1_000);
    engine.start();
    let held = false;
    try {
      await until('token 1 orders back in flight', () => (engine.restart.outcome.reinstated === 3 ? true : undefined), 10_000, 5);
      const restoredAt = Journal.replay(path).records.find((r) => r.type === 'restored')!.tsMs;
      // Synchronously, so the loop cannot run in between: past both arrivals, token 0 comes live, token 1 is held.
      while (Date.now() <= restoredAt + slow.meanMs + 20);
      write(0);
      rig.writer.begin(1);
      held = true;
      await until('token 0 order outcome', () => (engine.restart.outcome.reinstated + engine.restart.outcome.cancelled > 3 ? true : undefined), 10_000, 5);
      await until('a few more passes', () => (engine.counts.busyBookDeferrals >= 3 ? true : undefined), 10_000, 5);
      rig.writer.end(1);
      held = false;
      await new Promise((r) => setTimeout(r, 100));
      const since = Journal.replay(path).records.slice(recordsBefore);
      const restored = since.filter((r) => r.type === 'restored' && r.orderId === RESTING_ID);
      assert.equal(restored.length, 1, `put back once: ${JSON.stringify(since.filter((r) => 'orderId' in r && r.orderId === RESTING_ID))}; busy ${engine.counts.busyBookDeferrals}`);
      assert.equal(engine.restart.outcome.reinstated, 4);
      assert.equal(engine.liveOrders().filter((o) => o.id === RESTING_ID).length, 1);
      await until('resting on the venue', () => (Number.isFinite(engine.orders.venue.queueAhead(RESTING_ID)) ? true : undefined), 10_000, 5);
      assert.equal(engine.faultReport().faults, 0);
    } finally {
      if (held) rig.writer.end(1);
      try {
        await engine.stop();
      } finally {
        clearInterval(keepAlive);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
