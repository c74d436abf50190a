import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Portfolio } from '../portfolio/positions.js';
import { replayKeeper } from '../portfolio/replay-keeper.fixture.js';
import { slotTables, updownMarket } from '../trading/markets.fixture.js';
import { marketInSlot, Side, type Fill, type MarketDescriptor, type Order, type Settlement } from '../trading/types.js';
import { CrashScript } from './crash-writer.fixture.js';
import { Journal } from './journal.js';
import { parseRecord, type JournalInput, type JournalRecord } from './records.js';
import { JournalLedger, restore, type PositionApplier } from './ledger.js';
import { SumPortfolio } from './sum-portfolio.fixture.js';

const base: Order = {
  id: '',
  strategy: 'mm',
  token: 0,
  side: Side.Buy,
  price: 4000,
  size: 100_000,
  filled: 0,
  type: 'GTC',
  postOnly: false,
  expiresMs: Number.NaN,
  reason: 'quote_bid',
  status: 'pending',
  createdMs: 0,
  ackMs: Number.NaN,
};
const order = (id: string, extra: Partial<Order> = {}): JournalInput => ({ type: 'order', tsMs: 0, order: { ...base, id, ...extra } });
const fill = (orderId: string, fillId: string, size: number, extra: Partial<Fill> = {}): JournalInput => ({
  type: 'fill',
  tsMs: 0,
  fill: { orderId, strategy: 'mm', token: 0, side: Side.Buy, price: 4000, size, fee: 0, liquidity: 'maker', tsMs: 0, fillId, ...extra },
});
const numbered = (inputs: readonly JournalInput[]): JournalRecord[] => inputs.map((r, i) => ({ ...r, seq: i + 1 }) as JournalRecord);

test('orders follow their lifecycle; fills count once and move positions even without a live order', () => {
  const p = new SumPortfolio();
  const { state } = restore(
    numbered([
      order('a'),
      { type: 'ack', tsMs: 5, orderId: 'a', ackMs: 5, venueId: '' },
      fill('a', 'f1', 40_000),
      fill('a', 'f1', 40_000), // re-delivered
      order('b', { side: Side.Sell, token: 1 }),
      order('c'),
      order('d'),
      order('e'),
      { type: 'cancel', tsMs: 6, orderId: 'b', reason: 'requote' },
      { type: 'reject', tsMs: 6, orderId: 'c', reason: 'post_only_cross' },
      { type: 'expire', tsMs: 6, orderId: 'd' },
      { type: 'cancel', tsMs: 6, orderId: 'nope', reason: 'requote' },
      fill('e', 'f2', 100_000),
      fill('gone', 'f3', 10_000, { token: 1, side: Side.Sell, price: 6000, fee: 7 }),
      order('a'),
    ]),
    p,
  );
  assert.deepEqual([...state.openOrders.keys()], ['a']);
  const a = state.openOrders.get('a')!;
  assert.equal(a.status, 'open');
  assert.equal(a.ackMs, 5);
  assert.equal(a.filled, 40_000);
  assert.deepEqual([...state.fillIds], ['f1', 'f2', 'f3']);
  assert.deepEqual(state.anomalies, {
    duplicateFills: 1,
    duplicateMerges: 0,
    fillsWithoutOrder: 1,
    unknownOrderEvents: 1,
    duplicateOrders: 1,
    duplicateSettles: 0,
    unknownSettles: 0,
    duplicateResolutions: 0,
    unknownResolutions: 0,
    unsafeMarkets: 0,
  });
  assert.deepEqual(p.nonZero(), [[0, 140_000], [1, -10_000]]);
  assert.equal(p.cash, -(16_000 + 40_000) + 6_000 - 7);
});

test('restore from the last snapshot equals a replay of every record, and applies only what follows the snapshot', () => {
  const script = new CrashScript(77);
  const portfolio = new SumPortfolio();
  const live = new JournalLedger(portfolio);
  const inputs: JournalInput[] = [];
  for (let i = 0; i < 1200; i++) {
    const a = script.next();
    const input = a.kind === 'record' ? a.input : live.snapshot(portfolio.snapshot(), a.tsMs);
    inputs.push(input);
    live.apply(input);
  }
  const records = numbered(inputs);

  const fromSnapshot = new SumPortfolio();
  const r = restore(records, fromSnapshot);
  const lastSnapshot = records.findLast((x) => x.type === 'position')!;
  assert.equal(r.fromSeq, lastSnapshot.seq);
  assert.equal(r.applied, records.length - lastSnapshot.seq + 1);
  assert.equal(r.lastSeq, records.length);

  // A keeper that cannot load snapshots gets there by replaying everything.
  const plain = new SumPortfolio();
  const everything = restore(records, { applyFill: (f) => plain.applyFill(f), applyMerge: (m) => plain.applyMerge(m) });
  assert.equal(everything.fromSeq, 0);
  assert.equal(everything.applied, records.length);

  for (const [got, state] of [[fromSnapshot, r.state], [plain, everything.state]] as const) {
    assert.deepEqual(got.nonZero(), portfolio.nonZero());
    assert.equal(got.cash, portfolio.cash);
    assert.equal(got.fees, portfolio.fees);
    assert.deepEqual(state.openOrders, live.openOrders);
    assert.deepEqual(state.fillIds, live.fillIds);
    assert.deepEqual(state.mergeIds, live.mergeIds);
  }
  assert.deepEqual([...live.openOrders.values()].sort((x, y) => x.id.localeCompare(y.id)), [...script.live].sort((x, y) => x.id.localeCompare(y.id)));
});

test('a compacted journal restores through the keeper snapshot, and refuses a keeper that cannot load one', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-restore-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'j');
  const portfolio = new SumPortfolio();
  const state = new JournalLedger(portfolio);
  const { journal } = Journal.open(path, { fsync: 'never' });
  for (const input of [order('a'), fill('a', 'f1', 30_000), order('b')]) {
    journal.append(input);
    state.apply(input);
  }
  journal.checkpoint(state.snapshot(portfolio.snapshot(), 10));
  const after = fill('b', 'f2', 100_000);
  journal.append(after);
  state.apply(after);
  journal.close();

  const records = Journal.replay(path).records;
  const again = new SumPortfolio();
  const r = restore(records, again);
  assert.equal(r.applied, 2);
  assert.deepEqual(again.nonZero(), [[0, 130_000]]);
  assert.deepEqual([...r.state.openOrders.keys()], ['a']);
  assert.deepEqual(r.state.openOrders.get('a')!.filled, 30_000);

  const noRestore: PositionApplier = { applyFill: () => true };
  assert.throws(() => restore(records, noRestore), /cannot restore/);
  assert.throws(() => restore(numbered([{ type: 'merge', tsMs: 0, merge: { mergeId: 'm', market: 0, tokens: [0, 1], size: 1 } }]), noRestore), /cannot apply them/);
});

test('a snapshot that does not belong to the keeper is refused by the keeper', () => {
  const bad = numbered([{ type: 'position', tsMs: 0, positions: { nope: true }, orders: [], fillIds: [], mergeIds: [] }]);
  assert.throws(() => restore(bad, new SumPortfolio()), /not a SumPortfolio snapshot/);
});

// ---- market slots, with the real position keeper -------------------------

const SLOTS = 2;

/** A 5-minute Bitcoin up/down market with the session's fee. */
const updown = (name: string, startMs: number): MarketDescriptor => updownMarket(name, { startMs, feeRate: 0.072 });

/** The engine's universe: SLOTS market slots, replaced in place in arrays the keeper was built with. */
function universe() {
  const slots = slotTables(SLOTS);
  return { ...slots, portfolio: new Portfolio(slots.tokens, slots.markets) };
}

const settlement = (d: MarketDescriptor, slot: number, winner: 0 | 1): Settlement => ({
  settleId: d.conditionId,
  conditionId: d.conditionId,
  market: slot,
  tokens: [2 * slot, 2 * slot + 1],
  winner,
  open: 100_000,
  close: winner === 0 ? 100_010 : 99_990,
  exact: true,
});
const settle = (d: MarketDescriptor, slot: number, winner: 0 | 1): JournalInput => ({ type: 'settle', tsMs: d.endMs + 2_000, settlement: settlement(d, slot, winner) });

const A = updown('a', 0);
const B = updown('b', 0);
const C = updown('c', 300_000);
const at = (id: string, strategy: string, token: number, side: Side, price: number, size: number): JournalInput => order(id, { strategy, token, side, price, size });
const filled = (orderId: string, fillId: string, strategy: string, token: number, side: Side, price: number, size: number, fee = 0): JournalInput =>
  fill(orderId, fillId, size, { strategy, token, side, price, fee, liquidity: fee > 0 ? 'taker' : 'maker' });

/** market → fills → settle → market (reuse) → fills; the snapshot goes right after the settlement. */
const LIFECYCLE: JournalInput[] = [
  { type: 'session', tsMs: 0, event: 'start', note: 'paper' },
  { type: 'market', tsMs: 0, slot: 0, market: A },
  { type: 'market', tsMs: 0, slot: 1, market: B },
  at('o1', 'mm', 0, Side.Buy, 4000, 10_000_000),
  { type: 'ack', tsMs: 1, orderId: 'o1', ackMs: 1, venueId: '' },
  filled('o1', 'f1', 'mm', 0, Side.Buy, 4000, 10_000_000),
  at('o2', 'dir', 1, Side.Buy, 5500, 5_000_000),
  filled('o2', 'f2', 'dir', 1, Side.Buy, 5500, 5_000_000, 30_000),
  at('o3', 'mm', 2, Side.Buy, 5000, 4_000_000),
  filled('o3', 'f3', 'mm', 2, Side.Buy, 5000, 2_000_000),
  settle(A, 0, 0),
  // ← snapshot
  settle(A, 0, 1), // re-delivered (and wrong): applied once, the first time
  { type: 'market', tsMs: 310_000, slot: 0, market: C },
  at('o4', 'mm', 0, Side.Buy, 3000, 20_000_000),
  filled('o4', 'f4', 'mm', 0, Side.Buy, 3000, 20_000_000),
  filled('o3', 'f5', 'mm', 2, Side.Buy, 5000, 2_000_000),
  at('o5', 'mm', 0, Side.Sell, 3500, 5_000_000),
  filled('o5', 'f6', 'mm', 0, Side.Sell, 3500, 5_000_000),
];
const SNAPSHOT_AFTER = LIFECYCLE.findIndex((r) => r.type === 'settle');

function view(p: Portfolio, s: JournalLedger) {
  const marks = Float64Array.from([3200, 6800, 5100, 4900]);
  return {
    entries: p.entries().map((e) => ({ ...e })),
    total: p.total(marks),
    byStrategy: [...p.byStrategy(marks)].sort(([x], [y]) => x.localeCompare(y)),
    retired: ['mm', 'dir'].map((x) => ({ ...p.retiredTotals(x) })),
    slots: [...s.slots].sort(([x], [y]) => x - y),
    settled: [...s.settled].sort(),
    settleIds: [...s.settleIds].sort(),
    settlements: [0, 1].map((i) => s.settlementOf(i)),
    free: [0, 1].map((i) => s.isSlotFree(i)),
    openOrders: [...s.openOrders.values()].map((o) => ({ ...o })).sort((x, y) => x.id.localeCompare(y.id)),
    fillIds: [...s.fillIds].sort(),
    anomalies: { ...s.anomalies },
  };
}

/**
 * The live engine's side of a journal in a fresh directory: `record` journals
 * an input, applies it to the live state and, for a market record, places
 * the market in its slot.
 */
function liveJournal(t: TestContext, prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'j');
  const live = universe();
  const state = new JournalLedger(live.portfolio);
  const { journal } = Journal.open(path, { fsync: 'never', compact: true });
  const record = (input: JournalInput): void => {
    journal.append(input);
    state.apply(input);
    // The engine's side of a market record: the slot's arrays change in place.
    if (input.type === 'market') live.place(input.slot, marketInSlot(input.slot, input.market));
  };
  return { path, live, state, journal, record };
}

test('market slots: settle, retire and reuse restore the same positions, PnL and slot table from a full replay, a snapshot, and a torn tail', (t) => {
  const { path, live, state, journal, record } = liveJournal(t, 'pe-slots-');
  let beforeLast: ReturnType<typeof view> | undefined;
  LIFECYCLE.forEach((input, i) => {
    if (i === LIFECYCLE.length - 1) beforeLast = view(live.portfolio, state);
    record(input);
    if (i === SNAPSHOT_AFTER) journal.checkpoint(state.snapshot(live.portfolio.snapshot(), input.tsMs));
  });
  journal.close();

  // What the live state holds. A won 0 → 1: mm's 10 @ 0.40 realise +6.00; dir's 5 @ 0.55 lose 2.75 and the fee.
  const want = view(live.portfolio, state);
  assert.deepEqual(want.retired, [
    { realised: 6_000_000, fees: 0, cash: 6_000_000, bought: 10_000_000, sold: 10_000_000, fills: 1 },
    { realised: -2_750_000, fees: 30_000, cash: -2_780_000, bought: 5_000_000, sold: 5_000_000, fills: 1 },
  ]);
  assert.deepEqual(
    want.entries.map((e) => [e.strategy, e.token, e.position, e.realised]),
    [
      ['mm', 2, 4_000_000, 0],
      ['mm', 0, 15_000_000, 250_000],
    ],
  );
  assert.equal(want.total.realised, 6_000_000 - 2_750_000 + 250_000);
  assert.equal(want.total.cash, 6_000_000 - 2_780_000 - 2_000_000 - 6_000_000 + 1_750_000);
  assert.deepEqual(want.slots, [
    [0, C],
    [1, B],
  ]);
  assert.deepEqual([want.settled, want.settleIds], [['0xa'], ['0xa']]);
  assert.deepEqual(want.settlements, [undefined, undefined], 'neither current occupant has settled');
  assert.deepEqual(want.free, [false, false]);
  assert.equal(state.isSettled('0xa'), true);
  assert.equal(state.isSettled('0xc'), false);
  assert.deepEqual(want.anomalies, { ...want.anomalies, duplicateSettles: 1, unknownSettles: 0, unsafeMarkets: 0 });

  // Every record from the first, into a keeper that cannot load snapshots.
  const all = replayKeeper(SLOTS, { fromSnapshot: false });
  const replayed = restore(numbered(LIFECYCLE), all.applier);
  assert.equal(replayed.fromSeq, 0);
  assert.deepEqual(view(all.portfolio, replayed.state), want);

  // The compacted journal: the snapshot, then what followed it.
  const fromDisk = universe();
  const r = restore(Journal.replay(path).records, fromDisk.portfolio);
  assert.equal(r.fromSeq, SNAPSHOT_AFTER + 2);
  assert.equal(r.applied, LIFECYCLE.length - SNAPSHOT_AFTER);
  assert.deepEqual(view(fromDisk.portfolio, r.state), want);

  // Killed mid-way through the last record: restore is the state before it.
  const whole = readFileSync(path);
  writeFileSync(path, whole.subarray(0, whole.length - 3));
  const torn = Journal.replay(path);
  assert.ok(torn.tornTailBytes > 0);
  const cut = universe();
  const rc = restore(torn.records, cut.portfolio);
  assert.deepEqual(view(cut.portfolio, rc.state), beforeLast);
});

test('market slots: the snapshot carries the slot table and the settlement of a settled occupant', () => {
  const u = universe();
  const s = new JournalLedger(u.portfolio);
  for (const input of LIFECYCLE.slice(0, SNAPSHOT_AFTER + 1)) s.apply(input);
  assert.deepEqual(s.settlementOf(0), settlement(A, 0, 0));
  assert.equal(s.isSlotFree(0), true, 'settled, no live order');
  assert.equal(s.isSlotFree(1), false, 'o3 is still live on B');
  const snap = s.snapshot(u.portfolio.snapshot(), 5);
  const again = universe();
  const r = new JournalLedger(again.portfolio);
  r.apply(structuredClone(snap));
  assert.deepEqual(view(again.portfolio, r), view(u.portfolio, s));
  // A snapshot written before market slots restores an empty slot table.
  const { slots: _a, settlements: _b, settledConditions: _c, settleIds: _d, ...old } = snap;
  const oldState = new JournalLedger(universe().portfolio);
  oldState.apply(old);
  assert.deepEqual([oldState.slots.size, oldState.settled.size, oldState.isSlotFree(0)], [0, 0, true]);
});

test('market slots: reuse before settlement and settlements for another market are applied or dropped, and counted', () => {
  const u = universe();
  const s = new JournalLedger(u.portfolio);
  const inputs: JournalInput[] = [
    { type: 'market', tsMs: 0, slot: 0, market: A },
    at('o1', 'mm', 0, Side.Buy, 4000, 10_000_000),
    filled('o1', 'f1', 'mm', 0, Side.Buy, 4000, 5_000_000),
    // A market record for the same market again is an update (say, a tick size change), not a reuse.
    { type: 'market', tsMs: 1, slot: 0, market: { ...A, tickSize: 10 } },
    // A settlement naming a market not in its slot, or the wrong tokens: dropped.
    settle(B, 0, 0),
    { type: 'settle', tsMs: 1, settlement: { ...settlement(A, 0, 0), tokens: [2, 3] } },
    // Reused while A is unsettled and o1 is live: the engine never writes this; it is applied and counted.
    { type: 'market', tsMs: 2, slot: 0, market: C },
  ];
  for (const input of inputs) s.apply(input);
  // A's open position could not be folded away when C took the slot: it is still there, not lost.
  assert.equal(u.portfolio.position('mm', 0), 5_000_000);
  const more: JournalInput[] = [
    settle(C, 0, 1),
    { type: 'cancel', tsMs: 3, orderId: 'o1', reason: 'requote' },
    // C settled, no live order: a clean reuse.
    { type: 'market', tsMs: 4, slot: 0, market: A },
    // Bringing a settled market back is counted.
    { type: 'market', tsMs: 5, slot: 1, market: C },
  ];
  for (const input of more) s.apply(input);
  assert.deepEqual(s.anomalies, {
    duplicateFills: 0,
    duplicateMerges: 0,
    fillsWithoutOrder: 0,
    unknownOrderEvents: 0,
    duplicateOrders: 0,
    duplicateSettles: 0,
    unknownSettles: 2,
    duplicateResolutions: 0,
    unknownResolutions: 0,
    unsafeMarkets: 2,
  });
  assert.equal(s.slots.get(0)!.conditionId, '0xa');
  assert.equal(s.slots.get(1)!.conditionId, '0xc');
  assert.deepEqual([...s.settled], ['0xc']);
  // C's settlement closed what sat on the slot's tokens, and the clean reuse then retired it.
  assert.equal(u.portfolio.position('mm', 0), 0);
  assert.deepEqual(u.portfolio.entries(), []);
  assert.equal(u.portfolio.retiredTotals('mm').realised, -2_000_000);

  // A keeper that cannot settle or retire cannot restore a journal that does.
  const plain = new SumPortfolio();
  assert.throws(() => restore(numbered(inputs.slice(0, 1)), { applyFill: (f) => plain.applyFill(f) }), /cannot retire a market/);
  assert.throws(() => restore(numbered([settle(A, 0, 0)]), { applyFill: (f) => plain.applyFill(f) }), /cannot apply them/);
});

test('a window’s opening price is kept for its market only, through a snapshot, and goes with the market', () => {
  const u = universe();
  const live = new JournalLedger(u.portfolio);
  live.apply({ type: 'market', tsMs: 0, slot: 0, market: A });
  live.apply({ type: 'window', tsMs: 1, slot: 0, conditionId: B.conditionId, open: 1, openTsMs: 0 });
  assert.equal(live.opens.size, 0, 'an open for a market the slot does not hold is dropped');
  live.apply({ type: 'window', tsMs: 1, slot: 0, conditionId: A.conditionId, open: 100_000.5, openTsMs: -400 });
  assert.deepEqual(live.opens.get(0), { slot: 0, conditionId: A.conditionId, open: 100_000.5, openTsMs: -400 });

  const snap = live.snapshot(u.portfolio.snapshot(), 2);
  const again = new JournalLedger(u.portfolio);
  again.apply(snap);
  assert.deepEqual(again.opens.get(0), live.opens.get(0), 'a snapshot carries it');

  live.apply(settle(A, 0, 0));
  live.apply({ type: 'market', tsMs: 400_000, slot: 0, market: C });
  assert.equal(live.opens.size, 0, 'the next market in the slot starts without one');
});

/** A settle record carrying the holdings it closed. */
const settleHeld = (d: MarketDescriptor, slot: number, winner: 0 | 1, holdings: Settlement['holdings']): JournalInput => ({
  type: 'settle',
  tsMs: d.endMs + 2_000,
  settlement: { ...settlement(d, slot, winner), holdings },
});
/** The venue's verdict on `d` as the engine journals it: `venue` winner against the engine's `engine` one (the same winner is an agreement). */
const verdict = (d: MarketDescriptor, slot: number, venue: 0 | 1, engine: 0 | 1, holdings: NonNullable<Settlement['holdings']>): JournalInput => ({
  type: 'resolution',
  tsMs: d.endMs + 3_600_000,
  resolution: { resolutionId: d.conditionId, conditionId: d.conditionId, market: slot, tokens: [2 * slot, 2 * slot + 1], winner: venue, engineWinner: engine, holdings },
});
/** A correction: the venue named the other winner than the engine's. */
const resolution = (d: MarketDescriptor, slot: number, winner: 0 | 1, holdings: NonNullable<Settlement['holdings']>): JournalInput => verdict(d, slot, winner, winner === 0 ? 1 : 0, holdings);
const D = updown('d', 300_000);
const HELD_A = [
  { strategy: 'mm', positions: [10_000_000, 0] as [number, number] },
  { strategy: 'dir', positions: [0, 5_000_000] as [number, number] },
];
const HELD_B = [{ strategy: 'mm', positions: [2_000_000, 0] as [number, number] }];
/** The fills that make HELD_A (A in slot 0) and HELD_B (B in slot 1). */
const HELD_FILLS: JournalInput[] = [
  at('o1', 'mm', 0, Side.Buy, 4000, 10_000_000),
  filled('o1', 'f1', 'mm', 0, Side.Buy, 4000, 10_000_000),
  at('o2', 'dir', 1, Side.Buy, 5500, 5_000_000),
  filled('o2', 'f2', 'dir', 1, Side.Buy, 5500, 5_000_000, 30_000),
  at('o3', 'mm', 2, Side.Buy, 5000, 2_000_000),
  filled('o3', 'f3', 'mm', 2, Side.Buy, 5000, 2_000_000),
];

/** A corrected while it holds its slot (live entries), B corrected after its slot was reused (retired totals); the snapshot goes right after A's correction. */
const CORRECTED: JournalInput[] = [
  { type: 'market', tsMs: 0, slot: 0, market: A },
  { type: 'market', tsMs: 0, slot: 1, market: B },
  ...HELD_FILLS,
  settleHeld(A, 0, 0, HELD_A),
  resolution(A, 0, 1, HELD_A),
  // ← snapshot
  resolution(A, 0, 1, HELD_A), // re-delivered: applied once
  settleHeld(B, 1, 0, HELD_B),
  { type: 'market', tsMs: 310_000, slot: 0, market: C },
  { type: 'market', tsMs: 310_000, slot: 1, market: D },
  resolution(B, 1, 1, HELD_B),
];

test('a venue correction moves each strategy by its holdings, once, onto live entries or retired totals; replay and a snapshot give the same money', (t) => {
  const { path, live, state, journal, record } = liveJournal(t, 'pe-correct-');
  const snapAfter = CORRECTED.findIndex((r) => r.type === 'resolution');
  CORRECTED.forEach((input, i) => {
    record(input);
    if (i === snapAfter - 1) {
      // Settled by the engine: mm's 10 Up @ 0.40 redeemed at 1, dir's 5 Down @ 0.55 at 0.
      assert.equal(live.portfolio.pnl([], { market: 0 }).realised, 6_000_000 - 2_750_000);
    }
    if (i === snapAfter) {
      // The venue says Down: mm's Up is worth 0 (−4.00), dir's Down 1 (+2.25), on the market's own entries.
      assert.equal(live.portfolio.entry('mm', 0)!.realised, -4_000_000);
      assert.equal(live.portfolio.entry('mm', 0)!.cash, -4_000_000);
      assert.equal(live.portfolio.entry('dir', 1)!.realised, 2_250_000);
      assert.equal(live.portfolio.entry('dir', 1)!.cash, 5_000_000 - 2_750_000 - 30_000);
      assert.equal(live.portfolio.pnl([], { market: 0 }).realised, -4_000_000 + 2_250_000);
      assert.deepEqual(state.settlementOf(0), { ...settlement(A, 0, 0), holdings: HELD_A, winner: 1, engineWinner: 0 }, 'the slot shows the venue’s winner');
      assert.deepEqual(live.portfolio.retiredTotals('mm'), { realised: 0, fees: 0, cash: 0, bought: 0, sold: 0, fills: 0 });
      journal.checkpoint(state.snapshot(live.portfolio.snapshot(), input.tsMs));
    }
  });
  journal.close();

  const want = { ...view(live.portfolio, state), resolved: [...state.resolved].sort() };
  // A: mm −4.00, dir +2.25 (fee 0.03 apart); B (bought 2 Up @ 0.50, Down won): mm −1.00, corrected after retirement.
  assert.deepEqual(want.retired, [
    { realised: -5_000_000, fees: 0, cash: -5_000_000, bought: 12_000_000, sold: 12_000_000, fills: 2 },
    { realised: 2_250_000, fees: 30_000, cash: 2_220_000, bought: 5_000_000, sold: 5_000_000, fills: 1 },
  ]);
  assert.deepEqual(want.entries, []);
  assert.equal(want.total.realised, -5_000_000 + 2_250_000);
  assert.deepEqual(want.resolved, ['0xa', '0xb']);
  assert.equal(state.anomalies.duplicateResolutions, 1);
  assert.equal(state.anomalies.unknownResolutions, 0);

  const all = replayKeeper(SLOTS, { fromSnapshot: false });
  const replayed = restore(numbered(CORRECTED), all.applier);
  assert.deepEqual({ ...view(all.portfolio, replayed.state), resolved: [...replayed.state.resolved].sort() }, want);

  // From the snapshot taken after A's correction: the re-delivered resolution that follows it is not applied again.
  const fromDisk = universe();
  const r = restore(Journal.replay(path).records, fromDisk.portfolio);
  assert.equal(r.fromSeq, snapAfter + 2);
  assert.deepEqual({ ...view(fromDisk.portfolio, r.state), resolved: [...r.state.resolved].sort() }, want);
});

test('resolutions of a market not settled here, or naming another engine winner, are dropped and counted', () => {
  const u = universe();
  const s = new JournalLedger(u.portfolio);
  for (const input of [
    { type: 'market', tsMs: 0, slot: 0, market: A },
    at('o1', 'mm', 0, Side.Buy, 4000, 10_000_000),
    filled('o1', 'f1', 'mm', 0, Side.Buy, 4000, 10_000_000),
    resolution(A, 0, 1, HELD_A), // not settled yet
    settleHeld(A, 0, 1, HELD_A),
    resolution(A, 0, 1, HELD_A), // engineWinner 0, but the engine settled 1
  ] as JournalInput[])
    s.apply(input);
  assert.equal(s.anomalies.unknownResolutions, 2);
  assert.equal(s.isResolved('0xa'), false);
  assert.equal(u.portfolio.entry('mm', 0)!.realised, -4_000_000, 'as settled: Up lost');
});

// ---- pending audits: settlements awaiting the venue, across slot reuse and restarts ----

const settledAs = (d: MarketDescriptor, slot: number, winner: 0 | 1, holdings: NonNullable<Settlement['holdings']>): Settlement => ({ ...settlement(d, slot, winner), holdings });

/** A and B settle (Up); A's slot goes to C minutes later, long before the venue rules; the checkpoint goes right after the reuse. */
const AUDITED: JournalInput[] = [
  { type: 'market', tsMs: 0, slot: 0, market: A },
  { type: 'market', tsMs: 0, slot: 1, market: B },
  ...HELD_FILLS,
  settleHeld(A, 0, 0, HELD_A),
  settleHeld(B, 1, 0, HELD_B),
  { type: 'market', tsMs: 310_000, slot: 0, market: C },
  // ← checkpoint
  at('o4', 'mm', 0, Side.Buy, 3000, 20_000_000),
];
const REUSED_AT = AUDITED.findIndex((r) => r.type === 'market' && r.market === C);
const PENDING = [
  { descriptor: A, settlement: settledAs(A, 0, 0, HELD_A) },
  { descriptor: B, settlement: settledAs(B, 1, 0, HELD_B) },
];

const pendingOf = (s: JournalLedger) => [...s.pendingAudits()].sort((x, y) => x.descriptor.conditionId.localeCompare(y.descriptor.conditionId));
const retired = (p: Portfolio) => ['mm', 'dir'].map((x) => p.retiredTotals(x).realised);

/**
 * A restart: the journal reopened, its state restored into a fresh keeper
 * and the restored markets placed in their slots (the engine's side), and
 * `record` to journal what the restarted engine does.
 */
function reopen(path: string) {
  const opened = Journal.open(path, { fsync: 'always', compact: true });
  const u = universe();
  const r = restore(opened.replay.records, u.portfolio);
  for (const [slot, d] of r.state.slots) u.place(slot, marketInSlot(slot, d));
  const record = (input: JournalInput): void => {
    opened.journal.append(input);
    r.state.apply(input);
  };
  return { ...r, journal: opened.journal, portfolio: u.portfolio, record };
}

test('a settled market’s audit outlives the reuse of its slot, a checkpoint and compaction, with the descriptor and settlement it settled with', (t) => {
  const { path, live, state, journal, record } = liveJournal(t, 'pe-audits-');
  AUDITED.forEach((input, i) => {
    record(input);
    if (i === REUSED_AT) journal.checkpoint(state.snapshot(live.portfolio.snapshot(), input.tsMs));
  });
  journal.close();

  assert.equal(state.settlementOf(0), undefined, 'C holds A’s slot and has not settled');
  assert.deepEqual(pendingOf(state), PENDING, 'A (retired) and B (in its slot) both await the venue');

  const fromDisk = universe();
  const r = restore(Journal.replay(path).records, fromDisk.portfolio);
  assert.equal(r.fromSeq, REUSED_AT + 2, 'restored through the compacted snapshot');
  assert.deepEqual(pendingOf(r.state), PENDING);
  assert.equal(r.state.expiredAudits, 0);

  const replayed = restore(numbered(AUDITED), replayKeeper(SLOTS, { fromSnapshot: false }).applier);
  assert.deepEqual(pendingOf(replayed.state), PENDING, 'a replay of every record keeps the same');
});

test('the venue’s verdict ends a retired market’s audit: an agreement moves nothing, a disagreement moves the holdings onto the retired totals, once', () => {
  // Settled Up: mm's 10 Up @ 0.40 +6.00, dir's 5 Down @ 0.55 −2.75, both folded into the retired totals when C took the slot.
  const cases = [
    { venue: 0 as const, want: [6_000_000, -2_750_000] },
    // Down: mm's Up is worth 0 (−10.00 from settled), dir's Down 1 (+5.00).
    { venue: 1 as const, want: [6_000_000 - 10_000_000, -2_750_000 + 5_000_000] },
  ];
  for (const { venue, want } of cases) {
    const u = universe();
    const s = new JournalLedger(u.portfolio);
    for (const input of AUDITED) s.apply(input);
    assert.deepEqual(retired(u.portfolio), [6_000_000, -2_750_000]);

    // A resolution naming another engine winner or another slot than A's settlement: not A's, dropped, and A still awaits the venue.
    s.apply(verdict(A, 0, venue, 1, HELD_A));
    s.apply(verdict(A, 1, venue, 0, HELD_A));
    assert.equal(s.anomalies.unknownResolutions, 2);
    assert.deepEqual(pendingOf(s), PENDING);

    s.apply(verdict(A, 0, venue, 0, HELD_A));
    assert.deepEqual(retired(u.portfolio), want, `venue ${venue}`);
    assert.equal(s.isResolved(A.conditionId), true);
    assert.deepEqual(pendingOf(s), PENDING.slice(1), 'only B awaits the venue now');
    assert.deepEqual(u.portfolio.entries().map((e) => [e.strategy, e.token, e.position]), [['mm', 2, 0]], 'B’s settled entries are untouched');

    // Re-delivered: not applied again.
    s.apply(verdict(A, 0, venue, 0, HELD_A));
    assert.equal(s.anomalies.duplicateResolutions, 1);
    assert.deepEqual(retired(u.portfolio), want);

    // B, still in its slot, leaves the same way.
    s.apply(verdict(B, 1, venue, 0, HELD_B));
    assert.deepEqual(pendingOf(s), []);
    assert.equal(s.settlementOf(1)?.winner, venue);
  }
});

test('a correction of a retired market replays exactly once across restarts, one of them killed mid-write of the correction', (t) => {
  const { path, live, state, journal, record } = liveJournal(t, 'pe-audit-restarts-');
  for (const input of AUDITED) record(input);
  journal.checkpoint(state.snapshot(live.portfolio.snapshot(), 320_000));
  journal.close();
  const corrected = [6_000_000 - 10_000_000, -2_750_000 + 5_000_000];

  // Restart 1: the audit resumes, the venue says Down, and the process dies while the correction is being written.
  const first = reopen(path);
  assert.deepEqual(pendingOf(first.state), PENDING);
  first.record(verdict(A, 0, 1, 0, HELD_A));
  first.journal.close();
  const whole = readFileSync(path);
  writeFileSync(path, whole.subarray(0, whole.length - 3));

  // Restart 2: the torn correction never happened: A still awaits the venue, its money as settled. Corrected now, then stopped with a checkpoint.
  const second = reopen(path);
  assert.deepEqual(pendingOf(second.state), PENDING);
  assert.deepEqual(retired(second.portfolio), [6_000_000, -2_750_000]);
  second.record(verdict(A, 0, 1, 0, HELD_A));
  assert.deepEqual(retired(second.portfolio), corrected);
  second.journal.checkpoint(second.state.snapshot(second.portfolio.snapshot(), 4_000_000));
  second.journal.close();

  // Restart 3: resolved, nothing left to audit for A, the money moved once; a re-delivered correction moves nothing.
  const third = reopen(path);
  assert.equal(third.fromSeq > 0, true);
  assert.equal(third.state.isResolved(A.conditionId), true);
  assert.deepEqual(pendingOf(third.state), PENDING.slice(1));
  assert.deepEqual(retired(third.portfolio), corrected);
  third.record(verdict(A, 0, 1, 0, HELD_A));
  assert.equal(third.state.anomalies.duplicateResolutions, 1);
  third.journal.close();

  // Restart 4, from the snapshot and the re-delivery after it: still once.
  const fourth = reopen(path);
  assert.deepEqual(retired(fourth.portfolio), corrected);
  assert.deepEqual(pendingOf(fourth.state), PENDING.slice(1));
  fourth.journal.close();
});

test('a pending audit is dropped once the journal’s clock reaches its window’s end plus the audit timeout, and the drops are counted', (t) => {
  const TIMEOUT = 3_600_000;
  const deadline = A.endMs + TIMEOUT; // B's too: both windows end at 300 000
  const { path, record, journal } = liveJournal(t, 'pe-audit-deadline-');
  for (const input of AUDITED) record(input);
  record({ type: 'session', tsMs: deadline - 1, event: 'stop', note: '' });
  journal.close();

  const before = restore(Journal.replay(path).records, universe().portfolio, { auditTimeoutMs: TIMEOUT });
  assert.deepEqual([pendingOf(before.state), before.state.expiredAudits], [PENDING, 0], 'a millisecond short of the deadline');

  const again = Journal.open(path, { fsync: 'never' });
  again.journal.append({ type: 'session', tsMs: deadline, event: 'start', note: '' });
  again.journal.close();
  const after = restore(Journal.replay(path).records, universe().portfolio, { auditTimeoutMs: TIMEOUT });
  assert.deepEqual([pendingOf(after.state), after.state.expiredAudits], [[], 2]);
  const unbounded = restore(Journal.replay(path).records, universe().portfolio);
  assert.deepEqual(pendingOf(unbounded.state), PENDING, 'without a timeout nothing expires');

  // Live, a settle record is the moment: C settling a window later finds A and B past a 5-minute timeout, and keeps its own.
  const u = universe();
  const s = new JournalLedger(u.portfolio, { auditTimeoutMs: 300_000 });
  for (const input of AUDITED) s.apply(input);
  s.apply({ type: 'cancel', tsMs: 310_000, orderId: 'o4', reason: 'requote' });
  assert.deepEqual(pendingOf(s), PENDING, 'nothing settled since: nothing checked');
  s.apply(settleHeld(C, 0, 1, []));
  assert.deepEqual(pendingOf(s), [{ descriptor: C, settlement: settledAs(C, 0, 1, []) }]);
  assert.equal(s.expiredAudits, 2);
  // The venue's word on an expired audit is still the venue's word: applied, unchecked against a settlement no longer kept.
  s.apply(verdict(A, 0, 1, 0, HELD_A));
  assert.deepEqual(retired(u.portfolio), [6_000_000 - 10_000_000, -2_750_000 + 5_000_000]);
});

test('pending audits in the snapshot: validated at the edge, and a snapshot written before them resumes the settled occupants’ audits as it did', () => {
  const u = universe();
  const s = new JournalLedger(u.portfolio);
  for (const input of AUDITED) s.apply(input);
  const snap = s.snapshot(u.portfolio.snapshot(), 320_000);
  assert.deepEqual(snap.audits, PENDING);

  const good = parseRecord({ ...structuredClone(snap), seq: 1 });
  assert.equal(typeof good, 'object');
  assert.equal(parseRecord({ ...structuredClone(snap), seq: 1, audits: [{ descriptor: A, settlement: { ...PENDING[0]!.settlement, winner: 2 } }] }), 'bad field audits[0].settlement.winner in a position record');
  assert.equal(parseRecord({ ...structuredClone(snap), seq: 1, audits: [{ settlement: PENDING[0]!.settlement }] }), 'bad field audits[0].descriptor in a position record');

  // An entry that contradicts the rest of the snapshot (a market never settled, one already resolved, a descriptor of another market) is not resumed.
  const mixed = new JournalLedger(universe().portfolio);
  mixed.apply({
    ...structuredClone(snap),
    resolutionIds: [B.conditionId],
    audits: [...structuredClone(PENDING), { descriptor: D, settlement: settledAs(D, 0, 0, []) }, { descriptor: A, settlement: settledAs(C, 0, 0, []) }],
  });
  assert.deepEqual(pendingOf(mixed), PENDING.slice(0, 1));

  // Older: no `audits` field. Only B, settled in its slot, is known to await the venue; A's audit was lost with its slot, as before.
  const { audits: _a, ...old } = snap;
  const fromOld = new JournalLedger(universe().portfolio);
  fromOld.apply(structuredClone(old));
  assert.deepEqual(pendingOf(fromOld), PENDING.slice(1));
});

test('a slot’s fill ids leave when its next market takes it: snapshots hold the live markets’ fills, a duplicate of one still counts once', () => {
  const u = universe();
  const s = new JournalLedger(u.portfolio);
  for (const r of LIFECYCLE) s.apply(r);
  // f1 and f2 were slot 0's (market A) until C took it; f3 and f5 are slot 1's (B), f4 and f6 C's.
  assert.deepEqual([...s.fillIds].sort(), ['f3', 'f4', 'f5', 'f6']);
  const snap = s.snapshot(u.portfolio.snapshot(), 400_000);
  assert.deepEqual([snap.fillIds, snap.fillIdSlots], [['f3', 'f4', 'f5', 'f6'], [1, 0, 1, 0]]);
  const again = new JournalLedger(universe().portfolio);
  again.apply(structuredClone(snap));
  assert.deepEqual([...again.fillIds], [...s.fillIds]);
  again.apply(filled('o4', 'f4', 'mm', 0, Side.Buy, 3000, 20_000_000));
  assert.equal(again.anomalies.duplicateFills, 1, 'the live market still refuses its duplicate');
  // A snapshot written before the slots were recorded keeps its ids, as it always did.
  const { fillIdSlots: _slots, ...old } = snap;
  const before = new JournalLedger(universe().portfolio);
  before.apply(structuredClone(old));
  before.apply({ type: 'market', tsMs: 400_001, slot: 0, market: D });
  assert.deepEqual([...before.fillIds], ['f3', 'f4', 'f5', 'f6']);
  assert.deepEqual(before.snapshot(undefined, 400_002).fillIdSlots, [-1, -1, -1, -1]);
});
