// The CLOB V2 trading client (protocols §6.2): orders, cancels, open orders,
// trades, balances and the heartbeat, every answer validated at the edge.
//
// Two rules carry the money:
// * An order POST that may have reached the CLOB (timeout, 5xx, connection
//   lost after sending) is looked up by its hash, computed locally when it
//   was signed, before anything is sent again; only an order the CLOB does
//   not know goes out again, and then as the same signed bytes (same salt,
//   same hash), so a first copy that lands late is the same order, not a
//   second one.
// * `order_version_mismatch` re-reads GET /version and, when the version
//   changed and the caller can re-sign, re-signs and sends once more (the
//   official client does the same, once).

import { PolyedgeError } from '../../../errors.js';
import type { BuiltOrder } from '../order/build.js';
import { backoffDelayMs } from '../../../../workers/backoff.js';
import { ClobError, ClobTransport, type ClobCounters, type L2Auth, type TransportOptions } from './transport.js';
import {
  END_CURSOR,
  FIRST_CURSOR,
  parseBalanceAllowance,
  parseCancelResult,
  parseOpenOrder,
  parsePage,
  parsePostOrderResult,
  parsePostOrdersResult,
  parseTrade,
  parseVersion,
  ResponseShapeError,
  type BalanceAllowance,
  type CancelResult,
  type OpenOrder,
  type Page,
  type PostOrderResult,
  type Trade,
} from './responses.js';

/** Orders per `POST /orders` (raised to 15 in 2025-08). */
export const MAX_BATCH_ORDERS = 15;
/** Ids per `DELETE /orders` (since 2026-06-15). */
export const MAX_CANCEL_IDS = 1000;
/** A page walk stops here: a CLOB that never sends the end marker must not loop forever. */
export const MAX_PAGES = 1000;
export const VERSION_MISMATCH = 'order_version_mismatch';
/** Pause before re-sending an order the lookup did not find (after a 5xx, give the CLOB a moment). */
const RESEND_BACKOFF = { baseMs: 100, maxMs: 1_000 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An order ready to send, or a function that signs one for the CLOB's order version (so a version change can be re-signed). */
export type OrderSource = BuiltOrder | ((version: 2 | 3) => BuiltOrder);

export interface OrderFilter {
  id?: string;
  market?: string;
  asset_id?: string;
}

export interface TradeFilter extends OrderFilter {
  maker_address?: string;
  before?: string;
  after?: string;
}

export interface BalanceQuery {
  asset_type: 'COLLATERAL' | 'CONDITIONAL' | 'CONDITIONAL-V2';
  token_id?: string;
  signature_type?: number;
}

/** Splits `items` into consecutive chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Walks cursor pages from the first cursor to the end marker. A cursor seen
 * twice or more than `maxPages` pages is a CLOB fault (PE_CLOB_RESPONSE):
 * returning a partial list as if complete would hide open orders.
 */
export async function collectPages<T>(route: string, fetchPage: (cursor: string) => Promise<Page<T>>, maxPages = MAX_PAGES): Promise<T[]> {
  const out: T[] = [];
  const seen = new Set<string>();
  let cursor = FIRST_CURSOR;
  for (let pages = 0; cursor !== END_CURSOR; pages++) {
    if (pages >= maxPages) throw new ResponseShapeError(route, 'next_cursor', `did not reach the end marker within ${maxPages} pages`);
    if (seen.has(cursor)) throw new ResponseShapeError(route, 'next_cursor', `repeats ${JSON.stringify(cursor)}: the listing would never end`);
    seen.add(cursor);
    const page = await fetchPage(cursor);
    for (const item of page.data) out.push(item);
    // An empty cursor is how some listings end; treat it as the end marker.
    cursor = page.next_cursor === '' ? END_CURSOR : page.next_cursor;
  }
  return out;
}

export function isVersionMismatch(message: string): boolean {
  return message.includes(VERSION_MISMATCH);
}

function parseJson(route: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ResponseShapeError(route, 'body', `is not JSON (${text.length} bytes)`);
  }
}

/** The answer for an order that a lookup found on the CLOB after an uncertain POST. */
function foundResult(order: OpenOrder): PostOrderResult {
  // The shares matched so far are what a BUY took and a SELL gave; the dollar side is not in the listing.
  const buy = order.side.toUpperCase() === 'BUY';
  const shares = order.size_matched;
  return { success: true, errorMsg: '', orderID: order.id, status: order.status.toLowerCase(), makingAmount: buy ? '0' : shares, takingAmount: buy ? shares : '0', tradeIDs: order.associate_trades, transactionsHashes: [] };
}

export class ClobClient {
  readonly transport: ClobTransport;
  private version: number | undefined;

  constructor(options: TransportOptions, auth?: L2Auth) {
    this.transport = new ClobTransport(options, auth);
  }

  /** Syncs the clock and reads the order version; the connection is warm after this. */
  async start(): Promise<void> {
    await this.transport.syncTime();
    await this.refreshVersion();
  }

  get counters(): ClobCounters {
    return this.transport.counters;
  }

  get apiKey(): string | undefined {
    return this.transport.apiKey;
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  async refreshVersion(): Promise<number> {
    const answer = await this.transport.request({ method: 'GET', path: '/version', resend: true });
    this.version = parseVersion('GET /version', parseJson('GET /version', answer.text));
    return this.version;
  }

  /** The order version to sign for: the CLOB's, read once (GET /version) and again on a mismatch. */
  async orderVersion(): Promise<2 | 3> {
    const v = this.version ?? (await this.refreshVersion());
    if (v !== 2 && v !== 3) throw new PolyedgeError('PE_EXCHANGE_UNKNOWN', `GET /version: the CLOB expects order version ${v}; this build signs versions 2 and 3`, 'version');
    return v;
  }

  private async build(source: OrderSource): Promise<BuiltOrder> {
    return typeof source === 'function' ? source(await this.orderVersion()) : source;
  }

  // ---- orders ----

  async postOrder(source: OrderSource): Promise<PostOrderResult> {
    const [result] = await this.postBatch([source], 'single');
    return result!;
  }

  /** Any number of orders, in batches of at most 15; results in the order given. */
  async postOrders(sources: readonly OrderSource[]): Promise<PostOrderResult[]> {
    const out: PostOrderResult[] = [];
    for (const batch of chunks(sources, MAX_BATCH_ORDERS)) for (const r of await this.postBatch(batch, 'batch')) out.push(r);
    return out;
  }

  private async postBatch(sources: readonly OrderSource[], mode: 'single' | 'batch'): Promise<PostOrderResult[]> {
    let built = await Promise.all(sources.map((s) => this.build(s)));
    // Read after building: the first build may be what fetched the version.
    const signedWith = this.version;
    let results: PostOrderResult[];
    try {
      results = await this.sendSettled(built, mode);
    } catch (err) {
      if (!(err instanceof ClobError) || !isVersionMismatch(err.venueMessage)) throw err;
      if (!(await this.versionChanged(signedWith)) || !sources.every((s) => typeof s === 'function')) throw err;
      built = await Promise.all(sources.map((s) => this.build(s)));
      return this.sendSettled(built, mode);
    }
    const mismatched = results.flatMap((r, i) => (!r.success && isVersionMismatch(r.errorMsg) && typeof sources[i] === 'function' ? [i] : []));
    if (mismatched.length === 0 || !(await this.versionChanged(signedWith))) return results;
    const again = await Promise.all(mismatched.map((i) => this.build(sources[i]!)));
    const retried = await this.sendSettled(again, mode);
    mismatched.forEach((i, k) => (results[i] = retried[k]!));
    return results;
  }

  /** Re-reads /version after a mismatch; true when it differs from the one the orders were signed for. */
  private async versionChanged(signedWith: number | undefined): Promise<boolean> {
    const now = await this.refreshVersion();
    return now !== signedWith;
  }

  /**
   * Sends orders (one, or one batch) and settles an uncertain outcome by
   * lookup: an order the CLOB knows is reported as placed, one it does not
   * know goes out again as the same bytes, at most twice. A 200 whose body
   * cannot be read is uncertain too: the CLOB acted, we cannot tell how.
   */
  private async sendSettled(built: readonly BuiltOrder[], mode: 'single' | 'batch'): Promise<PostOrderResult[]> {
    const results: Array<PostOrderResult | undefined> = new Array(built.length).fill(undefined);
    let pending = built.map((_, i) => i);
    for (let round = 0; ; round++) {
      try {
        const sent = await this.send(pending.map((i) => built[i]!), mode);
        for (let k = 0; k < pending.length; k++) {
          const i = pending[k]!;
          // A re-sent copy refused (as a duplicate, say) while the first copy landed late: the lookup tells.
          const found = round > 0 && !sent[k]!.success ? await this.lookup(built[i]!.hash, undefined) : undefined;
          results[i] = found ? foundResult(found) : sent[k];
        }
        return results as PostOrderResult[];
      } catch (err) {
        if (round > 0 && err instanceof ClobError && err.kind === 'bad_request') {
          const found = await Promise.all(pending.map((i) => this.lookup(built[i]!.hash, undefined)));
          if (found.every((o) => o !== undefined)) {
            pending.forEach((i, k) => (results[i] = foundResult(found[k]!)));
            return results as PostOrderResult[];
          }
          throw err;
        }
        const maybeLanded = (err instanceof ClobError && err.maybeDelivered) || err instanceof ResponseShapeError;
        if (!maybeLanded) throw err;
        const still: number[] = [];
        for (const i of pending) {
          const found = await this.lookup(built[i]!.hash, err);
          if (found) results[i] = foundResult(found);
          else still.push(i);
        }
        pending = still;
        if (pending.length === 0) return results as PostOrderResult[];
        if (round >= 2) throw uncertain(built[pending[0]!]!.hash, err);
        this.counters.retries++;
        await sleep(backoffDelayMs(round, RESEND_BACKOFF));
      }
    }
  }

  private async send(built: readonly BuiltOrder[], mode: 'single' | 'batch'): Promise<PostOrderResult[]> {
    if (mode === 'single') {
      const body = JSON.stringify(built[0]!.body);
      const answer = await this.transport.request({ method: 'POST', path: '/order', body, auth: 'l2', resend: false });
      return [parsePostOrderResult('POST /order', parseJson('POST /order', answer.text))];
    }
    const body = JSON.stringify(built.map((b) => b.body));
    const answer = await this.transport.request({ method: 'POST', path: '/orders', body, auth: 'l2', resend: false });
    const results = parsePostOrdersResult('POST /orders', parseJson('POST /orders', answer.text));
    if (results.length !== built.length) throw new ResponseShapeError('POST /orders', 'body', `has ${results.length} results for ${built.length} orders`);
    return results;
  }

  /** The order by hash after an uncertain POST; a failed lookup is PE_CLOB_UNCERTAIN (never a blind resend). */
  private async lookup(hash: string, cause: PolyedgeError | undefined): Promise<OpenOrder | undefined> {
    this.counters.lookups++;
    try {
      return await this.getOrder(hash);
    } catch (err) {
      throw uncertain(hash, cause, err);
    }
  }

  // ---- cancels (idempotent: the transport may send them again) ----

  async cancelOrder(orderID: string): Promise<CancelResult> {
    return this.cancel('DELETE', '/order', JSON.stringify({ orderID }));
  }

  async cancelOrders(ids: readonly string[]): Promise<CancelResult> {
    const out: CancelResult = { canceled: [], not_canceled: {} };
    for (const part of chunks(ids, MAX_CANCEL_IDS)) {
      const r = await this.cancel('DELETE', '/orders', JSON.stringify(part));
      out.canceled.push(...r.canceled);
      Object.assign(out.not_canceled, r.not_canceled);
    }
    return out;
  }

  cancelAll(): Promise<CancelResult> {
    return this.cancel('DELETE', '/cancel-all', undefined);
  }

  cancelMarketOrders(filter: { market?: string; asset_id?: string }): Promise<CancelResult> {
    const body: Record<string, string> = {};
    if (filter.market) body.market = filter.market;
    if (filter.asset_id) body.asset_id = filter.asset_id;
    return this.cancel('DELETE', '/cancel-market-orders', JSON.stringify(body));
  }

  private async cancel(method: 'DELETE', path: string, body: string | undefined): Promise<CancelResult> {
    const answer = await this.transport.request({ method, path, ...(body === undefined ? {} : { body }), auth: 'l2', resend: true });
    return parseCancelResult(`${method} ${path}`, parseJson(`${method} ${path}`, answer.text));
  }

  // ---- reads ----

  /** One order by id (hash); undefined when the CLOB does not know it. */
  async getOrder(orderID: string): Promise<OpenOrder | undefined> {
    const path = `/data/order/${encodeURIComponent(orderID)}`;
    const route = 'GET /data/order';
    let text: string;
    try {
      text = (await this.transport.request({ method: 'GET', path, auth: 'l2', resend: true })).text;
    } catch (err) {
      if (err instanceof ClobError && err.kind === 'not_found') return undefined;
      throw err;
    }
    const trimmed = text.trim();
    // The CLOB answers an unknown id with an empty body or null, not always 404.
    if (trimmed === '' || trimmed === 'null' || trimmed === '{}') return undefined;
    return parseOpenOrder(route, parseJson(route, text));
  }

  openOrders(filter: OrderFilter = {}, maxPages = MAX_PAGES): Promise<OpenOrder[]> {
    const route = 'GET /data/orders';
    return collectPages(route, (cursor) => this.page(route, '/data/orders', { ...filter, next_cursor: cursor }, parseOpenOrder), maxPages);
  }

  trades(filter: TradeFilter = {}, maxPages = MAX_PAGES): Promise<Trade[]> {
    const route = 'GET /data/trades';
    return collectPages(route, (cursor) => this.page(route, '/data/trades', { ...filter, next_cursor: cursor }, parseTrade), maxPages);
  }

  private async page<T>(route: string, path: string, query: Record<string, string | undefined>, item: (r: string, v: unknown, p: string) => T): Promise<Page<T>> {
    const answer = await this.transport.request({ method: 'GET', path, query, auth: 'l2', resend: true });
    return parsePage(route, parseJson(route, answer.text), item);
  }

  async balanceAllowance(q: BalanceQuery): Promise<BalanceAllowance> {
    const route = 'GET /balance-allowance';
    const answer = await this.transport.request({ method: 'GET', path: '/balance-allowance', query: balanceQuery(q), auth: 'l2', resend: true });
    return parseBalanceAllowance(route, parseJson(route, answer.text));
  }

  /** Makes the CLOB re-read the wallet's balance (after deposits, wraps or approvals). */
  async updateBalanceAllowance(q: BalanceQuery): Promise<void> {
    await this.transport.request({ method: 'GET', path: '/balance-allowance/update', query: balanceQuery(q), auth: 'l2', resend: true });
  }

  /** Dead-man switch: while heartbeats stop, the CLOB cancels every open order. Returns the id to send next. */
  async heartbeat(heartbeatId = ''): Promise<string> {
    const route = 'POST /v1/heartbeats';
    const answer = await this.transport.request({ method: 'POST', path: '/v1/heartbeats', body: JSON.stringify({ heartbeat_id: heartbeatId }), auth: 'l2', resend: true });
    const v = answer.text.trim() === '' ? {} : parseJson(route, answer.text);
    const id = typeof v === 'object' && v !== null && 'heartbeat_id' in v ? (v as { heartbeat_id: unknown }).heartbeat_id : heartbeatId;
    if (typeof id !== 'string') throw new ResponseShapeError(route, 'heartbeat_id', 'must be a string');
    return id;
  }
}

function balanceQuery(q: BalanceQuery): Record<string, string | undefined> {
  return { asset_type: q.asset_type, token_id: q.token_id, signature_type: q.signature_type === undefined ? undefined : String(q.signature_type) };
}

function uncertain(hash: string, cause: PolyedgeError | undefined, lookupErr?: unknown): PolyedgeError {
  const why = lookupErr === undefined ? '' : `; lookup failed: ${lookupErr instanceof Error ? lookupErr.message : String(lookupErr)}`;
  return new PolyedgeError('PE_CLOB_UNCERTAIN', `order ${hash}: ${cause ? cause.message : 'resent copy refused'}${why}`, 'orderID');
}
