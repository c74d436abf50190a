// `polyedge order build|post|cancel|cancel-all|list`, `polyedge trades` and
// `polyedge balance`: argument handling only; the CLOB work sits in
// engine/venues/polymarket/clob.

import { apiSecretsFromEnv, loadConfig, loadDotEnv } from '../config/load.js';
import type { Config } from '../config/config.js';
import { PolyedgeError } from '../errors.js';
import type { OrderSigner } from '../native.js';
import { parsePositiveDec, parseSide, parseTick } from '../venues/polymarket/order/amounts.js';
import { buildSignedOrder, ORDER_TYPES, type BuiltOrder, type OrderType } from '../venues/polymarket/order/build.js';
import type { OperatorContext } from '../venues/polymarket/clob/operator.js';
import type { BalanceQuery } from '../venues/polymarket/clob/client.js';
import { optionalInt, requireString, runCommand, type Command, type OptionSpec } from './args.js';
import { signerFromEnv } from './sign.js';

type Values = Record<string, string | boolean | undefined>;

const BUILD_OPTIONS: OptionSpec = {
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
};

const BUILD_HELP: Record<string, string> = {
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
};

const CLOB_OPTIONS: OptionSpec = { 'clob-url': { type: 'string' }, 'timeout-ms': { type: 'string' }, config: { type: 'string' } };
const CLOB_HELP: Record<string, string> = {
  'clob-url': 'CLOB base URL (default venue.clob_url)',
  'timeout-ms': 'deadline of one request in ms (default 5000)',
  config: 'configuration file (default configs/default.toml)',
};

function loadFor(v: Values): Config {
  loadDotEnv();
  return loadConfig(typeof v.config === 'string' ? v.config : undefined);
}

function versionFlag(v: Values): 2 | 3 | undefined {
  if (typeof v.version !== 'string') return undefined;
  if (v.version !== '2' && v.version !== '3') throw new PolyedgeError('PE_USAGE', '--version must be 2 or 3', 'version');
  return v.version === '3' ? 3 : 2;
}

/** Reads the order flags once; the returned function signs for a given version (so a version change can re-sign). */
function orderFromFlags(v: Values, config: Config, signer: OrderSigner): (version: 2 | 3) => BuiltOrder {
  const type = (typeof v.type === 'string' ? v.type.toUpperCase() : 'GTC') as OrderType;
  if (!ORDER_TYPES.includes(type)) throw new PolyedgeError('PE_USAGE', `--type must be one of ${ORDER_TYPES.join(', ')}`, 'type');
  const owner = (typeof v.owner === 'string' ? v.owner : undefined) ?? apiSecretsFromEnv()?.apiKey;
  if (!owner) throw new PolyedgeError('PE_ENV_MISSING', 'POLY_API_KEY: set it (or pass --owner) so the order has an owner', 'owner');
  const intent = {
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
    chainId: config.venue.chain_id,
    signatureType: config.signing.signature_type,
    maker: config.signing.funder || undefined,
    owner,
    salt: optionalInt(v, 'salt'),
    timestampMs: optionalInt(v, 'timestamp'),
  };
  return (version) => buildSignedOrder(signer, { ...intent, version });
}

function operator(v: Values, config: Config): OperatorContext {
  return {
    url: typeof v['clob-url'] === 'string' ? v['clob-url'] : config.venue.clob_url,
    signer: signerFromEnv(),
    creds: apiSecretsFromEnv(),
    timeoutMs: optionalInt(v, 'timeout-ms', { min: 1, max: 600_000 }),
  };
}

/** The CLOB client (undici) loads only for the commands that talk to the CLOB, not for `order build`. */
const clob = () => import('../venues/polymarket/clob/operator.js');

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

const buildCommand: Command = {
  name: 'order build',
  summary:
    'Builds and signs one V2/V3 order and prints its POST /order body as JSON.\n' +
    'Limit orders (GTC, GTD) take --size in shares. Market orders (FOK, FAK) take --price as the\n' +
    'worst acceptable price, and --amount in dollars for a BUY or --size in shares for a SELL.\n' +
    'The key comes from POLY_PRIVATE_KEY; the owner from POLY_API_KEY unless --owner is given.',
  usage: 'order build --token ID --price P (--size S | --amount USD) --side BUY|SELL --tick T [options]',
  options: BUILD_OPTIONS,
  help: BUILD_HELP,
  async run(v) {
    const config = loadFor(v);
    const make = orderFromFlags(v, config, signerFromEnv());
    print(make(versionFlag(v) ?? config.signing.order_version).body);
    return 0;
  },
};

const postCommand: Command = {
  name: 'order post',
  summary:
    'Builds, signs and sends one order (the flags of order build), and prints the CLOB\'s answer as JSON.\n' +
    'Without --version the order is signed for the version GET /version names. An answer with\n' +
    'success:false exits with PE_CLOB_REJECTED after printing it. Needs POLY_PRIVATE_KEY and POLY_API_*.',
  usage: 'order post --token ID --price P (--size S | --amount USD) --side BUY|SELL --tick T [options]',
  options: { ...BUILD_OPTIONS, ...CLOB_OPTIONS },
  help: { ...BUILD_HELP, ...CLOB_HELP },
  async run(v) {
    const ops = await clob();
    const config = loadFor(v);
    const ctx = operator(v, config);
    const make = orderFromFlags(v, config, ctx.signer);
    const fixed = versionFlag(v);
    const { result, rejected } = await ops.postOne(ctx, fixed === undefined ? make : make(fixed));
    print(result);
    if (rejected) throw rejected;
    return 0;
  },
};

function idsOf(v: unknown): string[] {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  const ids = list.flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter((x) => x !== '');
  if (ids.length === 0) throw new PolyedgeError('PE_USAGE', '--id is required (repeat it, or separate ids with commas)', 'id');
  return ids;
}

const cancelCommand: Command = {
  name: 'order cancel',
  summary: 'Cancels orders by id and prints {canceled, not_canceled}. Exits PE_CLOB_REJECTED when any order was not canceled.',
  usage: 'order cancel --id ID [--id ID...] [options]',
  options: { id: { type: 'string', multiple: true }, ...CLOB_OPTIONS },
  help: { id: 'order id (hash); repeat or comma-separate', ...CLOB_HELP },
  async run(v) {
    const ops = await clob();
    const ids = idsOf(v.id);
    const config = loadFor(v);
    const result = await ops.withClient(operator(v, config), (c) => (ids.length === 1 ? c.cancelOrder(ids[0]!) : c.cancelOrders(ids)));
    print(result);
    const refused = ops.cancelRefusal(result.not_canceled);
    if (refused) throw refused;
    return 0;
  },
};

const cancelAllCommand: Command = {
  name: 'order cancel-all',
  summary: 'Cancels every open order of the API key (or only one market\'s with --market / --asset) and prints {canceled, not_canceled}.',
  usage: 'order cancel-all [--market CONDITION_ID | --asset TOKEN_ID] [options]',
  options: { market: { type: 'string' }, asset: { type: 'string' }, ...CLOB_OPTIONS },
  help: { market: 'only this market (condition id)', asset: 'only this token', ...CLOB_HELP },
  async run(v) {
    const ops = await clob();
    const config = loadFor(v);
    const market = typeof v.market === 'string' ? v.market : undefined;
    const asset = typeof v.asset === 'string' ? v.asset : undefined;
    const result = await ops.withClient(operator(v, config), (c) =>
      market || asset ? c.cancelMarketOrders({ ...(market ? { market } : {}), ...(asset ? { asset_id: asset } : {}) }) : c.cancelAll(),
    );
    print(result);
    const refused = ops.cancelRefusal(result.not_canceled);
    if (refused) throw refused;
    return 0;
  },
};

const FILTER_OPTIONS: OptionSpec = { id: { type: 'string' }, market: { type: 'string' }, asset: { type: 'string' } };
const FILTER_HELP = { id: 'only this id', market: 'only this market (condition id)', asset: 'only this token id' };

function filterOf(v: Values): { id?: string; market?: string; asset_id?: string } {
  return {
    ...(typeof v.id === 'string' ? { id: v.id } : {}),
    ...(typeof v.market === 'string' ? { market: v.market } : {}),
    ...(typeof v.asset === 'string' ? { asset_id: v.asset } : {}),
  };
}

const listCommand: Command = {
  name: 'order list',
  summary: 'Prints the open orders, one JSON object per line, every page.',
  usage: 'order list [--market ID] [--asset TOKEN_ID] [--id ORDER_ID] [options]',
  options: { ...FILTER_OPTIONS, ...CLOB_OPTIONS },
  help: { ...FILTER_HELP, ...CLOB_HELP },
  async run(v) {
    const ops = await clob();
    const config = loadFor(v);
    for (const o of await ops.withClient(operator(v, config), (c) => c.openOrders(filterOf(v)))) print(o);
    return 0;
  },
};

export const tradesCommand: Command = {
  name: 'trades',
  summary: 'Prints the API key\'s trades, one JSON object per line, every page.',
  usage: 'trades [--market ID] [--asset TOKEN_ID] [--id TRADE_ID] [--before S] [--after S] [options]',
  options: { ...FILTER_OPTIONS, before: { type: 'string' }, after: { type: 'string' }, ...CLOB_OPTIONS },
  help: { ...FILTER_HELP, before: 'only trades before this Unix second', after: 'only trades after this Unix second', ...CLOB_HELP },
  async run(v) {
    const ops = await clob();
    const config = loadFor(v);
    const before = optionalInt(v, 'before');
    const after = optionalInt(v, 'after');
    const filter = { ...filterOf(v), ...(before === undefined ? {} : { before: String(before) }), ...(after === undefined ? {} : { after: String(after) }) };
    for (const t of await ops.withClient(operator(v, config), (c) => c.trades(filter))) print(t);
    return 0;
  },
};

export const balanceCommand: Command = {
  name: 'balance',
  summary: 'Prints the collateral balance and allowances (base units, 6 decimals), or a token\'s with --token. --update makes the CLOB re-read the chain first.',
  usage: 'balance [--token TOKEN_ID] [--update] [options]',
  options: { token: { type: 'string' }, update: { type: 'boolean' }, ...CLOB_OPTIONS },
  help: { token: 'a conditional token instead of the collateral', update: 'refresh the CLOB\'s cached balance first', ...CLOB_HELP },
  async run(v) {
    const ops = await clob();
    const config = loadFor(v);
    const query: BalanceQuery = {
      asset_type: typeof v.token === 'string' ? 'CONDITIONAL' : 'COLLATERAL',
      ...(typeof v.token === 'string' ? { token_id: v.token } : {}),
      signature_type: config.signing.signature_type,
    };
    const result = await ops.withClient(operator(v, config), async (c) => {
      if (v.update === true) await c.updateBalanceAllowance(query);
      return c.balanceAllowance(query);
    });
    print(result);
    return 0;
  },
};

const SUBCOMMANDS: Record<string, Command> = {
  build: buildCommand,
  post: postCommand,
  cancel: cancelCommand,
  'cancel-all': cancelAllCommand,
  list: listCommand,
};

export async function orderCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const cmd = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (cmd) return runCommand(cmd, rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    const lines = Object.entries(SUBCOMMANDS).map(([name, c]) => `  ${name.padEnd(12)}${c.summary.split('\n')[0]}`);
    process.stdout.write(`usage: polyedge order <subcommand> [options]\n\nsubcommands:\n${lines.join('\n')}\n`);
    return sub === undefined ? 2 : 0;
  }
  throw new PolyedgeError('PE_USAGE', `unknown subcommand "order ${sub}" (try: polyedge order --help)`);
}
