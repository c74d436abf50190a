import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WsProbe, withSim } from './testkit.js';
import { defaultRtdsPaths, loadRtdsRecording } from './recorded.js';
import { parseSymbolFilter } from './rtds.js';

type Msg = { connection_id?: string; topic: string; type: string; timestamp: number; payload: Record<string, unknown> };

async function barrier(p: WsProbe): Promise<void> {
  const n = p.frames.filter((f) => f === 'PONG').length;
  p.send('PING');
  await p.waitFor((f) => f.filter((x) => x === 'PONG').length > n, 'PONG barrier');
}

const msgs = (p: WsProbe): Msg[] => p.json() as Msg[];

test('recorded: crypto_prices subscription replays the capture in order with this connection\'s id', async () => {
  const recording = loadRtdsRecording(defaultRtdsPaths());
  await withSim({ venues: ['rtds'], source: 'recorded', speed: 'manual' }, async (sim, urls) => {
    const p = await WsProbe.open(urls.rtds!.wsUrl);
    p.send({ action: 'subscribe', subscriptions: [{ topic: 'crypto_prices', type: 'update' }] });
    await barrier(p);
    sim.advance('rtds', 400);
    await barrier(p);
    const got = msgs(p);
    const expected = recording.slice(0, 400).filter((m) => m.topic === 'crypto_prices');
    assert.ok(expected.length > 100);
    assert.deepEqual(
      got.map((m) => [m.topic, m.type, m.timestamp, m.payload]),
      expected.map((m) => [m.topic, m.type, m.timestamp, m.payload]),
    );
    const ids = new Set(got.map((m) => m.connection_id));
    assert.equal(ids.size, 1);
    assert.equal(typeof [...ids][0], 'string');
    for (const m of got) assert.match(m.payload['full_accuracy_value'] as string, /^\d+\.\d{8}$/);
    await p.close();
  });
});

test('chainlink symbol filter: only that symbol, with a history dump on subscribe; unsubscribe stops it', async () => {
  await withSim({ venues: ['rtds'], source: 'recorded', speed: 'manual' }, async (sim, urls) => {
    sim.advance('rtds', 200);
    const p = await WsProbe.open(urls.rtds!.wsUrl);
    const sub = { topic: 'crypto_prices_chainlink', type: '*', filters: '{"symbol":"btc/usd"}' };
    p.send({ action: 'subscribe', subscriptions: [sub] });
    await barrier(p);
    const dump = msgs(p);
    assert.equal(dump.length, 1);
    assert.equal(dump[0]?.type, 'subscribe');
    assert.equal(dump[0]?.payload['symbol'], 'btc/usd');
    const points = dump[0]?.payload['data'] as Array<{ timestamp: number; value: number }>;
    assert.ok(points.length > 5 && points.every((x) => typeof x.value === 'number' && x.value > 50_000));
    sim.advance('rtds', 200);
    await barrier(p);
    const updates = msgs(p).slice(1);
    assert.ok(updates.length > 10);
    for (const m of updates) {
      assert.equal(m.topic, 'crypto_prices_chainlink');
      assert.equal(m.payload['symbol'], 'btc/usd');
      // 18-decimal fixed point; `value` is its rounded float.
      const exact = Number(BigInt(m.payload['full_accuracy_value'] as string) / 10n ** 12n) / 1e6;
      assert.ok(Math.abs(exact - (m.payload['value'] as number)) < 1e-5, `${exact} vs ${String(m.payload['value'])}`);
    }
    p.send({ action: 'unsubscribe', subscriptions: [sub] });
    await barrier(p);
    const mark = p.frames.length;
    sim.advance('rtds', 200);
    await barrier(p);
    assert.deepEqual(p.frames.slice(mark), ['PONG']);
    await p.close();
  });
});

test('filter formats: comma list, JSON object and JSON array are all accepted', () => {
  for (const f of ['btcusdt,ethusdt', '{"symbol":["btcusdt","ethusdt"]}', '["BTCUSDT","ethusdt"]']) {
    const r = parseSymbolFilter(f);
    assert.ok(r.ok);
    assert.deepEqual(r.value, new Set(['btcusdt', 'ethusdt']), f);
  }
  const all = parseSymbolFilter('');
  assert.ok(all.ok);
  assert.equal(all.value, null);
  assert.equal(parseSymbolFilter('{"symbol":').ok, false);
  assert.equal(parseSymbolFilter('{"sym":"x"}').ok, false);
});

test('PING→PONG and ping→pong; invalid requests get an error body and the connection survives', async () => {
  await withSim({ venues: ['rtds'], speed: 'manual' }, async (sim, urls) => {
    const p = await WsProbe.open(urls.rtds!.wsUrl);
    p.send('ping');
    await p.waitFor((f) => f.includes('pong'), 'pong');
    const bad = [
      '{',
      '{"action":"subscribe"}',
      '{"action":"listen","subscriptions":[{"topic":"crypto_prices","type":"update"}]}',
      '{"action":"subscribe","subscriptions":[{"topic":"activity","type":"trades"}]}',
      '{"action":"subscribe","subscriptions":[{"topic":"crypto_prices","type":"update","filters":{"symbol":"btcusdt"}}]}',
      '{"action":"subscribe","subscriptions":[{"topic":"crypto_prices","type":"update","filters":"{bad"}]}',
    ];
    for (const b of bad) p.send(b);
    await p.waitFor((f) => f.filter((x) => x.includes('Invalid request body')).length === bad.length, 'an error per bad request');
    const err = JSON.parse(p.frames.find((f) => f.includes('Invalid request body')) as string) as { detail: string };
    assert.equal(typeof err.detail, 'string');
    assert.equal(sim.stats().venues.rtds?.invalidMessages, bad.length);
    // Scenario source: both topics flow once subscribed.
    p.send({ action: 'subscribe', subscriptions: [{ topic: 'crypto_prices', type: 'update' }, { topic: 'crypto_prices_chainlink', type: '*' }] });
    await barrier(p);
    sim.advance('rtds', 16);
    await barrier(p);
    const got = msgs(p).filter((m) => m.topic !== undefined);
    assert.equal(got.length, 16);
    assert.deepEqual(new Set(got.map((m) => m.topic)), new Set(['crypto_prices', 'crypto_prices_chainlink']));
    assert.deepEqual(new Set(got.map((m) => m.payload['symbol'])), new Set(['btcusdt', 'ethusdt', 'solusdt', 'xrpusdt', 'btc/usd', 'eth/usd', 'sol/usd', 'xrp/usd']));
    await p.close();
  });
});
