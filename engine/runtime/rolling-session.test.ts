// Markets rolling through a session, end to end: the bundled session run
// in-process at 30x on fewer market slots than it has windows, so every piece
// of the roll is exercised the way a live session would: discovery on the
// simulator's Gamma, slots assigned to the pinned feed worker's books on the
// live socket, windows settled by the Chainlink rule from the real capture,
// slots released and reused, and the journal replaying all of it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BookFlag, NO_TICK } from '../../workers/book/layout.js';
import { TopOfBook } from '../../workers/book/reader.js';
import { parseConfigText } from '../config/load.js';
import { Journal } from '../journal/journal.js';
import type { MarketRecord, SettleRecord } from '../journal/records.js';
import { restore } from '../journal/restore.js';
import { Portfolio } from '../portfolio/positions.js';
import { buildUpDownSession } from '../session/updown.js';
import { vacantSlot, type MarketInfo, type TokenInfo } from '../trading/types.js';
import { SlotPhase } from './engine.js';
import { startSession } from './session.js';
import { until as untilWithin } from './session.fixture.js';

const until = <T>(what: string, f: () => T | undefined | Promise<T | undefined>): Promise<T> => untilWithin(what, f, 120_000);

const SLOTS = 3;


test('a session rolls its markets: discovered, subscribed, settled by the Chainlink rule, slots reused, all journaled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-rolling-'));
  const journalPath = join(dir, 'rolling.journal');
  const cfg = parseConfigText(
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
  const expected = new Map(buildUpDownSession().markets.map((m) => [m.descriptor.conditionId, m]));
  const logs: string[] = [];
  const s = await startSession({ cfg, feeds: 'sim', speed: 30, seed: 7, journalPath, controlPort: 0, log: (l) => logs.push(l) });
  let stopped = false;
  try {
    const engine = s.engine;
    // Four windows on three slots: the last one can only trade in a slot a settled market gave back.
    await until('four markets added and three settled', () => (engine.counts.marketsAdded >= 4 && engine.counts.settlements >= 3 ? true : undefined));

    // The reused slot's books are the new market's, live, and agree with the simulator.
    const last = [...expected.values()].at(-1)!.descriptor;
    const slot = engine.markets.findIndex((m) => m.conditionId === last.conditionId);
    assert.ok(slot >= 0, 'the last window has a slot');
    assert.equal(engine.slotPhase[slot], SlotPhase.Active);
    const top = new TopOfBook();
    let mismatch = '';
    const restUrl = s.sim!.endpoints.polymarket!.restUrl;
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
      if (engine.slotPhase[m] !== SlotPhase.Settled) continue;
      for (const e of engine.portfolio.entries()) if (e.market === m) assert.equal(e.position, 0, `${e.strategy} in settled slot ${m}`);
    }
    assert.ok(engine.counts.fills > 0, 'the session traded');

    await s.stop();
    stopped = true;
    const livePnl = engine.portfolio.total(engine.marks);

    // The journal tells the same story, and replays to the same money.
    const records = Journal.replay(journalPath).records;
    const markets = records.filter((r): r is MarketRecord => r.type === 'market');
    const settles = records.filter((r): r is SettleRecord => r.type === 'settle');
    assert.ok(markets.length >= 4 && new Set(markets.map((r) => r.slot)).size <= SLOTS, 'four markets in at most three slots');
    assert.ok(settles.length >= 3);
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

    const tokens: TokenInfo[] = [];
    const infos: MarketInfo[] = [];
    for (let m = 0; m < SLOTS; m++) {
      const v = vacantSlot(m);
      infos.push(v.info);
      tokens.push(...v.tokens);
    }
    const replayed = new Portfolio(tokens, infos);
    restore(records, {
      applyFill: (f) => replayed.applyFill(f),
      applyMerge: (x) => replayed.merge(x.strategy ?? '', x.market, x.size, x.mergeId),
      restore: (x) => replayed.restore(x),
      settle: (x) => replayed.settle(x),
      retireMarket: (m) => {
        replayed.retireMarket(m);
      },
    });
    const again = replayed.total(engine.marks);
    assert.equal(again.realised, livePnl.realised);
    assert.equal(again.fees, livePnl.fees);
    assert.equal(again.cash, livePnl.cash);
  } finally {
    if (!stopped) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
