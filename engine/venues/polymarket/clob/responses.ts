// The edge between the CLOB's JSON and the engine: every answer is checked
// here and comes out typed, or fails with PE_CLOB_RESPONSE naming the route
// and the field. Prices and sizes stay decimal strings (protocols §11.2);
// nothing here turns money into floats.

import { PolyedgeError } from '../../../errors.js';
import { isPlainObject } from '../../../../workers/guards.js';

/** Cursor paging (§6.1): the first page's cursor and the end marker. */
export const FIRST_CURSOR = 'MA==';
export const END_CURSOR = 'LTE=';

export interface PostOrderResult {
  success: boolean;
  errorMsg: string;
  orderID: string;
  /** live, matched, delayed, unmatched (case varies: compare case-insensitively) */
  status: string;
  makingAmount: string;
  takingAmount: string;
  tradeIDs: string[];
  transactionsHashes: string[];
}

export interface OpenOrder {
  id: string;
  status: string;
  owner: string;
  maker_address: string;
  market: string;
  asset_id: string;
  side: string;
  original_size: string;
  size_matched: string;
  price: string;
  associate_trades: string[];
  outcome: string;
  created_at: number;
  expiration: string;
  order_type: string;
}

export interface MakerOrder {
  order_id: string;
  owner: string;
  matched_amount: string;
  price: string;
  asset_id: string;
  outcome: string;
}

export interface Trade {
  id: string;
  taker_order_id: string;
  market: string;
  asset_id: string;
  side: string;
  size: string;
  price: string;
  status: string;
  match_time: string;
  outcome: string;
  owner: string;
  maker_address: string;
  trader_side: string;
  transaction_hash: string;
  bucket_index: number;
  fee_rate_bps: string;
  maker_orders: MakerOrder[];
}

export interface Page<T> {
  data: T[];
  next_cursor: string;
}

export interface CancelResult {
  canceled: string[];
  /** order id → the CLOB's reason */
  not_canceled: Record<string, string>;
}

export interface BalanceAllowance {
  /** base units (6 decimals), as a decimal string */
  balance: string;
  /** spender → amount in base units */
  allowances: Record<string, string>;
}

export interface ApiCredentialsResult {
  apiKey: string;
  secret: string;
  passphrase: string;
}

export class ResponseShapeError extends PolyedgeError {
  constructor(route: string, field: string, reason: string) {
    super('PE_CLOB_RESPONSE', `${route}: ${field} ${reason}`, field);
  }
}

/** Reads fields of one JSON object for one route, with the field path in every error. */
class Reader {
  constructor(
    private readonly route: string,
    private readonly o: Record<string, unknown>,
    private readonly path: string,
  ) {}

  private fail(key: string, reason: string): never {
    throw new ResponseShapeError(this.route, this.path ? `${this.path}.${key}` : key, reason);
  }

  str(key: string): string {
    const v = this.o[key];
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${describe(v)}`);
    return v;
  }

  /** A string, a number rendered as a string, or the default when absent or null. */
  optStr(key: string, def = ''): string {
    const v = this.o[key];
    if (v === undefined || v === null) return def;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    this.fail(key, `must be a string, got ${describe(v)}`);
  }

  /** A decimal amount sent as a string (or, by some routes, a number). */
  decimal(key: string): string {
    const v = this.o[key];
    const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
    if (typeof text !== 'string' || !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$|^-?\.\d+$/.test(text)) {
      this.fail(key, `must be a decimal string, got ${describe(v)}`);
    }
    return text;
  }

  optDecimal(key: string, def = '0'): string {
    const v = this.o[key];
    return v === undefined || v === null || v === '' ? def : this.decimal(key);
  }

  bool(key: string): boolean {
    const v = this.o[key];
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${describe(v)}`);
    return v;
  }

  optInt(key: string, def = 0): number {
    const v = this.o[key];
    if (v === undefined || v === null) return def;
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) this.fail(key, `must be an integer, got ${describe(v)}`);
    return n;
  }

  strings(key: string): string[] {
    const v = this.o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) this.fail(key, `must be an array of strings, got ${describe(v)}`);
    return v as string[];
  }

  stringMap(key: string): Record<string, string> {
    const v = this.o[key];
    if (v === undefined || v === null) return {};
    if (!isPlainObject(v)) this.fail(key, `must be an object, got ${describe(v)}`);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string') out[k] = x;
      else if (typeof x === 'number' && Number.isFinite(x)) out[k] = String(x);
      else this.fail(`${key}.${k}`, `must be a string, got ${describe(x)}`);
    }
    return out;
  }

  records(key: string): Array<Record<string, unknown>> {
    const v = this.o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every(isPlainObject)) this.fail(key, `must be an array of objects, got ${describe(v)}`);
    return v as Array<Record<string, unknown>>;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function reader(route: string, v: unknown, path = ''): Reader {
  if (!isPlainObject(v)) throw new ResponseShapeError(route, path || 'body', `must be a JSON object, got ${describe(v)}`);
  return new Reader(route, v, path);
}

export function parsePostOrderResult(route: string, v: unknown, path = ''): PostOrderResult {
  const r = reader(route, v, path);
  return {
    success: r.bool('success'),
    errorMsg: r.optStr('errorMsg'),
    orderID: r.optStr('orderID'),
    status: r.optStr('status'),
    makingAmount: r.optDecimal('makingAmount'),
    takingAmount: r.optDecimal('takingAmount'),
    tradeIDs: r.strings('tradeIDs'),
    transactionsHashes: r.strings('transactionsHashes'),
  };
}

export function parsePostOrdersResult(route: string, v: unknown): PostOrderResult[] {
  if (!Array.isArray(v)) throw new ResponseShapeError(route, 'body', `must be an array, got ${describe(v)}`);
  return v.map((x, i) => parsePostOrderResult(route, x, `[${i}]`));
}

export function parseOpenOrder(route: string, v: unknown, path = ''): OpenOrder {
  const r = reader(route, v, path);
  return {
    id: r.str('id'),
    status: r.str('status'),
    owner: r.optStr('owner'),
    maker_address: r.optStr('maker_address'),
    market: r.str('market'),
    asset_id: r.str('asset_id'),
    side: r.str('side'),
    original_size: r.decimal('original_size'),
    size_matched: r.decimal('size_matched'),
    price: r.decimal('price'),
    associate_trades: r.strings('associate_trades'),
    outcome: r.optStr('outcome'),
    created_at: r.optInt('created_at'),
    expiration: r.optStr('expiration', '0'),
    order_type: r.optStr('order_type'),
  };
}

export function parseTrade(route: string, v: unknown, path = ''): Trade {
  const r = reader(route, v, path);
  return {
    id: r.str('id'),
    taker_order_id: r.optStr('taker_order_id'),
    market: r.str('market'),
    asset_id: r.str('asset_id'),
    side: r.str('side'),
    size: r.decimal('size'),
    price: r.decimal('price'),
    status: r.str('status'),
    match_time: r.optStr('match_time'),
    outcome: r.optStr('outcome'),
    owner: r.optStr('owner'),
    maker_address: r.optStr('maker_address'),
    trader_side: r.optStr('trader_side'),
    transaction_hash: r.optStr('transaction_hash'),
    bucket_index: r.optInt('bucket_index'),
    fee_rate_bps: r.optStr('fee_rate_bps', '0'),
    maker_orders: r.records('maker_orders').map((m, i) => {
      const mr = reader(route, m, `${path ? `${path}.` : ''}maker_orders[${i}]`);
      return {
        order_id: mr.str('order_id'),
        owner: mr.optStr('owner'),
        matched_amount: mr.decimal('matched_amount'),
        price: mr.decimal('price'),
        asset_id: mr.optStr('asset_id'),
        outcome: mr.optStr('outcome'),
      };
    }),
  };
}

export function parsePage<T>(route: string, v: unknown, item: (route: string, v: unknown, path: string) => T): Page<T> {
  const r = reader(route, v);
  return { data: r.records('data').map((x, i) => item(route, x, `data[${i}]`)), next_cursor: r.str('next_cursor') };
}

export function parseCancelResult(route: string, v: unknown): CancelResult {
  const r = reader(route, v);
  return { canceled: r.strings('canceled'), not_canceled: r.stringMap('not_canceled') };
}

export function parseBalanceAllowance(route: string, v: unknown): BalanceAllowance {
  const r = reader(route, v);
  const allowances = r.stringMap('allowances');
  // Older answers carry one `allowance` instead of a map per spender.
  if (Object.keys(allowances).length === 0 && isPlainObject(v) && v.allowance !== undefined) allowances[''] = r.decimal('allowance');
  return { balance: r.decimal('balance'), allowances };
}

export function parseApiCredentials(route: string, v: unknown): ApiCredentialsResult {
  const r = reader(route, v);
  const out = { apiKey: r.str('apiKey'), secret: r.str('secret'), passphrase: r.str('passphrase') };
  if (!out.apiKey || !out.secret || !out.passphrase) throw new ResponseShapeError(route, 'apiKey', 'and secret and passphrase must be non-empty');
  return out;
}

/** `GET /version`: `{version:int}`; the official client assumes 2 when absent. */
export function parseVersion(route: string, v: unknown): number {
  const r = reader(route, v);
  const version = r.optInt('version', 2);
  if (version < 1) throw new ResponseShapeError(route, 'version', `must be a positive integer, got ${version}`);
  return version;
}

/** `GET /time`: Unix seconds as a bare JSON number (or a numeric string). */
export function parseServerTime(route: string, text: string): number {
  const t = text.trim().replace(/^"|"$/g, '');
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  // After 2001 and before 2286: guards a millisecond value or garbage being read as seconds.
  if (!Number.isSafeInteger(n) || n < 1e9 || n >= 1e10) throw new ResponseShapeError(route, 'body', `must be Unix seconds, got ${describe(text)}`);
  return n;
}

/** The CLOB's own reason in an error body: `error`, else `errorMsg`, else the text itself (bounded). */
export function venueMessage(text: string): string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return text.slice(0, 200);
  }
  if (isPlainObject(v)) {
    const e = v.error ?? v.errorMsg ?? v.message;
    if (typeof e === 'string') return e.slice(0, 500);
    if (e !== undefined) return JSON.stringify(e).slice(0, 500);
  }
  return typeof v === 'string' ? v.slice(0, 200) : text.slice(0, 200);
}
