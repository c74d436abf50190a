import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WsProbe, getJson, postJson, withSim } from './testkit.js';
import type { PmBookSnapshot } from './polymarket.js';

type Level = { price: string; size: string };
type Json = Record<string, unknown>;

/** Everything received so far, flattened (frames can be arrays). */
function events(p: WsProbe, from = 0): Json[] {
  return p.json(from).flatMap((m) => (Array.isArray(m) ? m : [m])) as Json[];
}

/** PONG arrives after every frame sent before it: a barrier for "all data of the last advance() is here". */
async function barrier(p: WsProbe): Promise<void> {
  const pongs = p.frames.filter((f) => f === 'PONG').length;
  p.send('PING');
  await p.waitFor((f) => f.filter((x) => x === 'PONG').length > pongs, 'PONG barrier');
}

const key = (price: string): string => Number(price).toFixed(3);

/** A client-side book built from the channel, as a feed worker would. */
class MirrorBooks {
  readonly books = new Map<string, { bids: Map<string, string>; asks: Map<string, string> }>();

  apply(ev: Json): void {
    if (ev['event_type'] === 'book') {
      const bids = new Map((ev['bids'] as Level[]).map((l) => [key(l.price), l.size]));
      const asks = new Map((ev['asks'] as Level[]).map((l) => [key(l.price), l.size]));
      this.books.set(ev['asset_id'] as string, { bids, asks });
    } else if (ev['event_type'] === 'price_change') {
      for (const c of ev['price_changes'] as Json[]) {
        const b = this.books.get(c['asset_id'] as string);
        assert.ok(b, 'price_change before book');
        const side = c['side'] === 'BUY' ? b.bids : b.asks;
        if (Number(c['size']) === 0) side.delete(key(c['price'] as string));
        else side.set(key(c['price'] as string), c['size'] as string);
        // The entry's best_bid/best_ask describe the book right after this entry.
        const top = this.top(c['asset_id'] as string);
        assert.equal(key(c['best_bid'] as string), top.bid, `best_bid after entry ${JSON.stringify(c)}`);
        assert.equal(key(c['best_ask'] as string), top.ask, `best_ask after entry ${JSON.stringify(c)}`);
      }
    }
  }

  top(asset: string): { bid: string; ask: string } {
    const b = this.books.get(asset);
    assert.ok(b);
    const bids = [...b.bids.keys()].map(Number);
    const asks = [...b.asks.keys()].map(Number);
    return { bid: (bids.length ? Math.max(...bids) : 0).toFixed(3), ask: (asks.length ? Math.min(...asks) : 1).toFixed(3) };
  }

  levels(asset: string): { bids: string[][]; asks: string[][] } {
    const b = this.books.get(asset);
    assert.ok(b);
    const sort = (m: Map<string, string>): string[][] => [...m.entries()].sort((x, y) => Number(x[0]) - Number(y[0])).map(([p, s]) => [p, String(Number(s))]);
    return { bids: sort(b.bids), asks: sort(b.asks) };
  }
}

function restLevels(book: PmBookSnapshot): { bids: string[][]; asks: string[][] } {
  const sort = (l: readonly Level[]): string[][] => l.map((x) => [key(x.price), String(Number(x.size))]).sort((x, y) => Number(x[0]) - Number(y[0]));
  return { bids: sort(book.bids), asks: sort(book.asks) };
}

test('initial dump: one array frame with a §2.4 book per asset, complementary tokens mirrored', async () => {
  await withSim({ venues: ['polymarket'], speed: 'manual', seed: 11 }, async (sim, urls) => {
    const [m] = sim.polymarketMarkets();
    assert.ok(m);
    const p = await WsProbe.open(urls.polymarket!.wsUrl);
    p.send({ type: 'market', assets_ids: [m.yesTokenId, m.noTokenId], initial_dump: true });
    await p.waitFor((f) => f.length >= 1, 'initial dump');
    const first = JSON.parse(p.frames[0] as string) as Json[];
    assert.ok(Array.isArray(first), 'initial dump is an array frame');
    assert.deepEqual(first.map((b) => b['asset_id']), [m.yesTokenId, m.noTokenId]);
    for (const b of first) {
      assert.equal(b['event_type'], 'book');
      assert.equal(b['market'], m.conditionId);
      assert.match(b['market'] as string, /^0x[0-9a-f]{64}$/);
      assert.match(b['hash'] as string, /^[0-9a-f]{40}$/);
      assert.match(b['timestamp'] as string, /^\d{13}$/);
      assert.equal(b['tick_size'], '0.01');
      assert.equal(typeof b['last_trade_price'], 'string');
      const bids = (b['bids'] as Level[]).map((l) => Number(l.price));
      const asks = (b['asks'] as Level[]).map((l) => Number(l.price));
      // Best level last on both sides, like the venue.
      assert.deepEqual(bids, [...bids].sort((x, y) => x - y));
      assert.deepEqual(asks, [...asks].sort((x, y) => y - x));
      assert.ok(Math.max(...bids) < Math.min(...asks), 'book not crossed');
    }
    const [yes, no] = first as [Json, Json];
    const yesBids = (yes['bids'] as Level[]).map((l) => [Math.round(Number(l.price) * 1000), l.size]);
    const noAsks = (no['asks'] as Level[]).map((l) => [1000 - Math.round(Number(l.price) * 1000), l.size]);
    assert.deepEqual(new Map(yesBids as [number, string][]), new Map(noAsks as [number, string][]), 'YES bid at p = NO ask at 1-p');
    await p.close();
  });
});

test('price_change (current format) mirrors both tokens, and GET /book agrees with the WS book', async () => {
  await withSim({ venues: ['polymarket'], speed: 'manual', seed: 5, polymarket: { markets: 2, tradeProbability: 0.3 } }, async (sim, urls) => {
    const [m] = sim.polymarketMarkets();
    assert.ok(m);
    const p = await WsProbe.open(urls.polymarket!.wsUrl);
    p.send({ type: 'market', assets_ids: [m.yesTokenId, m.noTokenId] });
    await barrier(p);
    sim.advance('polymarket', 60);
    await barrier(p);
    const mirror = new MirrorBooks();
    let priceChanges = 0;
    let trades = 0;
    for (const ev of events(p)) {
      mirror.apply(ev);
      if (ev['event_type'] === 'price_change') {
        priceChanges++;
        assert.equal(ev['market'], m.conditionId);
        const entries = ev['price_changes'] as Json[];
        assert.equal(entries.length % 2, 0);
        for (let i = 0; i < entries.length; i += 2) {
          const [a, b] = [entries[i] as Json, entries[i + 1] as Json];
          for (const e of [a, b]) {
            for (const f of ['asset_id', 'price', 'size', 'side', 'hash', 'best_bid', 'best_ask']) assert.equal(typeof e[f], 'string', `${f} is a string`);
          }
          assert.equal(a['asset_id'], m.yesTokenId);
          assert.equal(b['asset_id'], m.noTokenId);
          assert.equal(Math.round(Number(a['price']) * 1000) + Math.round(Number(b['price']) * 1000), 1000, 'price mirrored');
          assert.equal(a['size'], b['size']);
          assert.notEqual(a['side'], b['side']);
        }
      }
      if (ev['event_type'] === 'last_trade_price') {
        trades++;
        assert.ok(['BUY', 'SELL'].includes(ev['side'] as string));
        assert.match(ev['price'] as string, /^0?\.\d+$/);
      }
      // Nothing for the other market leaks onto this subscription.
      if ('market' in ev) assert.equal(ev['market'], m.conditionId);
    }
    assert.ok(priceChanges > 10, `price changes seen: ${priceChanges}`);
    assert.ok(trades > 0, 'trades seen');
    for (const token of [m.yesTokenId, m.noTokenId]) {
      const rest = await getJson(`${urls.polymarket!.restUrl}/book?token_id=${token}`);
      assert.equal(rest.status, 200);
      const book = rest.body as PmBookSnapshot;
      assert.equal(book.asset_id, token);
      assert.equal(book.market, m.conditionId);
      assert.equal(book.neg_risk, false);
      assert.equal(book.min_order_size, '5');
      assert.deepEqual(restLevels(book), mirror.levels(token), `REST /book == WS book for ${token.slice(0, 8)}`);
    }
    await p.close();
  });
});

test('custom_feature_enabled adds best_bid_ask; without it none are sent', async () => {
  await withSim({ venues: ['polymarket'], speed: 'manual', seed: 3 }, async (sim, urls) => {
    const [m] = sim.polymarketMarkets();
    assert.ok(m);
    const plain = await WsProbe.open(urls.polymarket!.wsUrl);
    const custom = await WsProbe.open(urls.polymarket!.wsUrl);
    plain.send({ type: 'market', assets_ids: [m.yesTokenId] });
    custom.send({ type: 'market', assets_ids: [m.yesTokenId], custom_feature_enabled: true });
    await barrier(plain);
    await barrier(custom);
    sim.advance('polymarket', 40);
    await barrier(plain);
    await barrier(custom);
    const bba = events(custom).filter((e) => e['event_type'] === 'best_bid_ask');
    assert.ok(bba.length > 0);
    for (const e of bba) {
      assert.equal(e['asset_id'], m.yesTokenId);
      assert.equal(Number(e['spread']).toFixed(3), (Number(e['best_ask']) - Number(e['best_bid'])).toFixed(3));
    }
    assert.equal(events(plain).filter((e) => e['event_type'] === 'best_bid_ask').length, 0);
    // Only the subscribed token's entries are sent.
    for (const e of events(plain).filter((x) => x['event_type'] === 'price_change')) {
      for (const c of e['price_changes'] as Json[]) assert.equal(c['asset_id'], m.yesTokenId);
    }
    await plain.close();
    await custom.close();
  });
});

test('dynamic subscribe sends the new book; unsubscribe stops the flow', async () => {
  await withSim({ venues: ['polymarket'], speed: 'manual', seed: 8, polymarket: { markets: 2 } }, async (sim, urls) => {
    const [a, b] = sim.polymarketMarkets();
    assert.ok(a && b);
    const p = await WsProbe.open(urls.polymarket!.wsUrl);
    p.send({ type: 'market', assets_ids: [a.yesTokenId] });
    await barrier(p);
    p.send({ operation: 'subscribe', assets_ids: [b.noTokenId] });
    await barrier(p);
    const books = events(p).filter((e) => e['event_type'] === 'book').map((e) => e['asset_id']);
    assert.deepEqual(books, [a.yesTokenId, b.noTokenId]);
    p.send({ operation: 'unsubscribe', assets_ids: [a.yesTokenId] });
    await barrier(p);
    const mark = p.frames.length;
    sim.advance('polymarket', 30);
    await barrier(p);
    const later = events(p, mark);
    assert.ok(later.length > 0);
    for (const e of later) assert.equal(e['market'], b.conditionId, 'only the still-subscribed market');
    await p.close();
  });
});

test('PING→PONG; bad messages get INVALID OPERATION and the server keeps serving', async () => {
  await withSim({ venues: ['polymarket'], speed: 'manual', seed: 2 }, async (sim, urls) => {
    const [m] = sim.polymarketMarkets();
    assert.ok(m);
    const p = await WsProbe.open(urls.polymarket!.wsUrl);
    p.send('PING');
    await p.waitFor((f) => f.includes('PONG'), 'PONG');
    const bad: string[] = [
      'not json',
      '[1,2]',
      '{"assets_ids":"123"}',
      '{"assets_ids":[123]}',
      '{"type":"user","assets_ids":[]}',
      '{"operation":"resubscribe","assets_ids":["1"]}',
      '{"operation":"subscribe","assets_ids":[]}',
      '{"assets_ids":["1"],"initial_dump":"yes"}',
      '\u0000\u0001garbage',
    ];
    for (const b of bad) p.send(b);
    await p.waitFor((f) => f.filter((x) => x.startsWith('INVALID OPERATION')).length === bad.length, 'one INVALID OPERATION per bad message');
    p.send({ type: 'market', assets_ids: [m.yesTokenId] });
    p.send({ type: 'market', assets_ids: [m.noTokenId] });
    await p.waitFor((f) => f.some((x) => x.includes('initial subscription already sent')), 'second initial subscription rejected');
    assert.equal(sim.stats().venues.polymarket?.invalidMessages, bad.length + 1);
    // Still alive and serving this and new clients.
    await barrier(p);
    const q = await WsProbe.open(urls.polymarket!.wsUrl);
    q.send({ assets_ids: [m.yesTokenId] });
    await q.waitFor((f) => f.length > 0, 'book for a new client');
    assert.ok(p.isOpen);
    await p.close();
    await q.close();
  });
});

test('a price path across 0.96 produces tick_size_change 0.01→0.001 for both tokens; prices stay on the grid', async () => {
  const path = [0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.985, 0.985, 0.985];
  await withSim({ venues: ['polymarket'], speed: 'manual', seed: 4, polymarket: { markets: [{ startPrice: 0.9, path }], tradeProbability: 0 } }, async (sim, urls) => {
    const [m] = sim.polymarketMarkets();
    assert.ok(m);
    const p = await WsProbe.open(urls.polymarket!.wsUrl);
    p.send({ type: 'market', assets_ids: [m.yesTokenId, m.noTokenId] });
    await barrier(p);
    sim.advance('polymarket', path.length + 2);
    await barrier(p);
    const ticks = events(p).filter((e) => e['event_type'] === 'tick_size_change');
    assert.deepEqual(
      ticks.map((t) => [t['asset_id'], t['old_tick_size'], t['new_tick_size']]),
      [
        [m.yesTokenId, '0.01', '0.001'],
        [m.noTokenId, '0.01', '0.001'],
      ],
    );
    const all = events(p);
    const cut = all.findIndex((e) => e['event_type'] === 'tick_size_change');
    const milli = (e: Json): number[] =>
      e['event_type'] === 'price_change' ? (e['price_changes'] as Json[]).map((c) => Math.round(Number(c['price']) * 1000)) : [];
    const before = all.slice(0, cut).flatMap(milli);
    const after = all.slice(cut).flatMap(milli);
    assert.ok(before.length > 0 && before.every((x) => x % 10 === 0), 'on the 0.01 grid before the change');
    assert.ok(after.some((x) => x % 10 !== 0), 'quotes use the 0.001 grid after the change');
    const book = await getJson(`${urls.polymarket!.restUrl}/book?token_id=${m.yesTokenId}`);
    assert.equal((book.body as PmBookSnapshot).tick_size, '0.001');
    // After the change, the walk quotes inside (0.96, 1) on the fine grid.
    const best = Math.max(...(book.body as PmBookSnapshot).bids.map((l) => Number(l.price)));
    assert.ok(best > 0.96, `best bid ${best}`);
    await p.close();
  });
});

test('GET /book validates token_id; POST /books returns the known books', async () => {
  await withSim({ venues: ['polymarket'], speed: 'manual', seed: 6 }, async (sim, urls) => {
    const [m] = sim.polymarketMarkets();
    assert.ok(m);
    const base = urls.polymarket!.restUrl;
    assert.equal((await getJson(`${base}/book`)).status, 400);
    assert.equal((await getJson(`${base}/book?token_id=abc`)).status, 400);
    const missing = await getJson(`${base}/book?token_id=123`);
    assert.equal(missing.status, 404);
    assert.match((missing.body as { error: string }).error, /No orderbook/);
    const books = await postJson(`${base}/books`, [{ token_id: m.yesTokenId }, { token_id: '1' }, { token_id: m.noTokenId }]);
    assert.equal(books.status, 200);
    assert.deepEqual((books.body as PmBookSnapshot[]).map((b) => b.asset_id), [m.yesTokenId, m.noTokenId]);
    assert.deepEqual((books.body as PmBookSnapshot[])[0], sim.polymarketBook(m.yesTokenId));
    assert.equal((await postJson(`${base}/books`, { token_id: m.yesTokenId })).status, 400);
    assert.equal((await postJson(`${base}/books`, '{nope')).status, 400);
  });
});
