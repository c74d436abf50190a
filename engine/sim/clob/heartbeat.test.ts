// The venue's dead-man switch on the simulated CLOB: a key that has sent a
// heartbeat and then falls silent for the timeout loses every open order; a
// key that never sent one keeps its orders; heartbeats on time keep them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { best, build, dec, HARDHAT_KEY, HARDHAT_KEY_1, send, startClobSim, trader, type Harness, type Trader } from './testkit.js';

async function rest(h: Harness, t: Trader, n: number): Promise<void> {
  const { bid } = best(h, h.yes);
  for (let i = 1; i <= n; i++) {
    const price = dec((Number(bid.price) - i * Number(h.tick)).toFixed(3));
    const r = await send(h, t, 'POST', '/order', build(t, h, { side: 'BUY', price, size: dec('10') }).body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((r.body as { status: string }).status, 'live');
  }
}

const heartbeat = async (h: Harness, t: Trader): Promise<void> => assert.equal((await send(h, t, 'POST', '/v1/heartbeats', { heartbeat_id: '' })).status, 200);

test('silence after a heartbeat cancels every open order of that key on the timer; a key that never sent one is untouched', async () => {
  const h = await startClobSim({ heartbeatTimeoutMs: 300 });
  try {
    const clob = h.sim.polymarketClob();
    const silent = trader(h, HARDHAT_KEY);
    const never = trader(h, HARDHAT_KEY_1);
    await heartbeat(h, silent);
    await rest(h, silent, 3);
    await rest(h, never, 2);
    assert.ok(clob.heartbeats().has(silent.key.apiKey));

    // No request at all from here: the timer alone acts.
    const deadline = Date.now() + 10_000;
    while (clob.openOrders(silent.key.apiKey).length > 0 && Date.now() < deadline) await sleep(25);
    assert.equal(clob.openOrders(silent.key.apiKey).length, 0, 'the silent key lost its orders');
    assert.equal(clob.openOrders(never.key.apiKey).length, 2, 'a key that never heartbeats keeps its orders');
    assert.deepEqual(clob.heartbeatExpiries, { keys: 1, orders: 3 });
    assert.ok(!clob.heartbeats().has(silent.key.apiKey), 'disarmed until its next heartbeat');
    const listed = await send(h, silent, 'GET', '/data/orders');
    assert.deepEqual((listed.body as { data: unknown[] }).data, [], 'the listing agrees');

    // Armed again by a heartbeat; heartbeats on time keep the order for well past the timeout.
    await heartbeat(h, silent);
    await rest(h, silent, 1);
    for (let i = 0; i < 8; i++) {
      await sleep(100);
      await heartbeat(h, silent);
    }
    assert.equal(clob.openOrders(silent.key.apiKey).length, 1, 'kept alive by heartbeats');
    assert.deepEqual(clob.heartbeatExpiries, { keys: 1, orders: 3 });
  } finally {
    await h.stop();
  }
});

test('a request arriving after the timeout finds the silent key\'s orders already cancelled (a process that was stopped)', async () => {
  // The venue's wall clock is moved by hand; the timer's period (a quarter of a minute) never comes during the test.
  let skewMs = 0;
  const h = await startClobSim({ heartbeatTimeoutMs: 60_000, authNowMs: () => Date.now() + skewMs, authWindowSeconds: 3600 });
  try {
    const clob = h.sim.polymarketClob();
    const a = trader(h, HARDHAT_KEY);
    const b = trader(h, HARDHAT_KEY_1);
    await heartbeat(h, a);
    await rest(h, a, 2);
    await rest(h, b, 1);

    skewMs = 55_000;
    assert.equal((await send(h, b, 'GET', '/data/orders')).status, 200);
    assert.equal(clob.openOrders(a.key.apiKey).length, 2, 'not yet: 55 s of silence');

    skewMs = 61_000;
    // The silent key's own first request after the gap: the sweep runs before it is served.
    const listed = await send(h, a, 'GET', '/data/orders');
    assert.deepEqual((listed.body as { data: unknown[] }).data, []);
    assert.deepEqual(clob.heartbeatExpiries, { keys: 1, orders: 2 });
    assert.equal(clob.openOrders(b.key.apiKey).length, 1);
    const trades = await send(h, a, 'GET', '/data/trades');
    assert.deepEqual((trades.body as { data: unknown[] }).data, [], 'cancelled, not filled');
  } finally {
    await h.stop();
  }
});

test('heartbeatTimeoutMs must be a positive number', async () => {
  for (const bad of [0, -1, Number.NaN, Infinity]) {
    await assert.rejects(startClobSim({ heartbeatTimeoutMs: bad }), /clob\.heartbeatTimeoutMs must be a positive number of ms/);
  }
});
