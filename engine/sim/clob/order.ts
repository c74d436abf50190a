// The `POST /order` body (protocols.md §7.6) validated field by field, and
// its EIP-712 signature checked with ethers (§7.1, §7.2): the signer is
// recovered from the typed data of the venue's current order version and
// must be the order's signer. An order that recovers under another version's
// domain is an `order_version_mismatch`, not a forgery.
import { getAddress, recoverAddress, TypedDataEncoder } from 'ethers';
import { isRecord } from '../../../workers/guards.js';
import type { WireSide } from '../../trading/types.js';

export type ClobOrderType = 'GTC' | 'GTD' | 'FOK' | 'FAK';
export type ClobVersion = 2 | 3;

export interface ClobOrder {
  readonly salt: string;
  readonly maker: string;
  readonly signer: string;
  readonly tokenId: string;
  readonly makerAmount: bigint;
  readonly takerAmount: bigint;
  readonly side: WireSide;
  readonly signatureType: number;
  readonly timestamp: string;
  /** Unix seconds; 0 = none. */
  readonly expiration: number;
  readonly metadata: string;
  readonly builder: string;
  readonly signature: string;
}

export interface NewOrder {
  readonly order: ClobOrder;
  readonly owner: string;
  readonly orderType: ClobOrderType;
  readonly postOnly: boolean;
  readonly deferExec: boolean;
  /** A V1-shaped body (nonce/feeRateBps, no timestamp): signed for the dead exchange. */
  readonly legacy: boolean;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly field: string; readonly reason: string };

const ORDER_TYPES: readonly string[] = ['GTC', 'GTD', 'FOK', 'FAK'];
const UINT = /^\d{1,78}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const ZERO32 = `0x${'0'.repeat(64)}`;
const MAX_UINT256 = (1n << 256n) - 1n;

const fail = (field: string, reason: string): Checked<never> => ({ ok: false, field, reason });

function address(v: unknown): string | undefined {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v)) return undefined;
  try {
    return getAddress(v.toLowerCase());
  } catch {
    return undefined;
  }
}

function uintText(v: unknown): string | undefined {
  const s = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
  return typeof s === 'string' && UINT.test(s) && BigInt(s) <= MAX_UINT256 ? s : undefined;
}

/** Validates one NewOrder object; `field` paths name what is wrong. */
export function parseNewOrder(body: unknown, at = ''): Checked<NewOrder> {
  if (!isRecord(body)) return fail(at || 'body', 'must be a JSON object');
  const o = body['order'];
  if (!isRecord(o)) return fail(`${at}order`, 'must be an object');
  const legacy = o['timestamp'] === undefined && (o['nonce'] !== undefined || o['feeRateBps'] !== undefined);
  const f = (name: string): string => `${at}order.${name}`;
  const salt = uintText(o['salt']);
  if (salt === undefined) return fail(f('salt'), 'must be a non-negative integer');
  const maker = address(o['maker']);
  if (!maker) return fail(f('maker'), 'must be a 0x address');
  const signer = address(o['signer']);
  if (!signer) return fail(f('signer'), 'must be a 0x address');
  const tokenId = uintText(o['tokenId']);
  if (tokenId === undefined || typeof o['tokenId'] !== 'string') return fail(f('tokenId'), 'must be a decimal string');
  const amounts: bigint[] = [];
  for (const name of ['makerAmount', 'takerAmount']) {
    const v = o[name];
    if (typeof v !== 'string' || uintText(v) === undefined || BigInt(v) === 0n) return fail(f(name), 'must be a positive integer string (base units)');
    amounts.push(BigInt(v));
  }
  const rawSide = o['side'];
  const side: WireSide | undefined = rawSide === 'BUY' || rawSide === 0 ? 'BUY' : rawSide === 'SELL' || rawSide === 1 ? 'SELL' : undefined;
  if (!side) return fail(f('side'), 'must be "BUY" or "SELL"');
  const signatureType = o['signatureType'];
  if (signatureType !== 0 && signatureType !== 1 && signatureType !== 2 && signatureType !== 3) return fail(f('signatureType'), 'must be 0, 1, 2 or 3');
  const timestamp = legacy ? '0' : uintText(o['timestamp']);
  if (timestamp === undefined || (!legacy && typeof o['timestamp'] !== 'string')) return fail(f('timestamp'), 'must be a decimal string (ms)');
  const expiration = o['expiration'] ?? '0';
  if (typeof expiration !== 'string' || !/^\d{1,12}$/.test(expiration)) return fail(f('expiration'), 'must be a decimal string (Unix seconds)');
  const metadata = o['metadata'] ?? ZERO32;
  const builder = o['builder'] ?? ZERO32;
  if (!legacy && (typeof metadata !== 'string' || !BYTES32.test(metadata))) return fail(f('metadata'), 'must be a 0x bytes32');
  if (!legacy && (typeof builder !== 'string' || !BYTES32.test(builder))) return fail(f('builder'), 'must be a 0x bytes32');
  const signature = o['signature'];
  if (typeof signature !== 'string' || !SIGNATURE.test(signature)) return fail(f('signature'), 'must be a 0x 65-byte signature');
  const owner = body['owner'];
  if (typeof owner !== 'string' || owner === '') return fail(`${at}owner`, 'must be the API key');
  const orderType = body['orderType'] ?? 'GTC';
  if (typeof orderType !== 'string' || !ORDER_TYPES.includes(orderType)) return fail(`${at}orderType`, `must be one of ${ORDER_TYPES.join(', ')}`);
  for (const flag of ['postOnly', 'deferExec']) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean') return fail(`${at}${flag}`, 'must be a boolean');
  }
  return {
    ok: true,
    value: {
      order: {
        salt,
        maker,
        signer,
        tokenId,
        makerAmount: amounts[0]!,
        takerAmount: amounts[1]!,
        side,
        signatureType,
        timestamp,
        expiration: Number(expiration),
        metadata: metadata as string,
        builder: builder as string,
        signature,
      },
      owner,
      orderType: orderType as ClobOrderType,
      postOnly: body['postOnly'] === true,
      deferExec: body['deferExec'] === true,
      legacy,
    },
  };
}

const ORDER_TYPES_EIP712 = {
  Order: [
    { name: 'salt', type: 'uint256' },
    { name: 'maker', type: 'address' },
    { name: 'signer', type: 'address' },
    { name: 'tokenId', type: 'uint256' },
    { name: 'makerAmount', type: 'uint256' },
    { name: 'takerAmount', type: 'uint256' },
    { name: 'side', type: 'uint8' },
    { name: 'signatureType', type: 'uint8' },
    { name: 'timestamp', type: 'uint256' },
    { name: 'metadata', type: 'bytes32' },
    { name: 'builder', type: 'bytes32' },
  ],
};

const EXCHANGES: Readonly<Record<ClobVersion, { normal: string; negRisk?: string }>> = {
  2: { normal: '0xE111180000d2663C0091e4f400237545B87B996B', negRisk: '0xe2222d279d744050d28e00520010520000310F59' },
  3: { normal: '0xe3333700cA9d93003F00f0F71f8515005F6c00Aa' },
};

/** The order's EIP-712 digest under `version`'s domain, or undefined when that version has no such exchange. */
export function orderHash(order: ClobOrder, version: ClobVersion, chainId: number, negRisk: boolean): string | undefined {
  const ex = EXCHANGES[version];
  const verifyingContract = negRisk ? ex.negRisk : ex.normal;
  if (!verifyingContract) return undefined;
  return TypedDataEncoder.hash({ name: 'Polymarket CTF Exchange', version: String(version), chainId, verifyingContract }, ORDER_TYPES_EIP712, {
    salt: order.salt,
    maker: order.maker,
    signer: order.signer,
    tokenId: order.tokenId,
    makerAmount: order.makerAmount,
    takerAmount: order.takerAmount,
    side: order.side === 'BUY' ? 0 : 1,
    signatureType: order.signatureType,
    timestamp: order.timestamp,
    metadata: order.metadata,
    builder: order.builder,
  });
}

function recovers(hash: string, signature: string, signer: string): boolean {
  try {
    return recoverAddress(hash, signature) === signer;
  } catch {
    return false;
  }
}

export type SignatureCheck = { readonly kind: 'ok'; readonly hash: string } | { readonly kind: 'mismatch' } | { readonly kind: 'bad' };

/**
 * EOA, proxy and Safe orders (types 0-2) carry a plain ECDSA signature by
 * `signer`; POLY_1271 (type 3) contract signatures are not modelled and
 * fail as a bad signature.
 */
export function checkOrderSignature(o: NewOrder, version: ClobVersion, chainId: number, negRisk: boolean): SignatureCheck {
  if (o.legacy) return { kind: 'mismatch' };
  if (o.order.signatureType === 3) return { kind: 'bad' };
  if (o.order.signatureType === 0 && o.order.maker !== o.order.signer) return { kind: 'bad' };
  const hash = orderHash(o.order, version, chainId, negRisk);
  if (hash && recovers(hash, o.order.signature, o.order.signer)) return { kind: 'ok', hash };
  const other: ClobVersion = version === 2 ? 3 : 2;
  const otherHash = orderHash(o.order, other, chainId, negRisk);
  if (otherHash && recovers(otherHash, o.order.signature, o.order.signer)) return { kind: 'mismatch' };
  return { kind: 'bad' };
}
