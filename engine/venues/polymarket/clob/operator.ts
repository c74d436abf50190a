// What the operator's commands (`polyedge order post|cancel|list`, `trades`,
// `balance`) do once their arguments are read: one short-lived client per
// command, clock synced first so POLY_TIMESTAMP is the CLOB's.

import { PolyedgeError } from '../../../errors.js';
import type { OrderSigner } from '../../../native.js';
import type { ApiCredentials } from '../order/hmac.js';
import { ClobClient, type OrderSource } from './client.js';
import type { PostOrderResult } from './responses.js';

export interface OperatorContext {
  url: string;
  signer: OrderSigner;
  creds: ApiCredentials | undefined;
  timeoutMs?: number | undefined;
}

export async function withClient<T>(ctx: OperatorContext, fn: (client: ClobClient) => Promise<T>): Promise<T> {
  if (!ctx.creds) {
    throw new PolyedgeError('PE_ENV_MISSING', 'POLY_API_KEY: set POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE (polyedge keys derive prints them)', 'POLY_API_KEY');
  }
  const client = new ClobClient(
    { url: ctx.url, warmIntervalMs: 0, ...(ctx.timeoutMs === undefined ? {} : { timeoutMs: ctx.timeoutMs }) },
    { address: ctx.signer.address, creds: ctx.creds },
  );
  try {
    await client.transport.syncTime();
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Posts one order; a CLOB answer of success:false is PE_CLOB_REJECTED carrying its errorMsg (the answer is returned first for printing). */
export async function postOne(ctx: OperatorContext, source: OrderSource): Promise<{ result: PostOrderResult; rejected: PolyedgeError | undefined }> {
  const result = await withClient(ctx, (c) => c.postOrder(source));
  const rejected = result.success ? undefined : new PolyedgeError('PE_CLOB_REJECTED', `POST /order: ${result.errorMsg || 'not placed'}`);
  return { result, rejected };
}

/** A cancel that left some orders standing is PE_CLOB_REJECTED naming them and the CLOB's reasons. */
export function cancelRefusal(notCanceled: Record<string, string>): PolyedgeError | undefined {
  const entries = Object.entries(notCanceled);
  if (entries.length === 0) return undefined;
  return new PolyedgeError('PE_CLOB_REJECTED', `not canceled: ${entries.map(([id, why]) => `${id} (${why})`).join(', ')}`);
}
