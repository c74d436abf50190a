// L1 and L2 headers against the official client's own header functions
// (@polymarket/clob-client-v2 createL1Headers / createL2Headers) and the
// published vectors: the CLOB checks these byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnv } from 'node:util';
import { createL1Headers, createL2Headers } from '@polymarket/clob-client-v2';
import { Wallet } from 'ethers';
import { native } from '../../../native.js';
import { l2Headers } from '../order/hmac.js';
import { CLOB_AUTH_VECTOR, HARDHAT_ADDRESS, HARDHAT_KEY, HMAC_VECTORS } from '../order/fixtures/vectors.js';
import { apiSecretsFromEnv } from '../../../config/load.js';
import { Prng } from '../../../../workers/prng.js';
import { inspect } from 'node:util';
import { envLines, l1Headers } from './keys.js';
import { ClobClient } from './client.js';

const wallet = new Wallet(HARDHAT_KEY);
// The official client takes an ethers v5-style signer; adapt v6.
const officialSigner = {
  _signTypedData: (d: Record<string, unknown>, t: Record<string, Array<{ name: string; type: string }>>, v: Record<string, unknown>) => wallet.signTypedData(d, t, v),
  getAddress: async () => wallet.address,
};
const ours = native.OrderSigner.fromHex(HARDHAT_KEY);

test('L1 headers: the ClobAuth vector, and the official createL1Headers for several times and nonces', async () => {
  const v = l1Headers(ours, CLOB_AUTH_VECTOR.chainId, CLOB_AUTH_VECTOR.nonce, Number(CLOB_AUTH_VECTOR.timestamp));
  assert.deepEqual(v, { POLY_ADDRESS: HARDHAT_ADDRESS, POLY_SIGNATURE: CLOB_AUTH_VECTOR.signature, POLY_TIMESTAMP: CLOB_AUTH_VECTOR.timestamp, POLY_NONCE: CLOB_AUTH_VECTOR.nonce });
  for (const [chainId, ts, nonce] of [[137, 1765000000, 0], [137, 1765000123, 7], [80002, 1700000000, 123456]] as const) {
    const official = await createL1Headers(officialSigner as never, chainId, nonce, ts);
    assert.deepEqual(l1Headers(ours, chainId, String(nonce), ts), official, `${chainId} ${ts} ${nonce}`);
  }
});

test('L2 headers equal the official createL2Headers over random bodies, methods and paths', async () => {
  const rng = new Prng(20261208);
  const creds = { apiKey: '3f2c8a1e-0000-4000-8000-1234567890ab', secret: Buffer.from('a secret of thirty-two bytes!!!!').toString('base64url'), passphrase: 'pass-phrase' };
  const paths = ['/order', '/orders', '/data/orders', '/cancel-all', '/balance-allowance', '/v1/heartbeats'];
  const methods = ['GET', 'POST', 'DELETE'];
  for (let i = 0; i < 60; i++) {
    const method = methods[Math.floor(rng.next() * methods.length)]!;
    const path = paths[Math.floor(rng.next() * paths.length)]!;
    // Quotes, spaces, unicode and empty bodies: the bytes sent are the bytes signed.
    const body = i % 5 === 0 ? undefined : JSON.stringify({ i, note: `é "q" ${Math.floor(rng.next() * 1e9)}`, ids: ['0xab', 'x y'] });
    const ts = 1765000000 + Math.floor(rng.next() * 1e6);
    const official = await createL2Headers(officialSigner as never, { key: creds.apiKey, secret: creds.secret, passphrase: creds.passphrase }, { method, requestPath: path, ...(body === undefined ? {} : { body }) }, ts);
    assert.deepEqual({ ...l2Headers(HARDHAT_ADDRESS, creds, method, path, body, ts) }, official, `${method} ${path} ${body}`);
  }
});

test('L2 headers keep the published HMAC vectors and sign at whole seconds', () => {
  for (const v of HMAC_VECTORS) {
    const h = l2Headers(HARDHAT_ADDRESS, { apiKey: 'k', secret: v.secret, passphrase: 'p' }, v.method, v.path, v.body, Number(v.timestamp) + 0.999);
    assert.equal(h.POLY_SIGNATURE, v.signature);
    assert.equal(h.POLY_TIMESTAMP, v.timestamp);
  }
});

test('printed credentials are the .env lines apiSecretsFromEnv reads back', () => {
  const creds = { apiKey: 'key-1', secret: 'c2VjcmV0LXNlY3JldA==', passphrase: 'p@ss' };
  const text = envLines(creds);
  assert.match(text, /^POLY_API_KEY=key-1\nPOLY_API_SECRET=c2VjcmV0LXNlY3JldA==\nPOLY_API_PASSPHRASE=p@ss\n$/);
  assert.deepEqual(apiSecretsFromEnv(parseEnv(text)), creds);
});

test('a client shows no secret when inspected or serialised', async () => {
  const secret = Buffer.from('a-secret-that-must-stay-hidden!!').toString('base64url');
  const client = new ClobClient({ url: 'http://127.0.0.1:9', warmIntervalMs: 0 }, { address: HARDHAT_ADDRESS, creds: { apiKey: 'key', secret, passphrase: 'hidden-passphrase' } });
  try {
    const seen = inspect(client, { depth: 12, showHidden: true }) + inspect(client.transport, { depth: 12, showHidden: true }) + JSON.stringify(client.counters);
    assert.ok(seen.includes('127.0.0.1'), 'the inspection did reach the transport');
    assert.ok(!seen.includes(secret) && !seen.includes('hidden-passphrase'));
  } finally {
    await client.close();
  }
});
