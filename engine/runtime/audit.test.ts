// The settlement audit: Gamma's resolution read field by field, and the
// auditor against the venue simulator's Gamma (a real HTTP server on
// loopback) on a clock the test moves, resolving the bundled session's
// markets as their paths did, one the other way, and one never.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldOf } from '../errors.fixture.js';
import { buildUpDownSession, STEP_MS } from '../session/updown.js';
import { VenueSimulator } from '../sim/simulator.js';
import type { MarketDescriptor, Settlement } from '../trading/types.js';
import { parseGammaResolution, SettlementAuditor } from './audit.js';

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

test('the auditor follows each settled market on the simulator’s Gamma until it resolves: agree, disagree (handed over once), timeout (logged once)', async () => {
  const session = buildUpDownSession();
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
    const TIMEOUT = 600_000;
    const auditor = new SettlementAuditor({
      gammaUrl: e.polymarket!.restUrl,
      pollMs: 60_000,
      timeoutMs: TIMEOUT,
      nowMs: now,
      onDisagree: (d, s, winner) => disagreed.push({ slug: d.slug, engine: s.winner, venue: winner }),
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
    const shown = (await (await fetch(`${e.polymarket!.restUrl}/markets/slug/${agreeing.descriptor.slug}`)).json()) as Record<string, unknown>;
    assert.deepEqual([shown.closed, shown.outcomePrices], [true, agreeing.upWins ? '["1","0"]' : '["0","1"]']);

    moveTo(opposite.descriptor.endMs + DELAY);
    await auditor.poll();
    await auditor.poll();
    assert.deepEqual(auditor.counts, { agree: 1, disagree: 1, timeout: 0, errors: 0 });
    assert.deepEqual(disagreed, [{ slug: opposite.descriptor.slug, engine: opposite.upWins ? 0 : 1, venue: opposite.upWins ? 1 : 0 }]);

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
