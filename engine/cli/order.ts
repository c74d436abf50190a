// `polyedge order build`: prints the signed `POST /order` body.

import { apiSecretsFromEnv, loadConfig, loadDotEnv } from '../config/load.js';
import { PolyedgeError } from '../errors.js';
import { parsePositiveDec, parseSide, parseTick } from '../venues/polymarket/order/amounts.js';
import { buildSignedOrder, ORDER_TYPES, type OrderType } from '../venues/polymarket/order/build.js';
import { optionalInt, requireString, runCommand, type Command } from './args.js';
import { signerFromEnv } from './sign.js';

const buildCommand: Command = {
  name: 'order build',
  summary:
    'Builds and signs one V2/V3 order and prints its POST /order body as JSON.\n' +
    'Limit orders (GTC, GTD) take --size in shares. Market orders (FOK, FAK) take --price as the\n' +
    'worst acceptable price, and --amount in dollars for a BUY or --size in shares for a SELL.\n' +
    'The key comes from POLY_PRIVATE_KEY; the owner from POLY_API_KEY unless --owner is given.',
  usage: 'order build --token ID --price P (--size S | --amount USD) --side BUY|SELL --tick T [options]',
  options: {
    token: { type: 'string' },
    price: { type: 'string' },
    size: { type: 'string' },
    amount: { type: 'string' },
    side: { type: 'string' },
    tick: { type: 'string' },
    'neg-risk': { type: 'boolean' },
    type: { type: 'string' },
    'post-only': { type: 'boolean' },
    expiration: { type: 'string' },
    version: { type: 'string' },
    'min-size': { type: 'string' },
    owner: { type: 'string' },
    salt: { type: 'string' },
    timestamp: { type: 'string' },
    config: { type: 'string' },
  },
  help: {
    token: 'outcome token id (decimal)',
    price: 'limit price, on the tick grid',
    size: 'shares (limit orders and market SELLs)',
    amount: 'dollars to spend (market BUYs)',
    side: 'BUY or SELL',
    tick: 'market tick size: 0.1, 0.01, 0.005, 0.0025, 0.001, 0.0001',
    'neg-risk': 'sign for the neg-risk exchange',
    type: 'GTC (default), GTD, FOK or FAK',
    'post-only': 'reject instead of crossing (GTC/GTD only)',
    expiration: 'GTD expiry, Unix seconds, more than 60 s ahead',
    version: 'order version 2 or 3 (default signing.order_version)',
    'min-size': 'market minimum size in shares (default orders.min_size)',
    owner: 'API key the order belongs to (default POLY_API_KEY)',
    salt: 'fixed salt instead of a random one',
    timestamp: 'fixed order timestamp in ms instead of now',
    config: 'configuration file (default configs/default.toml)',
  },
  async run(v) {
    loadDotEnv();
    const config = loadConfig(typeof v.config === 'string' ? v.config : undefined);
    const type = (typeof v.type === 'string' ? v.type.toUpperCase() : 'GTC') as OrderType;
    if (!ORDER_TYPES.includes(type)) throw new PolyedgeError('PE_USAGE', `--type must be one of ${ORDER_TYPES.join(', ')}`, 'type');
    const versionText = typeof v.version === 'string' ? v.version : String(config.signing.order_version);
    if (versionText !== '2' && versionText !== '3') throw new PolyedgeError('PE_USAGE', '--version must be 2 or 3', 'version');
    const owner = (typeof v.owner === 'string' ? v.owner : undefined) ?? apiSecretsFromEnv()?.apiKey;
    if (!owner) throw new PolyedgeError('PE_ENV_MISSING', 'POLY_API_KEY: set it (or pass --owner) so the order has an owner', 'owner');
    const signer = signerFromEnv();
    const built = buildSignedOrder(signer, {
      tokenId: requireString(v, 'token'),
      side: parseSide(requireString(v, 'side')),
      price: parsePositiveDec('price', requireString(v, 'price')),
      size: typeof v.size === 'string' ? parsePositiveDec('size', v.size) : undefined,
      amount: typeof v.amount === 'string' ? parsePositiveDec('amount', v.amount) : undefined,
      tick: parseTick(requireString(v, 'tick')),
      minSize: parsePositiveDec('min-size', typeof v['min-size'] === 'string' ? v['min-size'] : String(config.orders.min_size)),
      negRisk: v['neg-risk'] === true,
      type,
      postOnly: v['post-only'] === true,
      expiration: optionalInt(v, 'expiration'),
      version: versionText === '3' ? 3 : 2,
      chainId: config.venue.chain_id,
      signatureType: config.signing.signature_type,
      maker: config.signing.funder || undefined,
      owner,
      salt: optionalInt(v, 'salt'),
      timestampMs: optionalInt(v, 'timestamp'),
    });
    process.stdout.write(`${JSON.stringify(built.body)}\n`);
    return 0;
  },
};

export async function orderCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'build') return runCommand(buildCommand, rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write('usage: polyedge order build [options]\n\nsubcommands:\n  build   build and sign one order, print its POST /order body\n');
    return sub === undefined ? 2 : 0;
  }
  throw new PolyedgeError('PE_USAGE', `unknown subcommand "order ${sub}" (try: polyedge order build --help)`);
}
