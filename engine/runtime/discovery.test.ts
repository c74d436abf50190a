// Discovery against the venue simulator's Gamma lookup (a real HTTP server on
// loopback) listing the bundled session's markets, on a clock the test moves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildUpDownSession } from '../session/updown.js';
import { VenueSimulator } from '../sim/simulator.js';
import type { MarketDescriptor } from '../trading/types.js';
import { MarketRoller, parseGammaMarket, seriesOf } from './discovery.js';

const session = buildUpDownSession();

test('series names give the window and the underlying; anything else is refused by field', () => {
  assert.deepEqual(seriesOf('btc-updown-5m'), { underlying: 'btc', windowMs: 300_000 });
  assert.deepEqual(seriesOf('eth-updown-15m'), { underlying: 'eth', windowMs: 900_000 });
  assert.throws(() => seriesOf('btc-updown-1h'), /markets.series/);
});

test('a Gamma market object is validated field by field', () => {
  const slug = 'btc-updown-5m-1761766200';
  const start = 1761766200_000;
  const good = {
    slug,
    conditionId: `0x${'ab'.repeat(32)}`,
    clobTokenIds: JSON.stringify(['123', '456']),
    outcomes: JSON.stringify(['Up', 'Down']),
    orderPriceMinTickSize: 0.01,
    orderMinSize: 5,
    endDate: new Date(start + 300_000).toISOString(),
  };
  const d = parseGammaMarket(good, slug, start, 300_000, 'btc');
  assert.deepEqual([d.tokenIds, d.outcomes, d.tickSize, d.minSize, d.startMs, d.endMs], [['123', '456'], ['Up', 'Down'], 100, 5_000_000, start, start + 300_000]);
  const field = (patch: Record<string, unknown>): string | undefined => {
    try {
      parseGammaMarket({ ...good, ...patch }, slug, start, 300_000, 'btc');
      return undefined;
    } catch (err) {
      return (err as { field?: string }).field;
    }
  };
  assert.equal(field({ slug: 'btc-updown-5m-1' }), 'slug');
  assert.equal(field({ conditionId: '0x12' }), 'conditionId');
  assert.equal(field({ clobTokenIds: '["1"]' }), 'clobTokenIds');
  assert.equal(field({ clobTokenIds: '["1","1"]' }), 'clobTokenIds');
  assert.equal(field({ clobTokenIds: ['1', '2'] }), 'clobTokenIds', 'a real array is not what Gamma sends');
  assert.equal(field({ outcomes: 'not json' }), 'outcomes');
  assert.equal(field({ orderPriceMinTickSize: 0.003 }), 'orderPriceMinTickSize');
  assert.equal(field({ orderMinSize: -1 }), 'orderMinSize');
  assert.equal(field({ endDate: new Date(start + 900_000).toISOString() }), 'endDate');
  assert.throws(() => parseGammaMarket([], slug, start, 300_000, 'btc'), /not an object/);
});

test('the roller finds the current window and the lookahead on the simulator, retries what it could not place, and rolls with the clock', async () => {
  const sim = new VenueSimulator({
    venues: ['polymarket'],
    speed: 'manual',
    polymarket: { markets: session.markets.map((m) => m.spec), gamma: session.markets.map((m) => m.listing) },
  });
  const e = await sim.start();
  try {
    const first = session.markets[0]!.descriptor;
    let now = first.startMs + 60_000;
    const taken: MarketDescriptor[] = [];
    let room = 2;
    const logs: string[] = [];
    const roller = new MarketRoller({
      gammaUrl: e.polymarket!.restUrl,
      series: ['btc-updown-5m'],
      lookahead: 2,
      pollMs: 60_000,
      nowMs: () => now,
      offer: (d) => {
        if (room === 0) return false;
        room--;
        taken.push(d);
        return true;
      },
      log: (l) => logs.push(l),
    });
    assert.equal(await roller.poll(), true, 'the current window is known');
    assert.deepEqual(
      taken.map((d) => d.slug),
      session.markets.slice(0, 2).map((m) => m.descriptor.slug),
    );
    assert.deepEqual(taken[0], first, 'the descriptor is the market the simulator streams');
    assert.equal(roller.counts.deferred, 1, 'the third window found no slot');

    room = 5;
    await roller.poll();
    assert.deepEqual(taken.map((d) => d.slug), session.markets.slice(0, 3).map((m) => m.descriptor.slug), 'taken slugs are not looked up again; the deferred one is');
    const lookups = roller.counts.lookups;

    // Three windows on: the session's last window is current and found; the two after it are not listed.
    now = first.startMs + 3 * 300_000 + 1_000;
    await roller.poll();
    assert.deepEqual(taken.map((d) => d.slug), session.markets.map((m) => m.descriptor.slug));
    assert.equal(roller.counts.lookups - lookups, 3, 'windows already taken are not looked up: 19:40, 19:45 and 19:50 are');
    assert.equal(roller.counts.notListed, 2);

    // A clock on another day (the wall, before the feed clock takes over) finds nothing and says the current window is unknown.
    now = Date.now();
    assert.equal(await roller.poll(), false);
    assert.equal(roller.counts.errors, 0, logs.join('\n'));
  } finally {
    await sim.stop();
  }
});

test('a Gamma that is down is counted and logged once per slug, not once a poll', async () => {
  const logs: string[] = [];
  const roller = new MarketRoller({
    gammaUrl: 'http://127.0.0.1:9',
    series: ['btc-updown-5m'],
    lookahead: 0,
    pollMs: 60_000,
    nowMs: () => 1761766200_000,
    offer: () => true,
    log: (l) => logs.push(l),
  });
  assert.equal(await roller.poll(), false);
  assert.equal(await roller.poll(), false);
  assert.equal(roller.counts.errors, 2);
  assert.equal(logs.length, 1, logs.join('\n'));
});
