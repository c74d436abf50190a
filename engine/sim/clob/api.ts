// The CLOB's authenticated trading API (protocols.md §6.2-§6.6, §7) on the
// simulator's Polymarket port: the same host as `GET /book`, so an engine's
// `[venue] clob_url` reaches both. Requests are authenticated as the venue
// does it, orders verified and matched (matching.ts), and HTTP faults taken
// from the simulator's fault ledger.
import type { WireSide } from '../../trading/types.js';
import { Prng } from '../../../workers/prng.js';
import { HTTP_FAULTS, type FaultKind, type FaultLedger, type FaultOptions, type RandomFaultConfig } from '../faults.js';
import { readRawBody, sendJson, type ResponseGuard } from '../http.js';
import type { HttpResponse, HttpRequest } from '../uws.js';
import type { PmMarketState } from '../scenario.js';
import { ApiKeyRegistry, type ApiKeyCreds, type AuthHeaders, type RegisteredKey } from './auth.js';
import { CLOB_ERRORS, type ClobErrorName } from './errors.js';
import { RateLimiter, validateRateLimits, type ClobRoute, type RateLimit } from './limits.js';
import { fmtPrice, fmtUnits, MatchingEngine, ONE, type SimOrder, type SimTrade } from './matching.js';
import { checkOrderSignature, parseNewOrder, type ClobVersion, type NewOrder } from './order.js';

export interface ClobOptions {
  /** `GET /version`: the order version the venue expects (protocols.md §0). Default 2. */
  readonly version?: ClobVersion;
  readonly chainId?: number;
  /** Largest accepted |POLY_TIMESTAMP − now| in seconds. Default 30. */
  readonly authWindowSeconds?: number;
  /** Rows per `/data/*` page. Default 100. */
  readonly pageSize?: number;
  /** Per-route token buckets replacing the documented defaults (small in tests). */
  readonly rateLimits?: Partial<Record<ClobRoute, RateLimit>>;
  /** Collateral every key starts with, base units. Default 1 000 000 pUSD. */
  readonly collateral?: number;
  /** `http_slow` delay when none is given. Default 2000 ms. */
  readonly slowMs?: number;
  /** The venue's clock (Unix ms) for expirations and match times. Default Date.now. */
  readonly nowMs?: () => number;
  /** The clock of GET /time and of the L2 timestamp window (Unix ms). Default Date.now: a simulator replaying a recorded day faster than real time still stamps requests with the wall's seconds, as every client's clock does. */
  readonly authNowMs?: () => number;
  /** Key pairs known from the start (an offline session trading live against the simulator presents its own). */
  readonly keys?: readonly (ApiKeyCreds & { readonly address: string })[];
  /**
   * The venue's dead-man switch: a key that has sent a heartbeat and then
   * none for this long (ms, on the `authNowMs` clock) has every open order
   * cancelled; its next heartbeat arms it again. Checked on a timer and
   * before every request. Default: no timeout (heartbeats only recorded).
   */
  readonly heartbeatTimeoutMs?: number;
}

export interface ClobMarkets {
  readonly markets: readonly PmMarketState[];
  token(tokenId: string): { readonly market: number; readonly yes: boolean } | undefined;
  /** Minimum order size in base units. */
  readonly minSize: number;
}

export interface ClobMount {
  get(pattern: string, h: (res: HttpResponse, req: HttpRequest, guard: ResponseGuard) => void): void;
  post(pattern: string, h: (res: HttpResponse, req: HttpRequest, guard: ResponseGuard) => void): void;
  del(pattern: string, h: (res: HttpResponse, req: HttpRequest, guard: ResponseGuard) => void): void;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

interface Ctx {
  readonly headers: AuthHeaders;
  readonly query: URLSearchParams;
  readonly param: string;
  readonly body: string;
  readonly path: string;
  readonly method: string;
  key: RegisteredKey | undefined;
}

type Auth = 'none' | 'l1' | 'l2';

const MAX_BODY = 256 << 10;
const MAX_BATCH = 15;
const MAX_CANCEL = 1000;
const MAX_AMOUNT = 10n ** 15n;
const INITIAL_CURSOR = 'MA==';
const END_CURSOR = 'LTE=';
const ORDER_ROUTES: readonly ClobRoute[] = ['POST /order', 'POST /orders'];
const EXCHANGE_SPENDERS = ['0xE111180000d2663C0091e4f400237545B87B996B', '0xe2222d279d744050d28e00520010520000310F59', '0xe3333700cA9d93003F00f0F71f8515005F6c00Aa'];

const err = (status: number, name: ClobErrorName, detail?: string): Reply => ({
  status,
  body: { error: detail ? `${CLOB_ERRORS[name]}: ${detail}` : CLOB_ERRORS[name] },
});

function headersOf(req: HttpRequest): AuthHeaders {
  return {
    address: req.getHeader('poly_address'),
    signature: req.getHeader('poly_signature'),
    timestamp: req.getHeader('poly_timestamp'),
    nonce: req.getHeader('poly_nonce'),
    apiKey: req.getHeader('poly_api_key'),
    passphrase: req.getHeader('poly_passphrase'),
  };
}

export class ClobApi {
  readonly keys: ApiKeyRegistry;
  readonly engine: MatchingEngine;
  private readonly limiter: RateLimiter;
  private readonly now: () => number;
  private readonly balances = new Map<string, { collateral: number; tokens: Map<string, number> }>();
  /** Last heartbeat per armed API key (ms, the wall clock); a key leaves the map when its dead-man switch fires. */
  private readonly lastHeartbeat = new Map<string, number>();
  private readonly wallNow: () => number;
  private readonly heartbeatTimeoutMs: number | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly expired = { keys: 0, orders: 0 };
  private readonly armed: Array<{ kind: FaultKind; durationMs: number | undefined }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private random: { rate: number; kinds: FaultKind[]; rng: Prng; slowMs: number | undefined } | null = null;
  private requests = 0;
  private version: ClobVersion;
  private readonly chainId: number;
  private readonly pageSize: number;

  constructor(
    private readonly ledger: FaultLedger,
    private readonly seed: number,
    private readonly markets: ClobMarkets,
    private readonly opts: ClobOptions,
    mount: ClobMount,
  ) {
    this.now = opts.nowMs ?? Date.now;
    this.version = opts.version ?? 2;
    if (this.version !== 2 && this.version !== 3) throw new RangeError(`clob.version must be 2 or 3, got ${String(this.version)}`);
    this.chainId = opts.chainId ?? 137;
    this.pageSize = opts.pageSize ?? 100;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1) throw new RangeError(`clob.pageSize must be an integer >= 1`);
    const limitsError = validateRateLimits(opts.rateLimits ?? {});
    if (limitsError) throw new RangeError(`clob.${limitsError}`);
    const nowS = (): number => Math.floor(this.now() / 1000);
    const authNow = opts.authNowMs ?? Date.now;
    this.wallNow = authNow;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs;
    if (this.heartbeatTimeoutMs !== undefined && !(this.heartbeatTimeoutMs > 0 && Number.isFinite(this.heartbeatTimeoutMs))) {
      throw new RangeError(`clob.heartbeatTimeoutMs must be a positive number of ms, got ${String(this.heartbeatTimeoutMs)}`);
    }
    const authS = (): number => Math.floor(authNow() / 1000);
    this.keys = new ApiKeyRegistry(seed, this.chainId, opts.authWindowSeconds ?? 30, authS);
    this.limiter = new RateLimiter(opts.rateLimits ?? {}, this.now);
    this.engine = new MatchingEngine(seed, nowS, (owner, tokenId, side, qty, usd) => this.settle(owner, tokenId, side, qty, usd));
    for (const k of opts.keys ?? []) this.keys.register(k.address, k);

    mount.get('/time', (res, _req, guard) => sendJson(res, guard, 200, authS()));
    mount.get('/version', (res, _req, guard) => sendJson(res, guard, 200, { version: this.version }));
    mount.get('/tick-size', (res, req, guard) => this.publicToken(res, req, guard, (m) => ({ minimum_tick_size: m.tick / ONE })));
    mount.get('/neg-risk', (res, req, guard) => this.publicToken(res, req, guard, () => ({ neg_risk: false })));
    this.route(mount.post, '/order', 'POST /order', 'l2', (c) => this.postOrder(c));
    this.route(mount.post, '/orders', 'POST /orders', 'l2', (c) => this.postOrders(c));
    this.route(mount.del, '/order', 'DELETE /order', 'l2', (c) => this.cancelOne(c));
    this.route(mount.del, '/orders', 'DELETE /orders', 'l2', (c) => this.cancelMany(c));
    this.route(mount.del, '/cancel-all', 'DELETE /cancel-all', 'l2', (c) => this.cancelWhere(c.key!, () => true));
    this.route(mount.del, '/cancel-market-orders', 'DELETE /cancel-market-orders', 'l2', (c) => this.cancelMarket(c));
    this.route(mount.get, '/data/order/:id', 'GET /data/order', 'l2', (c) => this.getOrder(c));
    this.route(mount.get, '/data/orders', 'GET /data/orders', 'l2', (c) => this.listOrders(c));
    this.route(mount.get, '/data/trades', 'GET /data/trades', 'l2', (c) => this.listTrades(c));
    this.route(mount.get, '/balance-allowance', 'GET /balance-allowance', 'l2', (c) => this.balance(c));
    this.route(mount.get, '/balance-allowance/update', 'GET /balance-allowance/update', 'l2', (c) => this.balance(c));
    this.route(mount.post, '/auth/api-key', 'auth', 'l1', (c) => this.apiKey(c));
    this.route(mount.get, '/auth/derive-api-key', 'auth', 'l1', (c) => this.apiKey(c));
    this.route(mount.post, '/v1/heartbeats', 'POST /v1/heartbeats', 'l2', (c) => this.heartbeat(c));
    if (this.heartbeatTimeoutMs !== undefined) {
      // A quarter of the timeout: an expiry is acted on at most that late even when no request comes.
      this.heartbeatTimer = setInterval(() => this.expireHeartbeats(), Math.max(10, Math.floor(this.heartbeatTimeoutMs / 4)));
      this.heartbeatTimer.unref?.();
    }
  }

  // ───── programmatic surface ─────

  /** Registers a key pair for `address` (tests); without creds, the key `POST /auth/api-key` would give for nonce 0. */
  registerKey(address: string, creds?: ApiKeyCreds): RegisteredKey {
    return creds ? this.keys.register(address, creds) : this.keys.derive(address, '0');
  }

  openOrders(apiKey: string): SimOrder[] {
    this.engine.expire();
    return [...this.engine.orders.values()].filter((o) => o.owner === apiKey && o.status === 'LIVE');
  }

  tradesOf(apiKey?: string): SimTrade[] {
    return this.engine.trades.filter((t) => apiKey === undefined || t.owner === apiKey || t.maker_orders.some((m) => m.owner === apiKey));
  }

  /** The last heartbeat of each armed key (wall-clock ms). */
  heartbeats(): ReadonlyMap<string, number> {
    return this.lastHeartbeat;
  }

  /** Dead-man expiries so far: keys whose heartbeats stopped for `heartbeatTimeoutMs`, and the open orders that cancelled. */
  get heartbeatExpiries(): { readonly keys: number; readonly orders: number } {
    return { ...this.expired };
  }

  setVersion(version: ClobVersion): void {
    this.version = version;
  }

  get rateLimited(): number {
    return this.limiter.rejected;
  }

  /** A fault on the next eligible request: any authenticated route, or POST /order(s) for the two order faults. */
  injectFault(kind: FaultKind, options: FaultOptions): number {
    this.armed.push({ kind, durationMs: options.durationMs });
    return 1;
  }

  setRandomFaults(cfg: RandomFaultConfig | null): void {
    const kinds = (cfg?.kinds ?? HTTP_FAULTS).filter((k) => HTTP_FAULTS.includes(k));
    this.random = cfg && cfg.rate > 0 && kinds.length > 0 ? { rate: cfg.rate, kinds, rng: Prng.derive(cfg.seed, 'clob-http'), slowMs: cfg.stallMs } : null;
  }

  close(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** A trade of the generated flow: fills resting orders it reaches. */
  onFlowTrade(market: number, side: WireSide, price: number, sizeHundredths: number): void {
    const state = this.markets.markets[market];
    if (state) this.engine.onFlowTrade({ state, index: market }, side, price, sizeHundredths);
  }

  // ───── plumbing ─────

  private publicToken(res: HttpResponse, req: HttpRequest, guard: ResponseGuard, render: (m: PmMarketState) => unknown): void {
    const tokenId = new URLSearchParams(req.getQuery() ?? '').get('token_id') ?? '';
    const t = this.markets.token(tokenId);
    const m = t && this.markets.markets[t.market];
    if (!m) return sendJson(res, guard, 404, { error: 'No orderbook exists for the requested token id' });
    sendJson(res, guard, 200, render(m));
  }

  private route(
    register: ClobMount['get'],
    pattern: string,
    name: ClobRoute,
    auth: Auth,
    handler: (c: Ctx) => Reply,
  ): void {
    register(pattern, (res, req, guard) => {
      // uWS requests are only valid during this call: copy what is needed first.
      const ctx = {
        headers: headersOf(req),
        query: new URLSearchParams(req.getQuery() ?? ''),
        param: req.getParameter(0) ?? '',
        path: req.getUrl(),
        method: name === 'auth' ? (pattern === '/auth/api-key' ? 'POST' : 'GET') : name.slice(0, name.indexOf(' ')),
        key: undefined,
      };
      const hasBody = req.getHeader('content-length') !== '' && req.getHeader('content-length') !== '0' ? true : req.getHeader('transfer-encoding') !== '';
      const run = (body: string): void => this.serve(res, guard, { ...ctx, body }, name, auth, handler);
      if (!hasBody) return run('');
      readRawBody(res, guard, MAX_BODY, (raw) => {
        if (!raw.ok) return sendJson(res, guard, raw.status, { error: raw.error });
        run(raw.text);
      });
    });
  }

  private serve(res: HttpResponse, guard: ResponseGuard, ctx: Ctx, name: ClobRoute, auth: Auth, handler: (c: Ctx) => Reply): void {
    const ordinal = ++this.requests;
    // Before anything else: a request that comes after the timeout (a process that was stopped) finds the orders already gone, as at the venue.
    this.expireHeartbeats();
    if (!this.limiter.admit(name)) return sendJson(res, guard, 429, { error: CLOB_ERRORS.tooManyRequests });
    if (auth === 'l2') {
      const v = this.keys.verifyL2(ctx.headers, ctx.method, ctx.path, ctx.body);
      if (!v.ok) return sendJson(res, guard, 401, { error: CLOB_ERRORS.unauthorized });
      ctx.key = v.value;
    }
    const fault = auth === 'l2' ? this.drawFault(name) : undefined;
    if (fault) this.ledger.record({ venue: 'polymarket', kind: fault.kind, connection: 0, frame: ordinal, atMs: Date.now() });
    switch (fault?.kind) {
      case 'http_5xx':
        return sendJson(res, guard, 500, { error: 'Internal Server Error' });
      case 'http_timeout':
        // No answer at all: the client's own timeout has to fire.
        return;
      case 'order_version_mismatch':
        return sendJson(res, guard, 400, { error: CLOB_ERRORS.versionMismatch });
    }
    let reply: Reply;
    try {
      reply = handler(ctx);
    } catch {
      reply = err(500, 'internal');
    }
    if (fault?.kind === 'lost_response') {
      // The order is placed; the connection dies before the answer.
      guard.done = true;
      if (!guard.aborted) res.close();
      return;
    }
    if (fault?.kind === 'http_slow') {
      const t = setTimeout(() => {
        this.timers.delete(t);
        sendJson(res, guard, reply.status, reply.body);
      }, fault.durationMs ?? this.random?.slowMs ?? this.opts.slowMs ?? 2000);
      this.timers.add(t);
      return;
    }
    sendJson(res, guard, reply.status, reply.body);
  }

  private drawFault(name: ClobRoute): { kind: FaultKind; durationMs: number | undefined } | undefined {
    const eligible = (k: FaultKind): boolean => (k !== 'order_version_mismatch' && k !== 'lost_response') || ORDER_ROUTES.includes(name);
    const i = this.armed.findIndex((a) => eligible(a.kind));
    if (i >= 0) return this.armed.splice(i, 1)[0];
    const r = this.random;
    if (!r || !r.rng.chance(r.rate)) return undefined;
    const kind = r.rng.pick(r.kinds);
    return eligible(kind) ? { kind, durationMs: undefined } : undefined;
  }

  private settle(owner: string, tokenId: string, side: WireSide, qty: number, usd: number): void {
    const b = this.balanceOf(owner);
    const sign = side === 'BUY' ? 1 : -1;
    b.collateral -= sign * usd;
    b.tokens.set(tokenId, (b.tokens.get(tokenId) ?? 0) + sign * qty);
  }

  private balanceOf(owner: string): { collateral: number; tokens: Map<string, number> } {
    let b = this.balances.get(owner);
    if (!b) {
      b = { collateral: this.opts.collateral ?? 1_000_000_000_000, tokens: new Map() };
      this.balances.set(owner, b);
    }
    return b;
  }

  // ───── orders ─────

  private placeOne(raw: unknown, key: RegisteredKey, at: string): Reply {
    const parsed = parseNewOrder(raw, at);
    if (!parsed.ok) return err(400, 'invalidOrder', `'${parsed.field}' ${parsed.reason}`);
    const o = parsed.value;
    if (o.owner !== key.apiKey) return err(400, 'wrongOwner');
    if (o.order.signer !== key.address) return err(400, 'wrongSigner');
    const t = this.markets.token(o.order.tokenId);
    const state = t && this.markets.markets[t.market];
    if (!t || !state) return err(400, 'unknownMarket');
    const sig = checkOrderSignature(o, this.version, this.chainId, false);
    if (sig.kind === 'mismatch') return err(400, 'versionMismatch');
    if (sig.kind === 'bad') return err(400, 'invalidSignature');
    if (o.order.makerAmount > MAX_AMOUNT || o.order.takerAmount > MAX_AMOUNT) return err(400, 'invalidOrder', 'amounts above 10^15 base units');
    const market = o.orderType === 'FOK' || o.orderType === 'FAK';
    if (o.postOnly && market) return err(400, 'postOnlyType');
    const nowS = Math.floor(this.now() / 1000);
    if (o.orderType === 'GTD' ? o.order.expiration <= nowS + 60 : o.order.expiration !== 0) return err(400, 'expiration');
    const price = impliedPrice(o, state.tick);
    if (price === undefined) return err(400, 'tickSize');
    const shares = Number(o.order.side === 'BUY' ? o.order.takerAmount : o.order.makerAmount);
    if (shares < this.markets.minSize) return err(400, 'minSize');
    if (this.engine.orders.has(sig.hash)) return err(400, 'duplicated');
    const budget = market && o.order.side === 'BUY' ? Number(o.order.makerAmount) : undefined;
    const out = this.engine.place({
      id: sig.hash,
      owner: key.apiKey,
      makerAddress: o.order.maker,
      market: { state, index: t.market },
      tokenId: o.order.tokenId,
      yes: t.yes,
      side: o.order.side,
      price,
      shares: budget !== undefined ? Number.MAX_SAFE_INTEGER : shares,
      budget,
      orderType: o.orderType,
      postOnly: o.postOnly,
      expiration: o.order.expiration,
    });
    if (!out.ok) return err(400, out.error);
    return {
      status: 200,
      body: {
        success: true,
        errorMsg: '',
        orderID: sig.hash,
        status: out.status,
        makingAmount: fmtUnits(out.making),
        takingAmount: fmtUnits(out.taking),
        tradeIDs: out.tradeIds,
        transactionsHashes: out.tradeIds.map((id) => this.engine.trades.find((tr) => tr.id === id)!.transaction_hash),
      },
    };
  }

  private postOrder(c: Ctx): Reply {
    const body = parseJson(c.body);
    if (body === undefined) return err(400, 'invalidPayload');
    return this.placeOne(body, c.key!, '');
  }

  private postOrders(c: Ctx): Reply {
    const body = parseJson(c.body);
    if (!Array.isArray(body) || body.length === 0) return err(400, 'invalidPayload', 'body must be a non-empty array of orders');
    if (body.length > MAX_BATCH) return err(400, 'tooManyOrders');
    return {
      status: 200,
      body: body.map((entry, i) => {
        const r = this.placeOne(entry, c.key!, `[${i}].`);
        if (r.status === 200) return r.body;
        return { success: false, errorMsg: (r.body as { error: string }).error, orderID: '', status: '', makingAmount: '', takingAmount: '', tradeIDs: [] };
      }),
    };
  }

  private cancelIds(key: RegisteredKey, ids: readonly string[]): Reply {
    this.engine.expire();
    const canceled: string[] = [];
    const notCanceled: Record<string, string> = {};
    for (const id of ids) {
      const o = this.engine.orders.get(id);
      if (!o || o.owner !== key.apiKey) notCanceled[id] = "order can't be found";
      else if (this.engine.cancel(o)) canceled.push(id);
      else notCanceled[id] = o.status === 'MATCHED' ? 'order already matched' : 'order already canceled';
    }
    return { status: 200, body: { canceled, not_canceled: notCanceled } };
  }

  private cancelOne(c: Ctx): Reply {
    const body = parseJson(c.body);
    const id = isObject(body) ? body['orderID'] : undefined;
    if (typeof id !== 'string' || id === '') return err(400, 'invalidPayload', "'orderID' must be an order id string");
    return this.cancelIds(c.key!, [id]);
  }

  private cancelMany(c: Ctx): Reply {
    const body = parseJson(c.body);
    if (!Array.isArray(body) || !body.every((x) => typeof x === 'string')) return err(400, 'invalidPayload', 'body must be an array of order id strings');
    if (body.length > MAX_CANCEL) return err(400, 'invalidPayload', `at most ${MAX_CANCEL} order ids`);
    return this.cancelIds(c.key!, body as string[]);
  }

  private cancelWhere(key: RegisteredKey, pick: (o: SimOrder) => boolean): Reply {
    return this.cancelIds(key, this.openOrders(key.apiKey).filter(pick).map((o) => o.id));
  }

  private cancelMarket(c: Ctx): Reply {
    const body = c.body === '' ? {} : parseJson(c.body);
    if (!isObject(body)) return err(400, 'invalidPayload', 'body must be {"market"?: conditionId, "asset_id"?: tokenId}');
    const market = body['market'];
    const asset = body['asset_id'];
    if ((market !== undefined && typeof market !== 'string') || (asset !== undefined && typeof asset !== 'string')) {
      return err(400, 'invalidPayload', "'market' and 'asset_id' must be strings");
    }
    return this.cancelWhere(c.key!, (o) => (market === undefined || this.markets.markets[o.market]?.conditionId === market) && (asset === undefined || o.tokenId === asset));
  }

  private orderObject(o: SimOrder): Record<string, unknown> {
    const m = this.markets.markets[o.market]!;
    return {
      id: o.id,
      status: o.status,
      owner: o.owner,
      maker_address: o.makerAddress,
      market: m.conditionId,
      asset_id: o.tokenId,
      side: o.side,
      original_size: fmtUnits(o.originalSize),
      size_matched: fmtUnits(o.matched),
      price: fmtPrice(o.price),
      associate_trades: [...o.trades],
      outcome: o.yes ? 'Yes' : 'No',
      created_at: o.createdAt,
      expiration: String(o.expiration),
      order_type: o.orderType,
    };
  }

  private getOrder(c: Ctx): Reply {
    this.engine.expire();
    const o = this.engine.orders.get(c.param);
    if (!o || o.owner !== c.key!.apiKey) return err(404, 'orderNotFound');
    return { status: 200, body: this.orderObject(o) };
  }

  private page<T>(rows: readonly T[], cursor: string | null): Reply {
    const start = cursor === null || cursor === '' ? 0 : decodeCursor(cursor);
    if (start === undefined) return err(400, 'invalidPayload', "'next_cursor' is not a cursor this server gave");
    if (start < 0) return { status: 200, body: { data: [], next_cursor: END_CURSOR, limit: this.pageSize, count: 0 } };
    const data = rows.slice(start, start + this.pageSize);
    const next = start + this.pageSize >= rows.length ? END_CURSOR : Buffer.from(String(start + this.pageSize)).toString('base64');
    return { status: 200, body: { data, next_cursor: next, limit: this.pageSize, count: data.length } };
  }

  private listOrders(c: Ctx): Reply {
    const q = c.query;
    const rows = this.openOrders(c.key!.apiKey)
      .filter((o) => (!q.get('id') || o.id === q.get('id')) && (!q.get('asset_id') || o.tokenId === q.get('asset_id')))
      .filter((o) => !q.get('market') || this.markets.markets[o.market]?.conditionId === q.get('market'))
      .map((o) => this.orderObject(o));
    return this.page(rows, q.get('next_cursor'));
  }

  private listTrades(c: Ctx): Reply {
    const q = c.query;
    const key = c.key!.apiKey;
    const before = q.get('before');
    const after = q.get('after');
    const rows = this.tradesOf(key)
      .filter((t) => (!q.get('id') || t.id === q.get('id')) && (!q.get('market') || t.market === q.get('market')))
      .filter((t) => !q.get('asset_id') || t.asset_id === q.get('asset_id') || t.maker_orders.some((m) => m.asset_id === q.get('asset_id')))
      .filter((t) => !q.get('maker_address') || t.maker_address.toLowerCase() === q.get('maker_address')!.toLowerCase())
      .filter((t) => (before === null || Number(t.match_time) < Number(before)) && (after === null || Number(t.match_time) > Number(after)))
      .map((t) => ({ ...t, trader_side: t.owner === key ? 'TAKER' : 'MAKER' }));
    return this.page(rows, q.get('next_cursor'));
  }

  private balance(c: Ctx): Reply {
    const type = c.query.get('asset_type');
    if (type !== 'COLLATERAL' && type !== 'CONDITIONAL' && type !== 'CONDITIONAL-V2') {
      return err(400, 'invalidPayload', "'asset_type' must be COLLATERAL, CONDITIONAL or CONDITIONAL-V2");
    }
    const b = this.balanceOf(c.key!.apiKey);
    let balance = b.collateral;
    if (type !== 'COLLATERAL') {
      const token = c.query.get('token_id');
      if (!token || !this.markets.token(token)) return err(400, 'invalidPayload', "'token_id' must be a token of a listed market");
      balance = b.tokens.get(token) ?? 0;
    }
    const max = ((1n << 256n) - 1n).toString();
    return { status: 200, body: { balance: String(Math.max(0, Math.round(balance))), allowances: Object.fromEntries(EXCHANGE_SPENDERS.map((s) => [s, max])) } };
  }

  private apiKey(c: Ctx): Reply {
    const v = this.keys.verifyL1(c.headers);
    if (!v.ok) return err(401, 'invalidL1');
    const k = this.keys.derive(v.value.address, v.value.nonce);
    return { status: 200, body: { apiKey: k.apiKey, secret: k.secret, passphrase: k.passphrase } };
  }

  /** Cancels every open order of each armed key whose last heartbeat is older than the timeout, and disarms it. */
  private expireHeartbeats(): void {
    const timeout = this.heartbeatTimeoutMs;
    if (timeout === undefined || this.lastHeartbeat.size === 0) return;
    const now = this.wallNow();
    for (const [apiKey, at] of this.lastHeartbeat) {
      if (now - at < timeout) continue;
      this.lastHeartbeat.delete(apiKey);
      this.expired.keys++;
      for (const o of this.openOrders(apiKey)) if (this.engine.cancel(o)) this.expired.orders++;
    }
  }

  private heartbeat(c: Ctx): Reply {
    const body = c.body === '' ? {} : parseJson(c.body);
    const id = isObject(body) ? body['heartbeat_id'] ?? '' : undefined;
    if (typeof id !== 'string') return err(400, 'invalidPayload', "'heartbeat_id' must be a string");
    this.lastHeartbeat.set(c.key!.apiKey, this.wallNow());
    return { status: 200, body: { heartbeat_id: id === '' ? c.key!.apiKey : id } };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeCursor(cursor: string): number | undefined {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  return /^-?\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/**
 * The order's price in thousandths when its amounts put it on the tick grid
 * within [tick, 1 − tick]. Limit amounts are exact products; a market order's
 * share amount is truncated to the tick's amount decimals (protocols.md
 * §7.5), so the implied price may differ from the grid by that truncation.
 */
function impliedPrice(o: NewOrder, tick: number): number | undefined {
  const usd = o.order.side === 'BUY' ? o.order.makerAmount : o.order.takerAmount;
  const shares = o.order.side === 'BUY' ? o.order.takerAmount : o.order.makerAmount;
  const price = Number((usd * 1000n * 2n + shares) / (shares * 2n));
  const amountDecimals = tick >= 10 ? 4 : 5;
  const slack = 1000n * 10n ** BigInt(6 - amountDecimals);
  const diff = usd * 1000n - BigInt(price) * shares;
  if ((diff < 0n ? -diff : diff) > slack) return undefined;
  if (price % tick !== 0 || price < tick || price > ONE - tick) return undefined;
  return price;
}
