// `polyedge sign`'s work: newline-delimited JSON orders in, one JSON line out
// per non-blank input line, in order. A bad line yields an error line (so
// outputs stay aligned with inputs) and a message, and the run goes on.

import { asPolyedgeError, PolyedgeError } from '../../../errors.js';
import type { OrderSigner } from '../../../native.js';
import { parseOrderJson, signOrder } from './sign.js';

export interface SignLinesOutput {
  /** One JSON line: the signed digest, or the error of a rejected line. */
  out(text: string): void;
  /** One message line per rejected input line. */
  err(text: string): void;
}

/** Signs every line; returns how many lines were read (blank ones included) and how many rejected. */
export async function signLines(lines: AsyncIterable<string>, signer: OrderSigner, defaultChainId: number, io: SignLinesOutput): Promise<{ lines: number; rejected: number }> {
  let lineNo = 0;
  let rejected = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    try {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new PolyedgeError('PE_INPUT_JSON', `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
      }
      const signed = signOrder(signer, parseOrderJson(value, defaultChainId));
      io.out(`{"hash":"${signed.hash}","signature":"${signed.signature}"}\n`);
    } catch (err) {
      rejected++;
      const e = asPolyedgeError(err);
      io.err(`line ${lineNo}: ${e.format()}\n`);
      io.out(`${JSON.stringify({ line: lineNo, error: e.code, field: e.field ?? null, message: e.message })}\n`);
    }
  }
  return { lines: lineNo, rejected };
}
