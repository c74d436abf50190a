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

test('a band source is believed only when vouched for: first prices need a fresh reference, outliers are refused and counted', () => {
  const f = new ReferenceFusion(params({ policy: 'first', stale_ms: 1000 }));
  const ws = f.addSource('rtds', 'btc');
  const relay = f.addSource('relay', 'btc', 50);
  assert.equal(f.update(relay, 100_000, 0, 1000), false, 'nobody can vouch for a first price');
  assert.deepEqual([relay.rejectedUnvouched, relay.updates, relay.wins], [1, 0, 0]);
  assert.equal(f.price('btc', 1000), undefined, 'it moved nothing');
  f.update(ws, 100_000, 0, 1000);
  assert.equal(f.update(relay, 100_400, 0, 1001), true, '40 bps from the reference: within 50');
  assert.equal(f.price('btc', 1001)?.source, 'relay');
  assert.equal(f.update(relay, 100_600, 0, 1002), false, '60 bps: outside');
  assert.equal(f.update(relay, 5e285, 0, 1003), false);
  assert.equal(f.update(relay, 1e-218, 0, 1003), false);
  assert.deepEqual([relay.rejectedBand, relay.updates, relay.wins], [3, 1, 1]);
  assert.equal(f.price('btc', 1003)?.price, 100_400, 'the fused price is the last vouched one');
});

test('band: the median of the other fresh references vouches; alone, the source may only continue near its anchor', () => {
  const f = new ReferenceFusion(params({ policy: 'first', stale_ms: 1000 }));
  const a = f.addSource('a', 'btc');
  const b = f.addSource('b', 'btc');
  const c = f.addSource('c', 'btc');
  const relay = f.addSource('relay', 'btc', 50);
  f.update(a, 100_000, 0, 0);
  f.update(b, 100_100, 0, 0);
  f.update(c, 150_000, 0, 0); // one broken reference does not move the median
  assert.equal(f.update(relay, 100_150, 0, 10), true, 'within 50 bps of the median 100 100');
  // The references go quiet: the relay continues from its own last price, never further than the band from the anchor.
  assert.equal(f.update(relay, 100_500, 0, 1005), true, 'alone: within the band of its last price and of the anchor');
  assert.equal(f.update(relay, 100_700, 0, 1100), false, 'a walk away from the anchor is refused, step by step');
  assert.equal(relay.rejectedBand, 1);
  // Silent for longer than stale_ms with nobody else fresh: the next price is a first price again.
  assert.equal(f.update(relay, 100_500, 0, 3000), false);
  assert.equal(relay.rejectedUnvouched, 1);
  f.update(a, 100_600, 0, 3001);
  assert.equal(f.update(relay, 100_610, 0, 3002), true, 'vouched again by a fresh reference');
  assert.equal(relay.anchor, 100_600);
  // Another band source never vouches (two unverified voices are not a reference).
  const relay2 = f.addSource('relay2', 'eth', 50);
  const other = f.addSource('relay3', 'eth', 50);
  f.update(other, 3000, 0, 3003);
  assert.equal(f.update(relay2, 3000, 0, 3003), false);
  assert.throws(() => f.addSource('x', 'btc', 0), /bandBps of x must be in \(0, 10000\]/);
});
