// Matching on the simulated CLOB: price-time priority with the generated
// book first at a price, partial fills, FOK all-or-nothing, FAK remainder
// cancelled, resting quotes filled by the generated flow, paging and limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOB_ERRORS } from './errors.js';
import { best, build, dec, HARDHAT_KEY, HARDHAT_KEY_1, send, startClobSim, trader, type RawReply } from './testkit.js';

const bodyOf = <T>(r: RawReply): T => r.body as T;

test('price-time priority, partial fills, FOK all-or-nothing, FAK remainder cancelled', async () => {
  const h = await startClobSim();
  try {
    const maker = trader(h, HARDHAT_KEY);
    const taker = trader(h, HARDHAT_KEY_1);
    const { bid } = best(h, h.yes);
    const level = Number(bid.size);
    const first = build(maker, h, { side: 'BUY', price: dec(bid.price), size: dec('10') });
    const second = build(maker, h, { side: 'BUY', price: dec(bid.price), size: dec('10') });
    for (const o of [first, second]) assert.equal(bodyOf<{ status: string }>(await send(h, maker, 'POST', '/order', o.body)).status, 'live');

    const tooBig = build(taker, h, { side: 'SELL', price: dec(bid.price), size: dec(String(level + 21)), type: 'FOK' });
    const killed = await send(h, taker, 'POST', '/order', tooBig.body);
    assert.equal(bodyOf<{ error: string }>(killed).error, CLOB_ERRORS.fokNotFilled);
    assert.equal(h.sim.polymarketClob().tradesOf().length, 0, 'a killed FOK trades nothing');

    const fak = build(taker, h, { side: 'SELL', price: dec(bid.price), size: dec(String(level + 15)), type: 'FAK' });
    const r = bodyOf<{ status: string; makingAmount: string }>(await send(h, taker, 'POST', '/order', fak.body));
    assert.equal(r.status, 'matched');
    assert.equal(r.makingAmount, String(level + 15), 'the book level, then 10 + 5 from the resting orders');
    const firstState = bodyOf<{ status: string }>(await send(h, maker, 'GET', `/data/order/${first.hash}`));
    assert.equal(firstState.status, 'MATCHED');
    const partial = bodyOf<{ status: string; size_matched: string }>(await send(h, maker, 'GET', `/data/order/${second.hash}`));
    assert.deepEqual([partial.status, partial.size_matched], ['LIVE', '5'], 'the later order at the same price fills after the earlier one');
    const trade = h.sim.polymarketClob().tradesOf(taker.key.apiKey)[0]!;
    assert.deepEqual(trade.maker_orders.map((m) => [m.owner === maker.key.apiKey, m.matched_amount]), [[false, String(level)], [true, '10'], [true, '5']]);
    const makerTrades = bodyOf<{ data: Array<{ trader_side: string }> }>(await send(h, maker, 'GET', '/data/trades'));
    assert.deepEqual(makerTrades.data.map((t) => t.trader_side), ['MAKER']);

    const fak2 = build(taker, h, { side: 'SELL', price: dec(bid.price), size: dec('8'), type: 'FAK' });
    assert.equal(bodyOf<{ makingAmount: string }>(await send(h, taker, 'POST', '/order', fak2.body)).makingAmount, '5');
    const fakState = bodyOf<{ status: string; size_matched: string }>(await send(h, taker, 'GET', `/data/order/${fak2.hash}`));
    assert.deepEqual([fakState.status, fakState.size_matched], ['CANCELED', '5'], 'the FAK remainder is cancelled');

    const none = build(taker, h, { side: 'SELL', price: dec('0.99'), size: dec('5'), type: 'FAK' });
    assert.equal(bodyOf<{ error: string }>(await send(h, taker, 'POST', '/order', none.body)).error, CLOB_ERRORS.fakNoMatch);

    // A NO buyer at 1 − p meets a YES buyer at p (the mint match).
    await send(h, maker, 'POST', '/order', build(maker, h, { side: 'BUY', price: dec(bid.price), size: dec('5') }).body);
    const noBuy = build(taker, h, { tokenId: h.no, side: 'BUY', price: dec((1 - Number(bid.price)).toFixed(3)), size: dec('5') });
    const minted = bodyOf<{ status: string }>(await send(h, taker, 'POST', '/order', noBuy.body));
    assert.equal(minted.status, 'matched');
    assert.equal(h.sim.polymarketClob().openOrders(maker.key.apiKey).length, 0, 'the YES bid filled against the NO buyer');
  } finally {
    await h.stop();
  }
});

async function flowFills(seed: number): Promise<string[]> {
  const h = await startClobSim({}, seed, { tradeProbability: 1 });
  try {
    const maker = trader(h, HARDHAT_KEY);
    const { bid, ask } = best(h, h.yes);
    for (const [side, price] of [['BUY', bid.price], ['SELL', ask.price]] as const) {
      await send(h, maker, 'POST', '/order', build(maker, h, { side, price: dec(price), size: dec('5') }).body);
    }
    for (let i = 0; i < 40 && h.sim.polymarketClob().openOrders(maker.key.apiKey).length === 2; i++) h.sim.advance('polymarket', 1);
    return h.sim.polymarketClob().tradesOf(maker.key.apiKey).map((t) => `${t.side}@${t.price}:${t.maker_orders.map((m) => m.matched_amount).join(',')}`);
  } finally {
    await h.stop();
  }
}

test('the generated flow fills resting quotes, deterministically under the seed', async () => {
  const a = await flowFills(11);
  assert.ok(a.length >= 1, 'a resting quote at the touch is reached by the flow');
  assert.equal(a[0]!.split('@')[0] === 'BUY' || a[0]!.split('@')[0] === 'SELL', true);
  assert.deepEqual(await flowFills(11), a);
});

test('paging walks every row and the route limit answers 429', async () => {
  const h = await startClobSim({ pageSize: 2, rateLimits: { 'GET /data/orders': { limit: 3, windowMs: 60_000 } } });
  try {
    const t = trader(h, HARDHAT_KEY);
    const { bid } = best(h, h.yes);
    for (let i = 0; i < 5; i++) {
      await send(h, t, 'POST', '/order', build(t, h, { side: 'BUY', price: dec(bid.price), size: dec(String(5 + i)) }).body);
    }
    const seen: string[] = [];
    let cursor = 'MA==';
    while (cursor !== 'LTE=') {
      const page = bodyOf<{ data: Array<{ original_size: string }>; next_cursor: string }>(await send(h, t, 'GET', `/data/orders?next_cursor=${cursor}`));
      seen.push(...page.data.map((o) => o.original_size));
      cursor = page.next_cursor;
    }
    assert.deepEqual(seen, ['5', '6', '7', '8', '9']);
    const limited = await send(h, t, 'GET', '/data/orders');
    assert.equal(limited.status, 429);
    assert.equal(bodyOf<{ error: string }>(limited).error, CLOB_ERRORS.tooManyRequests);
    assert.equal(h.sim.polymarketClob().rateLimited, 1);
  } finally {
    await h.stop();
  }
});
