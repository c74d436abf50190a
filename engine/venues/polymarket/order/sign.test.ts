import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypedDataEncoder, Wallet, verifyTypedData } from 'ethers';
import { PolyedgeError } from '../../../errors.js';
import { native } from '../../../native.js';
import { exchangeAddress, exchangeDomain, POLYGON } from './exchanges.js';
import { CLOB_AUTH_VECTOR, ETHERS_ORDER_V2_TYPES, HARDHAT_ADDRESS, HARDHAT_KEY, HMAC_VECTORS, VECTORS } from './fixtures/vectors.js';
import { l2Signature } from './hmac.js';
import { parseOrderJson, signOrder } from './sign.js';

const signer = native.OrderSigner.fromHex(HARDHAT_KEY);

test('the key parses to the documented address', () => {
  assert.equal(signer.address, HARDHAT_ADDRESS);
});

for (const v of VECTORS) {
  test(`vector ${v.name}`, () => {
    const signed = signOrder(signer, parseOrderJson(v.input));
    if (v.hash) assert.equal(signed.hash, v.hash);
    assert.equal(signed.signature, v.signature);
  });
}

test('POLY_1271: the wrapped signature embeds the plain order hash parts and ends with the type length', () => {
  const d = VECTORS.find((v) => v.name.startsWith('D'))!;
  const signed = signOrder(signer, parseOrderJson(d.input));
  const sig = signed.signature.slice(2);
  const domain = exchangeDomain(2, 80002, false);
  assert.equal(`0x${sig.slice(130, 194)}`, domain.separator);
  assert.equal(sig.slice(-4), '00ba');
  // The returned hash is the ordinary EIP-712 order digest.
  const plain = native.hashOrderV2(parseOrderJson(d.input).v2!, domain);
  assert.equal(signed.hash, plain);
});

test('ClobAuth (L1) vector', () => {
  assert.equal(signer.signClobAuth(CLOB_AUTH_VECTOR.timestamp, CLOB_AUTH_VECTOR.nonce, CLOB_AUTH_VECTOR.chainId), CLOB_AUTH_VECTOR.signature);
});

test('L2 HMAC vectors: the body bytes matter', () => {
  for (const v of HMAC_VECTORS) assert.equal(l2Signature(v.secret, v.timestamp, v.method, v.path, v.body), v.signature);
  // url-safe and unpadded secrets decode to the same key
  const v = HMAC_VECTORS[0]!;
  assert.equal(l2Signature(v.secret.replace(/=+$/, ''), v.timestamp, v.method, v.path, v.body), v.signature);
});

const ORDER_TYPES = ETHERS_ORDER_V2_TYPES;

/** xorshift64*: reproducible random 256-bit decimal strings and hex words. */
function rng(seed: bigint) {
  let s = seed;
  const next = () => {
    s ^= s << 13n;
    s &= (1n << 64n) - 1n;
    s ^= s >> 7n;
    s ^= s << 17n;
    s &= (1n << 64n) - 1n;
    return s;
  };
  return {
    u(bits: number): bigint {
      let v = 0n;
      for (let i = 0; i < bits; i += 64) v = (v << 64n) | next();
      return v & ((1n << BigInt(bits)) - 1n);
    },
    hex32(): string {
      return `0x${this.u(256).toString(16).padStart(64, '0')}`;
    },
  };
}

test('1,000 random V2 orders sign byte-identically natively and with ethers v6', async () => {
  const wallet = new Wallet(HARDHAT_KEY);
  const r = rng(0x9e3779b97f4a7c15n);
  for (let i = 0; i < 1000; i++) {
    const negRisk = (i & 1) === 1;
    const signatureType = Number(r.u(2)) % 3;
    const order = {
      salt: r.u(i % 3 === 0 ? 256 : 48).toString(),
      maker: signatureType === 0 ? HARDHAT_ADDRESS : `0x${r.u(160).toString(16).padStart(40, '0')}`,
      signer: HARDHAT_ADDRESS,
      tokenId: r.u(256).toString(),
      makerAmount: r.u(40).toString(),
      takerAmount: r.u(40).toString(),
      side: Number(r.u(1)),
      signatureType,
      timestamp: (1_700_000_000_000n + r.u(36)).toString(),
      metadata: i % 4 === 0 ? r.hex32() : `0x${'0'.repeat(64)}`,
      builder: i % 5 === 0 ? r.hex32() : `0x${'0'.repeat(64)}`,
    };
    const domain = { name: 'Polymarket CTF Exchange', version: '2', chainId: POLYGON, verifyingContract: exchangeAddress(2, POLYGON, negRisk) };
    const expected = await wallet.signTypedData(domain, ORDER_TYPES, order);
    const ours = signOrder(signer, { version: 2, negRisk, chainId: POLYGON, v2: order });
    assert.equal(ours.signature, expected, `order ${i}`);
    assert.equal(ours.hash, TypedDataEncoder.hash(domain, ORDER_TYPES, order), `order ${i}`);
    if (i % 100 === 0) assert.equal(verifyTypedData(domain, ORDER_TYPES, order, ours.signature), HARDHAT_ADDRESS);
  }
});

test('bad order input is rejected with the field named', () => {
  const base = { ...VECTORS[2]!.input };
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ ...base, tokenId: 'abc' }, 'tokenId', /decimal integer/],
    [{ ...base, tokenId: 1e80 }, 'tokenId', /non-negative integer/],
    [{ ...base, maker: '0x1234' }, 'maker', /40 hex digits/],
    [{ ...base, maker: 42 }, 'maker', /0x-hex string/],
    [{ ...base, side: 'HOLD' }, 'side', /BUY/],
    [{ ...base, signatureType: 7 }, 'signatureType', /one of 0, 1, 2, 3/],
    [{ ...base, version: 4 }, 'version', /one of 1, 2, 3/],
    [{ ...base, timestamp: undefined }, 'timestamp', /required/],
    [{ ...base, tokenID: '1' }, 'tokenID', /not a V2 order field/],
    [{ ...base, negRisk: 'yes' }, 'negRisk', /true or false/],
    [{ ...base, metadata: '0x12' }, 'metadata', /64 hex digits/],
    [{ ...base, makerAmount: '1'.repeat(80) }, 'makerAmount', /uint256/],
    [{ ...base, signer: '0x1111111111111111111111111111111111111111' }, 'signer', /key's address/],
  ];
  for (const [input, field, message] of cases) {
    assert.throws(
      () => signOrder(signer, parseOrderJson(input)),
      (e: unknown) => e instanceof PolyedgeError && e.field === field && message.test(e.message),
      `${field}: ${JSON.stringify(input[field])}`,
    );
  }
  assert.throws(() => signOrder(signer, parseOrderJson({ ...base, version: 3, negRisk: true })), (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_EXCHANGE_UNKNOWN');
  assert.throws(() => parseOrderJson([1, 2]), (e: unknown) => e instanceof PolyedgeError && e.field === 'order');
});

test('private keys that are not keys are rejected without echoing them', () => {
  for (const bad of ['0x1234', 'not a key', `0x${'0'.repeat(64)}`, `0x${'f'.repeat(64)}`]) {
    assert.throws(() => native.OrderSigner.fromHex(bad), (e: unknown) => e instanceof Error && !e.message.includes(bad.slice(2, 10)) && /privateKey/.test(e.message));
  }
});
