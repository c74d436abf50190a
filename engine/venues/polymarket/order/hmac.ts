// L2 request authentication (protocols §6.5).

import { createHmac } from 'node:crypto';

export interface ApiCredentials {
  apiKey: string;
  /** base64 or base64url, with or without padding */
  secret: string;
  passphrase: string;
}

export interface L2Headers {
  POLY_ADDRESS: string;
  POLY_SIGNATURE: string;
  POLY_TIMESTAMP: string;
  POLY_API_KEY: string;
  POLY_PASSPHRASE: string;
}

/**
 * HMAC-SHA256 over `timestamp + method + path + body`, keyed by the decoded
 * secret, encoded url-safe with the `=` padding kept. `body` must be the
 * exact bytes that go on the wire: a re-serialised body signs differently.
 */
export function l2Signature(secret: string, timestamp: string, method: string, requestPath: string, body?: string): string {
  const key = Buffer.from(secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  const message = timestamp + method + requestPath + (body ?? '');
  return createHmac('sha256', key).update(message, 'utf8').digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export function l2Headers(
  address: string,
  creds: ApiCredentials,
  method: string,
  requestPath: string,
  body: string | undefined,
  timestampSeconds: number,
): L2Headers {
  const timestamp = String(Math.floor(timestampSeconds));
  return {
    POLY_ADDRESS: address,
    POLY_SIGNATURE: l2Signature(creds.secret, timestamp, method, requestPath, body),
    POLY_TIMESTAMP: timestamp,
    POLY_API_KEY: creds.apiKey,
    POLY_PASSPHRASE: creds.passphrase,
  };
}
