// Helpers for the CLOB tests: a simulator with one quiet market, the
// official client wired to it, and raw signed requests built with the
// engine's own order builder and L2 headers.
import { ClobClient, Chain } from '@polymarket/clob-client-v2';
import { Wallet } from 'ethers';
import { native } from '../../native.js';
import { buildSignedOrder, type BuiltOrder, type OrderIntent } from '../../order/build.js';
import { parseDec } from '../../order/decimal.js';
import { l2Headers } from '../../order/hmac.js';
import type { TickSize } from '../../order/amounts.js';
import { VenueSimulator } from '../simulator.js';
import type { ClobOptions } from './api.js';
import type { RegisteredKey } from './auth.js';

export const HARDHAT_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
/** Hardhat account #1, a second trader. */
export const HARDHAT_KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

export interface Harness {
  readonly sim: VenueSimulator;
  readonly url: string;
  readonly yes: string;
  readonly no: string;
  readonly conditionId: string;
  readonly tick: TickSize;
  stop(): Promise<void>;
}

export async function startClobSim(clob: ClobOptions = {}, seed = 7, extra: { tradeProbability?: number } = {}): Promise<Harness> {
  const sim = new VenueSimulator({
    venues: ['polymarket'],
    speed: 'manual',
    seed,
    polymarket: { markets: [{ startPrice: 0.5 }], levels: 5, clob, ...(extra.tradeProbability !== undefined ? { tradeProbability: extra.tradeProbability } : {}) },
  });
  const urls = await sim.start();
  const m = sim.polymarketMarkets()[0]!;
  return { sim, url: urls.polymarket!.restUrl, yes: m.yesTokenId, no: m.noTokenId, conditionId: m.conditionId, tick: m.tickSize as TickSize, stop: () => sim.stop() };
}

/** The official client takes an ethers v5-style signer; adapt v6. */
export function officialSigner(key: string): { _signTypedData: (...a: never[]) => Promise<string>; getAddress: () => Promise<string> } {
  const wallet = new Wallet(key);
  return {
    _signTypedData: ((d: Record<string, unknown>, t: Record<string, Array<{ name: string; type: string }>>, v: Record<string, unknown>) =>
      wallet.signTypedData(d, t, v)) as (...a: never[]) => Promise<string>,
    getAddress: async () => wallet.address,
  };
}

export function officialClient(url: string, key: string, creds?: { key: string; secret: string; passphrase: string }): ClobClient {
  return new ClobClient({ host: url, chain: Chain.POLYGON, signer: officialSigner(key) as never, ...(creds ? { creds } : {}) });
}

export interface Trader {
  readonly key: RegisteredKey;
  readonly signer: ReturnType<typeof native.OrderSigner.fromHex>;
}

export function trader(h: Harness, privateKey: string): Trader {
  const signer = native.OrderSigner.fromHex(privateKey);
  return { key: h.sim.polymarketClob().registerKey(signer.address), signer };
}

export const dec = (x: string) => parseDec(x)!;

export function build(t: Trader, h: Harness, intent: Partial<OrderIntent> & Pick<OrderIntent, 'side' | 'price'>): BuiltOrder {
  return buildSignedOrder(t.signer, {
    tokenId: h.yes,
    tick: h.tick,
    minSize: dec('1'),
    negRisk: false,
    type: 'GTC',
    postOnly: false,
    version: 2,
    chainId: 137,
    signatureType: 0,
    owner: t.key.apiKey,
    ...intent,
  });
}

export interface RawReply {
  readonly status: number;
  readonly body: unknown;
}

/** One L2-signed request; `sentBody` replaces the signed body on the wire (tampering). */
export async function send(h: Harness, t: Trader, method: string, path: string, body?: unknown, sentBody?: string): Promise<RawReply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = l2Headers(t.signer.address, { apiKey: t.key.apiKey, secret: t.key.secret, passphrase: t.key.passphrase }, method, path.split('?')[0]!, text, Date.now() / 1000);
  const res = await fetch(h.url + path, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    ...(text !== undefined ? { body: sentBody ?? text } : {}),
  });
  const raw = await res.text();
  return { status: res.status, body: raw === '' ? undefined : (JSON.parse(raw) as unknown) };
}

export function best(h: Harness, token: string): { bid: { price: string; size: string }; ask: { price: string; size: string } } {
  const book = h.sim.polymarketBook(token)!;
  return { bid: book.bids[book.bids.length - 1]!, ask: book.asks[book.asks.length - 1]! };
}
