import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Side, type Fill, type Order } from '../trading/types.js';
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
  assert.deepEqual(state.anomalies, { duplicateFills: 1, duplicateMerges: 0, fillsWithoutOrder: 1, unknownOrderEvents: 1, duplicateOrders: 1 });
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
