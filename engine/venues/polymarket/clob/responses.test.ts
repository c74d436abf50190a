// Every CLOB answer is validated at the edge: documented shapes come out
// typed, anything else is PE_CLOB_RESPONSE naming the route and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolyedgeError } from '../../../errors.js';
import {
  parseApiCredentials,
  parseBalanceAllowance,
  parseCancelResult,
  parseOpenOrder,
  parsePage,
  parsePostOrderResult,
  parsePostOrdersResult,
  parseServerTime,
  parseTrade,
  parseVersion,
  venueMessage,
} from './responses.js';

const ORDER = {
  id: '0xabc',
  status: 'LIVE',
  owner: 'key',
  maker_address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  market: '0xcond',
  asset_id: '123',
  side: 'BUY',
  original_size: '10',
  size_matched: '0',
  price: '0.56',
  associate_trades: null,
  outcome: 'Up',
  created_at: 1765000000,
  expiration: '0',
  order_type: 'GTC',
};

const TRADE = {
  id: 't1',
  taker_order_id: '0xabc',
  market: '0xcond',
  asset_id: '123',
  side: 'BUY',
  size: '5',
  price: '0.5',
  status: 'MATCHED',
  match_time: '1765000000',
  outcome: 'Up',
  owner: 'key',
  maker_address: '0x1',
  trader_side: 'TAKER',
  transaction_hash: '',
  bucket_index: 0,
  fee_rate_bps: '0',
  maker_orders: [{ order_id: '0xdef', owner: 'k2', matched_amount: '5', price: '0.5', asset_id: '123', outcome: 'Up' }],
};

function rejects(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PolyedgeError, String(e));
    assert.equal(e.code, 'PE_CLOB_RESPONSE');
    assert.match(e.field ?? '', field, e.message);
    return true;
  });
}

test('a POST /order answer parses; missing optional fields get their empty values', () => {
  const r = parsePostOrderResult('POST /order', { success: true, errorMsg: '', orderID: '0xabc', status: 'live', makingAmount: '', takingAmount: '', tradeIDs: ['t1'] });
  assert.deepEqual(r, { success: true, errorMsg: '', orderID: '0xabc', status: 'live', makingAmount: '0', takingAmount: '0', tradeIDs: ['t1'], transactionsHashes: [] });
  assert.equal(parsePostOrderResult('POST /order', { success: false, errorMsg: 'not enough balance' }).errorMsg, 'not enough balance');
});

test('malformed order answers name the field', () => {
  rejects(() => parsePostOrderResult('POST /order', null), /^body$/);
  rejects(() => parsePostOrderResult('POST /order', []), /^body$/);
  rejects(() => parsePostOrderResult('POST /order', { success: 'true' }), /^success$/);
  rejects(() => parsePostOrderResult('POST /order', { success: true, makingAmount: '1e' }), /^makingAmount$/);
  rejects(() => parsePostOrderResult('POST /order', { success: true, tradeIDs: [1] }), /^tradeIDs$/);
  rejects(() => parsePostOrdersResult('POST /orders', { success: true }), /^body$/);
  rejects(() => parsePostOrdersResult('POST /orders', [{ success: true }, { success: 1 }]), /^\[1\]\.success$/);
});

test('open orders and trades keep money as decimal strings', () => {
  const o = parseOpenOrder('GET /data/order', ORDER);
  assert.equal(o.price, '0.56');
  assert.deepEqual(o.associate_trades, []);
  assert.equal(parseOpenOrder('GET /data/order', { ...ORDER, price: 0.56 }).price, '0.56');
  rejects(() => parseOpenOrder('GET /data/order', { ...ORDER, id: undefined }), /^id$/);
  rejects(() => parseOpenOrder('GET /data/order', { ...ORDER, price: 'NaN' }), /^price$/);
  rejects(() => parseOpenOrder('GET /data/order', { ...ORDER, size_matched: {} }), /^size_matched$/);
  rejects(() => parseOpenOrder('GET /data/order', { ...ORDER, created_at: 1.5 }), /^created_at$/);
  const t = parseTrade('GET /data/trades', TRADE);
  assert.equal(t.maker_orders[0]!.matched_amount, '5');
  rejects(() => parseTrade('GET /data/trades', { ...TRADE, maker_orders: [{ order_id: 'x', matched_amount: 'five', price: '0.5' }] }), /^maker_orders\[0\]\.matched_amount$/);
  rejects(() => parseTrade('GET /data/trades', { ...TRADE, maker_orders: 'none' }), /^maker_orders$/);
});

test('pages carry their items and the cursor; a bad item is named by index', () => {
  const p = parsePage('GET /data/orders', { data: [ORDER, ORDER], next_cursor: 'LTE=' }, parseOpenOrder);
  assert.equal(p.data.length, 2);
  assert.equal(p.next_cursor, 'LTE=');
  rejects(() => parsePage('GET /data/orders', { data: [ORDER], next_cursor: 5 }, parseOpenOrder), /^next_cursor$/);
  rejects(() => parsePage('GET /data/orders', { data: [ORDER, { ...ORDER, side: null }], next_cursor: 'LTE=' }, parseOpenOrder), /^data\[1\]\.side$/);
  rejects(() => parsePage('GET /data/orders', { data: {}, next_cursor: 'LTE=' }, parseOpenOrder), /^data$/);
});

test('cancel, balance, credentials, version and time answers', () => {
  assert.deepEqual(parseCancelResult('DELETE /orders', { canceled: ['a'], not_canceled: { b: 'already matched' } }), { canceled: ['a'], not_canceled: { b: 'already matched' } });
  assert.deepEqual(parseCancelResult('DELETE /cancel-all', { canceled: [] }), { canceled: [], not_canceled: {} });
  rejects(() => parseCancelResult('DELETE /order', { canceled: 'a' }), /^canceled$/);
  rejects(() => parseCancelResult('DELETE /order', { canceled: [], not_canceled: { b: false } }), /^not_canceled\.b$/);
  assert.deepEqual(parseBalanceAllowance('GET /balance-allowance', { balance: '1000000', allowances: { '0xE111': '115792' } }), { balance: '1000000', allowances: { '0xE111': '115792' } });
  assert.deepEqual(parseBalanceAllowance('GET /balance-allowance', { balance: '5', allowance: '7' }), { balance: '5', allowances: { '': '7' } });
  rejects(() => parseBalanceAllowance('GET /balance-allowance', { balance: 'lots' }), /^balance$/);
  assert.deepEqual(parseApiCredentials('GET /auth/derive-api-key', { apiKey: 'k', secret: 's', passphrase: 'p' }), { apiKey: 'k', secret: 's', passphrase: 'p' });
  rejects(() => parseApiCredentials('GET /auth/derive-api-key', { apiKey: 'k', secret: '', passphrase: 'p' }), /^apiKey$/);
  rejects(() => parseApiCredentials('GET /auth/derive-api-key', undefined), /^body$/);
  assert.equal(parseVersion('GET /version', { version: 3 }), 3);
  assert.equal(parseVersion('GET /version', {}), 2, 'absent means 2, as the official client assumes');
  rejects(() => parseVersion('GET /version', { version: 'two' }), /^version$/);
  rejects(() => parseVersion('GET /version', { version: 0 }), /^version$/);
  assert.equal(parseServerTime('GET /time', '1765000000\n'), 1765000000);
  assert.equal(parseServerTime('GET /time', '"1765000000"'), 1765000000);
  rejects(() => parseServerTime('GET /time', '1765000000000'), /^body$/);
  rejects(() => parseServerTime('GET /time', '<html>'), /^body$/);
});

test("the CLOB's reason is read from error, errorMsg or the text, bounded", () => {
  assert.equal(venueMessage('{"error":"order_version_mismatch"}'), 'order_version_mismatch');
  assert.equal(venueMessage('{"errorMsg":"not enough balance / allowance","success":false}'), 'not enough balance / allowance');
  assert.equal(venueMessage('{"error":{"why":"x"}}'), '{"why":"x"}');
  assert.equal(venueMessage('Too Many Requests'), 'Too Many Requests');
  assert.equal(venueMessage('x'.repeat(1000)).length, 200);
});
