// Every reload route against a running session on its real control plane:
// absurd values are refused naming the field and change nothing; every key of
// every route changes what its consumer reads (not just the route's echo);
// /control/reload/perf re-arms the status line; the kill switch names the
// limit in force.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfigText } from '../config/load.js';
import { CONTROL_TOKEN_ENV } from '../control/server.js';
import { CompleteSet } from '../strategy/complete-set.js';
import { Maker } from '../strategy/maker.js';
import { tunableNames } from '../tunables/registry.js';
import { startSession, type Session } from './session.js';
import { until } from './session.fixture.js';
import { bundledVenues } from '../sim/offline.js';

const TOKEN = 'reload-ranges-token';

type Reply = { status: number; body: Record<string, unknown> & { error?: { code: string; fields: { path: string; message: string }[] } } };

async function call(s: Session, method: 'GET' | 'POST', route: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${s.control.url}/control/reload/${route}`, {
    method,
    headers: method === 'POST' ? { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } : {},
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

/** Absurd values per route, the field the 400 must name. */
const ABSURD: readonly [route: string, body: Record<string, unknown>, field: string][] = [
  ['risk', { max_position: 1e303 }, 'max_position'],
  ['risk', { max_order_notional: 1e303 }, 'max_order_notional'],
  ['risk', { daily_loss_limit: 1e-7 }, 'daily_loss_limit'],
  ['risk', { daily_loss_limit: 100.0000001 }, 'daily_loss_limit'],
  ['risk', { max_position: 1000, max_market_position: 1 }, 'max_position'],
  ['risk', { min_size: 1e9 }, 'min_size'],
  ['risk', { stale_book_ms: 1e308 }, 'stale_book_ms'],
  ['strategy/maker', { size: 1e7 }, 'size'],
  ['strategy/maker', { half_spread: 0.00001 }, 'half_spread'],
  ['strategy/complete_set', { max_size: 1e303 }, 'max_size'],
  ['strategy/directional', { bankroll: 1e303 }, 'bankroll'],
  ['toxicity', { halfLifeMs: 1e308 }, 'halfLifeMs'],
  ['fusion', { stale_ms: 1e308 }, 'stale_ms'],
  ['exit', { cancel_before_end_ms: 1e308 }, 'cancel_before_end_ms'],
  ['perf', { status_interval_ms: 1e11 }, 'status_interval_ms'],
  ['perf', { metrics_window_ms: 1e11 }, 'metrics_window_ms'],
];

type Probe = (s: Session) => unknown;
const maker = (s: Session): Maker => {
  const m = s.engine.strategies.find((x) => x instanceof Maker);
  assert.ok(m instanceof Maker);
  return m;
};
const completeSet = (s: Session): CompleteSet => {
  const c = s.engine.strategies.find((x) => x instanceof CompleteSet);
  assert.ok(c instanceof CompleteSet);
  return c;
};
const directional = (s: Session): Record<string, unknown> => s.engine.strategies.find((x) => x.name === 'directional')!.params() as Record<string, unknown>;

/**
 * Every key of every route: a new value and what the consuming code reads
 * after the reload (engine units where the consumer converts). Strategies
 * that read their parameter object directly are probed through it: that
 * object is what decide() reads.
 */
const WALK: Record<string, Record<string, [value: unknown, probe: Probe, expected: unknown]>> = {
  'strategy/maker': {
    fair: ['mid', (s) => maker(s).params().fair, 'mid'],
    half_spread: [0.0375, (s) => maker(s).unitsInForce().halfSpread, 375],
    size: [12.34, (s) => maker(s).unitsInForce().size, 12_340_000],
    max_position: [77.5, (s) => maker(s).unitsInForce().maxPosition, 77_500_000],
    skew: [0.0203, (s) => maker(s).unitsInForce().skew, 203],
    price_floor: [0.1, (s) => maker(s).unitsInForce().floor, 1_000],
    min_requote_ticks: [7, (s) => maker(s).params().min_requote_ticks, 7],
    max_quote_age_ms: [12_345, (s) => maker(s).params().max_quote_age_ms, 12_345],
    toxicity_widen: [2.5, (s) => maker(s).params().toxicity_widen, 2.5],
    toxicity_pull: [0.5, (s) => maker(s).params().toxicity_pull, 0.5],
  },
  'strategy/complete_set': {
    mode: ['top', (s) => completeSet(s).params().mode, 'top'],
    order_type: ['FAK', (s) => completeSet(s).params().order_type, 'FAK'],
    min_edge: [0.0123, (s) => completeSet(s).unitsInForce().minEdge, 123],
    max_size: [33.33, (s) => completeSet(s).unitsInForce().maxSize, 33_330_000],
    max_position: [444.44, (s) => completeSet(s).unitsInForce().maxPosition, 444_440_000],
    max_levels: [17, (s) => completeSet(s).unitsInForce().ladderLevels, 17],
  },
  'strategy/directional': {
    threshold: [0.031, (s) => directional(s).threshold, 0.031],
    kelly_fraction: [0.5, (s) => directional(s).kelly_fraction, 0.5],
    bankroll: [250.5, (s) => directional(s).bankroll, 250.5],
    max_size: [12, (s) => directional(s).max_size, 12],
    max_position: [120, (s) => directional(s).max_position, 120],
    order_type: ['FOK', (s) => directional(s).order_type, 'FOK'],
    min_volatility: [0.3, (s) => directional(s).min_volatility, 0.3],
    max_reference_age_ms: [4_000, (s) => directional(s).max_reference_age_ms, 4_000],
    min_time_left_ms: [9_000, (s) => directional(s).min_time_left_ms, 9_000],
  },
  allocator: {
    maker: [{ enabled: false }, (s) => s.engine.allocator.maker.enabled, false],
    complete_set: [{ enabled: false }, (s) => s.engine.allocator.complete_set.enabled, false],
    directional: [{ enabled: false }, (s) => s.engine.allocator.directional.enabled, false],
  },
  risk: {
    max_position: [321.5, (s) => s.engine.risk.limitsInForce().maxPosition, 321_500_000],
    max_market_position: [654.25, (s) => s.engine.risk.limitsInForce().maxMarketPosition, 654_250_000],
    max_order_notional: [55.123456, (s) => s.engine.risk.limitsInForce().maxOrderNotional, 55_123_456],
    max_gross_exposure: [1_234.5, (s) => s.engine.risk.limitsInForce().maxGrossExposure, 1_234_500_000],
    daily_loss_limit: [77.7, (s) => s.engine.risk.dailyLossLimitMicros, 77_700_000],
    max_orders_per_second: [7, (s) => s.engine.risk.limitsInForce().ordersPerSecond, 7],
    min_size: [6.5, (s) => s.engine.risk.limitsInForce().minSize, 6_500_000],
    stale_book_ms: [12_000, (s) => s.engine.risk.limitsInForce().staleBookMs, 12_000],
  },
  toxicity: {
    priorShares: [42, (s) => s.engine.markouts.currentParams.priorShares, 42],
    halfLifeMs: [60_000, (s) => s.engine.markouts.currentParams.halfLifeMs, 60_000],
    makerOnly: [false, (s) => s.engine.markouts.currentParams.makerOnly, false],
  },
  fusion: {
    policy: ['prefer', (s) => s.engine.fusion.getParams().policy, 'prefer'],
    prefer: ['rtds-chainlink', (s) => s.engine.fusion.getParams().prefer, 'rtds-chainlink'],
    stale_ms: [4_321, (s) => s.engine.fusion.getParams().stale_ms, 4_321],
  },
  exit: {
    cancel_before_end_ms: [9_999, (s) => s.engine.exit.cancel_before_end_ms, 9_999],
  },
  perf: {
    wait: ['spin', (s) => s.engine.perf.wait, 'spin'],
    status_interval_ms: [250, (s) => s.statusPeriodMs(), 250],
    // A shorter window cuts the current one short: it ends within the new length.
    metrics_window_ms: [1_000, (s) => s.engine.latency.windowEndMs <= Date.now() + 1_000, true],
  },
};

test('reload routes on a running session: absurd values refused naming the field; every key reaches its consumer; status timer re-armed; kill switch names the limit in force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-reloads-'));
  const cfg = parseConfigText(
    [
      '[cpu]\npin = false',
      '[engine]\nstrategies = ["maker", "complete_set", "directional"]\nstatus_interval_ms = 3600000\nmetrics_window_ms = 3600000',
    ].join('\n'),
    'reloads.toml',
  );
  const logs: string[] = [];
  const status: string[] = [];
  const before = process.env[CONTROL_TOKEN_ENV];
  process.env[CONTROL_TOKEN_ENV] = TOKEN;
  let s: Session | undefined;
  try {
    s = await startSession({ cfg, offline: bundledVenues(), speed: 30, seed: 7, journalPath: join(dir, 'j'), controlPort: 0, log: (l) => logs.push(l), status: (l) => status.push(l) });
    const session = s;
    assert.equal(session.statusPeriodMs(), 3_600_000);
    assert.deepEqual(Object.keys(WALK).sort(), tunableNames().sort(), 'the walk covers every route');

    // 1. Absurd values: 400 naming the field, nothing changes.
    const limitsBefore = session.engine.risk.limitsInForce();
    for (const [route, body, field] of ABSURD) {
      const current = (await call(session, 'GET', route)).body;
      const r = await call(session, 'POST', route, { ...current, ...body });
      assert.equal(r.status, 400, `${route} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error!.code, 'PE_CONFIG_INVALID');
      assert.equal(r.body.error!.fields[0]!.path, field, `${route} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.deepEqual((await call(session, 'GET', route)).body, current, `${route}: a refused reload leaves the parameters in force`);
    }
    assert.deepEqual(session.engine.risk.limitsInForce(), limitsBefore);
    assert.equal(session.statusPeriodMs(), 3_600_000);
    assert.equal(status.length, 0, 'no status line at an hour\'s period');

    // 2. Every key of every route changes what its consumer reads.
    for (const [route, keys] of Object.entries(WALK)) {
      const schemaKeys = Object.keys((await call(session, 'GET', route)).body).sort();
      assert.deepEqual(Object.keys(keys).sort(), schemaKeys, `${route}: the walk covers every key`);
      for (const [key, [value, probe, expected]] of Object.entries(keys)) {
        const current = (await call(session, 'GET', route)).body;
        assert.notDeepEqual(probe(session), expected, `${route}.${key}: the probe already reads the new value`);
        const r = await call(session, 'POST', route, { ...current, [key]: value });
        assert.equal(r.status, 200, `${route}.${key}: ${JSON.stringify(r.body)}`);
        assert.deepEqual(probe(session), expected, `${route}.${key}`);
      }
    }

    // Trading again for the kill-switch check below.
    assert.equal((await call(session, 'POST', 'allocator', {})).status, 200);

    // 3. The re-armed status timer runs at its new period (a liveness deadline, not a timing assertion).
    await until('status lines at the re-armed period', () => (status.length >= 3 ? true : undefined), 30_000);
    const back = await call(session, 'POST', 'perf', { wait: 'async', status_interval_ms: 3_600_000, metrics_window_ms: 10_000 });
    assert.equal(back.status, 200);
    assert.equal(session.statusPeriodMs(), 3_600_000);

    // 4. The kill switch names the limit in force, not the configured 100 pUSD.
    const risk = (await call(session, 'GET', 'risk')).body;
    await until('a loss to trip on', () => (session.engine.portfolio.dailyPnl(session.engine.marks) < -10_000 ? true : undefined), 60_000);
    assert.equal((await call(session, 'POST', 'risk', { ...risk, daily_loss_limit: 0.01 })).status, 200);
    const line = await until('the kill switch', () => logs.find((l) => l.startsWith('kill switch: daily loss')), 30_000);
    assert.match(line, /beyond 0\.01 pUSD \(the limit in force\)/);
    assert.ok(session.engine.state.killSwitchLatched);
  } finally {
    await s?.stop();
    if (before === undefined) delete process.env[CONTROL_TOKEN_ENV];
    else process.env[CONTROL_TOKEN_ENV] = before;
  }
});

test('a reload of a strategy the session does not run is refused (400 naming engine.strategies), not accepted without effect', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-reloads-'));
  const cfg = parseConfigText('[cpu]\npin = false\n[engine]\nstrategies = ["maker"]', 'maker-only.toml');
  const before = process.env[CONTROL_TOKEN_ENV];
  process.env[CONTROL_TOKEN_ENV] = TOKEN;
  let s: Session | undefined;
  try {
    s = await startSession({ cfg, offline: bundledVenues(), speed: 30, seed: 7, journalPath: join(dir, 'j'), controlPort: 0, log: () => {} });
    for (const route of ['strategy/complete_set', 'strategy/directional']) {
      const r = await call(s, 'POST', route, {});
      assert.equal(r.status, 400, `${route}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error!.fields[0]!.path, 'engine.strategies');
    }
    assert.equal((await call(s, 'POST', 'strategy/maker', { half_spread: 0.02 })).status, 200);
    assert.equal(maker(s).unitsInForce().halfSpread, 200);
  } finally {
    await s?.stop();
    if (before === undefined) delete process.env[CONTROL_TOKEN_ENV];
    else process.env[CONTROL_TOKEN_ENV] = before;
  }
});
