// `polyedge keys derive|create`: argument handling only; the L1 work sits in
// engine/venues/polymarket/clob/keys.ts.

import { loadConfig, loadDotEnv } from '../config/load.js';
import { PolyedgeError } from '../errors.js';
import { envLines, fetchApiKey, type KeyAction } from '../venues/polymarket/clob/keys.js';
import { optionalInt, runCommand, type Command } from './args.js';
import { signerFromEnv } from './sign.js';

function keysCommand(action: KeyAction): Command {
  return {
    name: `keys ${action}`,
    summary:
      (action === 'derive'
        ? 'Derives the existing L2 API credentials of the wallet in POLY_PRIVATE_KEY (GET /auth/derive-api-key)'
        : 'Creates new L2 API credentials for the wallet in POLY_PRIVATE_KEY (POST /auth/api-key)') +
      ',\nsigning ClobAuth natively, and prints them as .env lines (POLY_API_KEY, POLY_API_SECRET, POLY_API_PASSPHRASE).',
    usage: `keys ${action} [--nonce N] [--clob-url URL] [--config FILE]`,
    options: { nonce: { type: 'string' }, 'clob-url': { type: 'string' }, 'timeout-ms': { type: 'string' }, config: { type: 'string' } },
    help: {
      nonce: 'key nonce (default 0): each nonce has its own credentials',
      'clob-url': 'CLOB base URL (default venue.clob_url)',
      'timeout-ms': 'deadline of one request in ms (default 5000)',
      config: 'configuration file (default configs/default.toml)',
    },
    async run(v) {
      loadDotEnv();
      const config = loadConfig(typeof v.config === 'string' ? v.config : undefined);
      const nonce = optionalInt(v, 'nonce') ?? 0;
      const timeoutMs = optionalInt(v, 'timeout-ms', { min: 1, max: 600_000 });
      const url = typeof v['clob-url'] === 'string' ? v['clob-url'] : config.venue.clob_url;
      const creds = await fetchApiKey({ url, ...(timeoutMs === undefined ? {} : { timeoutMs }) }, signerFromEnv(), config.venue.chain_id, action, String(nonce));
      process.stdout.write(envLines(creds));
      return 0;
    },
  };
}

export async function keysMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'derive' || sub === 'create') return runCommand(keysCommand(sub), rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write('usage: polyedge keys <derive|create> [options]\n\nsubcommands:\n  derive   print the existing L2 API credentials\n  create   create new L2 API credentials and print them\n');
    return sub === undefined ? 2 : 0;
  }
  throw new PolyedgeError('PE_USAGE', `unknown subcommand "keys ${sub}" (try: polyedge keys --help)`);
}
