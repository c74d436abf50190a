// Discovery against the venue simulator's Gamma and /clob-markets lookups (a
// real HTTP server on loopback) listing the bundled session's markets, or
// markets made here with their own fees and flags, on a clock the test moves.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { VirtualClock } from '../../clock/clock.js';
import { ClockTimers } from '../../clock/timers.js';
import { fieldOf } from '../../errors.fixture.js';
import { buildBundledMarkets } from '../../sim/bundled-updown.js';
import { listedWindows } from '../../sim/bundled-updown.fixture.js';
import type { GammaListing } from '../../sim/gamma.js';
import { VenueSimulator } from '../../sim/simulator.js';
import type { MarketDescriptor } from '../../trading/types.js';
import { describeMarket, MarketRoller, parseClobMarket, parseGammaMarket, seriesOf, type GammaMarket, type MarketRollerOptions } from './discovery.js';

const session = buildBundledMarkets();

/** A roller of btc-updown-5m whose polls the test calls itself (the timer's 60 s never comes). */
const btcRoller = (o: Omit<MarketRollerOptions, 'series' | 'pollMs'>): MarketRoller =>
  new MarketRoller({ series: ['btc-updown-5m'], pollMs: 60_000, ...o });

test('series names give the window and the underlying; anything else is refused by field', () => {
  assert.deepEqual(seriesOf('btc-updown-5m'), { underlying: 'btc', windowMs: 300_000 });
  assert.deepEqual(seriesOf('eth-updown-15m'), { underlying: 'eth', windowMs: 900_000 });
  assert.throws(() => seriesOf('btc-updown-1h'), /markets.series/);
});

const SLUG = 'btc-updown-5m-1761766200';
const START = 1761766200_000;
const GOOD_GAMMA = {
  slug: SLUG,
  conditionId: `0x${'ab'.repeat(32)}`,
  clobTokenIds: JSON.stringify(['123', '456']),
  outcomes: JSON.stringify(['Up', 'Down']),
  orderPriceMinTickSize: 0.01,
  orderMinSize: 5,
  endDate: new Date(START + 300_000).toISOString(),
  negRisk: false,
  enableOrderBook: true,
  acceptingOrders: true,
  active: true,
  closed: false,
  archived: false,
};
const gamma = (patch: Record<string, unknown> = {}): GammaMarket => parseGammaMarket({ ...GOOD_GAMMA, ...patch }, SLUG, START, 300_000, 'btc');

test('a Gamma market object is validated field by field', () => {
  const g = gamma();
  assert.deepEqual([g.tokenIds, g.outcomes, g.tickSize, g.minSize, g.startMs, g.endMs], [['123', '456'], ['Up', 'Down'], 100, 5_000_000, START, START + 300_000]);
  const field = (patch: Record<string, unknown>): string | undefined => fieldOf(() => gamma(patch));
  assert.equal(field({ slug: 'btc-updown-5m-1' }), 'slug');
  assert.equal(field({ conditionId: '0x12' }), 'conditionId');
  assert.equal(field({ clobTokenIds: '["1"]' }), 'clobTokenIds');
  assert.equal(field({ clobTokenIds: '["1","1"]' }), 'clobTokenIds');
  assert.equal(field({ clobTokenIds: ['1', '2'] }), 'clobTokenIds', 'a real array is not what Gamma sends');
  assert.equal(field({ outcomes: 'not json' }), 'outcomes');
  assert.equal(field({ outcomes: '["Up","Up"]' }), 'outcomes');
  assert.equal(field({ orderPriceMinTickSize: 0.003 }), 'orderPriceMinTickSize');
  assert.equal(field({ orderPriceMinTickSize: 0.00015 }), 'orderPriceMinTickSize', 'off the 1e-4 grid');
  assert.equal(field({ orderMinSize: -1 }), 'orderMinSize');
  assert.equal(field({ endDate: new Date(START + 900_000).toISOString() }), 'endDate');
  for (const flag of ['negRisk', 'enableOrderBook', 'acceptingOrders', 'active', 'closed', 'archived']) assert.equal(field({ [flag]: 'true' }), flag, `${flag} must be a boolean`);
  assert.throws(() => parseGammaMarket([], SLUG, START, 300_000, 'btc'), /not an object/);
});

test('Gamma tradability flags: closed, archived or no order book retire a market; acceptingOrders or active false hold it; absent flags do not block', () => {
  const state = (patch: Record<string, unknown>) => {
    const g = gamma(patch);
    return { retired: g.retired, accepting: g.accepting };
  };
  assert.deepEqual(state({}), { retired: false, accepting: true });
  assert.deepEqual(state({ closed: true }), { retired: true, accepting: true });
  assert.deepEqual(state({ archived: true }), { retired: true, accepting: true });
  assert.deepEqual(state({ enableOrderBook: false }), { retired: true, accepting: true });
  assert.deepEqual(state({ acceptingOrders: false }), { retired: false, accepting: false });
  assert.deepEqual(state({ active: false }), { retired: false, accepting: false });
  assert.deepEqual(
    state({ closed: undefined, archived: undefined, enableOrderBook: undefined, acceptingOrders: undefined, active: undefined }),
    { retired: false, accepting: true },
  );
});

const GOOD_CLOB = {
  c: GOOD_GAMMA.conditionId,
  t: [
    { t: '123', o: 'Up' },
    { t: '456', o: 'Down' },
  ],
  mts: 0.01,
  nr: false,
  fd: { r: 0.07, e: 1, to: true },
  mbf: 1000,
  tbf: 1000,
  ao: true,
  mos: 5,
};

test('a /clob-markets compact object is validated field by field against its Gamma market', () => {
  const g = gamma();
  const clob = (patch: Record<string, unknown>) => parseClobMarket({ ...GOOD_CLOB, ...patch }, g);
  assert.deepEqual(clob({}), { tickSize: 100, minSize: 5_000_000, negRisk: false, feeRate: 0.07, feeExponent: 1, accepting: true });
  assert.equal(clob({ c: GOOD_GAMMA.conditionId.toUpperCase().replace('0X', '0x') }).tickSize, 100, 'hex case does not change the id');
  assert.deepEqual(clob({ t: [GOOD_CLOB.t[1], GOOD_CLOB.t[0]] }).tickSize, 100, 'the CLOB may list the tokens in either order');
  const field = (patch: Record<string, unknown>): string | undefined => fieldOf(() => clob(patch));
  assert.equal(field({ c: `0x${'cd'.repeat(32)}` }), 'c', 'another market');
  assert.equal(field({ c: undefined }), 'c');
  assert.equal(field({ t: [GOOD_CLOB.t[0]] }), 't', 'one token');
  assert.equal(field({ t: [...GOOD_CLOB.t, { t: '789', o: 'Flat' }] }), 't', 'three tokens');
  assert.equal(field({ t: [GOOD_CLOB.t[0], { t: '789', o: 'Down' }] }), 't', 'a token Gamma did not list');
  assert.equal(field({ t: [GOOD_CLOB.t[0], GOOD_CLOB.t[0]] }), 't', 'one token twice');
  assert.equal(field({ t: [{ t: '123', o: 'Down' }, { t: '456', o: 'Up' }] }), 't', 'outcomes swapped between the tokens');
  assert.equal(field({ t: [{ t: 123, o: 'Up' }, GOOD_CLOB.t[1]] }), 't', 'a numeric token id');
  assert.equal(field({ t: 'x' }), 't');
  assert.equal(field({ mts: undefined }), 'mts');
  assert.equal(field({ mts: '0.01' }), 'mts');
  assert.equal(field({ mts: 0.003 }), 'mts', 'does not divide 1');
  assert.equal(field({ mts: 0.00015 }), 'mts', 'off the 1e-4 grid');
  assert.equal(field({ mts: 0 }), 'mts');
  assert.equal(field({ mos: 0 }), 'mos');
  assert.equal(field({ mos: '5' }), 'mos');
  assert.equal(field({ fd: 0.07 }), 'fd');
  assert.equal(field({ fd: { e: 1 } }), 'fd.r');
  assert.equal(field({ fd: { r: 1, e: 1 } }), 'fd.r', 'a rate of 1 takes the whole notional');
  assert.equal(field({ fd: { r: -0.01, e: 1 } }), 'fd.r');
  assert.equal(field({ fd: { r: '0.07', e: 1 } }), 'fd.r');
  assert.equal(field({ fd: { r: 0.07 } }), 'fd.e');
  assert.equal(field({ fd: { r: 0.07, e: 0 } }), 'fd.e');
  assert.equal(field({ fd: { r: 0.07, e: Infinity } }), 'fd.e');
  assert.equal(field({ fd: { r: 0.07, e: 1, to: false } }), 'fd.to', 'maker fees are not modelled');
  assert.equal(field({ nr: 'false' }), 'nr');
  assert.equal(field({ ao: 1 }), 'ao');
  assert.throws(() => parseClobMarket([], g), /not an object/);

  // Absent optional fields: no fee schedule is no fee; no mos or nr leaves Gamma's; no ao is accepting.
  assert.deepEqual(clob({ fd: undefined, mos: undefined, nr: undefined, ao: undefined }), { tickSize: 100, minSize: undefined, negRisk: undefined, feeRate: 0, feeExponent: 1, accepting: true });
  assert.deepEqual(clob({ fd: null, nr: null }).feeRate, 0);
  assert.equal(clob({ fd: { r: 0, e: 1 } }).feeRate, 0);
  assert.equal(clob({ ao: false }).accepting, false);
});

test('the descriptor takes identity from Gamma and trading parameters from the CLOB, which wins where both speak', () => {
  const g = gamma({ orderPriceMinTickSize: 0.01, orderMinSize: 5 });
  const d = describeMarket(g, parseClobMarket({ ...GOOD_CLOB, mts: 0.001, mos: 15, nr: true, fd: { r: 0.072, e: 1.5 } }, g));
  assert.deepEqual(d, {
    conditionId: GOOD_GAMMA.conditionId,
    slug: SLUG,
    tokenIds: ['123', '456'],
    outcomes: ['Up', 'Down'],
    tickSize: 10,
    minSize: 15_000_000,
    feeRate: 0.072,
    feeExponent: 1.5,
    negRisk: true,
    startMs: START,
    endMs: START + 300_000,
    underlying: 'btc',
  } satisfies MarketDescriptor);
  const kept = describeMarket(g, parseClobMarket({ ...GOOD_CLOB, mos: undefined, nr: undefined }, g));
  assert.deepEqual([kept.tickSize, kept.minSize, kept.negRisk], [100, 5_000_000, false], "Gamma's min size and negRisk stand when the CLOB is silent");
});

test('the roller finds the current window and the lookahead on the simulator, retries what it could not place, and rolls with the clock', async () => {
  const sim = new VenueSimulator({
    venues: ['polymarket'],
    speed: 'manual',
    // Gamma's clock is the capture's, as in a session; never stepped here, so no market resolves.
    polymarket: { markets: session.markets.map((m) => m.spec), gamma: session.markets.map((m) => m.listing), clockStartMs: session.t0Ms },
  });
  const e = await sim.start();
  try {
    const first = session.markets[0]!.descriptor;
    let now = first.startMs + 60_000;
    const taken: MarketDescriptor[] = [];
    let room = 2;
    const logs: string[] = [];
    const roller = btcRoller({
      gammaUrl: e.polymarket!.restUrl,
      clobRestUrl: e.polymarket!.restUrl,
      lookahead: 2,
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
    assert.deepEqual(taken[0], first, 'the descriptor is the market the simulator streams, with the session fee served on /clob-markets');
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

const T = 1761766200_000;
const W = 300_000;

test('fees arrive from the simulator\'s /clob-markets; closed markets are never offered nor looked up again; a market not yet accepting orders is retried until its window begins', async () => {
  const { specs, listings } = listedWindows(T, [{ fee: { rate: 0.072, exponent: 1 } }, { closed: true, fee: { rate: 0.072, exponent: 1 } }, { acceptingOrders: false }, {}]);
  const sim = new VenueSimulator({ venues: ['polymarket'], speed: 'manual', polymarket: { markets: specs, gamma: listings } });
  const e = await sim.start();
  try {
    const rest = e.polymarket!.restUrl;
    // The simulator's compact form, and its 404 for a market it does not list.
    assert.deepEqual(await (await fetch(`${rest}/clob-markets/${listings[0]!.conditionId}`)).json(), {
      c: listings[0]!.conditionId,
      t: [
        { t: specs[0]!.yesTokenId, o: 'Up' },
        { t: specs[0]!.noTokenId, o: 'Down' },
      ],
      mts: 0.01,
      nr: false,
      fd: { r: 0.072, e: 1, to: true },
      mbf: 1000,
      tbf: 1000,
      ao: true,
      mos: 5,
    });
    const unknown = await fetch(`${rest}/clob-markets/0x${'00'.repeat(32)}`);
    assert.equal(unknown.status, 404);
    assert.equal(typeof ((await unknown.json()) as { error?: unknown }).error, 'string');

    let now = T + 60_000;
    const offered: MarketDescriptor[] = [];
    const logs: string[] = [];
    const roller = btcRoller({
      gammaUrl: rest,
      clobRestUrl: rest,
      lookahead: 3,
      nowMs: () => now,
      offer: (d) => offered.push(d) > 0,
      log: (l) => logs.push(l),
    });
    assert.equal(await roller.poll(), true);
    assert.deepEqual(offered.map((d) => d.slug), [listings[0]!.slug, listings[3]!.slug], 'the closed window and the one not yet accepting orders are not offered');
    assert.deepEqual([offered[0]!.feeRate, offered[0]!.feeExponent], [0.072, 1], 'the fee of the listing, not a constant');
    assert.deepEqual([offered[1]!.feeRate, offered[1]!.feeExponent], [0, 1], 'a market without a fee schedule charges none');
    assert.deepEqual(offered[0]!.tokenIds, [specs[0]!.yesTokenId, specs[0]!.noTokenId]);
    assert.deepEqual({ ...roller.counts }, { lookups: 4, found: 2, notListed: 0, errors: 0, closed: 1, notAccepting: 1, deferred: 0 });

    await roller.poll();
    assert.deepEqual([roller.counts.lookups, roller.counts.notAccepting, roller.counts.closed], [5, 2, 1], 'only the window not yet accepting orders is looked up again');

    // Its window begins and it still takes no orders: it has stopped (§11.11), is never offered and is not looked up again.
    now = T + 2 * W + 1_000;
    assert.equal(await roller.poll(), true);
    assert.deepEqual([roller.counts.closed, roller.counts.notListed], [2, 2], 'window 2 closed; windows 4 and 5 not listed');
    const lookups = roller.counts.lookups;
    await roller.poll();
    assert.equal(roller.counts.lookups - lookups, 2, 'only the unlisted windows are looked up again');
    assert.equal(offered.length, 2);
    assert.equal(logs.filter((l) => l.includes(listings[1]!.slug)).length, 1, logs.join('\n'));
    assert.equal(roller.counts.errors, 0, logs.join('\n'));
  } finally {
    await sim.stop();
  }
});

type ClobAnswer = 500 | 404 | 'paused' | 'pass';

interface ClobFront {
  url: string;
  answer: ClobAnswer;
  asked: string[];
  close(): Promise<void>;
}

/**
 * The CLOB's REST host on loopback in front of the simulator: answers with a
 * venue failure, or passes the request on (with `ao` false when 'paused').
 */
async function clobInFrontOf(simRest: string): Promise<ClobFront> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const mode = front.answer;
    if (typeof mode === 'number') {
      res.writeHead(mode, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'venue failure' }));
      return;
    }
    void fetch(`${simRest}${req.url ?? ''}`).then(async (r) => {
      const body = (await r.json()) as Record<string, unknown>;
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(mode === 'paused' ? { ...body, ao: false } : body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const front = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer: 'pass' as ClobAnswer,
    asked,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  return front;
}

/**
 * A roller (lookahead 1, clock stopped at `nowMs`) over the windows of
 * `patches` on the simulator, asking the CLOB through clobInFrontOf.
 */
async function withRollerBehindClob(
  patches: ReadonlyArray<Partial<GammaListing>>,
  nowMs: number,
  body: (r: { roller: MarketRoller; clob: ClobFront; offered: MarketDescriptor[]; logs: string[]; listings: GammaListing[] }) => Promise<void>,
): Promise<void> {
  const { specs, listings } = listedWindows(T, patches);
  const sim = new VenueSimulator({ venues: ['polymarket'], speed: 'manual', polymarket: { markets: specs, gamma: listings } });
  const e = await sim.start();
  const clob = await clobInFrontOf(e.polymarket!.restUrl);
  try {
    const offered: MarketDescriptor[] = [];
    const logs: string[] = [];
    const roller = btcRoller({
      gammaUrl: e.polymarket!.restUrl,
      clobRestUrl: clob.url,
      lookahead: 1,
      nowMs: () => nowMs,
      offer: (d) => offered.push(d) > 0,
      log: (l) => logs.push(l),
    });
    await body({ roller, clob, offered, logs, listings });
  } finally {
    await clob.close();
    await sim.stop();
  }
}

test('a /clob-markets that fails (500, 404) is retried, counted and logged once per failure; ao false once the window is under way retires the market', async () => {
  await withRollerBehindClob([{ fee: { rate: 0.072, exponent: 1 } }, { closed: true }], T + 60_000, async ({ roller, clob, offered, logs, listings }) => {
    const slug = listings[0]!.slug;
    const about = () => logs.filter((l) => l.includes(slug));
    clob.answer = 500;
    assert.equal(await roller.poll(), false, 'the current window is not known while its parameters are not');
    assert.equal(await roller.poll(), false);
    assert.equal(roller.counts.errors, 2);
    assert.deepEqual(about(), [`discovery: ${slug}: clob-markets: HTTP 500`], 'logged once, not once a poll');
    assert.deepEqual(clob.asked, [`/clob-markets/${listings[0]!.conditionId}`, `/clob-markets/${listings[0]!.conditionId}`], 'the CLOB is not asked about the closed window');

    clob.answer = 404;
    assert.equal(await roller.poll(), false);
    assert.equal(roller.counts.errors, 3);
    assert.equal(about().at(-1), `discovery: ${slug}: clob-markets: HTTP 404`);

    // The window is under way: ao false on the CLOB means it has stopped, as Gamma's flag would.
    clob.answer = 'paused';
    assert.equal(await roller.poll(), true);
    assert.deepEqual([roller.counts.closed, roller.counts.found, offered.length], [2, 0, 0], 'window 0 stopped and window 1 closed: neither offered');
    assert.match(about().at(-1)!, /not accepting orders on the CLOB/);
    assert.equal(await roller.poll(), true);
    assert.equal(clob.asked.length, 4, 'not looked up again');
  });
});

test('before its window, ao false on the CLOB is retried and the market is taken with its fee once it accepts orders', async () => {
  await withRollerBehindClob([{ fee: { rate: 0.072, exponent: 1 } }], T - 60_000, async ({ roller, clob, offered, logs, listings }) => {
    clob.answer = 'paused';
    await roller.poll();
    await roller.poll();
    assert.deepEqual([roller.counts.notAccepting, offered.length], [2, 0]);
    clob.answer = 'pass';
    await roller.poll();
    assert.deepEqual(offered.map((d) => [d.slug, d.feeRate, d.feeExponent]), [[listings[0]!.slug, 0.072, 1]]);
    assert.deepEqual([roller.counts.errors, roller.counts.closed], [0, 0], logs.join('\n'));
  });
});

test('a Gamma that is down is counted and logged once per slug, not once a poll', async () => {
  const logs: string[] = [];
  const roller = btcRoller({
    gammaUrl: 'http://127.0.0.1:9',
    clobRestUrl: 'http://127.0.0.1:9',
    lookahead: 0,
    nowMs: () => 1761766200_000,
    offer: () => true,
    log: (l) => logs.push(l),
  });
  assert.equal(await roller.poll(), false);
  assert.equal(await roller.poll(), false);
  assert.equal(roller.counts.errors, 2);
  assert.equal(logs.length, 1, logs.join('\n'));
});

test('on engine-time timers the roller polls every pollMs of engine time: a minute of market time in a wall millisecond brings the next poll, an idle wall brings none', async () => {
  const sim = new VenueSimulator({
    venues: ['polymarket'],
    speed: 'manual',
    polymarket: { markets: session.markets.map((m) => m.spec), gamma: session.markets.map((m) => m.listing), clockStartMs: session.t0Ms },
  });
  const e = await sim.start();
  const clock = new VirtualClock(session.markets[0]!.descriptor.startMs + 1_000);
  const timers = new ClockTimers(clock, (err) => assert.fail(String(err)));
  const roller = btcRoller({
    gammaUrl: e.polymarket!.restUrl,
    clobRestUrl: e.polymarket!.restUrl,
    lookahead: 0,
    nowMs: () => clock.nowMs(),
    timers,
    offer: () => true,
    log: () => undefined,
  });
  /** Runs the timers and waits for the round they start (a lookup in flight leaves no timer pending). */
  const turn = async (): Promise<number> => {
    const before = roller.counts.lookups;
    timers.run();
    for (const deadline = Date.now() + 10_000; timers.pending === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 1));
    return roller.counts.lookups - before;
  };
  try {
    roller.start();
    assert.equal(await turn(), 1, 'the first poll is due at once');
    assert.equal(roller.counts.found, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await turn(), 0, 'wall time alone brings no poll');
    clock.advance(59_999);
    assert.equal(await turn(), 0);
    // The next window: its market is looked up on the poll a minute of engine time after the last.
    clock.set(session.markets[1]!.descriptor.startMs + 1);
    assert.equal(await turn(), 1);
    assert.equal(roller.counts.found, 2);
  } finally {
    await roller.stop();
    assert.equal(timers.pending, 0, 'stop() cancels the next poll');
    await sim.stop();
  }
});
