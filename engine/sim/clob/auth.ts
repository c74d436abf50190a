// CLOB authentication as the venue checks it (protocols.md §6.4, §6.5):
// L1 = an EIP-712 `ClobAuth` signature by the wallet (only to create or
// derive API keys), L2 = HMAC-SHA256 over timestamp + METHOD + path + the
// exact body bytes, keyed by the API secret. Signatures are checked with
// ethers, independently of the engine's own signer.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { getAddress, verifyTypedData } from 'ethers';

export interface ApiKeyCreds {
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string;
}

export interface RegisteredKey extends ApiKeyCreds {
  /** Checksummed signer address the key belongs to. */
  readonly address: string;
}

/** Header values of one request, read synchronously (uWS requests die with the handler). */
export interface AuthHeaders {
  readonly address: string;
  readonly signature: string;
  readonly timestamp: string;
  readonly nonce: string;
  readonly apiKey: string;
  readonly passphrase: string;
}

export const CLOB_AUTH_MESSAGE = 'This message attests that I control the given wallet';
const CLOB_AUTH_TYPES = {
  ClobAuth: [
    { name: 'address', type: 'address' },
    { name: 'timestamp', type: 'string' },
    { name: 'nonce', type: 'uint256' },
    { name: 'message', type: 'string' },
  ],
};

function normalAddress(text: string): string | undefined {
  try {
    return getAddress(text);
  } catch {
    return undefined;
  }
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

function uuidOf(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Url-safe base64 keeping the `=` padding, as the venue encodes secrets and signatures. */
const urlSafe = (b64: string): string => b64.replace(/\+/g, '-').replace(/\//g, '_');

export function hmacSignature(secret: string, timestamp: string, method: string, path: string, body: string): string {
  const key = Buffer.from(secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return urlSafe(createHmac('sha256', key).update(timestamp + method + path + body, 'utf8').digest('base64'));
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type AuthResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export class ApiKeyRegistry {
  private readonly byKey = new Map<string, RegisteredKey>();

  constructor(
    private readonly seed: number,
    private readonly chainId: number,
    /** Largest accepted distance between POLY_TIMESTAMP and the simulator's clock. */
    private readonly windowSeconds: number,
    private readonly nowSeconds: () => number,
  ) {}

  /** The key an address gets for `nonce`: the same every time, for the same simulator seed. */
  derive(address: string, nonce: string): RegisteredKey {
    const checksummed = getAddress(address);
    const base = `${this.seed}|${checksummed.toLowerCase()}|${nonce}`;
    const key: RegisteredKey = {
      address: checksummed,
      apiKey: uuidOf(digest(`${base}|key`)),
      secret: urlSafe(digest(`${base}|secret`).toString('base64')),
      passphrase: digest(`${base}|passphrase`).toString('hex'),
    };
    this.byKey.set(key.apiKey, key);
    return key;
  }

  /** Test surface: registers explicit credentials for an address. */
  register(address: string, creds: ApiKeyCreds): RegisteredKey {
    const key: RegisteredKey = { ...creds, address: getAddress(address) };
    this.byKey.set(key.apiKey, key);
    return key;
  }

  get(apiKey: string): RegisteredKey | undefined {
    return this.byKey.get(apiKey);
  }

  private fresh(timestamp: string): boolean {
    if (!/^\d{1,12}$/.test(timestamp)) return false;
    return Math.abs(this.nowSeconds() - Number(timestamp)) <= this.windowSeconds;
  }

  /** L1: the ClobAuth signature must recover to POLY_ADDRESS. Returns the checksummed address and nonce. */
  verifyL1(h: AuthHeaders): AuthResult<{ address: string; nonce: string }> {
    const address = normalAddress(h.address);
    const nonce = h.nonce === '' ? '0' : h.nonce;
    if (!address || !/^\d{1,30}$/.test(nonce) || !this.fresh(h.timestamp) || !/^0x[0-9a-fA-F]{130}$/.test(h.signature)) {
      return { ok: false, error: 'l1' };
    }
    let recovered: string;
    try {
      recovered = verifyTypedData(
        { name: 'ClobAuthDomain', version: '1', chainId: this.chainId },
        CLOB_AUTH_TYPES,
        { address, timestamp: h.timestamp, nonce, message: CLOB_AUTH_MESSAGE },
        h.signature,
      );
    } catch {
      return { ok: false, error: 'l1' };
    }
    return recovered === address ? { ok: true, value: { address, nonce } } : { ok: false, error: 'l1' };
  }

  /** L2: key, passphrase, address and the HMAC over the exact request must all match. */
  verifyL2(h: AuthHeaders, method: string, path: string, body: string): AuthResult<RegisteredKey> {
    const key = this.byKey.get(h.apiKey);
    if (!key || !sameText(key.passphrase, h.passphrase)) return { ok: false, error: 'key' };
    if (normalAddress(h.address) !== key.address) return { ok: false, error: 'address' };
    if (!this.fresh(h.timestamp)) return { ok: false, error: 'timestamp' };
    const expected = hmacSignature(key.secret, h.timestamp, method, path, body);
    return sameText(expected, h.signature) ? { ok: true, value: key } : { ok: false, error: 'signature' };
  }
}
