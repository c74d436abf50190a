// Native V2 order signing against ethers v6 signTypedData, the way most
// TypeScript bots (and the official client) sign.
import { Wallet } from 'ethers';
import { exchangeDomain, POLYGON } from '../engine/venues/polymarket/order/exchanges.js';
import { native, type OrderV2Fields } from '../engine/native.js';
import { ETHERS_ORDER_V2_TYPES as ORDER_TYPES, HARDHAT_KEY as KEY } from '../engine/venues/polymarket/order/fixtures/vectors.js';
import { compareThroughput, type Suite } from './harness.js';

const ZERO32 = `0x${'0'.repeat(64)}`;

export const suite: Suite = {
  name: 'sign',
  baseline: 'ethers v6 Wallet.signTypedData',
  async run(ctx) {
    const signer = native.OrderSigner.fromHex(KEY);
    const wallet = new Wallet(KEY);
    const domain = exchangeDomain(2, POLYGON, false);
    const ethersDomain = { name: 'Polymarket CTF Exchange', version: '2', chainId: POLYGON, verifyingContract: '0xE111180000d2663C0091e4f400237545B87B996B' };
    // A pool of distinct orders so neither side can benefit from repeating one input.
    const orders: OrderV2Fields[] = Array.from({ length: 64 }, (_, i) => ({
      salt: String(1_000_000 + i * 7919),
      maker: signer.address,
      signer: signer.address,
      tokenId: '71321045679252212594626385532706912750332728571942532289631379312455583992563',
      makerAmount: String(1_000_000 + i * 10_000),
      takerAmount: String(2_000_000 + i * 10_000),
      side: i % 2,
      signatureType: 0,
      timestamp: String(1_713_398_400_000 + i),
      metadata: ZERO32,
      builder: ZERO32,
    }));
    let i = 0;
    let j = 0;
    await compareThroughput(
      ctx,
      'sign',
      'V2 order',
      { name: 'ethers signTypedData', fn: () => wallet.signTypedData(ethersDomain, ORDER_TYPES, orders[j++ & 63]!) },
      [{ name: 'native signOrderV2', fn: () => signer.signOrderV2(orders[i++ & 63]!, domain) }],
    );
  },
};
