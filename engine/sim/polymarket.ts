// Why this file is over 600 lines: one venue on one port (the market channel, its REST snapshots, Gamma and the mount of the CLOB trading API), sharing one book model.
// Polymarket CLOB market channel (`/ws/market`, protocols.md §2) and the
// `GET /book` / `POST /books` snapshots (§6.1), both rendered from the same
// seeded book model so REST and WS always agree.
import { createHash } from 'node:crypto';
import { isTokenId } from '../../workers/venues/polymarket/feed.js';
import { Pacer, type Pacing, type Timeline } from './pacer.js';
import { bestOf, PolymarketBookModel, type PmEvent, type PmLevelChange, type PmMarketSpec, type PmMarketState } from './scenario.js';
import type { WireSide } from '../trading/types.js';
import { VenueServer, type VenueDeps } from './venue.js';
import type { SimConnection, VenueFaultHook } from './connection.js';
import { HTTP_FAULTS, type FaultKind, type FaultOptions, type Parsed, type RandomFaultConfig } from './faults.js';
import { readJsonBody, sendJson } from './http.js';
import { clobMarketObject, gammaMarketObject, type GammaListing } from './gamma.js';
import { isPlainObject } from '../../workers/guards.js';
import { ClobApi, type ClobOptions } from './clob/api.js';
import { createNodeApp } from './node-server.js';

export interface PolymarketOptions {
  /** Number of generated markets, or explicit markets (ids, start price, price path). Default 2. */
  readonly markets?: number | readonly PmMarketSpec[];
  /** Interval between book updates at speed 1. Default 250 ms. */
  readonly stepMs?: number;
  /** Levels per side. Default 5. */
  readonly levels?: number;
  /** Probability of a trade per market per step. Default 0.25. */
  readonly tradeProbability?: number;
  /** Markets listed on the Gamma lookup `GET /markets/slug/{slug}` and the CLOB's `GET /clob-markets/{conditionId}` (by conditionId of a model market). Default none. */
  readonly gamma?: readonly GammaListing[];
  /** Simulator time (Unix ms) of the first step: Gamma's clock, which resolves listings, is this plus stepMs per step emitted. Default: the wall clock at start-up. */
  readonly clockStartMs?: number;
  /** The CLOB trading API served on the same port (engine/sim/clob). */
  readonly clob?: ClobOptions;
}

export interface PmLevel {
  readonly price: string;
  readonly size: string;
}

/** `GET /book` response (protocols.md §6.1). */
export interface PmBookSnapshot {
  readonly market: string;
  readonly asset_id: string;
  readonly timestamp: string;
  readonly hash: string;
  readonly bids: readonly PmLevel[];
  readonly asks: readonly PmLevel[];
  readonly min_order_size: string;
  readonly tick_size: string;
  readonly neg_risk: boolean;
  readonly last_trade_price: string;
}

export interface PmMarketInfo {
  readonly conditionId: string;
  readonly yesTokenId: string;
  readonly noTokenId: string;
  readonly tickSize: string;
}

interface PmConnState {
  subscribed: boolean;
  readonly assets: Set<string>;
  custom: boolean;
}

/** Thrown for a fault request that names something that does not exist. */
export class FaultTargetError extends Error {}

const ONE = 1000;
const MIN_ORDER_SIZE = '5';

function trimDecimal(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export const fmtPmPrice = (milli: number): string => trimDecimal((milli / ONE).toFixed(3));
export const fmtPmSize = (hundredths: number): string => trimDecimal((hundredths / 100).toFixed(2));
const fmtTick = (milli: number): string => (milli / ONE).toFixed(milli >= 10 ? 2 : 3);
const flip = (side: WireSide): WireSide => (side === 'BUY' ? 'SELL' : 'BUY');

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');


interface SubscribeRequest {
  readonly operation: 'initial' | 'subscribe' | 'unsubscribe';
  readonly assets: readonly string[];
  readonly initialDump: boolean | undefined;
  readonly custom: boolean | undefined;
}

/** Validates a market-channel client message (initial subscription or dynamic operation). */
export function parseMarketMessage(v: unknown): Parsed<SubscribeRequest> {
  if (!isPlainObject(v)) return { ok: false, error: 'message must be a JSON object' };
  const op = v['operation'];
  if (op !== undefined && op !== 'subscribe' && op !== 'unsubscribe') {
    return { ok: false, error: `'operation' must be "subscribe" or "unsubscribe"` };
  }
  const type = v['type'];
  if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'market')) {
    return { ok: false, error: `'type' must be "market" on the market channel` };
  }
  const assets = v['assets_ids'];
  if (!Array.isArray(assets)) return { ok: false, error: `'assets_ids' must be an array of token id strings` };
  const bad = assets.find((a) => !isTokenId(a));
  if (bad !== undefined) return { ok: false, error: `'assets_ids' entries must be decimal token id strings, got ${JSON.stringify(bad)}` };
  if (op !== undefined && assets.length === 0) return { ok: false, error: `'assets_ids' must not be empty for '${op}'` };
  const markets = v['markets'];
  if (markets !== undefined && (!Array.isArray(markets) || !markets.every((m) => typeof m === 'string'))) {
    return { ok: false, error: `'markets' must be an array of strings` };
  }
  for (const key of ['initial_dump', 'custom_feature_enabled'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'boolean') return { ok: false, error: `'${key}' must be a boolean` };
  }
  const level = v['level'];
  if (level !== undefined && level !== 1 && level !== 2 && level !== 3) return { ok: false, error: `'level' must be 1, 2 or 3` };
  return {
    ok: true,
    value: {
      operation: op ?? 'initial',
      assets: assets as string[],
      initialDump: v['initial_dump'] as boolean | undefined,
      custom: v['custom_feature_enabled'] as boolean | undefined,
    },
  };
}

class StepTimeline implements Timeline<PmEvent[]> {
  constructor(
    private readonly model: PolymarketBookModel,
    private readonly stepMs: number,
  ) {}
  peekGapMs(): number {
    return this.stepMs;
  }
  take(): PmEvent[] {
    return this.model.step();
  }
}

type Audience = 'yes' | 'no' | 'both';

export class PolymarketVenue extends VenueServer<PmConnState> {
  private readonly model: PolymarketBookModel;
  private readonly pacer: Pacer<PmEvent[]>;
  private readonly tokens = new Map<string, { market: number; yes: boolean }>();
  private readonly updatedAt: number[];
  private readonly lastTop: string[];
  private lastTs = 0;
  private changeSeq = 0;
  /** The authenticated trading API on this port: keys, orders, matching, trades. */
  readonly clob: ClobApi;

  constructor(deps: VenueDeps, seed: number, pacing: Pacing, opts: PolymarketOptions = {}) {
    // uWebSockets.js drops requests whose header names contain '_', and the
    // CLOB's L1/L2 headers are all POLY_*: this venue is served by node:http + ws.
    super('polymarket', deps, createNodeApp());
    const stepMs = opts.stepMs ?? 250;
    if (!(stepMs > 0)) throw new RangeError(`polymarket stepMs must be > 0, got ${stepMs}`);
    this.model = new PolymarketBookModel({
      seed,
      markets: opts.markets ?? 2,
      ...(opts.levels !== undefined ? { levels: opts.levels } : {}),
      ...(opts.tradeProbability !== undefined ? { tradeProbability: opts.tradeProbability } : {}),
    });
    this.model.markets.forEach((m, i) => {
      for (const [id, yes] of [[m.yesTokenId, true], [m.noTokenId, false]] as const) {
        if (this.tokens.has(id)) throw new RangeError(`token id ${id} is used by two markets`);
        this.tokens.set(id, { market: i, yes });
      }
    });
    const now = Date.now();
    this.updatedAt = this.model.markets.map(() => now);
    this.lastTop = this.model.markets.map((m) => this.topKey(m));
    this.pacer = new Pacer(new StepTimeline(this.model, stepMs), pacing, this.safely((events: PmEvent[]) => this.onStep(events)), this.pacerHooks());
    this.wsRoute('/ws/market', {
      accept: () => ({ ok: true, state: { subscribed: false, assets: new Set<string>(), custom: false } }),
      message: (conn, text, isBinary) => this.onMessage(conn, text, isBinary),
    });
    this.httpGet('/book', (res, req, guard) => {
      const params = new URLSearchParams(req.getQuery() ?? '');
      const tokenId = params.get('token_id');
      if (!tokenId) return sendJson(res, guard, 400, { error: "missing required query parameter 'token_id'" });
      if (!isTokenId(tokenId)) return sendJson(res, guard, 400, { error: "'token_id' must be a decimal token id" });
      const book = this.book(tokenId);
      if (!book) return sendJson(res, guard, 404, { error: 'No orderbook exists for the requested token id' });
      sendJson(res, guard, 200, book);
    });
    const clockStartMs = opts.clockStartMs ?? now;
    const bySlug = new Map<string, { listing: GammaListing; market: number }>();
    const byCondition = new Map<string, { listing: GammaListing; market: number }>();
    for (const listing of opts.gamma ?? []) {
      const market = this.model.markets.findIndex((m) => m.conditionId === listing.conditionId);
      if (market < 0) throw new RangeError(`gamma listing ${listing.slug}: no market with conditionId ${listing.conditionId}`);
      if (bySlug.has(listing.slug) || byCondition.has(listing.conditionId)) throw new RangeError(`gamma listing ${listing.slug} is listed twice`);
      if (listing.resolveDelayMs !== undefined && !(Number.isFinite(listing.resolveDelayMs) && listing.resolveDelayMs >= 0)) {
        throw new RangeError(`gamma listing ${listing.slug}: resolveDelayMs must be a finite number >= 0, got ${listing.resolveDelayMs}`);
      }
      const fee = listing.fee;
      if (fee && !(fee.rate >= 0 && fee.rate < 1 && Number.isFinite(fee.exponent) && fee.exponent > 0)) {
        throw new RangeError(`gamma listing ${listing.slug}: fee rate must be in [0, 1) and exponent > 0, got ${fee.rate} / ${fee.exponent}`);
      }
      bySlug.set(listing.slug, { listing, market });
      byCondition.set(listing.conditionId, { listing, market });
    }
    this.httpGet('/markets/slug/:slug', (res, req, guard) => {
      const hit = bySlug.get(req.getParameter(0) ?? '');
      if (!hit) return sendJson(res, guard, 404, { type: 'not found error', error: 'market not found' });
      sendJson(res, guard, 200, gammaMarketObject(hit.listing, this.model.markets[hit.market]!, 100_000 + hit.market, clockStartMs + this.pacer.emitted * stepMs));
    });
    this.httpGet('/clob-markets/:conditionId', (res, req, guard) => {
      const hit = byCondition.get(req.getParameter(0) ?? '');
      if (!hit) return sendJson(res, guard, 404, { error: 'market not found' });
      sendJson(res, guard, 200, clobMarketObject(hit.listing, this.model.markets[hit.market]!));
    });
    this.clob = new ClobApi(
      deps.ledger,
      seed,
      { markets: this.model.markets, token: (id) => this.tokens.get(id), minSize: Number(MIN_ORDER_SIZE) * 1e6 },
      // On a recorded day the CLOB keeps the venue's clock, so GTD expirations and auth stamps agree with the books.
      opts.clockStartMs !== undefined ? { nowMs: () => clockStartMs + this.pacer.emitted * stepMs, ...opts.clob } : (opts.clob ?? {}),
      { get: (p, h) => this.httpGet(p, h), post: (p, h) => this.httpPost(p, h), del: (p, h) => this.httpDel(p, h) },
    );
    this.httpPost('/books', (res, _req, guard) => {
      readJsonBody(res, guard, 64 << 10, (body) => {
        if (!body.ok) return sendJson(res, guard, body.status, { error: body.error });
        const list = body.value;
        if (!Array.isArray(list) || !list.every((e) => isPlainObject(e) && typeof e['token_id'] === 'string')) {
          return sendJson(res, guard, 400, { error: 'body must be an array of {"token_id": string}' });
        }
        const books = (list as Array<{ token_id: string }>).map((e) => this.book(e.token_id)).filter((b) => b !== undefined);
        sendJson(res, guard, 200, books);
      });
    });
  }

  startFeed(): void {
    this.pacer.start();
  }

  stopFeed(): void {
    this.pacer.stop();
    this.clob.close();
  }

  advance(n: number): number {
    return this.pacer.advance(n);
  }

  protected eventsEmitted(): number {
    return this.pacer.emitted;
  }

  protected sourceExhausted(): boolean {
    return false;
  }

  markets(): PmMarketInfo[] {
    return this.model.markets.map((m) => ({
      conditionId: m.conditionId,
      yesTokenId: m.yesTokenId,
      noTokenId: m.noTokenId,
      tickSize: fmtTick(m.tick),
    }));
  }

  /** The `GET /book` snapshot of one token, or undefined for an unknown token. */
  book(tokenId: string): PmBookSnapshot | undefined {
    const t = this.tokens.get(tokenId);
    if (!t) return undefined;
    const m = this.model.markets[t.market] as PmMarketState;
    const { bids, asks } = this.levelsOf(m, t.yes);
    return {
      market: m.conditionId,
      asset_id: tokenId,
      timestamp: String(this.updatedAt[t.market]),
      hash: sha1(JSON.stringify([m.conditionId, tokenId, bids, asks])),
      bids,
      asks,
      min_order_size: MIN_ORDER_SIZE,
      tick_size: fmtTick(m.tick),
      neg_risk: false,
      last_trade_price: fmtPmPrice(t.yes ? m.lastTradePrice : ONE - m.lastTradePrice),
    };
  }

  override setRandomFaults(cfg: RandomFaultConfig | null): void {
    super.setRandomFaults(cfg);
    this.clob.setRandomFaults(cfg && (!cfg.venues || cfg.venues.includes('polymarket')) ? cfg : null);
  }

  override injectFault(kind: FaultKind, options: FaultOptions): number {
    if (HTTP_FAULTS.includes(kind)) return this.clob.injectFault(kind, options);
    if (kind === 'tick_size_change') return this.injectTickChange(options.assetId);
    if (kind === 'crossed_book') {
      if (options.assetId !== undefined && !this.tokens.has(options.assetId)) {
        throw new FaultTargetError(`unknown assetId ${options.assetId}`);
      }
      let n = 0;
      for (const conn of [...this.conns]) {
        if (this.sendCrossedBook(conn, options.assetId)) {
          conn.note('crossed_book');
          n++;
        }
      }
      return n;
    }
    return super.injectFault(kind, options);
  }

  protected override venueFaultHook(): VenueFaultHook {
    return (conn, kind) => kind === 'crossed_book' && this.sendCrossedBook(conn as SimConnection<PmConnState>, undefined);
  }

  // ───── client messages ─────

  private onMessage(conn: SimConnection<PmConnState>, text: string, isBinary: boolean): void {
    if (isBinary) return this.invalid(conn, 'binary frames are not accepted');
    const trimmed = text.trim();
    if (trimmed === 'PING') return conn.sendControl('PONG');
    if (trimmed === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return this.invalid(conn, 'message is neither PING nor JSON');
    }
    const req = parseMarketMessage(parsed);
    if (!req.ok) return this.invalid(conn, req.error);
    const { operation, assets, initialDump, custom } = req.value;
    const s = conn.state;
    if (operation === 'initial') {
      if (s.subscribed) return this.invalid(conn, 'initial subscription already sent; use {"operation":"subscribe"|"unsubscribe"}');
      s.subscribed = true;
      s.custom = custom ?? false;
      for (const a of assets) s.assets.add(a);
      if (initialDump !== false) this.sendBooks(conn, [...new Set(assets)]);
      return;
    }
    if (operation === 'subscribe') {
      if (custom === true) s.custom = true;
      const added = assets.filter((a) => !s.assets.has(a));
      for (const a of added) s.assets.add(a);
      s.subscribed = true;
      if (initialDump !== false) this.sendBooks(conn, [...new Set(added)]);
      return;
    }
    for (const a of assets) s.assets.delete(a);
  }

  private invalid(conn: SimConnection<PmConnState>, reason: string): void {
    this.rejectMessage(conn, reason);
    // The venue answers bad messages with this text; the reason is the simulator's addition.
    conn.sendControl(`INVALID OPERATION: ${reason}`);
  }

  // ───── rendering ─────

  private nextTs(): number {
    this.lastTs = Math.max(Date.now(), this.lastTs + 1);
    return this.lastTs;
  }

  private topKey(m: PmMarketState): string {
    const b = bestOf(m);
    return `${b.bestBid}/${b.bestAsk}`;
  }

  private levelsOf(m: PmMarketState, yes: boolean): { bids: PmLevel[]; asks: PmLevel[] } {
    // Best level last on both sides, as the venue sends them (protocols.md §2.4).
    const side = (book: Map<number, number>, mirror: boolean, ascending: boolean): PmLevel[] =>
      [...book.entries()]
        .map(([p, s]) => [mirror ? ONE - p : p, s] as const)
        .sort((a, b) => (ascending ? a[0] - b[0] : b[0] - a[0]))
        .map(([p, s]) => ({ price: fmtPmPrice(p), size: fmtPmSize(s) }));
    return yes
      ? { bids: side(m.bids, false, true), asks: side(m.asks, false, false) }
      : { bids: side(m.asks, true, true), asks: side(m.bids, true, false) };
  }

  private bookMessage(tokenId: string): Record<string, unknown> | undefined {
    const b = this.book(tokenId);
    if (!b) return undefined;
    return {
      event_type: 'book',
      asset_id: b.asset_id,
      market: b.market,
      bids: b.bids,
      asks: b.asks,
      timestamp: b.timestamp,
      hash: b.hash,
      tick_size: b.tick_size,
      last_trade_price: b.last_trade_price,
    };
  }

  /** Books arrive as one array frame, as in live captures of the initial dump. */
  private sendBooks(conn: SimConnection<PmConnState>, tokenIds: readonly string[]): void {
    const books = tokenIds.map((id) => this.bookMessage(id)).filter((b) => b !== undefined);
    if (books.length > 0) conn.sendData(JSON.stringify(books));
  }

  private audience(conn: SimConnection<PmConnState>, m: PmMarketState): Audience | undefined {
    const yes = conn.state.assets.has(m.yesTokenId);
    const no = conn.state.assets.has(m.noTokenId);
    return yes && no ? 'both' : yes ? 'yes' : no ? 'no' : undefined;
  }

  /** Sends one message per audience variant, serialising each variant once. */
  private fanout(market: number, render: (aud: Audience) => string | undefined): void {
    const m = this.model.markets[market] as PmMarketState;
    const cache = new Map<Audience, string | undefined>();
    for (const conn of this.conns) {
      const aud = this.audience(conn, m);
      if (!aud) continue;
      if (!cache.has(aud)) cache.set(aud, render(aud));
      const frame = cache.get(aud);
      if (frame !== undefined) conn.sendData(frame);
    }
  }

  private priceChangeEntries(m: PmMarketState, changes: readonly PmLevelChange[], aud: Audience): Record<string, string>[] {
    const entries: Record<string, string>[] = [];
    for (const c of changes) {
      const size = fmtPmSize(c.size);
      const seq = ++this.changeSeq;
      if (aud !== 'no') {
        entries.push({
          asset_id: m.yesTokenId,
          price: fmtPmPrice(c.price),
          size,
          side: c.side,
          hash: sha1(`${m.yesTokenId}|${c.price}|${c.size}|${c.side}|${seq}`),
          best_bid: fmtPmPrice(c.bestBid),
          best_ask: fmtPmPrice(c.bestAsk),
        });
      }
      if (aud !== 'yes') {
        // The complementary token sees the same level from the other side.
        entries.push({
          asset_id: m.noTokenId,
          price: fmtPmPrice(ONE - c.price),
          size,
          side: flip(c.side),
          hash: sha1(`${m.noTokenId}|${ONE - c.price}|${c.size}|${flip(c.side)}|${seq}`),
          best_bid: fmtPmPrice(ONE - c.bestAsk),
          best_ask: fmtPmPrice(ONE - c.bestBid),
        });
      }
    }
    return entries;
  }

  private onStep(events: readonly PmEvent[]): void {
    const touched = new Set<number>();
    for (const ev of events) {
      this.emitEvent(ev);
      if (ev.type === 'trade') this.clob.onFlowTrade(ev.market, ev.side, ev.price, ev.size);
      touched.add(ev.market);
    }
    for (const i of touched) {
      const m = this.model.markets[i] as PmMarketState;
      const key = this.topKey(m);
      if (key === this.lastTop[i]) continue;
      this.lastTop[i] = key;
      this.emitBestBidAsk(i);
    }
  }

  private emitEvent(ev: PmEvent): void {
    const m = this.model.markets[ev.market] as PmMarketState;
    const ts = String(this.nextTs());
    switch (ev.type) {
      case 'tick': {
        const msg = (asset: string): string =>
          JSON.stringify({
            event_type: 'tick_size_change',
            asset_id: asset,
            market: m.conditionId,
            old_tick_size: fmtTick(ev.oldTick),
            new_tick_size: fmtTick(ev.newTick),
            timestamp: ts,
          });
        for (const conn of this.conns) {
          const aud = this.audience(conn, m);
          if (aud !== undefined && aud !== 'no') conn.sendData(msg(m.yesTokenId));
          if (aud !== undefined && aud !== 'yes') conn.sendData(msg(m.noTokenId));
        }
        return;
      }
      case 'levels': {
        this.updatedAt[ev.market] = Number(ts);
        this.fanout(ev.market, (aud) =>
          JSON.stringify({
            event_type: 'price_change',
            market: m.conditionId,
            timestamp: ts,
            price_changes: this.priceChangeEntries(m, ev.changes, aud),
          }),
        );
        return;
      }
      case 'trade': {
        this.updatedAt[ev.market] = Number(ts);
        const trade = (asset: string, yes: boolean): Record<string, string> => ({
          event_type: 'last_trade_price',
          asset_id: asset,
          market: m.conditionId,
          price: fmtPmPrice(yes ? ev.price : ONE - ev.price),
          side: yes ? ev.side : flip(ev.side),
          size: fmtPmSize(ev.size),
          fee_rate_bps: '0',
          timestamp: ts,
          transaction_hash: `0x${sha1(`${m.conditionId}|${ts}|${ev.price}|${ev.size}`)}${'0'.repeat(24)}`,
        });
        for (const conn of this.conns) {
          const aud = this.audience(conn, m);
          if (!aud) continue;
          if (aud !== 'no') conn.sendData(JSON.stringify(trade(m.yesTokenId, true)));
          if (aud !== 'yes') conn.sendData(JSON.stringify(trade(m.noTokenId, false)));
        }
        // A trade changes the book: the venue follows up with fresh snapshots.
        this.fanout(ev.market, (aud) => {
          const ids = aud === 'both' ? [m.yesTokenId, m.noTokenId] : aud === 'yes' ? [m.yesTokenId] : [m.noTokenId];
          return JSON.stringify(ids.map((id) => this.bookMessage(id)));
        });
        return;
      }
    }
  }

  private emitBestBidAsk(market: number): void {
    const m = this.model.markets[market] as PmMarketState;
    const { bestBid, bestAsk } = bestOf(m);
    const ts = String(this.nextTs());
    const msg = (asset: string, bb: number, ba: number): string =>
      JSON.stringify({
        event_type: 'best_bid_ask',
        market: m.conditionId,
        asset_id: asset,
        best_bid: fmtPmPrice(bb),
        best_ask: fmtPmPrice(ba),
        spread: fmtPmPrice(ba - bb),
        timestamp: ts,
      });
    for (const conn of this.conns) {
      if (!conn.state.custom) continue;
      const aud = this.audience(conn, m);
      if (aud !== undefined && aud !== 'no') conn.sendData(msg(m.yesTokenId, bestBid, bestAsk));
      if (aud !== undefined && aud !== 'yes') conn.sendData(msg(m.noTokenId, ONE - bestAsk, ONE - bestBid));
    }
  }

  // ───── venue-state faults ─────

  private injectTickChange(assetId: string | undefined): number {
    let marketIdx: number[];
    if (assetId !== undefined) {
      const t = this.tokens.get(assetId);
      if (!t) throw new FaultTargetError(`unknown assetId ${assetId}`);
      marketIdx = [t.market];
    } else {
      marketIdx = this.model.markets.map((_, i) => i);
    }
    let n = 0;
    for (const i of marketIdx) {
      const m = this.model.markets[i] as PmMarketState;
      for (const conn of this.conns) {
        if (this.audience(conn, m) && !conn.isStalled()) {
          conn.note('tick_size_change');
          n++;
        }
      }
      this.onStep(this.model.forceTickChange(i));
    }
    return n;
  }

  /**
   * Sends a price_change that crosses the connection's book (a bid above the
   * best ask), then the change that removes it again. Returns false when the
   * connection has no market to cross.
   */
  private sendCrossedBook(conn: SimConnection<PmConnState>, assetId: string | undefined): boolean {
    const target = assetId ?? [...conn.state.assets].find((a) => this.tokens.has(a));
    const t = target !== undefined ? this.tokens.get(target) : undefined;
    if (!t) return false;
    const m = this.model.markets[t.market] as PmMarketState;
    const aud = this.audience(conn, m);
    // A stalled connection would never see it; don't count what can't be observed.
    if (!aud || conn.isStalled()) return false;
    const { bestBid, bestAsk } = bestOf(m);
    const size = 100_00;
    let crossing: PmLevelChange;
    let repair: PmLevelChange;
    if (bestAsk + m.tick <= ONE - m.tick) {
      const p = bestAsk + m.tick;
      crossing = { side: 'BUY', price: p, size, bestBid: p, bestAsk };
      repair = { side: 'BUY', price: p, size: 0, bestBid, bestAsk };
    } else {
      const p = bestBid - m.tick;
      crossing = { side: 'SELL', price: p, size, bestBid, bestAsk: p };
      repair = { side: 'SELL', price: p, size: 0, bestBid, bestAsk };
    }
    for (const change of [crossing, repair]) {
      conn.sendInjected(
        JSON.stringify({
          event_type: 'price_change',
          market: m.conditionId,
          timestamp: String(this.nextTs()),
          price_changes: this.priceChangeEntries(m, [change], aud),
        }),
      );
    }
    return true;
  }
}
