// The order path, from a strategy's order to the request on the socket, against
// Polymarket's official TypeScript client (@polymarket/clob-client-v2).
//
// `to bytes`: amounts, EIP-712 signature, JSON body and L2 HMAC headers, no
// I/O. Ours is what the live venue runs per order (orderIntent,
// buildSignedOrder, JSON.stringify, the transport's l2Headers); the
// official client's is createOrder, the body postOrder builds (orderToJsonV2 +
// JSON.stringify) and createL2Headers. Its axios layer serialises the body a
// second time on send; that copy is not counted, which favours the baseline.
//
// `decision → ack`: the same orders posted to an in-process venue simulator
// on loopback, which checks every signature and HMAC as the venue does, timed
// from the order object to the parsed answer. Both clients alternate order by
// order so machine noise lands on both.

import { performance } from 'node:perf_hooks';
import { ClobClient as OfficialClient, Chain, createL2Headers, OrderType as OfficialOrderType, orderToJsonV2, Side as OfficialSide, type SignedOrder } from '@polymarket/clob-client-v2';
import { Wallet } from 'ethers';
import { native } from '../engine/native.js';
import { VenueSimulator } from '../engine/sim/simulator.js';
import { buildSignedOrder } from '../engine/venues/polymarket/order/build.js';
import { l2Headers } from '../engine/venues/polymarket/order/hmac.js';
import { HARDHAT_KEY as KEY } from '../engine/venues/polymarket/order/fixtures/vectors.js';
import { ClobClient } from '../engine/venues/polymarket/clob/client.js';
import { orderIntent, type VenueSigning } from '../engine/venues/polymarket/clob/intent.js';
import type { RateLimit } from '../engine/sim/clob/limits.js';
import type { BucketSpec, RouteFamily } from '../engine/venues/polymarket/clob/limiter.js';
import { marketInSlot, PRICE_SCALE, Side, UNIT, type MarketInfo, type Order, type TokenInfo } from '../engine/trading/types.js';
import { compareThroughput, latencySummary, pushLatencyRows, type Suite } from './harness.js';

const SIGNING: VenueSigning = { order_version: 2, signature_type: 0, funder: '', chain_id: 137 };
const POOL = 64;
/** Orders posted at a time before the book is cleared (outside the timed region). */
const BATCH = 100;
// The bench measures latency, not the rate limits: both sides' buckets are far above what a run sends.
const WIDE: RateLimit = { limit: 1_000_000, windowMs: 10_000 };
const WIDE_CLIENT: Record<RouteFamily, readonly BucketSpec[]> = {
  general: [WIDE],
  order: [WIDE],
  orders: [WIDE],
  cancel: [WIDE],
  data: [WIDE],
  balance: [WIDE],
  balance_update: [WIDE],
  auth: [WIDE],
};

/** The official client takes an ethers v5-style signer; adapt v6. */
function officialSigner(wallet: Wallet): { _signTypedData: (...a: never[]) => Promise<string>; getAddress: () => Promise<string> } {
  return {
    _signTypedData: ((d: Record<string, unknown>, t: Record<string, Array<{ name: string; type: string }>>, v: Record<string, unknown>) =>
      wallet.signTypedData(d, t, v)) as (...a: never[]) => Promise<string>,
    getAddress: async () => wallet.address,
  };
}

/** BUYs resting 2-9 ticks under the best bid, 5-68 shares: post-only, never crossing, all distinct. */
function orderPool(bestBidTicks: number, tick: number): Order[] {
  return Array.from({ length: POOL }, (_, i) => ({
    id: `b${i}`,
    strategy: 'bench',
    token: 0,
    side: Side.Buy,
    price: bestBidTicks - (2 + (i % 8)) * tick,
    size: (5 + i) * UNIT,
    filled: 0,
    type: 'GTC',
    postOnly: true,
    expiresMs: NaN,
    reason: 'bench',
    status: 'pending',
    createdMs: 0,
    ackMs: NaN,
  }));
}

export const suite: Suite = {
  name: 'order-path',
  baseline: '@polymarket/clob-client-v2 createOrder + postOrder',
  async run(ctx) {
    const sim = new VenueSimulator({
      venues: ['polymarket'],
      speed: 'manual',
      seed: 11,
      polymarket: { markets: [{ startPrice: 0.5 }], levels: 5, tradeProbability: 0, clob: { rateLimits: { general: WIDE, 'POST /order': WIDE, 'DELETE /cancel-all': WIDE } } },
    });
    const urls = await sim.start();
    const url = urls.polymarket!.restUrl;
    const signer = native.OrderSigner.fromHex(KEY);
    const wallet = new Wallet(KEY);
    const key = sim.polymarketClob().registerKey(signer.address);
    const creds = { apiKey: key.apiKey, secret: key.secret, passphrase: key.passphrase };
    const officialCreds = { key: key.apiKey, secret: key.secret, passphrase: key.passphrase };
    const ours = new ClobClient({ url, warmIntervalMs: 0, limits: WIDE_CLIENT }, { address: signer.address, creds });
    const adapter = officialSigner(wallet);
    const official = new OfficialClient({ host: url, chain: Chain.POLYGON, signer: adapter as never, creds: officialCreds });
    try {
      const m = sim.polymarketMarkets()[0]!;
      const tickText = m.tickSize as '0.01';
      const tick = Math.round(Number(tickText) * PRICE_SCALE);
      const book = sim.polymarketBook(m.yesTokenId)!;
      const bestBid = Math.round(Number(book.bids[book.bids.length - 1]!.price) * PRICE_SCALE);
      const slot = marketInSlot(0, {
        conditionId: m.conditionId,
        slug: 'bench',
        tokenIds: [m.yesTokenId, m.noTokenId],
        outcomes: ['Yes', 'No'],
        tickSize: tick,
        minSize: UNIT,
        feeRate: 0,
        feeExponent: 1,
        negRisk: false,
        startMs: NaN,
        endMs: NaN,
        underlying: '',
      });
      const market: MarketInfo = slot.info;
      const token: TokenInfo = slot.tokens[0];
      const orders = orderPool(bestBid, tick);
      const officialArgs = orders.map((o) => ({
        tokenID: m.yesTokenId,
        price: o.price / PRICE_SCALE,
        size: o.size / UNIT,
        side: o.side === Side.Buy ? OfficialSide.BUY : OfficialSide.SELL,
      }));
      const options = { tickSize: tickText, negRisk: false, version: 2 as const };
      await ours.start();
      // The official client asks the venue for the tick size once and caches it; a warm cache is its best case.
      await official.getTickSize(m.yesTokenId);

      const ourBytes = (o: Order) => {
        const built = buildSignedOrder(signer, orderIntent(o, o.size, token, market, SIGNING, key.apiKey), Date.now());
        const body = JSON.stringify(built.body);
        return l2Headers(signer.address, creds, 'POST', '/order', body, Date.now() / 1000).POLY_SIGNATURE.length + body.length;
      };
      const officialBytes = async (i: number) => {
        const signed = await official.createOrder(officialArgs[i]!, options);
        const body = JSON.stringify(orderToJsonV2(signed as Parameters<typeof orderToJsonV2>[0], key.apiKey, OfficialOrderType.GTC, true, false));
        const h = await createL2Headers(adapter as never, officialCreds, { method: 'POST', requestPath: '/order', body });
        return h.POLY_SIGNATURE.length + body.length;
      };
      let i = 0;
      let j = 0;
      await compareThroughput(
        ctx,
        'order-path',
        'order → request bytes',
        { name: 'official createOrder + body + createL2Headers', fn: () => officialBytes(j++ & (POOL - 1)) },
        [{ name: 'orderIntent + buildSignedOrder + body + l2Headers', fn: () => ourBytes(orders[i++ & (POOL - 1)]!) }],
      );

      // Decision → ack over loopback, both clients alternating on the same orders.
      const n = ctx.quick ? 200 : 2_000;
      const warm = ctx.quick ? 20 : 100;
      const ourNs: number[] = [];
      const officialNs: number[] = [];
      const postOurs = async (o: Order): Promise<number> => {
        const t0 = performance.now();
        const built = buildSignedOrder(signer, orderIntent(o, o.size, token, market, SIGNING, key.apiKey), Date.now());
        const r = await ours.postOrder(built);
        const dt = performance.now() - t0;
        if (!r.success || r.status !== 'live') throw new Error(`order-path: our order was not placed: ${JSON.stringify(r)}`);
        return dt * 1e6;
      };
      const postOfficial = async (k: number): Promise<number> => {
        const t0 = performance.now();
        const signed: SignedOrder = await official.createOrder(officialArgs[k]!, options);
        const r = (await official.postOrder(signed, OfficialOrderType.GTC, true)) as { success?: boolean; status?: string };
        const dt = performance.now() - t0;
        if (r.success !== true || r.status !== 'live') throw new Error(`order-path: the official client's order was not placed: ${JSON.stringify(r)}`);
        return dt * 1e6;
      };
      for (let k = 0; k < warm + n; k++) {
        if (k % BATCH === 0) await ours.cancelAll();
        const o = k & (POOL - 1);
        // Alternate who goes first, so neither always posts into the book the other just grew.
        let a: number;
        let b: number;
        if (k % 2 === 0) {
          a = await postOurs(orders[o]!);
          b = await postOfficial(o);
        } else {
          b = await postOfficial(o);
          a = await postOurs(orders[o]!);
        }
        if (k < warm) continue;
        ourNs.push(a);
        officialNs.push(b);
      }
      await ours.cancelAll();
      pushLatencyRows(ctx, 'order-path', 'decision → ack (loopback)', latencySummary('official createOrder + postOrder', officialNs), [
        latencySummary('buildSignedOrder + ClobClient.postOrder', ourNs),
      ]);
      ctx.log(
        `order-path: ${n} orders each posted to the venue simulator on loopback after ${warm} warm-up orders each; ` +
          'the simulator runs in this process and recovers every EIP-712 signature with ethers, so its verification is in both sides\' times',
      );
    } finally {
      await ours.close();
      await sim.stop();
    }
  },
};
