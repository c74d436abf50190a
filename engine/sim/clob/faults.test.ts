// HTTP faults of the simulated CLOB, injected on demand and at random, and
// counted in the simulator's fault ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { l2Headers } from '../../venues/polymarket/order/hmac.js';
import { CLOB_ERRORS } from './errors.js';
import { best, build, dec, HARDHAT_KEY, send, startClobSim, trader } from './testkit.js';

test('each HTTP fault kind happens and is counted', async () => {
  const h = await startClobSim({ slowMs: 300 });
  try {
    const t = trader(h, HARDHAT_KEY);
    const { bid } = best(h, h.yes);
    const order = (size: string) => build(t, h, { side: 'BUY', price: dec(bid.price), size: dec(size) }).body;

    h.sim.injectFault('polymarket', 'http_5xx');
    assert.equal((await send(h, t, 'GET', '/data/orders')).status, 500);

    h.sim.injectFault('polymarket', 'order_version_mismatch');
    const mismatch = await send(h, t, 'POST', '/order', order('5'));
    assert.equal((mismatch.body as { error: string }).error, CLOB_ERRORS.versionMismatch);
    assert.equal(h.sim.polymarketClob().openOrders(t.key.apiKey).length, 0);

    h.sim.injectFault('polymarket', 'lost_response');
    await assert.rejects(send(h, t, 'POST', '/order', order('6')));
    assert.equal(h.sim.polymarketClob().openOrders(t.key.apiKey).length, 1, 'the order was placed although its answer was lost');

    h.sim.injectFault('polymarket', 'http_slow', { durationMs: 400 });
    const started = Date.now();
    assert.equal((await send(h, t, 'GET', '/data/orders')).status, 200);
    assert.ok(Date.now() - started >= 350, 'the answer was held');

    h.sim.injectFault('polymarket', 'http_timeout');
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 500);
    await assert.rejects(fetch(`${h.url}/data/orders`, { headers: hdrs(t), signal: ctl.signal }));
    clearTimeout(timer);
    assert.equal((await send(h, t, 'GET', '/data/orders')).status, 200, 'one request only');

    const counts = h.sim.stats().faults.polymarket;
    assert.deepEqual(
      [counts.http_5xx, counts.order_version_mismatch, counts.lost_response, counts.http_slow, counts.http_timeout],
      [1, 1, 1, 1, 1],
    );
  } finally {
    await h.stop();
  }
});

function hdrs(t: ReturnType<typeof trader>): Record<string, string> {
  return { ...l2Headers(t.signer.address, t.key, 'GET', '/data/orders', undefined, Date.now() / 1000) };
}

test('random HTTP faults are drawn per request from the seed and counted', async () => {
  const run = async (): Promise<number[]> => {
    const h = await startClobSim();
    try {
      const t = trader(h, HARDHAT_KEY);
      h.sim.setRandomFaults({ rate: 0.5, seed: 3, kinds: ['http_5xx'] });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await send(h, t, 'GET', '/data/orders')).status);
      assert.equal(h.sim.stats().faults.polymarket.http_5xx, statuses.filter((s) => s === 500).length);
      return statuses;
    } finally {
      await h.stop();
    }
  };
  const a = await run();
  assert.ok(a.includes(500) && a.includes(200));
  assert.deepEqual(await run(), a);
});
