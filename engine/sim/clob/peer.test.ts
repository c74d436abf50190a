// Peer compatibility: Polymarket's official TypeScript client and the
// engine's own order builder both trade on the simulator's CLOB over a real
// loopback server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderType, Side, type TickSize as OfficialTick } from '@polymarket/clob-client-v2';
import { best, build, dec, HARDHAT_KEY, officialClient, send, startClobSim, trader } from './testkit.js';

test('the official client derives a key, places, lists and cancels orders, and trades', async () => {
  const h = await startClobSim({ pageSize: 2 });
  try {
    const l1 = officialClient(h.url, HARDHAT_KEY);
    const creds = await l1.createOrDeriveApiKey();
    assert.match(creds.key, /^[0-9a-f-]{36}$/);
    assert.deepEqual(await l1.deriveApiKey(), creds, 'derive gives the same key for the same address and nonce');
    const client = officialClient(h.url, HARDHAT_KEY, creds);
    const opts = { tickSize: h.tick as OfficialTick, negRisk: false };
    const { bid, ask } = best(h, h.yes);
    const restPrice = Number(bid.price) - 2 * Number(h.tick);

    const placed = await client.createAndPostOrder({ tokenID: h.yes, price: restPrice, size: 10, side: Side.BUY }, opts, OrderType.GTC);
    assert.equal(placed.success, true, JSON.stringify(placed));
    assert.equal(placed.status, 'live');
    assert.match(placed.orderID, /^0x[0-9a-f]{64}$/);

    const batch = await client.postOrders(
      await Promise.all(
        [1, 2, 3].map(async (i) => ({
          order: await client.createOrder({ tokenID: h.yes, price: restPrice, size: 5 + i, side: Side.BUY }, opts),
          orderType: OrderType.GTC,
        })),
      ),
    );
    assert.equal((batch as Array<{ success: boolean }>).filter((r) => r.success).length, 3, JSON.stringify(batch));

    const open = await client.getOpenOrders({ asset_id: h.yes });
    assert.equal(open.length, 4, 'paging (2 per page) walks every open order');
    const one = await client.getOrder(placed.orderID);
    assert.equal(one.status, 'LIVE');
    assert.equal(one.original_size, '10');
    assert.equal(one.price, String(restPrice));

    const canceled = await client.cancelOrder({ orderID: placed.orderID });
    assert.deepEqual(canceled.canceled, [placed.orderID]);
    assert.equal((await client.getOpenOrders()).length, 3);
    const all = await client.cancelAll();
    assert.equal(all.canceled.length, 3);
    assert.equal((await client.getOpenOrders()).length, 0);

    const taken = await client.createAndPostOrder({ tokenID: h.yes, price: Number(ask.price), size: 5, side: Side.BUY }, opts, OrderType.GTC);
    assert.equal(taken.status, 'matched', JSON.stringify(taken));
    assert.equal(taken.takingAmount, '5');
    assert.equal(taken.tradeIDs?.length, 1);
    const trades = await client.getTrades({ id: taken.tradeIDs![0]! });
    assert.equal(trades.length, 1);
    assert.equal(trades[0]!.taker_order_id, taken.orderID);
    assert.equal(trades[0]!.size, '5');
    assert.equal(trades[0]!.trader_side, 'TAKER');

    const bal = await client.getBalanceAllowance({ asset_type: 'CONDITIONAL' as never, token_id: h.yes });
    assert.equal(bal.balance, '5000000');
    assert.deepEqual(await client.postHeartbeat('hb-1'), { heartbeat_id: 'hb-1' });
  } finally {
    await h.stop();
  }
});

test('an order built by the engine (native signer, hmac.ts headers) is accepted and matched', async () => {
  const h = await startClobSim();
  try {
    const t = trader(h, HARDHAT_KEY);
    const { ask } = best(h, h.yes);
    const built = build(t, h, { side: 'BUY', price: dec(ask.price), size: dec('7') });
    const r = await send(h, t, 'POST', '/order', built.body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const body = r.body as { success: boolean; orderID: string; status: string; takingAmount: string };
    assert.equal(body.orderID, built.hash, 'the order id is the EIP-712 hash the engine computed');
    assert.equal(body.status, 'matched');
    assert.equal(body.takingAmount, '7');
    const noBuy = build(t, h, { tokenId: h.no, side: 'BUY', price: dec('0.1'), size: dec('6') });
    const rested = await send(h, t, 'POST', '/order', noBuy.body);
    assert.equal((rested.body as { status: string }).status, 'live');
    assert.deepEqual(h.sim.polymarketClob().openOrders(t.key.apiKey).map((o) => o.id), [noBuy.hash]);
  } finally {
    await h.stop();
  }
});
