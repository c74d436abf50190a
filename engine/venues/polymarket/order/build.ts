// From a trader's intent (token, side, price, size, tick, type) to the signed
// `POST /order` body (protocols §7.5, §7.6).

import { randomInt } from 'node:crypto';
import { fieldError } from '../../../errors.js';
import type { OrderSigner, OrderV2Fields } from '../../../native.js';
import { limitOrderAmounts, marketOrderAmounts, type TickSize } from './amounts.js';
import { sideOfWire, type WireSide } from '../../../trading/types.js';
import type { Dec } from './decimal.js';
import { signOrder } from './sign.js';

export type OrderType = 'GTC' | 'GTD' | 'FOK' | 'FAK';
export const ORDER_TYPES: readonly OrderType[] = ['GTC', 'GTD', 'FOK', 'FAK'];
const ZERO32 = `0x${'0'.repeat(64)}`;
/** The CLOB refuses a GTD that expires within its one-minute security threshold. */
export const GTD_MIN_LEAD_SECONDS = 60;

export interface OrderIntent {
  tokenId: string;
  side: WireSide;
  /** Limit price, or worst acceptable price for FOK/FAK. */
  price: Dec;
  /** Shares: limit orders and market SELLs. */
  size?: Dec | undefined;
  /** Collateral dollars: market (FOK/FAK) BUYs. */
  amount?: Dec | undefined;
  tick: TickSize;
  minSize: Dec;
  negRisk: boolean;
  type: OrderType;
  postOnly: boolean;
  /** Unix seconds; GTD only. */
  expiration?: number | undefined;
  version: 2 | 3;
  chainId: number;
  signatureType: 0 | 1 | 2 | 3;
  /** Funder (proxy, Safe or deposit wallet); defaults to the signer. */
  maker?: string | undefined;
  owner: string;
  builder?: string | undefined;
  metadata?: string | undefined;
  deferExec?: boolean | undefined;
  salt?: number | undefined;
  timestampMs?: number | undefined;
}

export interface PostOrderBody {
  order: {
    salt: number;
    maker: string;
    signer: string;
    tokenId: string;
    makerAmount: string;
    takerAmount: string;
    side: WireSide;
    signatureType: number;
    timestamp: string;
    expiration: string;
    metadata: string;
    builder: string;
    signature: string;
  };
  owner: string;
  orderType: OrderType;
  postOnly: boolean;
  deferExec: boolean;
}

export interface BuiltOrder {
  hash: string;
  body: PostOrderBody;
}

function checkFlags(intent: OrderIntent, nowMs: number): string {
  const market = intent.type === 'FOK' || intent.type === 'FAK';
  if (intent.postOnly && market) {
    throw fieldError('PE_ORDER_TYPE', 'postOnly', `is only allowed with GTC or GTD, not ${intent.type}`);
  }
  if (intent.type !== 'GTD') {
    if (intent.expiration !== undefined && intent.expiration !== 0) {
      throw fieldError('PE_ORDER_TYPE', 'expiration', `is only allowed with GTD, not ${intent.type}`);
    }
    return '0';
  }
  if (intent.expiration === undefined) throw fieldError('PE_ORDER_EXPIRATION', 'expiration', 'is required for GTD (Unix seconds)');
  const earliest = Math.floor(nowMs / 1000) + GTD_MIN_LEAD_SECONDS;
  if (!Number.isSafeInteger(intent.expiration) || intent.expiration <= earliest) {
    throw fieldError('PE_ORDER_EXPIRATION', 'expiration', `must be Unix seconds later than now + ${GTD_MIN_LEAD_SECONDS} s (${earliest})`);
  }
  return String(intent.expiration);
}

function amountsOf(intent: OrderIntent) {
  if (intent.type === 'FOK' || intent.type === 'FAK') {
    const qty = intent.side === 'BUY' ? intent.amount : intent.size;
    if (qty === undefined) {
      throw intent.side === 'BUY'
        ? fieldError('PE_ORDER_FIELD', 'amount', 'a market BUY needs the dollar amount to spend')
        : fieldError('PE_ORDER_FIELD', 'size', 'a market SELL needs the shares to sell');
    }
    return marketOrderAmounts(intent.side, intent.price, qty, intent.tick, intent.minSize);
  }
  if (intent.size === undefined) throw fieldError('PE_ORDER_FIELD', 'size', 'a limit order needs a size in shares');
  return limitOrderAmounts(intent.side, intent.price, intent.size, intent.tick, intent.minSize);
}

export function buildSignedOrder(signer: OrderSigner, intent: OrderIntent, nowMs: number = Date.now()): BuiltOrder {
  if (!/^\d+$/.test(intent.tokenId)) throw fieldError('PE_ORDER_FIELD', 'tokenId', 'must be a decimal token id');
  if (!intent.owner) throw fieldError('PE_ORDER_FIELD', 'owner', 'the API key (owner) is required');
  const expiration = checkFlags(intent, nowMs);
  const { makerAmount, takerAmount } = amountsOf(intent);
  // Same salt range as the official client (fits a JS number, sent as one).
  const salt = intent.salt ?? randomInt(0, 2 ** 47);
  const signerAddress = intent.signatureType === 3 ? intent.maker ?? signer.address : signer.address;
  const fields: OrderV2Fields = {
    salt: String(salt),
    maker: intent.maker ?? signer.address,
    signer: signerAddress,
    tokenId: intent.tokenId,
    makerAmount: makerAmount.toString(),
    takerAmount: takerAmount.toString(),
    side: sideOfWire(intent.side),
    signatureType: intent.signatureType,
    timestamp: String(intent.timestampMs ?? nowMs),
    metadata: intent.metadata ?? ZERO32,
    builder: intent.builder ?? ZERO32,
  };
  const signed = signOrder(signer, { version: intent.version, negRisk: intent.negRisk, chainId: intent.chainId, v2: fields });
  return {
    hash: signed.hash,
    body: {
      order: {
        salt,
        maker: fields.maker,
        signer: fields.signer,
        tokenId: fields.tokenId,
        makerAmount: fields.makerAmount,
        takerAmount: fields.takerAmount,
        side: intent.side,
        signatureType: fields.signatureType,
        timestamp: fields.timestamp,
        expiration,
        metadata: fields.metadata!,
        builder: fields.builder!,
        signature: signed.signature,
      },
      owner: intent.owner,
      orderType: intent.type,
      postOnly: intent.postOnly,
      deferExec: intent.deferExec ?? false,
    },
  };
}
