// Binance USD-M market streams (protocols.md §9): combined and raw streams
// on the routed (/public, /market) and unrouted paths, live SUBSCRIBE, and
// `GET /fapi/v1/depth` consistent with what the stream has delivered.
import { Pacer, type Pacing, type Timeline } from './pacer.js';
import { LiquidationGenerator } from './scenario.js';
import { VenueServer, type Accepted, type VenueDeps } from './venue.js';
import type { SimConnection } from './connection.js';
import type { BinanceEvent, DepthSnapshot, DepthUpdate } from './binance-types.js';
import { AggTradeBuilder, DepthAggregator, PriceBook, parseStreamList, streamRoute, type StreamSpec } from './binance-streams.js';
import { sendJson } from './http.js';
import { isPlainObject } from '../../workers/guards.js';

export interface BinanceOptions {
  /**
   * `strict` (default) delivers book streams only on /public or unrouted
   * paths and trade/liquidation streams only on /market, like the venue;
   * `lenient` delivers everything everywhere.
   */
  readonly routing?: 'strict' | 'lenient';
}

export interface BinanceSource {
  readonly timeline: Timeline<BinanceEvent>;
  /** The book before the first event: the capture's REST snapshot or the generator's initial book. */
  readonly seedSnapshot: DepthSnapshot;
  readonly symbol: string;
}

type Route = 'public' | 'market' | 'unrouted';

interface BnConnState {
  readonly route: Route;
  readonly combined: boolean;
  readonly streams: Map<string, StreamSpec>;
}

const DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000] as const;
const DEFAULT_DEPTH_LIMIT = 500;

interface BinanceError {
  readonly code: number;
  readonly msg: string;
}


export class BinanceVenue extends VenueServer<BnConnState> {
  private readonly pacer: Pacer<BinanceEvent>;
  private readonly symbolLower: string;
  private readonly liquidations: LiquidationGenerator;
  private readonly aggTrades = new AggTradeBuilder(2_300_000_000);
  private readonly aggregators = new Map<number, DepthAggregator>();
  private readonly routing: 'strict' | 'lenient';
  private book: PriceBook | undefined;
  private lastU = 0;
  private lastE = 0;
  private lastT = 0;
  private lastPrice = 0;

  constructor(
    deps: VenueDeps,
    seed: number,
    pacing: Pacing,
    private readonly source: BinanceSource,
    opts: BinanceOptions = {},
  ) {
    super('binance', deps);
    this.routing = opts.routing ?? 'strict';
    this.symbolLower = source.symbol.toLowerCase();
    this.liquidations = new LiquidationGenerator(seed, source.symbol);
    this.pacer = new Pacer(
      source.timeline,
      pacing,
      this.safely((ev: BinanceEvent) => this.onEvent(ev)),
      this.pacerHooks(() => deps.log(`binance: source exhausted after ${this.pacer.emitted} events`)),
    );
    const handlers = {
      accept: (url: string, query: string) => this.accept(url, query),
      message: (conn: SimConnection<BnConnState>, text: string, isBinary: boolean) => this.onMessage(conn, text, isBinary),
    };
    for (const prefix of ['', '/public', '/market']) {
      this.wsRoute(`${prefix}/stream`, handlers);
      this.wsRoute(`${prefix}/ws`, handlers);
      this.wsRoute(`${prefix}/ws/*`, handlers);
    }
    this.httpGet('/fapi/v1/depth', (res, req, guard) => {
      const params = new URLSearchParams(req.getQuery() ?? '');
      const r = this.restDepth(params.get('symbol'), params.get('limit'));
      if ('code' in r) sendJson(res, guard, 400, r);
      else sendJson(res, guard, 200, r);
    });
  }

  startFeed(): void {
    this.pacer.start();
  }

  stopFeed(): void {
    this.pacer.stop();
  }

  advance(n: number): number {
    return this.pacer.advance(n);
  }

  protected eventsEmitted(): number {
    return this.pacer.emitted;
  }

  protected sourceExhausted(): boolean {
    return this.pacer.exhausted;
  }

  get symbol(): string {
    return this.source.symbol;
  }

  /**
   * The book as `GET /fapi/v1/depth` returns it. Until the stream reaches the
   * seed snapshot's update id, that snapshot is served as is (it is ahead of
   * the stream, as a real snapshot usually is); afterwards the simulator's
   * own book, with `lastUpdateId` = the last delivered diff's `u`.
   */
  depthSnapshot(limit: number = DEFAULT_DEPTH_LIMIT): DepthSnapshot {
    const seed = this.source.seedSnapshot;
    if (!this.book) return { ...seed, bids: seed.bids.slice(0, limit), asks: seed.asks.slice(0, limit) };
    return { lastUpdateId: this.lastU, E: this.lastE, T: this.lastT, bids: this.book.top('bids', limit), asks: this.book.top('asks', limit) };
  }

  private restDepth(symbol: string | null, limitParam: string | null): DepthSnapshot | BinanceError {
    if (!symbol) return { code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." };
    if (symbol.toUpperCase() !== this.source.symbol) return { code: -1121, msg: 'Invalid symbol.' };
    let limit = DEFAULT_DEPTH_LIMIT;
    if (limitParam !== null) {
      const n = Number(limitParam);
      if (!/^\d+$/.test(limitParam) || !(DEPTH_LIMITS as readonly number[]).includes(n)) {
        return { code: -1100, msg: `Illegal characters found in parameter 'limit'; legal values are ${DEPTH_LIMITS.join(', ')}.` };
      }
      limit = n;
    }
    return this.depthSnapshot(limit);
  }

  // ───── connections ─────

  private accept(url: string, query: string): Accepted<BnConnState> {
    const route: Route = url.startsWith('/public/') ? 'public' : url.startsWith('/market/') ? 'market' : 'unrouted';
    const path = route === 'unrouted' ? url : url.slice(route.length + 1);
    let names: string[] = [];
    let combined: boolean;
    if (path === '/stream') {
      combined = true;
      const streams = new URLSearchParams(query).get('streams');
      if (streams) names = streams.split('/').filter((s) => s !== '');
    } else if (path === '/ws') {
      combined = false;
    } else if (path.startsWith('/ws/')) {
      combined = false;
      names = path.slice(4).split('/').filter((s) => s !== '');
      if (names.length !== 1) return { ok: false, status: 400, error: 'raw endpoint takes exactly one stream: /ws/<stream>; use /stream?streams=a/b for several' };
    } else {
      return { ok: false, status: 404, error: `unknown path ${url}` };
    }
    const parsed = parseStreamList(names);
    if (!parsed.ok) return { ok: false, status: 400, error: parsed.error };
    const streams = new Map<string, StreamSpec>();
    for (const spec of parsed.value) {
      streams.set(spec.name, spec);
      this.ensureAggregator(spec);
    }
    return { ok: true, state: { route, combined, streams } };
  }

  private onMessage(conn: SimConnection<BnConnState>, text: string, isBinary: boolean): void {
    const reply = (id: unknown, body: { result: unknown } | { error: BinanceError }): void =>
      conn.sendControl(JSON.stringify({ ...body, id: id ?? null }));
    const fail = (id: unknown, code: number, msg: string): void => {
      this.rejectMessage(conn, msg);
      reply(id, { error: { code, msg } });
    };
    if (isBinary) return fail(null, 3, 'Invalid JSON: binary frames are not accepted');
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch (err) {
      return fail(null, 3, `Invalid JSON: ${(err as Error).message}`);
    }
    if (!isPlainObject(req)) return fail(null, 2, 'Invalid request: expected a JSON object');
    const id = req['id'];
    const idOk = id === undefined || id === null || (typeof id === 'number' && Number.isInteger(id) && id >= 0) || (typeof id === 'string' && id.length <= 36);
    if (!idOk) return fail(null, 1, "Invalid value type: 'id' must be an unsigned integer or a string of at most 36 characters");
    const extra = Object.keys(req).find((k) => k !== 'method' && k !== 'params' && k !== 'id');
    if (extra !== undefined) return fail(id, 0, `Unknown property: ${extra}`);
    const method = req['method'];
    if (method === 'LIST_SUBSCRIPTIONS') return reply(id, { result: [...conn.state.streams.keys()] });
    if (method !== 'SUBSCRIBE' && method !== 'UNSUBSCRIBE') {
      return fail(id, 2, `Invalid request: unknown method ${JSON.stringify(method)}, expected SUBSCRIBE, UNSUBSCRIBE or LIST_SUBSCRIPTIONS`);
    }
    const params = req['params'];
    if (!Array.isArray(params) || !params.every((p) => typeof p === 'string')) {
      return fail(id, 1, "Invalid value type: 'params' must be an array of stream names");
    }
    const parsed = parseStreamList(params as string[]);
    if (!parsed.ok) return fail(id, 2, `Invalid request: ${parsed.error}`);
    const streams = conn.state.streams;
    if (method === 'SUBSCRIBE') {
      const fresh = parsed.value.filter((s) => !streams.has(s.name));
      if (streams.size + fresh.length > 200) return fail(id, 2, 'Invalid request: more than 200 streams on one connection');
      for (const spec of fresh) {
        streams.set(spec.name, spec);
        this.ensureAggregator(spec);
        if (!this.deliverable(conn, spec)) this.deps.log(`binance#${conn.id}: ${spec.name} is not served on the ${conn.state.route} endpoint`);
      }
    } else {
      for (const spec of parsed.value) streams.delete(spec.name);
    }
    reply(id, { result: null });
  }

  private deliverable(conn: SimConnection<BnConnState>, spec: StreamSpec): boolean {
    if (this.routing === 'lenient') return true;
    const route = conn.state.route;
    // Unrouted connections only receive /public streams.
    return streamRoute(spec) === 'public' ? route !== 'market' : route === 'market';
  }

  private ensureAggregator(spec: StreamSpec): void {
    if ((spec.kind !== 'diff' && spec.kind !== 'partial') || spec.intervalMs === 0) return;
    if (spec.symbol !== this.symbolLower || this.aggregators.has(spec.intervalMs)) return;
    const interval = spec.intervalMs;
    this.aggregators.set(interval, new DepthAggregator(interval, (merged) => this.onMergedDepth(interval, merged)));
  }

  // ───── events ─────

  private publish(kind: StreamSpec['kind'], match: (spec: StreamSpec) => boolean, dataText: string, depth = false): void {
    const envelopes = new Map<string, string>();
    for (const conn of this.conns) {
      for (const spec of conn.state.streams.values()) {
        if (spec.kind !== kind || spec.symbol !== this.symbolLower || !match(spec) || !this.deliverable(conn, spec)) continue;
        let frame = dataText;
        if (conn.state.combined) {
          frame = envelopes.get(spec.name) ?? `{"stream":"${spec.name}","data":${dataText}}`;
          envelopes.set(spec.name, frame);
        }
        conn.sendData(frame, { depth });
      }
    }
  }

  private onEvent(ev: BinanceEvent): void {
    // A trade that does not extend the pending aggregate closes it.
    const closed = ev.kind === 'trade' ? this.aggTrades.add(ev.data) : this.aggTrades.flush();
    if (closed) this.publish('aggTrade', () => true, JSON.stringify(closed));
    const raw = ev.raw ?? JSON.stringify(ev.data);
    switch (ev.kind) {
      case 'depth':
        // Aggregators close the previous window first, so its partial-depth
        // snapshot is the book before this diff.
        for (const agg of this.aggregators.values()) agg.add(ev.data);
        this.applyDepth(ev.data);
        this.publish('diff', (s) => s.kind === 'diff' && s.intervalMs === 0, raw, true);
        break;
      case 'bookTicker':
        this.publish('bookTicker', () => true, raw);
        break;
      case 'trade':
        this.lastPrice = Number(ev.data.p);
        this.publish('trade', () => true, raw);
        break;
    }
    const liquidation = this.liquidations.maybe(ev.data.E, this.lastPrice);
    if (liquidation) this.publish('forceOrder', () => true, JSON.stringify(liquidation));
  }

  private applyDepth(d: DepthUpdate): void {
    const seed = this.source.seedSnapshot;
    if (!this.book) {
      // Same rule a client follows: the first diff applied to the snapshot is the one with u ≥ lastUpdateId.
      if (d.u < seed.lastUpdateId) return;
      this.book = PriceBook.from(seed);
    }
    this.book.apply(d.b, d.a);
    this.lastU = d.u;
    this.lastE = d.E;
    this.lastT = d.T;
  }

  private onMergedDepth(interval: number, merged: DepthUpdate): void {
    this.publish('diff', (s) => s.kind === 'diff' && s.intervalMs === interval, JSON.stringify(merged), true);
    if (!this.book) return;
    for (const levels of [5, 10, 20] as const) {
      const wanted = (s: StreamSpec): boolean => s.kind === 'partial' && s.intervalMs === interval && s.levels === levels;
      if (![...this.conns].some((c) => [...c.state.streams.values()].some(wanted))) continue;
      const partial: DepthUpdate = { ...merged, b: this.book.top('bids', levels), a: this.book.top('asks', levels) };
      this.publish('partial', wanted, JSON.stringify(partial));
    }
  }
}
