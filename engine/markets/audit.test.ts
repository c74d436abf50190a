// The settlement audit: Gamma's resolution read field by field, and the
// auditor against the venue simulator's Gamma (a real HTTP server on
// loopback) on a clock the test moves, resolving the bundled session's
// markets as their paths did, one the other way, and one never. Then a
// whole session restarted between a market's settlement (its slot reused)
// and the venue's contrary verdict: the restarted engine still corrects it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../config/load.js';
import { fieldOf } from '../errors.fixture.js';
import { Journal } from '../journal/journal.js';
import type { JournalRecord, ResolutionRecord } from '../journal/records.js';
import { restore } from '../journal/ledger.js';
import { replayKeeper } from '../portfolio/replay-keeper.fixture.js';
import { buildBundledMarkets, STEP_MS } from '../sim/bundled-updown.js';
import type { GammaListing } from '../sim/gamma.js';
import { VenueSimulator } from '../sim/simulator.js';
import type { MarketDescriptor, Settlement } from '../trading/types.js';
import { parseGammaResolution, SettlementAuditor } from './audit.js';
import type { Session } from '../runtime/session.js';
import { startSimSession, until } from '../runtime/session.fixture.js';

const UP = '1111';
const DOWN = '2222';
const MARKET = { slug: 'btc-updown-5m-1761766200', conditionId: `0x${'ab'.repeat(32)}`, tokenIds: [UP, DOWN] as [string, string] };
const RESOLVED = {
  slug: MARKET.slug,
  conditionId: MARKET.conditionId,
  outcomes: '["Up", "Down"]',
  clobTokenIds: JSON.stringify([UP, DOWN]),
  outcomePrices: '["0", "1"]',
  closed: true,
  umaResolutionStatus: 'resolved',
};

test('a Gamma resolution is validated field by field', () => {
  const parse = (x: Record<string, unknown>) => () => parseGammaResolution({ ...RESOLVED, ...x }, MARKET);
  assert.deepEqual(parseGammaResolution(RESOLVED, MARKET), { resolved: true, winner: 1 });
  assert.throws(() => parseGammaResolution([], MARKET), /not an object/);
  assert.throws(() => parseGammaResolution(null, MARKET), /not an object/);
  assert.equal(fieldOf(parse({ slug: 'btc-updown-5m-1761766500' })), 'slug');
  assert.equal(fieldOf(parse({ conditionId: `0x${'cd'.repeat(32)}` })), 'conditionId');
  assert.equal(fieldOf(parse({ conditionId: undefined })), 'conditionId');
  assert.equal(fieldOf(parse({ clobTokenIds: [UP, DOWN] })), 'clobTokenIds', 'a real array where Gamma encodes one');
  assert.equal(fieldOf(parse({ clobTokenIds: '[1111, 2222' })), 'clobTokenIds');
  assert.equal(fieldOf(parse({ clobTokenIds: JSON.stringify([UP, '3333']) })), 'clobTokenIds', 'a token that is not the market’s');
  assert.equal(fieldOf(parse({ clobTokenIds: JSON.stringify([UP, UP]) })), 'clobTokenIds');
  assert.equal(fieldOf(parse({ clobTokenIds: JSON.stringify([UP]) })), 'clobTokenIds');
  assert.equal(fieldOf(parse({ outcomePrices: undefined })), 'outcomePrices');
  assert.equal(fieldOf(parse({ outcomePrices: '["1"]' })), 'outcomePrices');
  assert.equal(fieldOf(parse({ outcomePrices: '[1, 0]' })), 'outcomePrices', 'numbers, not decimal strings');
  assert.equal(fieldOf(parse({ outcomePrices: '["1", "-0"]' })), 'outcomePrices');
  assert.equal(fieldOf(parse({ outcomePrices: '["1", "0", "0"]' })), 'outcomePrices');
  assert.equal(fieldOf(parse({ closed: 'true' })), 'closed');
  assert.equal(fieldOf(parse({ closed: undefined })), 'closed');
  assert.equal(fieldOf(parse({ umaResolutionStatus: 1 })), 'umaResolutionStatus');
  assert.deepEqual(parse({ umaResolutionStatus: undefined })(), { resolved: true, winner: 1 }, 'the UMA status is not needed');
});

test('Gamma resolved: closed, one price exactly 1 and the other exactly 0; the winner goes by token id, not position', () => {
  const parse = (x: Record<string, unknown>) => parseGammaResolution({ ...RESOLVED, ...x }, MARKET);
  assert.deepEqual(parse({ outcomePrices: '["1", "0"]' }), { resolved: true, winner: 0 });
  assert.deepEqual(parse({ outcomePrices: '["1.0", "0.000"]' }), { resolved: true, winner: 0 });
  // Gamma lists Down first: its "1" is Down's, whatever the index.
  assert.deepEqual(parse({ clobTokenIds: JSON.stringify([DOWN, UP]), outcomePrices: '["1", "0"]' }), { resolved: true, winner: 1 });
  assert.deepEqual(parse({ clobTokenIds: JSON.stringify([DOWN, UP]), outcomePrices: '["0", "1"]' }), { resolved: true, winner: 0 });
  // Not a verdict: still open, trading near the end, split, or both "won".
  assert.equal(parse({ closed: false, outcomePrices: '["1", "0"]' }).resolved, false);
  assert.equal(parse({ outcomePrices: '["0.9995", "0.0005"]' }).resolved, false);
  assert.equal(parse({ outcomePrices: '["0.5", "0.5"]' }).resolved, false);
  assert.equal(parse({ outcomePrices: '["1", "1"]' }).resolved, false);
  assert.equal(parse({ outcomePrices: '["0", "0"]' }).resolved, false);
  const pending = parse({ outcomePrices: '["0.99", "0.01"]', umaResolutionStatus: 'proposed' });
  assert.ok(!pending.resolved && /proposed/.test(pending.why), 'the reason names the UMA status');
});

test('the auditor follows each settled market on the simulator’s Gamma until it resolves: agree and disagree (each handed over once), timeout (logged once)', async () => {
  const session = buildBundledMarkets();
  const [agreeing, opposite, never] = session.markets;
  assert.ok(agreeing && opposite && never);
  const DELAY = 60_000;
  const listings = session.markets.map((m) => {
    if (m === opposite) return { ...m.listing, resolveDelayMs: DELAY, resolveOpposite: true };
    if (m === never) return { ...m.listing, winner: undefined };
    return { ...m.listing, resolveDelayMs: DELAY };
  });
  const sim = new VenueSimulator({ venues: ['polymarket'], speed: 'manual', polymarket: { markets: session.markets.map((m) => m.spec), stepMs: STEP_MS, clockStartMs: session.t0Ms, gamma: listings } });
  const e = await sim.start();
  try {
    // Gamma's clock: t0 plus a second per step; the engine's clock moves with it here.
    const moveTo = (tMs: number) => {
      const steps = Math.ceil((tMs - session.t0Ms) / STEP_MS) - stepped;
      if (steps > 0) stepped += sim.advance('polymarket', steps);
    };
    let stepped = 0;
    const now = () => session.t0Ms + stepped * STEP_MS;
    const logs: string[] = [];
    const disagreed: Array<{ slug: string; engine: 0 | 1; venue: 0 | 1 }> = [];
    const agreed: string[] = [];
    const TIMEOUT = 600_000;
    const auditor = new SettlementAuditor({
      gammaUrl: e.polymarket!.restUrl,
      pollMs: 60_000,
      timeoutMs: TIMEOUT,
      nowMs: now,
      onDisagree: (d, s, winner) => disagreed.push({ slug: d.slug, engine: s.winner, venue: winner }),
      onAgree: (d, s) => agreed.push(`${d.slug}:${s.winner}`),
      log: (l) => logs.push(l),
    });
    const settle = (d: MarketDescriptor, upWins: boolean): Settlement => ({
      settleId: d.conditionId,
      conditionId: d.conditionId,
      market: 0,
      tokens: [0, 1],
      winner: upWins ? 0 : 1,
      open: 1,
      close: upWins ? 2 : 0,
      exact: true,
    });
    for (const m of [agreeing, opposite, never]) auditor.watch(m.descriptor, settle(m.descriptor, m.upWins));
    auditor.watch(agreeing.descriptor, settle(agreeing.descriptor, !agreeing.upWins)); // the same market again: still one audit
    assert.equal(auditor.waiting, 3);

    // Before the venue's delay has passed: nothing resolved yet.
    moveTo(agreeing.descriptor.endMs + DELAY - STEP_MS);
    await auditor.poll();
    assert.deepEqual(auditor.counts, { agree: 0, disagree: 0, timeout: 0, errors: 0 });
    const open = (await (await fetch(`${e.polymarket!.restUrl}/markets/slug/${agreeing.descriptor.slug}`)).json()) as Record<string, unknown>;
    assert.deepEqual([open.closed, open.outcomePrices], [false, '["0.5","0.5"]']);

    moveTo(agreeing.descriptor.endMs + DELAY);
    await auditor.poll();
    assert.deepEqual(auditor.counts, { agree: 1, disagree: 0, timeout: 0, errors: 0 });
    assert.deepEqual(agreed, [`${agreeing.descriptor.slug}:${agreeing.upWins ? 0 : 1}`], 'handed over once, with the settlement it agrees with');
    const shown = (await (await fetch(`${e.polymarket!.restUrl}/markets/slug/${agreeing.descriptor.slug}`)).json()) as Record<string, unknown>;
    assert.deepEqual([shown.closed, shown.outcomePrices], [true, agreeing.upWins ? '["1","0"]' : '["0","1"]']);

    moveTo(opposite.descriptor.endMs + DELAY);
    await auditor.poll();
    await auditor.poll();
    assert.deepEqual(auditor.counts, { agree: 1, disagree: 1, timeout: 0, errors: 0 });
    assert.deepEqual(disagreed, [{ slug: opposite.descriptor.slug, engine: opposite.upWins ? 0 : 1, venue: opposite.upWins ? 1 : 0 }]);
    assert.equal(agreed.length, 1);

    // The third never resolves: given up on once the timeout has passed since its window's end, and logged once.
    moveTo(never.descriptor.endMs + TIMEOUT - STEP_MS);
    await auditor.poll();
    assert.equal(auditor.counts.timeout, 0);
    moveTo(never.descriptor.endMs + TIMEOUT);
    await auditor.poll();
    await auditor.poll();
    assert.deepEqual(auditor.counts, { agree: 1, disagree: 1, timeout: 1, errors: 0 });
    assert.equal(auditor.waiting, 0);
    assert.equal(logs.filter((l) => l.includes(never.descriptor.slug) && /not resolved/.test(l)).length, 1);

    // A market Gamma does not know: an error, retried each poll, logged once.
    const unknown = { ...agreeing.descriptor, slug: 'btc-updown-5m-1', conditionId: `0x${'ef'.repeat(32)}`, endMs: now() };
    auditor.watch(unknown, settle(unknown, true));
    await auditor.poll();
    await auditor.poll();
    assert.equal(auditor.counts.errors, 2);
    assert.equal(logs.filter((l) => l.includes('btc-updown-5m-1:')).length, 1);
    assert.equal(auditor.waiting, 1);
  } finally {
    await sim.stop();
  }
});

test('a restart between a settlement and the venue’s contrary verdict: the market’s slot was reused, the restarted engine still corrects it, on the retired totals', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-audit-restart-'));
  const journalPath = join(dir, 'audit.journal');
  const session = buildBundledMarkets();
  // The second window, on one market slot: it takes the slot its predecessor gave back, and gives it to the third.
  const [, target, next] = session.markets;
  assert.ok(target && next);
  const cfg = parseConfigText(
    [
      '[cpu]',
      'pin = false',
      '[markets]',
      'slots = 1',
      'lookahead_windows = 1',
      'discovery_poll_ms = 1000',
      '[engine]',
      'strategies = ["maker", "complete_set", "directional"]',
      // Every record in one file (the restart still starts from the stop's snapshot), so the test can read the whole story.
      '[journal]',
      'compact = false',
    ].join('\n'),
    'audit.test',
  );
  const logs: string[] = [];
  const run = (over: Partial<GammaListing>) => startSimSession(cfg, journalPath, logs, { conditionId: target.descriptor.conditionId, over });
  const sessions: Session[] = [];
  try {
    // First run: the venue has not ruled on the target by the time its slot is reused and the session stops.
    const first = await run({ winner: undefined });
    sessions.push(first);
    // Once true, for good: at SIM_SPEED the third window holds the slot for about a second, and may already have given it on.
    await until(
      'the target settled and its slot reused',
      () => {
        const state = first.engine.ledger;
        const holder = state.slots.get(0)?.conditionId;
        return state.isSettled(target.descriptor.conditionId) && holder !== undefined && holder !== target.descriptor.conditionId ? true : undefined;
      },
      120_000,
      10,
    );
    await first.stop();
    sessions.pop();

    const firstRecords = Journal.replay(journalPath).records;
    const targetSettled = firstRecords.find((r) => r.type === 'settle' && r.settlement.conditionId === target.descriptor.conditionId);
    assert.ok(targetSettled, 'the first run settled the target');
    const reusedBy = firstRecords.find((r) => r.type === 'market' && r.slot === 0 && r.seq > targetSettled.seq);
    assert.equal(reusedBy?.type === 'market' ? reusedBy.market.conditionId : undefined, next.descriptor.conditionId, 'the third window took the slot the target gave back');
    const stopped = restore(firstRecords, replayKeeper(1, { fromSnapshot: true }).applier);
    const pending = [...stopped.state.pendingAudits()].find((a) => a.descriptor.conditionId === target.descriptor.conditionId);
    assert.ok(pending, 'the target awaits the venue, though another market holds its slot');
    assert.ok(stopped.fromSeq > 0, 'restored from the stop’s snapshot');
    const d = pending.descriptor;
    assert.deepEqual([d.slug, d.tokenIds, d.outcomes, d.endMs], [target.descriptor.slug, target.descriptor.tokenIds, target.descriptor.outcomes, target.descriptor.endMs]);
    const settled = { ...pending.settlement };
    assert.deepEqual([settled.market, settled.winner], [0, target.upWins ? 0 : 1], 'settled by the path’s own outcome');
    const holdings = settled.holdings ?? [];
    assert.ok(holdings.length > 0, 'the strategies held the target as it settled');
    const venueWinner: 0 | 1 = settled.winner === 0 ? 1 : 0;

    // Second run on the same journal: the venue now resolves the target the other way.
    const second = await run({ resolveOpposite: true });
    sessions.push(second);
    await until('the venue’s disagreement is applied', () => (second.auditor.counts.disagree > 0 ? true : undefined), 120_000);
    const engine = second.engine;
    assert.equal(engine.counts.corrections, 1);
    assert.notEqual(engine.markets[0]!.conditionId, target.descriptor.conditionId, 'the target no longer holds the slot');
    assert.equal(logs.filter((l) => l.startsWith(`SETTLEMENT CORRECTED ${target.descriptor.slug}`) && l.includes('on the retired totals')).length, 1);
    await second.stop();
    sessions.pop();

    // The journal: one correction of the target, by the second run, naming what the first settled.
    const records = Journal.replay(journalPath).records;
    const starts = records.filter((r) => r.type === 'session' && r.event === 'start');
    assert.equal(starts.length, 2);
    const corrections = records.filter((r): r is ResolutionRecord => r.type === 'resolution' && r.resolution.conditionId === target.descriptor.conditionId);
    assert.equal(corrections.length, 1);
    const c = corrections[0]!;
    assert.ok(c.seq > starts[1]!.seq);
    assert.deepEqual(
      { market: c.resolution.market, tokens: c.resolution.tokens, winner: c.resolution.winner, engineWinner: c.resolution.engineWinner, holdings: c.resolution.holdings },
      { market: 0, tokens: [0, 1], winner: venueWinner, engineWinner: settled.winner, holdings },
    );

    // The money, to the micro-pUSD: every record replayed gives what the engine held; without the correction, each strategy's
    // retired totals differ by exactly its shares of the venue's winner less its shares of the engine's.
    const replay = (rs: readonly JournalRecord[]) => {
      const { portfolio, applier } = replayKeeper(1, { fromSnapshot: false });
      restore(rs, applier);
      return portfolio;
    };
    const withIt = replay(records);
    const without = replay(records.filter((r) => r !== c));
    const live = engine.portfolio.total(engine.marks);
    const again = withIt.total(engine.marks);
    assert.deepEqual([again.realised, again.cash, again.fees], [live.realised, live.cash, live.fees]);
    for (const h of holdings) {
      const moved = h.positions[venueWinner] - h.positions[settled.winner];
      assert.equal(withIt.retiredTotals(h.strategy).realised - without.retiredTotals(h.strategy).realised, moved, h.strategy);
      assert.equal(withIt.retiredTotals(h.strategy).cash - without.retiredTotals(h.strategy).cash, moved, h.strategy);
      assert.deepEqual(engine.portfolio.retiredTotals(h.strategy), withIt.retiredTotals(h.strategy), h.strategy);
    }

    // A third start would not ask again: resolved, and no longer pending.
    const after = restore(records, replayKeeper(1, { fromSnapshot: true }).applier);
    assert.equal(after.state.isResolved(target.descriptor.conditionId), true);
    assert.equal([...after.state.pendingAudits()].some((a) => a.descriptor.conditionId === target.descriptor.conditionId), false);
  } finally {
    for (const s of sessions) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
