// Markets rolling through a session, end to end: the bundled session run
// in-process at SIM_SPEED (300x) on fewer market slots than it has windows, so every piece
// of the roll is exercised the way a live session would: discovery on the
// simulator's Gamma, slots assigned to the pinned feed worker's books on the
// live socket, windows settled by the Chainlink rule from the real capture,
// slots released and reused, every settlement audited against the venue's own
// resolution on the simulator's Gamma, and the journal replaying all of it. A
// second session has the venue resolve one market the other way: the paper
// money follows the venue.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BookFlag, NO_TICK } from '../../workers/shared-memory/book-layout.js';
import { TopOfBook } from '../../workers/shared-memory/book-reader.js';
import { parseConfigText } from '../config/load.js';
import { Journal } from '../journal/journal.js';
import type { JournalRecord, MarketRecord, ResolutionRecord, SettleRecord } from '../journal/records.js';
import { JournalLedger, restore } from '../journal/ledger.js';
import { replayKeeper } from '../portfolio/replay-keeper.fixture.js';
import { buildBundledMarkets } from '../sim/bundled-updown.js';
import { notionalMicros, PRICE_SCALE, Side, type Settlement } from '../trading/types.js';
import { SlotPhase } from '../markets/slots.js';
import { sample, startSimSession, until as untilWithin } from './session.fixture.js';

// Polled every 10 ms: at SIM_SPEED a window lasts a second of wall time, and the last one must still be trading when it is checked.
const until = <T>(what: string, f: () => T | undefined | Promise<T | undefined>): Promise<T> => untilWithin(what, f, 120_000, 10);

const SLOTS = 3;

function rollingConfig() {
  return parseConfigText(
    [
      '[cpu]',
      'pin = false',
      '[markets]',
      `slots = ${SLOTS}`,
      'lookahead_windows = 1',
      'discovery_poll_ms = 1000',
      '[engine]',
      'strategies = ["maker", "complete_set", "directional"]',
      // Keep every record, so the test can read the whole story (restore is tested on compacted journals elsewhere).
      '[journal]',
      'compact = false',
    ].join('\n'),
    'rolling-session.test',
  );
}

/** Every settle record's holdings are what the strategies held as it came, record by record. */
function assertHoldingsAsJournaled(records: readonly JournalRecord[]): void {
  const { portfolio, applier } = replayKeeper(SLOTS, { fromSnapshot: true });
  const state = new JournalLedger(applier);
  for (const r of records) {
    if (r.type === 'settle') assert.deepEqual(r.settlement.holdings, portfolio.holdings(r.settlement.tokens), `holdings of ${r.settlement.conditionId}`);
    state.apply(r);
  }
}

test('a session rolls its markets: discovered, subscribed, settled by the Chainlink rule, slots reused, all journaled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-rolling-'));
  const journalPath = join(dir, 'rolling.journal');
  const cfg = rollingConfig();
  const expected = new Map(buildBundledMarkets().markets.map((m) => [m.descriptor.conditionId, m]));
  const logs: string[] = [];
  const s = await startSimSession(cfg, journalPath, logs);
  let stopped = false;
  try {
    const engine = s.engine;
    // Four windows on three slots: the last one can only trade in a slot a settled market gave back.
    await until('four markets added and three settled', () => (engine.counts.marketsAdded >= 4 && engine.counts.settlements >= 3 ? true : undefined));

    // The reused slot's books are the new market's, live, and agree with the simulator.
    const last = [...expected.values()].at(-1)!.descriptor;
    const slot = engine.markets.findIndex((m) => m.conditionId === last.conditionId);
    assert.ok(slot >= 0, 'the last window has a slot');
    assert.equal(engine.slots.phase[slot], SlotPhase.Active);
    const top = new TopOfBook();
    let mismatch = '';
    const restUrl = s.offline!.thread.endpoints.polymarket!.restUrl;
    const venueBooks: Array<{ bids: Array<{ price: string }>; asks: Array<{ price: string }> } | undefined> = [undefined, undefined];
    await until('the reused slot shows the new market’s book', async () => {
      for (const side of [0, 1]) {
        const token = 2 * slot + side;
        // The venue's GET /book first, then our book: ours may only have caught up, never be behind for good.
        venueBooks[side] = (await (await fetch(`${restUrl}/book?token_id=${last.tokenIds[side]!}`)).json()) as (typeof venueBooks)[number];
        engine.books.top(token, top);
        const venue = venueBooks[side];
        if (!venue || (top.flags & BookFlag.Resyncing) !== 0 || top.bidTick === NO_TICK || top.askTick === NO_TICK) return undefined;
        const best = (levels: readonly { price: string }[], pick: (...v: number[]) => number) => pick(...levels.map((l) => Math.round(Number(l.price) * 10_000)));
        if (top.bidTick !== best(venue.bids, Math.max) || top.askTick !== best(venue.asks, Math.min)) {
          mismatch = `${token}: engine ${top.bidTick}/${top.askTick}, venue ${best(venue.bids, Math.max)}/${best(venue.asks, Math.min)}`;
          return undefined;
        }
      }
      return true;
    }).catch((err: Error) => assert.fail(`${err.message}: ${mismatch}`));
    // Settled markets hold no position: the winner redeemed at 1, the loser at 0.
    for (let m = 0; m < SLOTS; m++) {
      if (engine.slots.phase[m] !== SlotPhase.Settled) continue;
      for (const e of engine.portfolio.entries()) if (e.market === m) assert.equal(e.position, 0, `${e.strategy} in settled slot ${m}`);
    }
    assert.ok(engine.counts.fills > 0, 'the session traded');

    // Every window settles and every settlement is audited on the simulator's Gamma, which resolves each a minute (capture time) after its end.
    await until('every market settled and audited', () => (engine.counts.settlements === expected.size && s.auditor.waiting === 0 ? true : undefined));
    assert.deepEqual(s.auditor.counts, { agree: expected.size, disagree: 0, timeout: 0, errors: 0 });
    const metrics = await (await fetch(`${s.control.url}/metrics`)).text();
    assert.equal(sample(metrics, 'polyedge_settlement_audits_total', { result: 'agree' }), expected.size);
    assert.equal(sample(metrics, 'polyedge_settlement_audits_total', { result: 'disagree' }), 0);
    assert.equal(sample(metrics, 'polyedge_settlement_audits_total', { result: 'timeout' }), 0);

    await s.stop();
    stopped = true;
    const livePnl = engine.portfolio.total(engine.marks);

    // The journal tells the same story, and replays to the same money.
    const records = Journal.replay(journalPath).records;
    const markets = records.filter((r): r is MarketRecord => r.type === 'market');
    const settles = records.filter((r): r is SettleRecord => r.type === 'settle');
    assert.ok(markets.length >= 4 && new Set(markets.map((r) => r.slot)).size <= SLOTS, 'four markets in at most three slots');
    assert.equal(settles.length, expected.size);
    // The venue agreed with every settlement, and each agreement is journaled (a restart does not ask again).
    const verdicts = records.filter((r): r is ResolutionRecord => r.type === 'resolution');
    assert.equal(verdicts.length, expected.size);
    for (const v of verdicts) assert.equal(v.resolution.winner, v.resolution.engineWinner, `${v.resolution.conditionId}: an agreement moves nothing`);
    assertHoldingsAsJournaled(records);
    for (const r of settles) {
      const m = expected.get(r.settlement.conditionId);
      assert.ok(m, `settled a market the session listed: ${r.settlement.conditionId}`);
      assert.equal(r.settlement.winner === 0, m.upWins, `${m.descriptor.slug}: the engine's settlement agrees with the path the venue resolved`);
      // Windows that begin inside the capture see the price at both ends; the first began 4 s before it.
      assert.equal(r.settlement.exact, m.descriptor.startMs >= [...expected.values()][0]!.descriptor.startMs + 300_000, m.descriptor.slug);
    }
    // Each exact window journaled its opening price once final, and settled on it.
    const opens = records.filter((r) => r.type === 'window');
    for (const r of settles) {
      if (!r.settlement.exact) continue;
      const w = opens.filter((o) => o.conditionId === r.settlement.conditionId);
      assert.equal(w.length, 1, `one window record for ${r.settlement.conditionId}`);
      assert.equal(w[0]!.open, r.settlement.open);
      assert.ok(w[0]!.seq < r.seq);
    }
    // A slot is reused only after its market settled.
    const settledAt = new Map(settles.map((r) => [r.settlement.conditionId, r.seq]));
    const occupant = new Map<number, string>();
    for (const r of markets) {
      const before = occupant.get(r.slot);
      if (before !== undefined) assert.ok((settledAt.get(before) ?? Infinity) < r.seq, `slot ${r.slot} reused before ${before} settled`);
      occupant.set(r.slot, r.market.conditionId);
    }

    const { portfolio: replayed, applier } = replayKeeper(SLOTS, { fromSnapshot: true });
    restore(records, applier);
    const again = replayed.total(engine.marks);
    assert.equal(again.realised, livePnl.realised);
    assert.equal(again.fees, livePnl.fees);
    assert.equal(again.cash, livePnl.cash);
  } finally {
    if (!stopped) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the venue resolves a market the other way: the journal corrects it, PnL follows the venue’s verdict on what was held, and replays the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-misresolved-'));
  const journalPath = join(dir, 'misresolved.journal');
  const session = buildBundledMarkets();
  // The second window: its whole life is inside the capture, so the strategies trade it from its start.
  const target = session.markets[1]!;
  const venueWinner: 0 | 1 = target.upWins ? 1 : 0;
  const logs: string[] = [];
  const s = await startSimSession(rollingConfig(), journalPath, logs, { conditionId: target.descriptor.conditionId, over: { resolveOpposite: true } });
  let stopped = false;
  try {
    const engine = s.engine;
    await until('the venue’s disagreement is applied', () => (s.auditor.counts.disagree > 0 ? true : undefined));
    const m = engine.markets.findIndex((x) => x.conditionId === target.descriptor.conditionId);
    assert.ok(m >= 0 && engine.slots.phase[m] === SlotPhase.Settled, 'the corrected market still holds its slot');
    // What /state/markets shows follows the venue, and so do the marks.
    const shown = (await (await fetch(`${s.control.url}/state/markets`)).json()) as { slots: Array<{ conditionId: string; settlement?: Settlement }> };
    const slot = shown.slots.find((x) => x.conditionId === target.descriptor.conditionId);
    assert.equal(slot?.settlement?.winner, venueWinner);
    assert.equal(slot?.settlement?.engineWinner, 1 - venueWinner);
    assert.deepEqual([engine.marks[2 * m + venueWinner], engine.marks[2 * m + 1 - venueWinner]], [PRICE_SCALE, 0]);
    assert.equal(logs.filter((l) => l.startsWith(`SETTLEMENT CORRECTED ${target.descriptor.slug}`)).length, 1);
    const live = engine.portfolio.pnl(engine.marks, { market: m });
    const metrics = await (await fetch(`${s.control.url}/metrics`)).text();
    assert.equal(sample(metrics, 'polyedge_settlement_audits_total', { result: 'disagree' }), 1);

    await s.stop();
    stopped = true;
    // The other markets trade on until the stop: the whole book is compared with the journal once it is closed.
    const liveTotal = engine.portfolio.total(engine.marks);

    const records = Journal.replay(journalPath).records;
    const placed = records.find((r): r is MarketRecord => r.type === 'market' && r.market.conditionId === target.descriptor.conditionId)!;
    const settled = records.find((r): r is SettleRecord => r.type === 'settle' && r.settlement.conditionId === target.descriptor.conditionId)!;
    const corrections = records.filter((r): r is ResolutionRecord => r.type === 'resolution' && r.resolution.winner !== r.resolution.engineWinner);
    assert.equal(corrections.length, 1);
    const c = corrections[0]!.resolution;
    assert.deepEqual([c.conditionId, c.market, c.winner, c.engineWinner], [target.descriptor.conditionId, m, venueWinner, 1 - venueWinner]);
    assert.deepEqual(c.holdings, settled.settlement.holdings);
    assert.ok(settled.seq < corrections[0]!.seq);
    assertHoldingsAsJournaled(records);

    // The venue's rule from the journal alone: the market's fills and merges, then every share held of the venue's winner redeemed at 1 pUSD.
    const held = new Map<string, [number, number]>();
    let cash = 0;
    let fees = 0;
    for (const r of records) {
      if (r.seq <= placed.seq || r.seq >= settled.seq) continue;
      if (r.type === 'fill' && Math.floor(r.fill.token / 2) === m) {
        const f = r.fill;
        const dir = f.side === Side.Buy ? 1 : -1;
        cash += -dir * notionalMicros(f.price, f.size) - f.fee;
        fees += f.fee;
        const h = held.get(f.strategy) ?? [0, 0];
        h[f.token - 2 * m]! += dir * f.size;
        held.set(f.strategy, h);
      } else if (r.type === 'merge' && r.merge.market === m) {
        cash += r.merge.size;
        const h = held.get(r.merge.strategy ?? '') ?? [0, 0];
        h[0] -= r.merge.size;
        h[1] -= r.merge.size;
        held.set(r.merge.strategy ?? '', h);
      }
    }
    const holdings = [...held].filter(([, h]) => h[0] !== 0 || h[1] !== 0).map(([strategy, positions]) => ({ strategy, positions }));
    const byName = (x: { strategy: string }, y: { strategy: string }) => x.strategy.localeCompare(y.strategy);
    assert.deepEqual(holdings.sort(byName), [...(settled.settlement.holdings ?? [])].sort(byName), 'the settlement holds what the fills and merges left');
    assert.ok(holdings.length > 0, 'the strategies held the market as it settled');
    for (const h of holdings) cash += h.positions[venueWinner];
    assert.equal(live.cash, cash);
    assert.equal(live.fees, fees);
    assert.equal(live.realised, cash + fees);

    // A restart replays the correction exactly once: the same money, whether it replays everything or the resolution twice.
    const { portfolio: replayed, applier } = replayKeeper(SLOTS, { fromSnapshot: true });
    const r1 = restore(records, applier);
    assert.equal(r1.state.isResolved(target.descriptor.conditionId), true);
    assert.equal(r1.state.settlementOf(m)?.winner, venueWinner);
    const again = replayed.total(engine.marks);
    assert.deepEqual([again.realised, again.cash, again.fees], [liveTotal.realised, liveTotal.cash, liveTotal.fees]);
    assert.equal(replayed.pnl(engine.marks, { market: m }).realised, live.realised);
    r1.state.apply({ type: 'resolution', tsMs: corrections[0]!.tsMs, resolution: c });
    assert.equal(r1.state.anomalies.duplicateResolutions, 1);
    assert.deepEqual(replayed.total(engine.marks).realised, liveTotal.realised);
  } finally {
    if (!stopped) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
