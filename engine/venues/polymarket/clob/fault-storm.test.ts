// Live trading through a storm of HTTP faults on the CLOB trading API: a live
// session (the live venue over the REST client) against the venue simulator,
// whose CLOB answers requests with 5xx, no answer, a late answer, an order
// version mismatch or a connection cut after the order was placed, at random.
// Checked from both sides: the engine never faults, no order reaches the
// CLOB's books twice and none is there that the engine did not journal, every
// fill the CLOB made is booked once, and every fault the simulator's ledger
// injected is counted on /metrics. Then the CLOB fails every request: the
// kill switch latches, and once the CLOB answers again the engine's cancels
// leave nothing open, before and after stop.
//
// The simulator runs on the test's thread (not its own, as `npm start` runs
// it) so the test can read its books directly.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { signerFromEnv } from '../../../cli/sign.js';
import { parseConfigText } from '../../../config/load.js';
import { Journal } from '../../../journal/journal.js';
import type { JournalRecord } from '../../../journal/records.js';
import { sample, until } from '../../../runtime/session.fixture.js';
import { startSession, type OfflineVenueRequest, type OfflineVenues } from '../../../runtime/session.js';
import { buildBundledMarkets, BUNDLED_RTDS_FILES, STEP_MS } from '../../../sim/bundled-updown.js';
import { HTTP_FAULTS, type FaultKind } from '../../../sim/faults.js';
import { simulatorEndpoints } from '../../../sim/offline.js';
import { VenueSimulator } from '../../../sim/simulator.js';
import { HARDHAT_KEY } from '../order/fixtures/vectors.js';
import { startLiveVenue } from './start.js';

const FAULTS = Number(process.env.STORM_FAULTS ?? 1_000);
/** Per authenticated request: high enough for the storm to pass in about a minute, low enough that a request still gets through its retries. */
const RATE = 0.4;
/** The client's deadline per attempt, and the simulator's late answer: longer, so every http_slow is a timeout at the client. */
const TIMEOUT_MS = 400;
const SLOW_MS = 800;
const CREDS = { apiKey: '5f1d8c2e-3b7a-4e9f-8c61-0a2d4b6e8f13', secret: 'ZmF1bHQtc3Rvcm0tdGVzdC1zZWNyZXQtYnl0ZXM=', passphrase: 'fault-storm-passphrase' };

interface InProcess extends OfflineVenues {
  readonly sim: VenueSimulator;
}

/** The bundled session's venues (offline.ts bundledVenues) on this thread, the CLOB knowing the engine's key pair. */
function inProcessVenues(keys: { address: string; apiKey: string; secret: string; passphrase: string }): (r: OfflineVenueRequest) => Promise<InProcess> {
  return async ({ seed, speed }) => {
    const bundle = buildBundledMarkets();
    const sim = new VenueSimulator({
      venues: ['polymarket', 'rtds', 'deribit'],
      source: 'recorded',
      seed,
      speed,
      polymarket: { markets: bundle.markets.map((m) => m.spec), stepMs: STEP_MS, clockStartMs: bundle.t0Ms, gamma: bundle.markets.map((m) => m.listing), clob: { keys: [keys] } },
      rtds: { paths: BUNDLED_RTDS_FILES },
      deribit: { baseVolatility: 45 },
    });
    const e = await sim.start();
    return { sim, endpoints: simulatorEndpoints(e), gammaUrl: e.polymarket!.restUrl, feeds: ['polymarket', 'rtds', 'deribit'], feedClock: true, description: ['venue simulator in-process'], stop: () => sim.stop() };
  };
}

test(`fault storm on the CLOB trading API: ${FAULTS}+ injected HTTP faults, no engine fault, no duplicate order, every fault on /metrics; then a persistent failure latches the kill switch and nothing is left open`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-clob-storm-'));
  const journalPath = join(dir, 'storm.journal');
  process.env.POLY_PRIVATE_KEY = HARDHAT_KEY;
  const signer = signerFromEnv();
  delete process.env.POLY_PRIVATE_KEY;
  const cfg = parseConfigText(
    ['mode = "live"', '[cpu]', 'pin = false', '[journal]', 'compact = false', 'snapshot_every = 10000000', '[live]', 'max_order_notional = 50', 'max_open_orders = 20', 'max_daily_notional = 10000000'].join('\n'),
    'clob-fault-storm.test',
  );
  const logs: string[] = [];
  const s = await startSession({
    cfg,
    offline: inProcessVenues({ address: signer.address, ...CREDS }),
    // 10x: the 22-minute recording lasts over two minutes, long enough for the storm to reach its count while markets trade.
    speed: 10,
    seed: 7,
    journalPath,
    controlPort: 0,
    log: (l) => logs.push(l),
    venue: (clobUrl) =>
      startLiveVenue({
        clobUrl,
        signer,
        creds: CREDS,
        signing: { ...cfg.signing, chain_id: cfg.venue.chain_id },
        log: (l) => logs.push(l),
        transport: { timeoutMs: TIMEOUT_MS, backoff: { baseMs: 10, maxMs: 100 }, random: () => 0.5 },
        tradePollMs: 2,
        // The dead-man switch stays out of the way: this storm is about requests, not silence.
        heartbeat: { intervalMs: 1_000, failAfterMs: 600_000 },
      }),
  });
  const sim = s.offline!.sim;
  const clob = sim.polymarketClob();
  const e = s.engine;
  const metrics = async (): Promise<string> => (await fetch(`${s.control.url}/metrics`)).text();
  const health = async (): Promise<{ state: string; killSwitchLatched: boolean; faults: number; lastFault: unknown }> => (await fetch(`${s.control.url}/health`)).json() as never;
  const httpFaults = (): Record<FaultKind, number> => sim.stats().faults.polymarket;
  const injected = (): number => HTTP_FAULTS.reduce((n, k) => n + httpFaults()[k], 0);
  let stopped = false;
  try {
    await until('the engine trading live before the storm', () => (e.counts.ordersSent >= 5 ? true : undefined), 60_000);
    const ordersBefore = e.counts.ordersSent;
    sim.setRandomFaults({ rate: RATE, seed: 2024, venues: ['polymarket'], kinds: [...HTTP_FAULTS], stallMs: SLOW_MS });
    let seen = 0;
    await until(`${FAULTS} HTTP faults injected`, () => ((seen = injected()) >= FAULTS ? true : undefined), 240_000, 250).catch((err: unknown) => assert.fail(`${String(err)} (${seen} so far; ${JSON.stringify(e.faultReport())})`));
    sim.setRandomFaults(null);
    const f = httpFaults();
    t.diagnostic(`ledger: ${injected()} HTTP faults ${JSON.stringify(Object.fromEntries(HTTP_FAULTS.map((k) => [k, f[k]])))}`);

    // Every fault is one failed attempt the client counted: a late answer past the deadline is a timeout like no
    // answer at all; a connection cut after the order was placed is a network error; the version mismatch a 400.
    // One exception, and it goes the other way: a request still queued for a connection (the pool's connections
    // held by requests the CLOB never answers) can reach its deadline before or just as it is sent, and the
    // client counts a timeout even when the CLOB then draws another fault for it. So: each of 5xx, version
    // mismatch and lost response is counted as itself or, at most as often as the client saw timeouts beyond
    // those injected, as a timeout. The faults still timing out when the storm ends land within a deadline.
    const check = async (): Promise<string | undefined> => {
      const text = await metrics();
      const c = (kind: string): number => sample(text, 'polyedge_clob_errors_total', { kind }) ?? NaN;
      const short = { server: f.http_5xx - c('server'), bad_request: f.order_version_mismatch - c('bad_request'), network: f.lost_response - c('network') };
      const extraTimeouts = c('timeout') - (f.http_timeout + f.http_slow);
      const other = ['auth', 'http', 'response', 'not_ready'].map((k) => c(k));
      const ok = Object.values(short).every((n) => n >= 0) && extraTimeouts >= short.server + short.bad_request + short.network && other.every((n) => n === 0);
      return ok ? undefined : `client ${JSON.stringify(Object.fromEntries(['server', 'timeout', 'bad_request', 'network', 'rate_limited', 'auth', 'http', 'response', 'not_ready'].map((k) => [k, c(k)])))}; not counted as themselves ${JSON.stringify(short)}, timeouts beyond those injected ${extraTimeouts}`;
    };
    await until('every injected fault counted on /metrics', async () => ((await check()) === undefined ? true : undefined), 15_000).catch(async () => assert.fail(`${await check()}; ledger ${JSON.stringify(f)}`));
    const extra = await check();
    assert.equal(extra, undefined);
    const text = await metrics();
    t.diagnostic(
      `client: ${sample(text, 'polyedge_clob_requests_total')} requests, ${sample(text, 'polyedge_clob_retries_total')} retries, ${sample(text, 'polyedge_clob_lookups_total')} lookups; ` +
        `venue: ${sample(text, 'polyedge_live_orders_posted_total')} posted, ${sample(text, 'polyedge_live_cancels_total')} cancels, ${sample(text, 'polyedge_live_trade_polls_total')} polls, ` +
        `${sample(text, 'polyedge_live_request_failures_total')} failed requests, ${sample(text, 'polyedge_live_rejects_total')} rejected`,
    );
    assert.ok(sample(text, 'polyedge_clob_lookups_total')! > 0, 'uncertain POSTs were looked up');
    assert.ok(e.counts.ordersSent > ordersBefore, 'the engine kept trading through the storm');
    assert.deepEqual(e.faultReport(), { faults: 0, lastFault: null }, 'no engine fault, the kill switch never tripped');
    assert.equal((await health()).killSwitchLatched, false);

    // A persistent failure: every authenticated request answered 500.
    sim.setRandomFaults({ rate: 1, seed: 1, venues: ['polymarket'], kinds: ['http_5xx'] });
    const halted = await until('the kill switch latched', async () => {
      const h = await health();
      return h.killSwitchLatched ? h : undefined;
    }, 30_000);
    assert.equal(halted.state, 'HALTED');
    assert.ok(halted.faults >= 1);
    assert.match(JSON.stringify(halted.lastFault), /failing persistently/);
    // The CLOB answers again: the kill switch's cancels, retried with backoff, go through.
    sim.setRandomFaults(null);
    await until('no order of ours open on the CLOB while halted', () => (clob.openOrders(CREDS.apiKey).length === 0 && e.orders.liveCount === 0 ? true : undefined), 30_000).catch(() =>
      assert.fail(`open on the CLOB: ${clob.openOrders(CREDS.apiKey).length}, in the engine: ${e.orders.liveCount}`),
    );
    stopped = true;
    await s.stop();
    assert.deepEqual(clob.openOrders(CREDS.apiKey), [], 'nothing open after stop');
    assert.ok(logs.some((l) => /live: stopped: .*; 0 orders open on the CLOB after DELETE \/cancel-all/.test(l)), logs.filter((l) => l.startsWith('live:')).join('\n'));

    // From the CLOB's books: every order of our key was journaled by the engine, and no engine order reached the
    // books twice (a retry re-sends the same signed bytes, so a second copy could only be a second hash).
    const recs = Journal.replay(journalPath).records as JournalRecord[];
    const orderOfHash = new Map<string, string>();
    for (const r of recs) if (r.type === 'venue_request' && r.method === 'POST') orderOfHash.set(r.venueOrderId, r.orderId);
    const ours = [...clob.engine.orders.values()].filter((o) => o.owner === CREDS.apiKey);
    assert.ok(ours.length > 0);
    const unknown = ours.filter((o) => !orderOfHash.has(o.id)).map((o) => o.id);
    assert.deepEqual(unknown, [], 'orders on the CLOB the engine never journaled');
    const copies = new Map<string, number>();
    for (const o of ours) copies.set(orderOfHash.get(o.id)!, (copies.get(orderOfHash.get(o.id)!) ?? 0) + 1);
    assert.deepEqual([...copies].filter(([, n]) => n > 1), [], 'engine orders on the CLOB more than once');
    const acks = new Map<string, number>();
    for (const r of recs) if (r.type === 'ack') acks.set(r.orderId, (acks.get(r.orderId) ?? 0) + 1);
    assert.deepEqual([...acks].filter(([, n]) => n > 1), [], 'orders acked twice');
    // Every share the CLOB matched for an order of ours is booked, once.
    const fills = recs.flatMap((r) => (r.type === 'fill' ? [r.fill] : []));
    assert.equal(new Set(fills.map((x) => x.fillId)).size, fills.length, 'no fill booked twice');
    const booked = new Map<string, number>();
    for (const x of fills) booked.set(x.orderId, (booked.get(x.orderId) ?? 0) + x.size);
    const unbooked = ours.filter((o) => o.matched !== (booked.get(orderOfHash.get(o.id)!) ?? 0)).map((o) => `${orderOfHash.get(o.id)}: matched ${o.matched}, booked ${booked.get(orderOfHash.get(o.id)!) ?? 0}`);
    if (unbooked.length > 0 && process.env.STORM_DEBUG) {
      const first = ours.find((o) => o.matched !== (booked.get(orderOfHash.get(o.id)!) ?? 0))!;
      const trades = clob.tradesOf(CREDS.apiKey).filter((t) => t.taker_order_id === first.id || t.maker_orders.some((m) => m.order_id === first.id));
      t.diagnostic(`order ${JSON.stringify({ ...first, trades: undefined })}`);
      for (const tr of trades) t.diagnostic(`trade ${JSON.stringify(tr)}`);
      for (const x of fills.filter((f) => f.orderId === orderOfHash.get(first.id))) t.diagnostic(`fill ${JSON.stringify(x)}`);
      for (const r of recs.filter((r) => 'orderId' in r && r.orderId === orderOfHash.get(first.id))) t.diagnostic(`rec ${JSON.stringify(r).slice(0, 300)}`);
    }
    assert.deepEqual(unbooked, [], `what the CLOB matched is what the engine booked; venue log: ${logs.filter((l) => /no longer held|venue:/.test(l)).slice(0, 12).join(' | ')}; journal of the first: ${JSON.stringify(recs.filter((r) => 'orderId' in r && unbooked[0]?.startsWith(String(r.orderId))).map((r) => r.type))}`);
    t.diagnostic(`${ours.length} orders on the CLOB, ${fills.length} fills booked, ${e.counts.ordersSent} orders sent`);
  } finally {
    if (!stopped) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
