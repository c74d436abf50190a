// L1: create or derive the L2 API credentials by signing ClobAuth (protocols
// §6.4) with the wallet key. The key stays in the native signer; only the
// signature and the address reach JS.

import type { OrderSigner } from '../../../native.js';
import { ClobTransport, type TransportOptions } from './transport.js';
import { parseApiCredentials, type ApiCredentialsResult } from './responses.js';

export type KeyAction = 'create' | 'derive';

/** The four L1 headers for the signer, at the server's time. */
export function l1Headers(signer: OrderSigner, chainId: number, nonce: string, serverSeconds: number): Record<string, string> {
  const timestamp = String(serverSeconds);
  return {
    POLY_ADDRESS: signer.address,
    POLY_SIGNATURE: signer.signClobAuth(timestamp, nonce, chainId),
    POLY_TIMESTAMP: timestamp,
    POLY_NONCE: nonce,
  };
}

/**
 * `create` (POST /auth/api-key) makes a new key for the nonce; `derive`
 * (GET /auth/derive-api-key) returns the one that exists. A create is not
 * sent twice on an uncertain outcome: derive finds what it made.
 */
export async function fetchApiKey(options: TransportOptions, signer: OrderSigner, chainId: number, action: KeyAction, nonce = '0'): Promise<ApiCredentialsResult> {
  if (!/^\d+$/.test(nonce)) throw new RangeError(`nonce must be a decimal integer, got ${JSON.stringify(nonce)}`);
  const transport = new ClobTransport({ ...options, warmIntervalMs: 0 });
  try {
    await transport.syncTime();
    const auth = (s: number) => l1Headers(signer, chainId, nonce, s);
    const answer =
      action === 'create'
        ? await transport.request({ method: 'POST', path: '/auth/api-key', auth, resend: false })
        : await transport.request({ method: 'GET', path: '/auth/derive-api-key', auth, resend: true });
    const route = action === 'create' ? 'POST /auth/api-key' : 'GET /auth/derive-api-key';
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      body = undefined;
    }
    return parseApiCredentials(route, body);
  } finally {
    await transport.close();
  }
}

/** The credentials as the .env lines apiSecretsFromEnv reads. */
export function envLines(c: ApiCredentialsResult): string {
  return `POLY_API_KEY=${c.apiKey}\nPOLY_API_SECRET=${c.secret}\nPOLY_API_PASSPHRASE=${c.passphrase}\n`;
}
