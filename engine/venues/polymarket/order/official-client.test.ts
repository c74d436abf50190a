// Differential test against Polymarket's official TypeScript client
// (@polymarket/clob-client-v2): for random orders on every tick size, its
// OrderBuilder and ours must produce the same amounts, and our native
// signature over its order fields must equal its signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderBuilder, OrderType, Side as OfficialSide, type TickSize as OfficialTick } from '@polymarket/clob-client-v2';
import { Wallet } from 'ethers';
import { native } from '../../../native.js';
import { limitOrderAmounts, marketOrderAmounts, TICK_SIZES } from './amounts.js';
import { parseDec } from './decimal.js';
import { HARDHAT_KEY } from './fixtures/vectors.js';
import { signOrder } from './sign.js';
import { Prng } from '../../../../workers/prng.js';

const wallet = new Wallet(HARDHAT_KEY);
// The official client takes an ethers v5-style signer; adapt v6.
const officialSigner = {
  _signTypedData: (d: Record<string, unknown>, t: Record<string, Array<{ name: string; type: string }>>, v: Record<string, unknown>) =>
    wallet.signTypedData(d, t, v),
  getAddress: async () => wallet.address,
};
const builder = new OrderBuilder(officialSigner, 137);
const ours = native.OrderSigner.fromHex(HARDHAT_KEY);
const TOKEN = '71321045679252212594626385532706912750332728571942532289631379312455583992563';

/** Uniform [0, 1) inputs from the project's seeded generator. */
function uniform(seed: number): () => number {
  const rng = new Prng(seed);
  return () => rng.next();
}

const dec = (x: number | string) => parseDec(String(x))!;

test('limit orders: same amounts and byte-identical signatures as the official client', async () => {
  const rand = uniform(20261121);
  for (let i = 0; i < 240; i++) {
    const tick = TICK_SIZES[i % TICK_SIZES.length]!;
    const tickSteps = Math.round(1 / Number(tick));
    const price = Number(((1 + Math.floor(rand() * (tickSteps - 1))) * Number(tick)).toFixed(4));
    const size = Number((5 + rand() * 500).toFixed(i % 3 === 0 ? 3 : 2));
    const side = rand() < 0.5 ? 'BUY' : 'SELL';
    const negRisk = rand() < 0.3;
    const official = (await builder.buildOrder(
      { tokenID: TOKEN, price, size, side: side === 'BUY' ? OfficialSide.BUY : OfficialSide.SELL },
      { tickSize: tick as OfficialTick, negRisk },
      2,
    )) as unknown as Record<string, string | number>;
    const mine = limitOrderAmounts(side, dec(price), dec(size), tick, dec('0.01'));
    const ctx = `#${i} ${side} ${size} @ ${price} tick ${tick}`;
    assert.equal(mine.makerAmount.toString(), String(official.makerAmount), ctx);
    assert.equal(mine.takerAmount.toString(), String(official.takerAmount), ctx);
    const signed = signOrder(ours, {
      version: 2,
      negRisk,
      chainId: 137,
      v2: {
        salt: String(official.salt),
        maker: String(official.maker),
        signer: String(official.signer),
        tokenId: String(official.tokenId),
        makerAmount: String(official.makerAmount),
        takerAmount: String(official.takerAmount),
        side: official.side === 'BUY' || official.side === 0 ? 0 : 1,
        signatureType: Number(official.signatureType),
        timestamp: String(official.timestamp),
        metadata: String(official.metadata),
        builder: String(official.builder),
      },
    });
    assert.equal(signed.signature, official.signature, ctx);
  }
});

test('market orders: same amounts as the official client', async () => {
  const rand = uniform(7);
  for (let i = 0; i < 120; i++) {
    const tick = TICK_SIZES[i % TICK_SIZES.length]!;
    const tickSteps = Math.round(1 / Number(tick));
    const price = Number(((1 + Math.floor(rand() * (tickSteps - 1))) * Number(tick)).toFixed(4));
    const amount = Number((5 + rand() * 300).toFixed(2));
    const side = i % 2 === 0 ? 'BUY' : 'SELL';
    const official = (await builder.buildMarketOrder(
      { tokenID: TOKEN, price, amount, side: side === 'BUY' ? OfficialSide.BUY : OfficialSide.SELL, orderType: OrderType.FOK },
      { tickSize: tick as OfficialTick, negRisk: false },
      2,
    )) as unknown as Record<string, string | number>;
    const mine = marketOrderAmounts(side, dec(price), dec(amount), tick, dec('0.01'));
    const ctx = `#${i} market ${side} ${amount} @ ${price} tick ${tick}`;
    assert.equal(mine.makerAmount.toString(), String(official.makerAmount), ctx);
    assert.equal(mine.takerAmount.toString(), String(official.takerAmount), ctx);
  }
});
