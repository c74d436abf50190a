import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { WsProbe, delay, getJson, postJson, withSim } from './testkit.js';
import { parseControlRequest, type FaultRecord, type Venue } from './faults.js';
import type { VenueSimulator, SimEndpoints, SimStats } from './simulator.js';
import type { DepthUpdate } from './binance-types.js';

type Json = Record<string, unknown>;

const isJson = (f: string): boolean => {
  try {
    JSON.parse(f);
    return true;
  } catch {
    return false;
  }
};

async function pongBarrier(p: WsProbe): Promise<void> {
  const n = p.frames.filter((f) => f === 'PONG').length;
  p.send('PING');
  await p.waitFor((f) => f.filter((x) => x === 'PONG').length > n, 'PONG barrier');
}

/** Data frames only (no PONG). */
const data = (p: WsProbe, from = 0): string[] => p.frames.slice(from).filter((f) => f !== 'PONG');

const PM = { venues: ['polymarket'] as Venue[], speed: 'manual' as const, seed: 21, polymarket: { markets: 1, tradeProbability: 0 } };

async function pmClient(sim: VenueSimulator, urls: SimEndpoints, both = false): Promise<WsProbe> {
  const [m] = sim.polymarketMarkets();
  assert.ok(m);
  const p = await WsProbe.open(urls.polymarket!.wsUrl);
  p.send({ type: 'market', assets_ids: both ? [m.yesTokenId, m.noTokenId] : [m.yesTokenId] });
  await pongBarrier(p);
  return p;
}

const counts = (s: SimStats, v: Venue): Json => s.faults[v] as unknown as Json;

test('drop: the client sees an abnormal close (1006) on every venue; counted per venue', async () => {
  await withSim({ speed: 'manual', seed: 1 }, async (_sim, urls) => {
    const probes: Record<Venue, WsProbe> = {
      polymarket: await WsProbe.open(urls.polymarket!.wsUrl),
      binance: await WsProbe.open(`${urls.binance!.wsBaseUrl}/stream?streams=btcusdt@depth@0ms`),
      rtds: await WsProbe.open(urls.rtds!.wsUrl),
      deribit: await WsProbe.open(urls.deribit!.wsUrl),
    };
    for (const venue of Object.keys(probes) as Venue[]) {
      const r = await postJson(`${urls.controlUrl}/_sim/fault`, { venue, fault: 'drop' });
      assert.deepEqual(r, { status: 200, body: { ok: true, venue, fault: 'drop', connections: 1 } });
      const closed = await probes[venue].waitForClose();
      assert.equal(closed.code, 1006, `${venue} close code`);
    }
    const stats = (await getJson(`${urls.controlUrl}/_sim/stats`)).body as SimStats;
    for (const v of ['polymarket', 'binance', 'rtds', 'deribit'] as const) {
      assert.equal(counts(stats, v)['drop'], 1);
      assert.equal(stats.venues[v]?.connections, 0);
    }
    assert.equal(stats.totalFaults, 4);
  });
});

test('stall: no data and no PONG for the duration, then both resume', async () => {
  await withSim({ venues: ['rtds'], speed: 'manual', seed: 2 }, async (sim, urls) => {
    const p = await WsProbe.open(urls.rtds!.wsUrl);
    p.send({ action: 'subscribe', subscriptions: [{ topic: 'crypto_prices', type: 'update' }] });
    await pongBarrier(p);
    const r = await postJson(`${urls.controlUrl}/_sim/fault`, { venue: 'rtds', fault: 'stall', durationMs: 600 });
    assert.equal(r.status, 200);
    const stalledAt = performance.now();
    const mark = p.frames.length;
    sim.advance('rtds', 16);
    p.send('PING');
    await delay(300);
    assert.deepEqual(p.frames.slice(mark), [], 'silent while stalled');
    assert.ok(p.isOpen, 'socket stays open');
    await delay(Math.max(0, 650 - (performance.now() - stalledAt)));
    await pongBarrier(p);
    sim.advance('rtds', 16);
    await pongBarrier(p);
    const after = p.json(mark) as Json[];
    assert.equal(after.length, 8, 'data flows again (only what was sent after the stall)');
    assert.equal(counts(sim.stats(), 'rtds')['stall'], 1);
    await p.close();
  });
});

test('malformed, truncated, duplicate, reorder: each visible in the next data frames and counted once', async () => {
  await withSim(PM, async (sim, urls) => {
    const p = await pmClient(sim, urls);
    const step = async (fault: 'malformed' | 'truncated' | 'duplicate' | 'reorder'): Promise<string[]> => {
      assert.equal(sim.injectFault('polymarket', fault), 1);
      const mark = p.frames.length;
      // Two steps always give at least two price_change frames here.
      sim.advance('polymarket', 2);
      await pongBarrier(p);
      return data(p, mark);
    };

    const mal = await step('malformed');
    assert.equal(isJson(mal[0] as string), false, 'first frame is not JSON');
    assert.ok(mal.slice(1).every(isJson), 'the rest is intact');

    const tr = await step('truncated');
    assert.equal(isJson(tr[0] as string), false);
    assert.ok((tr[1] as string).startsWith(tr[0] as string) && (tr[0] as string).length < (tr[1] as string).length, 'a strict prefix of the real frame');

    const dup = await step('duplicate');
    assert.equal(dup[0], dup[1], 'same frame twice');
    assert.ok(dup.every(isJson));

    const ro = await step('reorder');
    const ts = ro.map((f) => Number((JSON.parse(f) as Json)['timestamp']));
    const inversions = ts.filter((t, i) => i > 0 && t < (ts[i - 1] as number)).length;
    assert.equal(inversions, 1, `exactly one out-of-order frame: ${ts.join(',')}`);
    assert.ok((ts[0] as number) > (ts[1] as number), 'the first two frames are swapped');

    const c = counts(sim.stats(), 'polymarket');
    assert.deepEqual([c['malformed'], c['truncated'], c['duplicate'], c['reorder']], [1, 1, 1, 1]);
    await p.close();
  });
});

test('crossed_book: a price_change crossing the book, then its repair; tick_size_change flips the tick for both tokens', async () => {
  await withSim(PM, async (sim, urls) => {
    const [m] = sim.polymarketMarkets();
    assert.ok(m);
    const p = await pmClient(sim, urls, true);
    const mark = p.frames.length;
    assert.equal(sim.injectFault('polymarket', 'crossed_book'), 1);
    await pongBarrier(p);
    const [crossed, repair] = data(p, mark).map((f) => JSON.parse(f) as Json);
    const crossedEntries = crossed?.['price_changes'] as Json[];
    assert.equal(crossedEntries.length, 2, 'both tokens');
    for (const e of crossedEntries) assert.ok(Number(e['best_bid']) > Number(e['best_ask']), `crossed: ${JSON.stringify(e)}`);
    for (const e of repair?.['price_changes'] as Json[]) {
      assert.equal(e['size'], '0');
      assert.ok(Number(e['best_bid']) < Number(e['best_ask']));
    }
    const before = sim.polymarketBook(m.yesTokenId);
    assert.equal(before?.tick_size, '0.01');
    const mark2 = p.frames.length;
    const r = await postJson(`${urls.controlUrl}/_sim/fault`, { venue: 'polymarket', fault: 'tick_size_change', assetId: m.noTokenId });
    assert.equal((r.body as Json)['connections'], 1);
    await pongBarrier(p);
    const ticks = (p.json(mark2) as Json[]).filter((e) => e['event_type'] === 'tick_size_change');
    assert.deepEqual(ticks.map((t) => [t['asset_id'], t['old_tick_size'], t['new_tick_size']]), [
      [m.yesTokenId, '0.01', '0.001'],
      [m.noTokenId, '0.01', '0.001'],
    ]);
    assert.equal(sim.polymarketBook(m.yesTokenId)?.tick_size, '0.001');
    const c = counts(sim.stats(), 'polymarket');
    assert.deepEqual([c['crossed_book'], c['tick_size_change']], [1, 1]);
    await p.close();
  });
});

test('sequence_gap: one diff is skipped for the client, so pu breaks exactly once; REST stays consistent', async () => {
  await withSim({ venues: ['binance'], speed: 'manual', seed: 4 }, async (sim, urls) => {
    const p = await WsProbe.open(`${urls.binance!.wsBaseUrl}/stream?streams=btcusdt@depth@0ms`);
    sim.advance('binance', 20);
    assert.equal(sim.injectFault('binance', 'sequence_gap'), 1);
    sim.advance('binance', 40);
    p.send({ method: 'LIST_SUBSCRIPTIONS', id: 9 });
    await p.waitFor((f) => f.some((x) => x.includes('"id":9')), 'barrier');
    const ev = (p.json() as Array<{ stream?: string; data: DepthUpdate }>).filter((m) => m.stream).map((m) => m.data);
    const breaks = ev.filter((e, i) => i > 0 && e.pu !== ev[i - 1]?.u);
    assert.equal(breaks.length, 1);
    assert.equal(counts(sim.stats(), 'binance')['sequence_gap'], 1);
    const rest = (await getJson(`${urls.binance!.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=5`)).body as { lastUpdateId: number };
    assert.equal(rest.lastUpdateId, ev.at(-1)?.u);
    await p.close();
  });
});

test('reorder then sequence_gap: the held diff is overtaken first, the skip applies to the diff after; both visible', async () => {
  await withSim({ venues: ['binance'], speed: 'manual', seed: 4 }, async (sim, urls) => {
    const p = await WsProbe.open(`${urls.binance!.wsBaseUrl}/stream?streams=btcusdt@depth@0ms`);
    sim.advance('binance', 20);
    p.send({ method: 'LIST_SUBSCRIPTIONS', id: 8 });
    await p.waitFor((f) => f.some((x) => x.includes('"id":8')), 'barrier');
    const from = p.frames.length;
    const emitted: number[] = [];
    const diffs = (): number => {
      const before = sim.binanceDepth(1).lastUpdateId;
      sim.advance('binance', 1);
      const after = sim.binanceDepth(1).lastUpdateId;
      if (after !== before) emitted.push(after);
      return emitted.length;
    };
    assert.equal(sim.injectFault('binance', 'reorder'), 1);
    assert.equal(sim.injectFault('binance', 'sequence_gap'), 1);
    while (diffs() < 6);
    p.send({ method: 'LIST_SUBSCRIPTIONS', id: 9 });
    await p.waitFor((f) => f.some((x) => x.includes('"id":9')), 'barrier');
    const got = (p.json(from) as Array<{ stream?: string; data: DepthUpdate }>).filter((m) => m.stream).map((m) => m.data.u);
    // Diffs a b c d …: a is held, b overtakes it, c is skipped.
    const [a, b, , d, e, f] = emitted;
    assert.deepEqual(got, [b, a, d, e, f]);
    const c = counts(sim.stats(), 'binance');
    assert.deepEqual([c['reorder'], c['sequence_gap']], [1, 1]);
    await p.close();
  });
});

test('random faults: same seeds → same faults at the same frames; what the client sees matches the counts', async () => {
  const run = async (faultSeed: number): Promise<{ log: Array<[string, number, number]>; unparsable: number; stats: SimStats }> =>
    withSim(
      { ...PM, polymarket: { markets: 2, tradeProbability: 0.2 }, faults: { rate: 0.05, seed: faultSeed, kinds: ['malformed', 'truncated', 'duplicate', 'reorder', 'crossed_book'] } },
      async (sim, urls) => {
        const p = await pmClient(sim, urls, true);
        for (let i = 0; i < 10; i++) {
          sim.advance('polymarket', 20);
          await pongBarrier(p);
        }
        await p.close();
        const log = sim.faultLog().map((r: FaultRecord): [string, number, number] => [r.kind, r.connection, r.frame]);
        const unparsable = data(p).filter((f) => !isJson(f)).length;
        return { log, unparsable, stats: sim.stats() };
      },
    );
  const a = await run(77);
  const b = await run(77);
  const c = await run(78);
  assert.ok(a.log.length >= 10, `${a.log.length} faults injected`);
  assert.ok(new Set(a.log.map((x) => x[0])).size >= 4, 'several kinds drawn');
  assert.deepEqual(b.log, a.log);
  assert.notDeepEqual(c.log, a.log);
  const pm = counts(a.stats, 'polymarket');
  assert.equal(a.unparsable, (pm['malformed'] as number) + (pm['truncated'] as number));
  assert.equal(a.stats.totalFaults, a.log.length);
});

test('random faults via the control endpoint: rate 1 duplicates every Deribit frame until turned off', async () => {
  await withSim({ venues: ['deribit'], speed: 'manual', seed: 3 }, async (sim, urls) => {
    const p = await WsProbe.open(urls.deribit!.wsUrl);
    p.send({ jsonrpc: '2.0', id: 1, method: 'public/subscribe', params: { channels: ['deribit_volatility_index.btc_usd'] } });
    await p.waitFor((f) => f.length === 1, 'subscribe reply');
    const on = await postJson(`${urls.controlUrl}/_sim/fault`, { fault: 'random', rate: 1, seed: 3, venues: ['deribit'], kinds: ['duplicate'] });
    assert.equal(on.status, 200);
    sim.advance('deribit', 6);
    await p.waitFor((f) => f.length === 7, 'three notifications, each twice');
    assert.equal(p.frames[1], p.frames[2]);
    assert.equal(p.frames[5], p.frames[6]);
    assert.equal((await postJson(`${urls.controlUrl}/_sim/fault`, { fault: 'random', rate: 0 })).status, 200);
    sim.advance('deribit', 6);
    await p.waitFor((f) => f.length === 10, 'three more, once each');
    assert.equal(new Set(p.frames.slice(7)).size, 3);
    assert.equal(counts(sim.stats(), 'deribit')['duplicate'], 3);
    await p.close();
  });
});

test('control endpoint: bad bodies get 400 with the reason; a venue that is not running gets 409', async () => {
  await withSim({ venues: ['polymarket'], speed: 'manual' }, async (_sim, urls) => {
    const url = `${urls.controlUrl}/_sim/fault`;
    const cases: Array<[string | object, RegExp]> = [
      ['', /empty body/],
      ['{"venue":', /not valid JSON/],
      [[1, 2], /JSON object/],
      [{ fault: 'drop' }, /'venue'/],
      [{ venue: 'kraken', fault: 'drop' }, /'venue' must be one of/],
      [{ venue: 'polymarket', fault: 'explode' }, /'fault' must be one of/],
      [{ venue: 'polymarket', fault: 'sequence_gap' }, /not supported for venue 'polymarket'/],
      [{ venue: 'binance', fault: 'crossed_book' }, /not supported for venue 'binance'/],
      [{ venue: 'polymarket', fault: 'drop', durationMs: 100 }, /only applies to 'stall'/],
      [{ venue: 'polymarket', fault: 'stall', durationMs: -5 }, /durationMs/],
      [{ venue: 'polymarket', fault: 'stall', durationMs: 1.5 }, /durationMs/],
      [{ venue: 'polymarket', fault: 'drop', colour: 'red' }, /unknown field\(s\): colour/],
      [{ venue: 'polymarket', fault: 'tick_size_change', assetId: '42' }, /unknown assetId 42/],
      [{ fault: 'random', rate: 0.1 }, /'seed' is required/],
      [{ fault: 'random', rate: 2, seed: 1 }, /'rate'/],
      [{ fault: 'random', rate: 0.1, seed: 1, kinds: ['tick_size_change'] }, /cannot be drawn randomly/],
      [{ fault: 'random', rate: 0.1, seed: 1, venues: ['deribit'] }, /not running: deribit/],
    ];
    for (const [body, reason] of cases) {
      const r = await postJson(url, body);
      assert.equal(r.status, 400, `status for ${JSON.stringify(body)}`);
      assert.match((r.body as { error: string }).error, reason, `reason for ${JSON.stringify(body)}`);
    }
    const notRunning = await postJson(url, { venue: 'binance', fault: 'drop' });
    assert.equal(notRunning.status, 409);
    const big = await postJson(url, `{"venue":"polymarket","fault":"drop","pad":"${'x'.repeat(20_000)}"}`);
    assert.equal(big.status, 413);
    assert.equal((await getJson(`${urls.controlUrl}/nowhere`)).status, 404);
    // Nothing was injected by any of that.
    assert.equal(((await getJson(`${urls.controlUrl}/_sim/stats`)).body as SimStats).totalFaults, 0);
  });
});

test('parseControlRequest accepts the documented bodies', () => {
  assert.deepEqual(parseControlRequest({ venue: 'rtds', fault: 'stall', durationMs: 3000 }), {
    ok: true,
    value: { action: 'inject', venue: 'rtds', fault: 'stall', options: { durationMs: 3000 } },
  });
  assert.deepEqual(parseControlRequest({ fault: 'random', rate: 0 }), { ok: true, value: { action: 'random', config: null } });
  const r = parseControlRequest({ fault: 'random', rate: 0.5, seed: 9, kinds: ['drop'] });
  assert.ok(r.ok && r.value.action === 'random' && r.value.config?.seed === 9);
});

test('garbage from clients (binary, oversized, random bytes) never takes a venue down', async () => {
  await withSim({ speed: 'manual', seed: 5 }, async (sim, urls) => {
    const targets = [
      urls.polymarket!.wsUrl,
      `${urls.binance!.wsBaseUrl}/stream?streams=btcusdt@bookTicker`,
      urls.rtds!.wsUrl,
      urls.deribit!.wsUrl,
    ];
    for (const url of targets) {
      const p = await WsProbe.open(url);
      const raw = new WebSocket(url);
      await new Promise((r) => raw.once('open', r));
      raw.send(Buffer.from([0xff, 0xfe, 0x00, 0x01]), { binary: true });
      raw.send(Buffer.from([0xc3, 0x28, 0xa0, 0xa1]).toString('latin1'));
      raw.send('{"a":'.repeat(1000));
      raw.send('x'.repeat(100_000)); // over the message size limit: the server drops this client only
      await new Promise((r) => raw.once('close', r));
      p.send('PING');
      p.send({ method: 'LIST_SUBSCRIPTIONS', id: 1, jsonrpc: '2.0' });
      await p.waitFor((f) => f.length >= 2, `${url} still answers`);
      assert.ok(p.isOpen);
      await p.close();
    }
    const stats = sim.stats();
    for (const v of ['polymarket', 'binance', 'rtds', 'deribit'] as const) assert.ok((stats.venues[v]?.invalidMessages ?? 0) >= 3, `${v} counted garbage`);
  });
});
