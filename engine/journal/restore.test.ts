import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Portfolio } from '../portfolio/positions.js';
import { slotTables, updownMarket } from '../trading/markets.fixture.js';
import { marketInSlot, Side, type Fill, type MarketDescriptor, type Order, type Settlement } from '../trading/types.js';
import { CrashScript } from './crash-writer.fixture.js';
import { Journal } from './journal.js';
import type { JournalInput, JournalRecord } from './records.js';
import { JournalState, restore, type PositionApplier } from './restore.js';
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
  const live = new JournalState(portfolio);
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
  const state = new JournalState(portfolio);
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

function view(p: Portfolio, s: JournalState) {
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
  const state = new JournalState(live.portfolio);
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
  const all = universe();
  const replayed = restore(numbered(LIFECYCLE), { applyFill: (f) => all.portfolio.applyFill(f), settle: (s) => all.portfolio.settle(s), retireMarket: (m) => void all.portfolio.retireMarket(m) });
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
  const s = new JournalState(u.portfolio);
  for (const input of LIFECYCLE.slice(0, SNAPSHOT_AFTER + 1)) s.apply(input);
  assert.deepEqual(s.settlementOf(0), settlement(A, 0, 0));
  assert.equal(s.isSlotFree(0), true, 'settled, no live order');
  assert.equal(s.isSlotFree(1), false, 'o3 is still live on B');
  const snap = s.snapshot(u.portfolio.snapshot(), 5);
  const again = universe();
  const r = new JournalState(again.portfolio);
  r.apply(structuredClone(snap));
  assert.deepEqual(view(again.portfolio, r), view(u.portfolio, s));
  // A snapshot written before market slots restores an empty slot table.
  const { slots: _a, settlements: _b, settledConditions: _c, settleIds: _d, ...old } = snap;
  const oldState = new JournalState(universe().portfolio);
  oldState.apply(old);
  assert.deepEqual([oldState.slots.size, oldState.settled.size, oldState.isSlotFree(0)], [0, 0, true]);
});

test('market slots: reuse before settlement and settlements for another market are applied or dropped, and counted', () => {
  const u = universe();
  const s = new JournalState(u.portfolio);
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
  const applier: PositionApplier = {
    applyFill: (f) => u.portfolio.applyFill(f),
    restore: (x) => u.portfolio.restore(x),
    settle: (x) => u.portfolio.settle(x),
    retireMarket: (m) => {
      u.portfolio.retireMarket(m);
    },
  };
  const live = new JournalState(applier);
  live.apply({ type: 'market', tsMs: 0, slot: 0, market: A });
  live.apply({ type: 'window', tsMs: 1, slot: 0, conditionId: B.conditionId, open: 1, openTsMs: 0 });
  assert.equal(live.opens.size, 0, 'an open for a market the slot does not hold is dropped');
  live.apply({ type: 'window', tsMs: 1, slot: 0, conditionId: A.conditionId, open: 100_000.5, openTsMs: -400 });
  assert.deepEqual(live.opens.get(0), { slot: 0, conditionId: A.conditionId, open: 100_000.5, openTsMs: -400 });

  const snap = live.snapshot(u.portfolio.snapshot(), 2);
  const again = new JournalState(applier);
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
const resolution = (d: MarketDescriptor, slot: number, winner: 0 | 1, holdings: NonNullable<Settlement['holdings']>): JournalInput => ({
  type: 'resolution',
  tsMs: d.endMs + 60_000,
  resolution: { resolutionId: d.conditionId, conditionId: d.conditionId, market: slot, tokens: [2 * slot, 2 * slot + 1], winner, engineWinner: winner === 0 ? 1 : 0, holdings },
});
const D = updown('d', 300_000);
const HELD_A = [
  { strategy: 'mm', positions: [10_000_000, 0] as [number, number] },
  { strategy: 'dir', positions: [0, 5_000_000] as [number, number] },
];
const HELD_B = [{ strategy: 'mm', positions: [2_000_000, 0] as [number, number] }];

/** A corrected while it holds its slot (live entries), B corrected after its slot was reused (retired totals); the snapshot goes right after A's correction. */
const CORRECTED: JournalInput[] = [
  { type: 'market', tsMs: 0, slot: 0, market: A },
  { type: 'market', tsMs: 0, slot: 1, market: B },
  at('o1', 'mm', 0, Side.Buy, 4000, 10_000_000),
  filled('o1', 'f1', 'mm', 0, Side.Buy, 4000, 10_000_000),
  at('o2', 'dir', 1, Side.Buy, 5500, 5_000_000),
  filled('o2', 'f2', 'dir', 1, Side.Buy, 5500, 5_000_000, 30_000),
  at('o3', 'mm', 2, Side.Buy, 5000, 2_000_000),
  filled('o3', 'f3', 'mm', 2, Side.Buy, 5000, 2_000_000),
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

  const all = universe();
  const replayed = restore(numbered(CORRECTED), {
    applyFill: (f) => all.portfolio.applyFill(f),
    settle: (s) => all.portfolio.settle(s),
    correct: (r, current) => all.portfolio.correct(r, current),
    retireMarket: (m) => void all.portfolio.retireMarket(m),
  });
  assert.deepEqual({ ...view(all.portfolio, replayed.state), resolved: [...replayed.state.resolved].sort() }, want);

  // From the snapshot taken after A's correction: the re-delivered resolution that follows it is not applied again.
  const fromDisk = universe();
  const r = restore(Journal.replay(path).records, fromDisk.portfolio);
  assert.equal(r.fromSeq, snapAfter + 2);
  assert.deepEqual({ ...view(fromDisk.portfolio, r.state), resolved: [...r.state.resolved].sort() }, want);
});

test('resolutions of a market not settled here, or naming another engine winner, are dropped and counted', () => {
  const u = universe();
  const s = new JournalState(u.portfolio);
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
