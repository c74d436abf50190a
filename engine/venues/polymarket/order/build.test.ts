import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyTypedData } from 'ethers';
import { PolyedgeError } from '../../../errors.js';
import { native } from '../../../native.js';
import { parseDec } from './decimal.js';
import { buildSignedOrder, type OrderIntent } from './build.js';
import { exchangeAddress } from './exchanges.js';
import { ETHERS_ORDER_V2_TYPES, HARDHAT_ADDRESS, HARDHAT_KEY } from './fixtures/vectors.js';

const signer = native.OrderSigner.fromHex(HARDHAT_KEY);
const NOW = 1_763_700_000_000;
const base: OrderIntent = {
  tokenId: '1234',
  side: 'BUY',
  price: parseDec('0.56')!,
  size: parseDec('21.04')!,
  tick: '0.01',
  minSize: parseDec('5')!,
  negRisk: false,
  type: 'GTC',
  postOnly: false,
  version: 2,
  chainId: 137,
  signatureType: 0,
  owner: '00000000-0000-0000-0000-000000000001',
  salt: 42,
  timestampMs: NOW,
};

test('a limit order builds the documented POST /order body with a valid signature', () => {
  const { body, hash } = buildSignedOrder(signer, base, NOW);
  assert.deepEqual(Object.keys(body), ['order', 'owner', 'orderType', 'postOnly', 'deferExec']);
  assert.deepEqual(Object.keys(body.order), ['salt', 'maker', 'signer', 'tokenId', 'makerAmount', 'takerAmount', 'side', 'signatureType', 'timestamp', 'expiration', 'metadata', 'builder', 'signature']);
  assert.equal(body.order.salt, 42);
  assert.equal(body.order.makerAmount, '11782400');
  assert.equal(body.order.takerAmount, '21040000');
  assert.equal(body.order.side, 'BUY');
  assert.equal(body.order.timestamp, String(NOW));
  assert.equal(body.order.expiration, '0');
  assert.equal(body.orderType, 'GTC');
  assert.match(hash, /^0x[0-9a-f]{64}$/);
  const recovered = verifyTypedData(
    { name: 'Polymarket CTF Exchange', version: '2', chainId: 137, verifyingContract: exchangeAddress(2, 137, false) },
    ETHERS_ORDER_V2_TYPES,
    { ...body.order, side: 0 },
    body.order.signature,
  );
  assert.equal(recovered, HARDHAT_ADDRESS);
});

test('GTD needs an expiration beyond the one-minute threshold; others refuse one', () => {
  const code = (intent: Partial<OrderIntent>, expected: string, field: string) =>
    assert.throws(() => buildSignedOrder(signer, { ...base, ...intent }, NOW), (e: unknown) => e instanceof PolyedgeError && e.code === expected && e.field === field);
  code({ type: 'GTD' }, 'PE_ORDER_EXPIRATION', 'expiration');
  code({ type: 'GTD', expiration: NOW / 1000 + 60 }, 'PE_ORDER_EXPIRATION', 'expiration');
  code({ type: 'GTC', expiration: NOW / 1000 + 3600 }, 'PE_ORDER_TYPE', 'expiration');
  code({ type: 'FOK', postOnly: true, amount: parseDec('10')! }, 'PE_ORDER_TYPE', 'postOnly');
  code({ type: 'FOK', size: undefined }, 'PE_ORDER_FIELD', 'amount');
  code({ tokenId: '0xabc' }, 'PE_ORDER_FIELD', 'tokenId');
  const gtd = buildSignedOrder(signer, { ...base, type: 'GTD', expiration: NOW / 1000 + 90, postOnly: true }, NOW);
  assert.equal(gtd.body.order.expiration, String(NOW / 1000 + 90));
  assert.equal(gtd.body.postOnly, true);
});

test('market BUY signs dollars for shares at the worst price; V3 uses the V3 exchange', () => {
  const m = buildSignedOrder(signer, { ...base, type: 'FAK', size: undefined, amount: parseDec('100')!, price: parseDec('0.56')! }, NOW);
  assert.equal(m.body.order.makerAmount, '100000000');
  assert.equal(m.body.order.takerAmount, '178571400');
  const v2 = buildSignedOrder(signer, base, NOW);
  const v3 = buildSignedOrder(signer, { ...base, version: 3 }, NOW);
  assert.notEqual(v2.hash, v3.hash);
});
