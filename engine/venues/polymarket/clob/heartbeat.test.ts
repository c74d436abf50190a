// The engine's heartbeats against the simulator's CLOB: on schedule they keep
// the orders; a gap past the bound (a stopped process, a venue that answers
// errors) is reported once as PE_CLOB_HEARTBEAT_LOST, and the next heartbeat
// that gets through says so. And the [live] keys' validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { configSchema } from '../../../config/config.js';
import { validate } from '../../../config/schema.js';
import { PolyedgeError } from '../../../errors.js';
import { best, build, dec, HARDHAT_KEY, startClobSim, trader, type Harness, type Trader } from '../../../sim/clob/testkit.js';
import type { ClobOptions } from '../../../sim/clob/api.js';
import { ClobClient } from './client.js';
import { Heartbeat } from './heartbeat.js';

interface Setup {
  h: Harness;
  t: Trader;
  client: ClobClient;
}

async function setup(clob: ClobOptions): Promise<Setup> {
  const h = await startClobSim(clob, 7, { tradeProbability: 0 });
  const t = trader(h, HARDHAT_KEY);
  const client = new ClobClient({ url: h.url, warmIntervalMs: 0, timeoutMs: 2_000, retries: 0, random: () => 0.5 }, { address: t.signer.address, creds: { apiKey: t.key.apiKey, secret: t.key.secret, passphrase: t.key.passphrase } });
  await client.start();
  return { h, t, client };
}

async function teardown(s: Setup): Promise<void> {
  await s.client.close();
  await s.h.stop();
}

function watch(s: Setup, failAfterMs: number, clockMs?: () => number) {
  const seen = { lost: [] as PolyedgeError[], restored: 0, failures: 0 };
  const hb = new Heartbeat({
    client: s.client,
    intervalMs: 50,
    failAfterMs,
    onLost: (err) => seen.lost.push(err),
    onRestored: () => seen.restored++,
    onFailure: () => seen.failures++,
    ...(clockMs && { clockMs }),
  });
  return { hb, seen };
}

async function waitFor(holds: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!holds()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('heartbeats on schedule keep a resting order past the venue\'s timeout', async () => {
  const s = await setup({ heartbeatTimeoutMs: 300 });
  const { hb, seen } = watch(s, 250);
  try {
    hb.start();
    const { bid } = best(s.h, s.h.yes);
    const order = build(s.t, s.h, { side: 'BUY', price: dec((Number(bid.price) - 2 * Number(s.h.tick)).toFixed(2)), size: dec('10') });
    assert.equal((await s.client.postOrder(() => order)).status, 'live');
    await sleep(1_000);
    const clob = s.h.sim.polymarketClob();
    assert.equal(clob.openOrders(s.t.key.apiKey).length, 1, 'still resting');
    assert.deepEqual(clob.heartbeatExpiries, { keys: 0, orders: 0 });
    assert.ok(hb.counts.ok >= 10, `heartbeats answered: ${hb.counts.ok}`);
    assert.deepEqual(seen, { lost: [], restored: 0, failures: 0 });
    assert.equal(hb.stale(), false);

    // Stopped: the venue's switch fires, and nothing is sent any more.
    hb.stop();
    await waitFor(() => clob.openOrders(s.t.key.apiKey).length === 0, 'the venue to cancel the order');
    assert.deepEqual(clob.heartbeatExpiries, { keys: 1, orders: 1 });
    const sent = hb.counts.sent;
    await sleep(200);
    assert.equal(hb.counts.sent, sent);
    assert.deepEqual(seen.lost, [], 'a stopped heartbeat reports no loss');
  } finally {
    hb.stop();
    await teardown(s);
  }
});

test('a gap past the bound (the process was stopped) is a loss, seen by stale() first and reported once; the next heartbeat through restores', async () => {
  const s = await setup({});
  let skew = 0;
  const { hb, seen } = watch(s, 400, () => performance.now() + skew);
  try {
    hb.start();
    await waitFor(() => hb.counts.ok >= 2, 'two heartbeats');
    assert.equal(hb.stale(), false);
    skew = 1_000;
    // An order about to be sent asks first: refused, and the loss reported outside the caller.
    assert.equal(hb.stale(), true);
    assert.equal(seen.lost.length, 0, 'not reported inside the caller');
    await Promise.resolve();
    assert.equal(seen.lost.length, 1);
    const err = seen.lost[0]!;
    assert.equal(err.code, 'PE_CLOB_HEARTBEAT_LOST');
    assert.equal(err.field, 'live.heartbeat_fail_after_ms');
    assert.match(err.message, /no heartbeat reached the CLOB for 1\d{3} ms \(heartbeat_fail_after_ms 400\)/);
    assert.equal(hb.stale(), true, 'lost until a heartbeat gets through');
    await waitFor(() => seen.restored === 1, 'a heartbeat through');
    assert.equal(hb.stale(), false);
    assert.equal(seen.lost.length, 1, 'reported once');
    assert.equal(hb.counts.losses, 1);
  } finally {
    hb.stop();
    await teardown(s);
  }
});

test('heartbeats the venue refuses: each failure is reported, and past the bound the loss', async () => {
  const s = await setup({});
  const { hb, seen } = watch(s, 300);
  try {
    s.h.sim.setRandomFaults({ rate: 1, seed: 1, kinds: ['http_5xx'] });
    hb.start();
    await waitFor(() => seen.lost.length === 1, 'the loss');
    assert.ok(seen.failures >= 2, `failures: ${seen.failures}`);
    assert.equal(hb.counts.ok, 0);
    assert.match(seen.lost[0]!.message, /heartbeat_fail_after_ms 300/);
    s.h.sim.setRandomFaults(null);
    await waitFor(() => seen.restored === 1, 'a heartbeat through');
    assert.equal(seen.lost.length, 1);
  } finally {
    hb.stop();
    await teardown(s);
  }
});

test('[live] heartbeat keys: defaults, ranges, and the bound must exceed the interval', () => {
  const ok = validate(configSchema, {});
  assert.ok(ok.ok);
  assert.equal(ok.value.live.heartbeat_interval_ms, 5_000);
  assert.equal(ok.value.live.heartbeat_fail_after_ms, 15_000);
  const refused = (live: Record<string, unknown>) => {
    const r = validate(configSchema, { live });
    return r.ok ? [] : r.violations;
  };
  assert.deepEqual(refused({ heartbeat_interval_ms: 2_000, heartbeat_fail_after_ms: 2_000 }), [
    { path: 'live.heartbeat_fail_after_ms', message: 'must be > heartbeat_interval_ms (a single heartbeat on time would already count as lost)' },
  ]);
  assert.deepEqual(refused({ heartbeat_interval_ms: 20_000 }), [{ path: 'live.heartbeat_fail_after_ms', message: 'must be > heartbeat_interval_ms (a single heartbeat on time would already count as lost)' }]);
  assert.deepEqual(refused({ heartbeat_interval_ms: 50 }), [{ path: 'live.heartbeat_interval_ms', message: 'must be >= 100' }]);
  assert.deepEqual(refused({ heartbeat_fail_after_ms: 1.5 }), [{ path: 'live.heartbeat_fail_after_ms', message: 'must be an integer' }]);
  assert.deepEqual(refused({ heartbeat_interval_ms: 400, heartbeat_fail_after_ms: 1_000 }), []);
});
