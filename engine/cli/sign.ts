// `polyedge sign`: newline-delimited JSON orders on stdin, one JSON line out
// per input line (engine/venues/polymarket/order/sign-lines.ts does the
// work), and exit code 2 at the end when any line was rejected.

import { createInterface } from 'node:readline';
import { loadConfig, loadDotEnv, PRIVATE_KEY_ENV } from '../config/load.js';
import { ERRORS, PolyedgeError } from '../errors.js';
import { native, type OrderSigner } from '../native.js';
import { signLines } from '../venues/polymarket/order/sign-lines.js';
import type { Command } from './args.js';

export function signerFromEnv(): OrderSigner {
  // Presence only: reading the value would make the key a JS string (an empty value is refused natively).
  if (!(PRIVATE_KEY_ENV in process.env)) {
    throw new PolyedgeError('PE_ENV_MISSING', `${PRIVATE_KEY_ENV}: set it to the signing key (0x + 64 hex digits)`, PRIVATE_KEY_ENV);
  }
  try {
    return native.OrderSigner.fromEnv(PRIVATE_KEY_ENV);
  } catch (err) {
    // The native message names the variable and the problem, never the value.
    throw new PolyedgeError('PE_KEY_INVALID', err instanceof Error ? err.message : String(err), PRIVATE_KEY_ENV);
  }
}

export const signCommand: Command = {
  name: 'sign',
  summary:
    'Signs newline-delimited JSON orders from stdin with the key in POLY_PRIVATE_KEY.\n' +
    'Each line holds the struct fields by their protocol names plus "version" (1, 2 or 3;\n' +
    'default 2), "negRisk" (default false) and "chainId" (default venue.chain_id).\n' +
    'Writes {"hash","signature"} per line; a rejected line writes {"line","error","field","message"}\n' +
    'and a message on stderr, and the run exits with code 2 at the end. Blank lines are skipped.',
  usage: 'sign [--config FILE] < orders.ndjson',
  options: { config: { type: 'string' } },
  help: { config: 'configuration file (default configs/default.toml)' },
  async run(values) {
    loadDotEnv();
    const config = loadConfig(typeof values.config === 'string' ? values.config : undefined);
    const signer = signerFromEnv();
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    const { lines, rejected } = await signLines(rl, signer, config.venue.chain_id, {
      out: (text) => void process.stdout.write(text),
      err: (text) => void process.stderr.write(text),
    });
    if (rejected > 0) {
      process.stderr.write(`${rejected} of ${lines} line(s) rejected (${ERRORS.PE_BATCH_INPUT.title})\n`);
      return ERRORS.PE_BATCH_INPUT.exit;
    }
    return 0;
  },
};
