import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../config/schema.js';
import { fusionParamsSchema, ReferenceFusion } from './fusion.js';

const params = (raw: unknown) => {
  const r = validate(fusionParamsSchema, raw);
  if (!r.ok) throw new Error(JSON.stringify(r.violations));
  return r.value;
};

test('first: the newest fresh update wins; stale sources drop out', () => {
  const f = new ReferenceFusion(params({ policy: 'first', stale_ms: 1000 }));
  const ws = f.addSource('rtds', 'btc');
  const relay = f.addSource('relay', 'btc');
  f.update(ws, 100, 0, 1000);
  assert.equal(f.price('btc', 1000)?.source, 'rtds');
  f.update(relay, 101, 0, 1001);
  assert.deepEqual({ ...f.price('btc', 1001)! }, { price: 101, exchTsMs: 0, recvMs: 1001, source: 'relay' });
  f.update(ws, 102, 0, 1005);
  assert.equal(f.price('btc', 1005)?.price, 102);
  assert.equal(f.price('btc', 3000), undefined, 'nothing fresh');
  assert.equal(relay.wins, 1);
  assert.equal(ws.wins, 2);
});

test('prefer: the preferred source wins while fresh, and the lead is measured on take-over', () => {
  const f = new ReferenceFusion(params({ policy: 'prefer', prefer: 'relay', stale_ms: 500 }));
  const ws = f.addSource('rtds', 'btc');
  const relay = f.addSource('relay', 'btc');
  f.update(ws, 100, 0, 1000);
  f.update(relay, 100.5, 0, 990); // relay saw it 10 ms earlier than the websocket
  assert.equal(f.price('btc', 1000)?.source, 'relay');
  f.update(ws, 101, 0, 1100);
  assert.equal(f.price('btc', 1100)?.source, 'relay', 'preferred while fresh');
  f.update(ws, 102, 0, 1600);
  assert.equal(f.price('btc', 1600)?.source, 'rtds', 'relay went stale');
  assert.equal(relay.lead.count, 1);
  assert.ok(Math.abs(relay.lead.percentileNs(50) - 10e6) < 0.01e6);
  f.setParams(params({ policy: 'first' }));
  f.update(relay, 103, 0, 1601);
  assert.equal(f.price('btc', 1601)?.price, 103);
});

test('bad parameters are rejected by field', () => {
  const r = validate(fusionParamsSchema, { policy: 'best', stale_ms: 0, extra: 1 });
  assert.equal(r.ok, false);
  if (!r.ok) assert.deepEqual(r.violations.map((v) => v.path).sort(), ['extra', 'policy', 'stale_ms']);
});
