import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WsProbe, withSim } from './testkit.js';
import { DVOL_RECORDED_SAMPLE } from './scenario.js';

type Rpc = { jsonrpc: string; id?: unknown; result?: unknown; error?: { code: number; message: string }; method?: string; params?: Record<string, unknown> };

let nextId = 100;
async function call(p: WsProbe, method: string, params?: unknown): Promise<Rpc> {
  const id = nextId++;
  p.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
  await p.waitFor((f) => f.some((x) => x.includes(`"id":${id},`)), `${method} reply`);
  return (p.json() as Rpc[]).find((m) => m.id === id) as Rpc;
}

const DVOL = 'deribit_volatility_index.btc_usd';

test('public/subscribe to DVOL: result lists the channels; notifications have the documented shape', async () => {
  await withSim({ venues: ['deribit'], speed: 'manual', seed: 9 }, async (sim, urls) => {
    const p = await WsProbe.open(urls.deribit!.wsUrl);
    const r = await call(p, 'public/subscribe', { channels: [DVOL] });
    assert.equal(r.jsonrpc, '2.0');
    assert.deepEqual(r.result, [DVOL]);
    sim.advance('deribit', 40);
    await call(p, 'public/test');
    const notes = (p.json() as Rpc[]).filter((m) => m.method === 'subscription');
    assert.equal(notes.length, 20, 'btc only (eth not subscribed)');
    for (const n of notes) {
      assert.equal(n.id, undefined);
      assert.equal(n.params?.['channel'], DVOL);
      const d = n.params?.['data'] as { volatility: number; timestamp: number; index_name: string };
      assert.equal(d.index_name, 'btc_usd');
      assert.ok(Number.isInteger(d.timestamp) && d.timestamp > 1.7e12);
      assert.ok(Math.abs(d.volatility - DVOL_RECORDED_SAMPLE) < 10, `volatility ${d.volatility} near the recorded sample`);
    }
    const unsub = await call(p, 'public/unsubscribe', { channels: [DVOL] });
    assert.deepEqual(unsub.result, [DVOL]);
    await p.close();
  });
});

test('DVOL values are reproducible by seed and differ across seeds', async () => {
  const values = (seed: number): Promise<number[]> =>
    withSim({ venues: ['deribit'], speed: 'manual', seed }, async (sim, urls) => {
      const p = await WsProbe.open(urls.deribit!.wsUrl);
      await call(p, 'public/subscribe', { channels: [DVOL, 'deribit_volatility_index.eth_usd'] });
      sim.advance('deribit', 20);
      await call(p, 'public/test');
      await p.close();
      return (p.json() as Rpc[]).filter((m) => m.method === 'subscription').map((m) => (m.params?.['data'] as { volatility: number }).volatility);
    });
  const a = await values(1);
  assert.equal(a.length, 20);
  assert.deepEqual(await values(1), a);
  assert.notDeepEqual(await values(2), a);
});

test('heartbeat: test_request answered with public/test keeps the socket; ignoring it closes it', async () => {
  await withSim({ venues: ['deribit'], speed: 'manual', deribit: { heartbeatUnitMs: 15 } }, async (sim, urls) => {
    const good = await WsProbe.open(urls.deribit!.wsUrl);
    const lazy = await WsProbe.open(urls.deribit!.wsUrl);
    good.send({ jsonrpc: '2.0', id: 1, method: 'public/set_heartbeat', params: { interval: 10 } });
    lazy.send({ jsonrpc: '2.0', id: 1, method: 'public/set_heartbeat', params: { interval: 10 } });
    let answered = 0;
    const answer = setInterval(() => {
      const requests = (good.json() as Rpc[]).filter((m) => m.method === 'heartbeat' && m.params?.['type'] === 'test_request').length;
      while (answered < requests) {
        good.send({ jsonrpc: '2.0', id: 5000 + answered, method: 'public/test', params: {} });
        answered++;
      }
    }, 10);
    try {
      const closed = await lazy.waitForClose(3000);
      assert.equal(closed.code, 1000);
      assert.match(closed.reason, /test_request/);
      await good.waitFor(() => answered >= 3, 'three heartbeats answered', 3000);
      assert.ok(good.isOpen, 'the answering client stays connected');
      assert.equal(sim.stats().deribitHeartbeatTimeouts, 1);
    } finally {
      clearInterval(answer);
    }
    const test = (good.json() as Rpc[]).find((m) => m.id === 5000);
    assert.deepEqual(test?.result, { version: '1.2.26' });
    await good.close();
  });
});

test('JSON-RPC errors: parse error, bad request, unknown method, invalid params; the server survives', async () => {
  await withSim({ venues: ['deribit'], speed: 'manual' }, async (sim, urls) => {
    const p = await WsProbe.open(urls.deribit!.wsUrl);
    p.send('{{{');
    p.send('[1]');
    await p.waitFor((f) => f.length >= 2, 'two errors');
    const [parse, invalid] = p.json() as Rpc[];
    assert.equal(parse?.error?.code, -32700);
    assert.equal(parse?.id, null);
    assert.equal(invalid?.error?.code, -32600);
    assert.equal((await call(p, 'private/buy', {})).error?.code, -32601);
    assert.equal((await call(p, 'public/set_heartbeat', { interval: 5 })).error?.code, -32602);
    assert.equal((await call(p, 'public/subscribe', { channels: ['ticker.BTC-PERPETUAL.100ms'] })).error?.code, -32602);
    assert.equal((await call(p, 'public/subscribe', { channels: 'x' })).error?.code, -32602);
    assert.equal((await call(p, 'public/subscribe', [])).error?.code, -32602);
    assert.equal(typeof (await call(p, 'public/get_time')).result, 'number');
    assert.equal(sim.stats().venues.deribit?.invalidMessages, 7);
    assert.ok(p.isOpen);
    await p.close();
  });
});
