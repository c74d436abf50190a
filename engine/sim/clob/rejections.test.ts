// Every refusal of the simulated CLOB carries the venue's error text, and
// forged, foreign or tampered requests are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOB_ERRORS } from './errors.js';
import { best, build, dec, HARDHAT_KEY, HARDHAT_KEY_1, send, startClobSim, trader, type Harness, type RawReply } from './testkit.js';

const errorOf = (r: RawReply): string => (r.body as { error: string }).error;

async function withSim(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startClobSim();
  try {
    await fn(h);
  } finally {
    await h.stop();
  }
}

test('order refusals use the venue error texts', async () => {
  await withSim(async (h) => {
    const t = trader(h, HARDHAT_KEY);
    const other = trader(h, HARDHAT_KEY_1);
    const { bid, ask } = best(h, h.yes);
    const rest = dec((Number(bid.price) - Number(h.tick)).toFixed(3));
    const cases: Array<[string, unknown, string]> = [];

    const forged = build(t, h, { side: 'BUY', price: rest, size: dec('10') });
    const sig = forged.body.order.signature;
    cases.push(['forged signature', { ...forged.body, order: { ...forged.body.order, signature: sig.slice(0, 10) + (sig[10] === 'a' ? 'b' : 'a') + sig.slice(11) } }, CLOB_ERRORS.invalidSignature]);
    const tampered = build(t, h, { side: 'BUY', price: rest, size: dec('10') });
    cases.push(['amount changed after signing', { ...tampered.body, order: { ...tampered.body.order, takerAmount: '20000000' } }, CLOB_ERRORS.invalidSignature]);
    cases.push(['wrong owner', { ...build(t, h, { side: 'BUY', price: rest, size: dec('10') }).body, owner: other.key.apiKey }, CLOB_ERRORS.wrongOwner]);
    cases.push(['off tick', build(t, h, { side: 'BUY', price: dec('0.305'), size: dec('10'), tick: '0.001' }).body, CLOB_ERRORS.tickSize]);
    cases.push(['below minimum size', build(t, h, { side: 'BUY', price: rest, size: dec('2') }).body, CLOB_ERRORS.minSize]);
    cases.push(['post-only crossing', build(t, h, { side: 'BUY', price: dec(ask.price), size: dec('10'), postOnly: true }).body, CLOB_ERRORS.postOnlyCrosses]);
    const fok = build(t, h, { side: 'BUY', price: dec(ask.price), amount: dec('10'), type: 'FOK' });
    cases.push(['post-only FOK', { ...fok.body, postOnly: true }, CLOB_ERRORS.postOnlyType]);
    const gtd = build(t, h, { side: 'BUY', price: rest, size: dec('10'), type: 'GTD', expiration: Math.floor(Date.now() / 1000) + 600 });
    cases.push(['GTD inside the 60 s threshold', { ...gtd.body, order: { ...gtd.body.order, expiration: String(Math.floor(Date.now() / 1000) + 30) } }, CLOB_ERRORS.expiration]);
    cases.push(['signed for V3 while the venue runs V2', build(t, h, { side: 'BUY', price: rest, size: dec('10'), version: 3 }).body, CLOB_ERRORS.versionMismatch]);
    for (const [name, body, expected] of cases) {
      const r = await send(h, t, 'POST', '/order', body);
      assert.equal(r.status, 400, name);
      assert.equal(errorOf(r), expected, name);
    }
    assert.ok(CLOB_ERRORS.versionMismatch.includes('order_version_mismatch'), 'the official client detects the mismatch by this substring');

    const once = build(t, h, { side: 'BUY', price: rest, size: dec('10') });
    assert.equal((await send(h, t, 'POST', '/order', once.body)).status, 200);
    const again = await send(h, t, 'POST', '/order', once.body);
    assert.equal(errorOf(again), CLOB_ERRORS.duplicated);
    assert.equal(h.sim.polymarketClob().openOrders(t.key.apiKey).length, 1, 'refused orders leave nothing behind');

    const batch = Array.from({ length: 16 }, () => once.body);
    assert.equal(errorOf(await send(h, t, 'POST', '/orders', batch)), CLOB_ERRORS.tooManyOrders);
  });
});

test('L2 authentication: tampered body, stale timestamp and unknown key are 401', async () => {
  await withSim(async (h) => {
    const t = trader(h, HARDHAT_KEY);
    const { bid } = best(h, h.yes);
    const built = build(t, h, { side: 'BUY', price: dec((Number(bid.price) - Number(h.tick)).toFixed(3)), size: dec('10') });
    const signed = JSON.stringify(built.body);
    // Same JSON value, other bytes: the HMAC covers the exact body.
    const tampered = await send(h, t, 'POST', '/order', built.body, JSON.stringify(built.body, null, 1));
    assert.equal(tampered.status, 401);
    assert.equal(errorOf(tampered), CLOB_ERRORS.unauthorized);
    assert.equal((await send(h, t, 'POST', '/order', built.body, signed)).status, 200);
    const stranger = { ...t, key: { ...t.key, apiKey: '00000000-0000-4000-a000-000000000000' } };
    assert.equal((await send(h, stranger, 'GET', '/data/orders')).status, 401);
    const stale = await fetch(`${h.url}/data/orders`, {
      headers: { POLY_ADDRESS: t.signer.address, POLY_API_KEY: t.key.apiKey, POLY_PASSPHRASE: t.key.passphrase, POLY_TIMESTAMP: String(Math.floor(Date.now() / 1000) - 3600), POLY_SIGNATURE: 'x' },
    });
    assert.equal(stale.status, 401);
    const l1 = await fetch(`${h.url}/auth/api-key`, { method: 'POST', headers: { POLY_ADDRESS: t.signer.address, POLY_SIGNATURE: `0x${'11'.repeat(65)}`, POLY_TIMESTAMP: String(Math.floor(Date.now() / 1000)), POLY_NONCE: '0' } });
    assert.equal(l1.status, 401);
    assert.equal(((await l1.json()) as { error: string }).error, CLOB_ERRORS.invalidL1);
  });
});
