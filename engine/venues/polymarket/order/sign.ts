// The checked boundary between untrusted order JSON (stdin, HTTP) and the
// native signer. Everything is validated here with the protocol field name
// in the error; inside, the native addon trusts these types.

import { fieldError, PolyedgeError } from '../../../errors.js';
import type { OrderSigner, OrderV1Fields, OrderV2Fields, SignedDigest } from '../../../native.js';
import { exchangeDomain, POLYGON, type OrderVersion } from './exchanges.js';
import { isPlainObject } from '../../../../workers/guards.js';
import { Side } from '../../../trading/types.js';

export interface OrderToSign {
  version: OrderVersion;
  negRisk: boolean;
  chainId: number;
  /** Present for version 2 and 3. */
  v2?: OrderV2Fields;
  /** Present for version 1. */
  v1?: OrderV1Fields;
}

const COMMON_KEYS = ['salt', 'maker', 'signer', 'tokenId', 'makerAmount', 'takerAmount', 'side', 'signatureType', 'version', 'negRisk', 'chainId'];
const V2_KEYS = new Set([...COMMON_KEYS, 'timestamp', 'metadata', 'builder', 'expiration']);
const V1_KEYS = new Set([...COMMON_KEYS, 'taker', 'expiration', 'nonce', 'feeRateBps']);

type Json = Record<string, unknown>;

/** uint256 given as a decimal string or a JSON number that is a safe integer. */
function uintText(o: Json, key: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw fieldError('PE_ORDER_FIELD', key, 'is required');
    return undefined;
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw fieldError('PE_ORDER_FIELD', key, 'must be a non-negative integer; pass large values as decimal strings');
    }
    return String(v);
  }
  if (typeof v === 'string' && /^\d+$/.test(v)) return v;
  throw fieldError('PE_ORDER_FIELD', key, `must be a decimal integer string, got ${JSON.stringify(v)}`);
}

function hexText(o: Json, key: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw fieldError('PE_ORDER_FIELD', key, 'is required');
    return undefined;
  }
  if (typeof v !== 'string') throw fieldError('PE_ORDER_FIELD', key, `must be a 0x-hex string, got ${typeof v}`);
  return v;
}

function sideNumber(v: unknown): Side {
  if (v === 'BUY' || v === Side.Buy) return Side.Buy;
  if (v === 'SELL' || v === Side.Sell) return Side.Sell;
  throw fieldError('PE_ORDER_FIELD', 'side', `must be "BUY", "SELL", 0 or 1, got ${JSON.stringify(v)}`);
}

function smallInt(o: Json, key: string, allowed: readonly number[], fallback?: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !allowed.includes(v)) {
    throw fieldError('PE_ORDER_FIELD', key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(o[key])}`);
  }
  return v;
}

export function parseOrderJson(value: unknown, defaultChainId = POLYGON): OrderToSign {
  if (!isPlainObject(value)) throw new PolyedgeError('PE_ORDER_FIELD', 'order: must be a JSON object', 'order');
  const version = smallInt(value, 'version', [1, 2, 3], 2) as OrderVersion;
  const allowed = version === 1 ? V1_KEYS : V2_KEYS;
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) throw fieldError('PE_ORDER_FIELD', key, `is not a V${version} order field`);
  }
  const negRisk = value.negRisk ?? false;
  if (typeof negRisk !== 'boolean') throw fieldError('PE_ORDER_FIELD', 'negRisk', 'must be true or false');
  const chainId = value.chainId ?? defaultChainId;
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0) {
    throw fieldError('PE_ORDER_FIELD', 'chainId', 'must be a positive integer');
  }
  const common = {
    salt: uintText(value, 'salt', true)!,
    maker: hexText(value, 'maker', true)!,
    signer: hexText(value, 'signer', false) ?? hexText(value, 'maker', true)!,
    tokenId: uintText(value, 'tokenId', true)!,
    makerAmount: uintText(value, 'makerAmount', true)!,
    takerAmount: uintText(value, 'takerAmount', true)!,
    side: sideNumber(value.side),
  };
  if (version === 1) {
    const v1: OrderV1Fields = {
      ...common,
      signatureType: smallInt(value, 'signatureType', [0, 1, 2], 0),
      taker: hexText(value, 'taker', false),
      expiration: uintText(value, 'expiration', false),
      nonce: uintText(value, 'nonce', false),
      feeRateBps: uintText(value, 'feeRateBps', false),
    };
    return { version, negRisk, chainId, v1 };
  }
  // expiration is accepted for V2/V3 (it travels in the POST body) but is
  // not part of the signed struct.
  uintText(value, 'expiration', false);
  const v2: OrderV2Fields = {
    ...common,
    signatureType: smallInt(value, 'signatureType', [0, 1, 2, 3], 0),
    timestamp: uintText(value, 'timestamp', true)!,
    metadata: hexText(value, 'metadata', false),
    builder: hexText(value, 'builder', false),
  };
  return { version, negRisk, chainId, v2 };
}

/** Native errors read `field: reason`; keep the field for the caller. */
function fromNative(err: unknown): PolyedgeError {
  const message = err instanceof Error ? err.message : String(err);
  const colon = message.indexOf(':');
  const field = colon > 0 ? message.slice(0, colon) : undefined;
  return new PolyedgeError('PE_ORDER_FIELD', message, field);
}

export function signOrder(signer: OrderSigner, order: OrderToSign): SignedDigest {
  const domain = exchangeDomain(order.version, order.chainId, order.negRisk);
  try {
    return order.v1 ? signer.signOrderV1(order.v1, domain) : signer.signOrderV2(order.v2!, domain);
  } catch (err) {
    throw fromNative(err);
  }
}
