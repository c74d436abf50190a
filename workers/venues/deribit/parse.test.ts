import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeribitParser } from './parse.js';
import { Status } from '../../parse/json.js';
import { deribitFile } from '../../parse/testing/data.js';
import { DeribitRecorder, firstDifference } from '../../parse/testing/recorders.js';
import { refDeribit } from '../../parse/testing/reference.js';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

// Shapes from protocols.md §10 and Deribit's JSON-RPC docs (no recording of these exists in shared/data).
const TEST_REQUEST = '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}';
const HEARTBEAT = '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}';
const SUB_RESULT = '{"jsonrpc":"2.0","id":42,"result":["deribit_volatility_index.btc_usd"],"usIn":1619777946000000,"usOut":1619777946000100,"usDiff":100,"testnet":false}';
const ERROR = '{"jsonrpc":"2.0","id":7,"error":{"code":11050,"message":"bad_request"},"testnet":false}';

function setup(): { p: DeribitParser; rec: DeribitRecorder; map: Map<string, number> } {
  const rec = new DeribitRecorder();
  const p = new DeribitParser(rec);
  const map = new Map<string, number>();
  map.set('deribit_volatility_index.btc_usd', p.registerIndex('btc_usd'));
  map.set('deribit_volatility_index.eth_usd', p.registerIndex('eth_usd'));
  return { p, rec, map };
}

test('DVOL notification from the recorded sample', () => {
  const { p, rec } = setup();
  assert.equal(p.parse(deribitFile('ws_volatility_index.json')), Status.OK);
  assert.deepEqual(rec.out, ['dvol', 0, 129.36, 1619777946007]);
  assert.equal(p.counters.volatility, 1);
});

test('heartbeat test_request is surfaced so the worker can answer public/test', () => {
  const { p, rec } = setup();
  assert.equal(p.parse(buf(TEST_REQUEST)), Status.CONTROL);
  assert.deepEqual(rec.out, ['test']);
  assert.equal(p.parse(buf(HEARTBEAT)), Status.CONTROL);
  assert.deepEqual(rec.out, ['test']);
  assert.equal(p.counters.testRequests, 1);
  assert.equal(p.counters.control, 2);
});

test('subscribe result and error replies', () => {
  const { p, rec } = setup();
  assert.equal(p.parse(buf(SUB_RESULT)), Status.CONTROL);
  assert.deepEqual(rec.out, ['result', 42, '["deribit_volatility_index.btc_usd"]']);
  rec.out = [];
  assert.equal(p.parse(buf(ERROR)), Status.CONTROL);
  assert.deepEqual(rec.out, ['error', 7, 11050, '{"code":11050,"message":"bad_request"}']);
});

test('other channels, unregistered indices, bad fields, malformed frames', () => {
  const { p, rec } = setup();
  const dvol = deribitFile('ws_volatility_index.json').toString();
  assert.equal(p.parse(buf(dvol.replace('deribit_volatility_index.btc_usd', 'ticker.BTC-PERPETUAL.100ms'))), Status.UNKNOWN_EVENT);
  assert.equal(p.parse(buf(dvol.replace('btc_usd"', 'sol_usd"'))), Status.UNKNOWN_ID);
  assert.equal(p.parse(buf(dvol.replace('129.36', '"129.36"'))), Status.BAD_FIELD);
  assert.equal(p.parse(deribitFile('ws_ticker.json')), Status.UNKNOWN_EVENT);
  assert.equal(p.parse(buf(dvol.slice(0, -3))), Status.MALFORMED);
  assert.equal(p.parse(buf('')), Status.EMPTY);
  assert.deepEqual(rec.out, []);
});

test('differential: scanner equals the JSON.parse reference on every Deribit sample', () => {
  const { p, rec, map } = setup();
  const frames = [
    ...['ws_volatility_index.json', 'ws_ticker.json', 'ws_trades.json', 'ws_quote.json', 'ws_chart.json', 'http_get_order_book.json'].map(deribitFile),
    ...[TEST_REQUEST, HEARTBEAT, SUB_RESULT, ERROR].map(buf),
  ];
  for (const f of frames) {
    rec.out = [];
    const status = p.parse(f);
    const ref = refDeribit(f, map);
    assert.equal(status, ref.status);
    assert.equal(firstDifference(rec.out, ref.events), -1, f.toString().slice(0, 80));
  }
});
