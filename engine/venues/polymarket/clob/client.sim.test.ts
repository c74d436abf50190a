// The client against the simulator's CLOB over loopback: HMAC-checked
// requests, EIP-712-checked orders, matching, paging, 429s, version changes
// and the faults that leave an order POST's outcome unknown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolyedgeError } from '../../../errors.js';
import { build, dec, HARDHAT_KEY, best, startClobSim, trader, type Harness, type Trader } from '../../../sim/clob/testkit.js';
import type { ClobOptions } from '../../../sim/clob/api.js';
import { ClobClient } from './client.js';
import type { TransportOptions } from './transport.js';
import type { BuiltOrder } from '../order/build.js';

interface Setup {
  h: Harness;
  t: Trader;
  client: ClobClient;
}

async function setup(clob: ClobOptions = {}, opts: Partial<TransportOptions> = {}): Promise<Setup> {
  // No generated trades: only our orders move the books.
  const h = await startClobSim(clob, 7, { tradeProbability: 0 });
  const t = trader(h, HARDHAT_KEY);
  const client = new ClobClient(
    { url: h.url, warmIntervalMs: 0, timeoutMs: 2_000, random: () => 0.5, ...opts },
    { address: t.signer.address, creds: { apiKey: t.key.apiKey, secret: t.key.secret, passphrase: t.key.passphrase } },
  );
  await client.start();
  return { h, t, client };
}

async function teardown(s: Setup): Promise<void> {
  await s.client.close();
  await s.h.stop();
}

/** A BUY resting two ticks under the best bid (it never matches). */
function resting(s: Setup, size: string, version: 2 | 3 = 2): BuiltOrder {
  const { bid } = best(s.h, s.h.yes);
  const price = (Number(bid.price) - 2 * Number(s.h.tick)).toFixed(2);
  return build(s.t, s.h, { side: 'BUY', price: dec(price), size: dec(size), version });
}

test('post, read back, list across pages, cancel, cancel-all; trades, balance and heartbeat', async () => {
  const s = await setup({ pageSize: 2 });
  try {
    const one = resting(s, '10');
    const placed = await s.client.postOrder(one);
    assert.deepEqual([placed.success, placed.status, placed.orderID], [true, 'live', one.hash], JSON.stringify(placed));
    const read = await s.client.getOrder(one.hash);
    assert.equal(read?.status, 'LIVE');
    assert.equal(read?.original_size, '10');
    assert.equal(await s.client.getOrder(`0x${'ab'.repeat(32)}`), undefined, 'an unknown id reads as absent');

    for (const size of ['6', '7', '8', '9']) assert.equal((await s.client.postOrder(resting(s, size))).success, true);
    const open = await s.client.openOrders({ asset_id: s.h.yes });
    assert.equal(open.length, 5, 'three pages of two walked to LTE=');
    assert.deepEqual(new Set(open.map((o) => o.id)).size, 5);

    const c1 = await s.client.cancelOrder(one.hash);
    assert.deepEqual(c1, { canceled: [one.hash], not_canceled: {} });
    const again = await s.client.cancelOrder(one.hash);
    assert.deepEqual(again.canceled, []);
    assert.match(again.not_canceled[one.hash] ?? '', /canceled/);
    const two = open.filter((o) => o.id !== one.hash).slice(0, 2).map((o) => o.id);
    assert.deepEqual((await s.client.cancelOrders(two)).canceled.sort(), [...two].sort());
    assert.equal((await s.client.cancelAll()).canceled.length, 2);
    assert.deepEqual(await s.client.openOrders(), []);

    // Three takers against the ask: three trades, read back over two-row pages.
    const { ask } = best(s.h, s.h.yes);
    const takes = [];
    for (let i = 0; i < 3; i++) takes.push(await s.client.postOrder(build(s.t, s.h, { side: 'BUY', price: dec(ask.price), size: dec('5') })));
    for (const r of takes) assert.equal(r.status, 'matched', JSON.stringify(r));
    const trades = await s.client.trades({ asset_id: s.h.yes });
    assert.equal(trades.length, 3);
    assert.deepEqual(new Set(trades.map((t) => t.taker_order_id)), new Set(takes.map((r) => r.orderID)));
    assert.equal((await s.client.trades({ id: takes[0]!.tradeIDs[0]! })).length, 1);

    const tokens = await s.client.balanceAllowance({ asset_type: 'CONDITIONAL', token_id: s.h.yes });
    assert.equal(tokens.balance, '15000000');
    await s.client.updateBalanceAllowance({ asset_type: 'COLLATERAL' });
    const cash = await s.client.balanceAllowance({ asset_type: 'COLLATERAL' });
    assert.ok(BigInt(cash.balance) < 1_000_000_000_000n);
    assert.equal(await s.client.heartbeat('hb-7'), 'hb-7');
    assert.equal(s.client.counters.retries, 0);
    assert.equal(s.client.counters.lookups, 0);
  } finally {
    await teardown(s);
  }
});

test('seventeen orders go out as two POST /orders (15 + 2), results in order', async () => {
  const s = await setup();
  try {
    const orders = Array.from({ length: 17 }, (_, i) => resting(s, String(5 + i)));
    const before = s.client.counters.requests;
    const results = await s.client.postOrders(orders);
    assert.equal(s.client.counters.requests - before, 2);
    assert.deepEqual(results.map((r) => r.orderID), orders.map((o) => o.hash));
    assert.ok(results.every((r) => r.success && r.status === 'live'));
    assert.equal((await s.client.openOrders()).length, 17);
  } finally {
    await teardown(s);
  }
});

test('order_version_mismatch: /version is re-read and the order re-signed and sent once', async () => {
  const s = await setup();
  try {
    assert.equal(await s.client.orderVersion(), 2);
    s.h.sim.polymarketClob().setVersion(3);
    const signed: number[] = [];
    const make = (v: 2 | 3) => {
      signed.push(v);
      return resting(s, '10', v);
    };
    const r = await s.client.postOrder(make);
    assert.equal(r.success, true, JSON.stringify(r));
    assert.deepEqual(signed, [2, 3], 'signed for v2, refused, re-signed for v3');
    assert.equal(await s.client.orderVersion(), 3);

    // A fixed order cannot be re-signed: the mismatch is the caller's, as a typed error.
    s.h.sim.polymarketClob().setVersion(2);
    await assert.rejects(s.client.postOrder(resting(s, '11', 3)), (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_CLOB_REQUEST' && /order_version_mismatch/.test(e.message));
    assert.equal(await s.client.orderVersion(), 2, 'the mismatch refreshed the cached version');

    // A mismatch while /version is unchanged is not retried in a loop.
    s.h.sim.injectFault('polymarket', 'order_version_mismatch');
    const tries: number[] = [];
    await assert.rejects(
      s.client.postOrder((v) => {
        tries.push(v);
        return resting(s, '12', v);
      }),
      (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_CLOB_REQUEST',
    );
    assert.deepEqual(tries, [2]);
  } finally {
    await teardown(s);
  }
});

test('429: the client backs off with jitter and gets through; its own limiter waits instead', async () => {
  const s = await setup({ rateLimits: { 'POST /order': { limit: 1, windowMs: 500 } } }, { random: () => 0.99, backoff: { baseMs: 200, maxMs: 1_000 } });
  try {
    assert.equal((await s.client.postOrder(resting(s, '10'))).success, true);
    const r = await s.client.postOrder(resting(s, '11'));
    assert.equal(r.success, true);
    assert.ok(s.client.counters.errors.rate_limited >= 1);
    assert.ok(s.client.counters.retries >= 1);
    assert.equal((await s.client.openOrders()).length, 2, 'a 429 placed nothing: no duplicate after the retry');
  } finally {
    await teardown(s);
  }
  const big = [{ limit: 1_000_000, windowMs: 1_000 }];
  const limits = { general: big, order: [{ limit: 1, windowMs: 400 }], orders: big, cancel: big, data: big, balance: big, balance_update: big, auth: big };
  // The venue allows a little more than the client's own bucket, so timer jitter cannot make the two disagree.
  const q = await setup({ rateLimits: { 'POST /order': { limit: 1, windowMs: 300 } } }, { limits });
  try {
    const rejectedBefore = q.h.sim.polymarketClob().rateLimited;
    for (const size of ['10', '11', '12']) assert.equal((await q.client.postOrder(resting(q, size))).success, true);
    assert.equal(q.client.counters.rateLimitWaits, 2);
    assert.ok(q.client.counters.rateLimitWaitMs > 0);
    assert.equal(q.h.sim.polymarketClob().rateLimited, rejectedBefore, 'the venue saw no request over its limit');
    assert.equal(q.client.counters.errors.rate_limited, 0);
  } finally {
    await teardown(q);
  }
});

test('an order POST whose answer is lost or late is looked up, not re-sent: one order on the book', async () => {
  const s = await setup({}, { timeoutMs: 400 });
  try {
    const clob = s.h.sim.polymarketClob();
    s.h.sim.injectFault('polymarket', 'lost_response');
    const lost = resting(s, '10');
    const r1 = await s.client.postOrder(lost);
    assert.deepEqual([r1.success, r1.orderID, r1.status], [true, lost.hash, 'live']);
    assert.equal(s.client.counters.lookups, 1);

    s.h.sim.injectFault('polymarket', 'http_slow', { durationMs: 1_500 });
    const late = resting(s, '11');
    const r2 = await s.client.postOrder(late);
    assert.deepEqual([r2.success, r2.orderID], [true, late.hash]);
    assert.equal(s.client.counters.errors.timeout, 1);
    assert.equal(s.client.counters.lookups, 2);
    assert.deepEqual(clob.openOrders(s.t.key.apiKey).map((o) => o.id).sort(), [lost.hash, late.hash].sort(), 'each order once');
  } finally {
    await teardown(s);
  }
});

test('an order POST that timed out or failed before the CLOB placed it is looked up, then sent again as the same order', async () => {
  const s = await setup({}, { timeoutMs: 400 });
  try {
    const clob = s.h.sim.polymarketClob();
    s.h.sim.injectFault('polymarket', 'http_timeout');
    const a = resting(s, '10');
    const ra = await s.client.postOrder(a);
    assert.deepEqual([ra.success, ra.orderID], [true, a.hash]);
    s.h.sim.injectFault('polymarket', 'http_5xx');
    const b = resting(s, '11');
    const rb = await s.client.postOrder(b);
    assert.deepEqual([rb.success, rb.orderID], [true, b.hash]);
    assert.equal(s.client.counters.lookups, 2);
    assert.equal(s.client.counters.errors.server, 1);
    assert.deepEqual(clob.openOrders(s.t.key.apiKey).map((o) => o.id).sort(), [a.hash, b.hash].sort());

    // A batch whose answer is lost: every order found by its hash, none sent twice.
    s.h.sim.injectFault('polymarket', 'lost_response');
    const batch = ['12', '13', '14'].map((size) => resting(s, size));
    const rs = await s.client.postOrders(batch);
    assert.deepEqual(rs.map((r) => r.orderID), batch.map((o) => o.hash));
    assert.equal(clob.openOrders(s.t.key.apiKey).length, 5);
  } finally {
    await teardown(s);
  }
});

test('reads and cancels are retried through a 5xx; an unknown key is a typed 401 without secrets', async () => {
  const s = await setup();
  try {
    assert.equal((await s.client.postOrder(resting(s, '10'))).success, true);
    s.h.sim.injectFault('polymarket', 'http_5xx');
    assert.equal((await s.client.openOrders()).length, 1);
    s.h.sim.injectFault('polymarket', 'http_5xx');
    assert.equal((await s.client.cancelAll()).canceled.length, 1);
    assert.equal(s.client.counters.errors.server, 2);
    assert.equal(s.client.counters.retries, 2);
  } finally {
    await teardown(s);
  }
  const h = await startClobSim({}, 7, { tradeProbability: 0 });
  const t = trader(h, HARDHAT_KEY);
  const secret = Buffer.from('not the registered secret, 32 b!').toString('base64url');
  const client = new ClobClient({ url: h.url, warmIntervalMs: 0 }, { address: t.signer.address, creds: { apiKey: t.key.apiKey, secret, passphrase: 'wrong-pass' } });
  try {
    await client.start();
    await assert.rejects(client.openOrders(), (e: unknown) => {
      assert.ok(e instanceof PolyedgeError);
      assert.equal(e.code, 'PE_CLOB_AUTH');
      assert.equal(e.exitCode, 77);
      assert.ok(!e.message.includes(secret) && !e.message.includes('wrong-pass'), e.message);
      return true;
    });
  } finally {
    await client.close();
    await h.stop();
  }
});

test("POLY_TIMESTAMP follows the CLOB's clock, and an idle client keeps its connection warm", async () => {
  // The venue's clock runs 100 s ahead: past its 30 s auth window, so only a client on server time gets through.
  const s = await setup({ nowMs: () => Date.now() + 100_000, authNowMs: () => Date.now() + 100_000 }, { warmIntervalMs: 300 });
  try {
    assert.ok(Math.abs(s.client.transport.clockOffsetMs - 100_000) <= 1_500, `offset ${s.client.transport.clockOffsetMs}`);
    assert.equal((await s.client.postOrder(resting(s, '10'))).success, true);
    // node:http announces Keep-Alive: timeout=5; the configured 300 ms is already shorter and stays.
    assert.equal(s.client.transport.warmupPeriodMs, 300);
    const before = s.client.counters.requests;
    const deadline = Date.now() + 5_000;
    while (s.client.counters.requests < before + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(s.client.counters.requests >= before + 2, 'idle: GET /time went out on its own');
  } finally {
    await teardown(s);
  }
  const slow = await setup({}, { warmIntervalMs: 60_000 });
  try {
    assert.equal(slow.client.transport.warmupPeriodMs, 2_500, "half the server's keep-alive timeout");
  } finally {
    await teardown(slow);
  }
});

test('when the lookup after an uncertain POST fails too, the order is not re-sent: PE_CLOB_UNCERTAIN names it', async () => {
  const s = await setup({}, { retries: 1 });
  try {
    s.h.sim.injectFault('polymarket', 'lost_response');
    // The lookup's two attempts (one retry) both get a 500.
    s.h.sim.injectFault('polymarket', 'http_5xx');
    s.h.sim.injectFault('polymarket', 'http_5xx');
    const o = resting(s, '10');
    await assert.rejects(s.client.postOrder(o), (e: unknown) => {
      assert.ok(e instanceof PolyedgeError);
      assert.equal(e.code, 'PE_CLOB_UNCERTAIN');
      assert.equal(e.exitCode, 75);
      assert.ok(e.message.includes(o.hash), e.message);
      return true;
    });
    assert.deepEqual(s.h.sim.polymarketClob().openOrders(s.t.key.apiKey).map((x) => x.id), [o.hash], 'placed once, by the first POST');
  } finally {
    await teardown(s);
  }
});

test('cancel-market-orders cancels one token\'s orders and leaves the others', async () => {
  const s = await setup();
  try {
    const yes = resting(s, '10');
    const no = build(s.t, s.h, { tokenId: s.h.no, side: 'BUY', price: dec('0.1'), size: dec('6') });
    assert.deepEqual((await s.client.postOrders([yes, no])).map((r) => r.success), [true, true]);
    const r = await s.client.cancelMarketOrders({ asset_id: s.h.yes });
    assert.deepEqual(r, { canceled: [yes.hash], not_canceled: {} });
    assert.deepEqual((await s.client.openOrders()).map((o) => o.id), [no.hash]);
    assert.deepEqual((await s.client.cancelMarketOrders({ market: s.h.conditionId })).canceled, [no.hash]);
  } finally {
    await teardown(s);
  }
});
