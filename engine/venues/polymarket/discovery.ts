// Market discovery for rolling Up/Down series (protocols §5.3, §11.11): the
// current window and `lookahead` windows after it, looked up on Gamma by
// slug (`{series}-{windowStartUnixSeconds}`), their trading parameters read
// from the CLOB (`/clob-markets/{conditionId}`, §6.1, §7.8), both validated
// field by field at the edge, and offered to the engine, which gives each a
// market slot.
//
//   now ──▶ window starts w₀, w₀+W, … w₀+lookahead·W ──▶ slug ──GET /markets/slug──▶ identity, flags
//       ──GET /clob-markets/{conditionId}──▶ tick, min size, fee ──▶ descriptor ──▶ engine.addMarket
//
// The same code runs against live Gamma and CLOB and against the venue
// simulator (whose clock, for the bundled session, is the capture's): `nowMs`
// is the engine's clock, not the wall's. A slug found and taken is not looked
// up again, nor is one that will never trade (closed, archived, without an
// order book, or no longer accepting orders once its window has begun). One
// not found (not listed yet, or a clock still on the wall before the feed
// clock takes over), not yet accepting orders, or whose CLOB lookup failed is
// retried on the next poll, and polls come every second until the current
// window of every series is known. Poll delays are engine time in a session
// (the engine's timers), so a recorded day replayed faster than the wall is
// polled as often, per minute of market time, as a live one.

import { isTokenId } from '../../../workers/venues/polymarket/feed.js';
import { PolyedgeError } from '../../errors.js';
import { isGridTickSize, PRICE_SCALE, UNIT, type MarketDescriptor } from '../../trading/types.js';
import { isPlainObject } from '../../../workers/guards.js';
import { wallTimers, type TimerHandle, type Timers } from '../../clock/timers.js';

/** A series name, `{asset}-updown-{5m|15m}`. Flag-free, so config.ts can publish it as JSON Schema. */
export const SERIES_NAME = /^([a-z0-9]+)-updown-(5m|15m)$/;

/** Window length and underlying of a series name such as "btc-updown-5m". */
export function seriesOf(series: string): { underlying: string; windowMs: number } {
  const m = SERIES_NAME.exec(series);
  if (!m) throw new PolyedgeError('PE_CONFIG_INVALID', `markets.series: "${series}" is not {asset}-updown-{5m|15m}`, 'markets.series');
  return { underlying: m[1]!, windowMs: m[2] === '5m' ? 300_000 : 900_000 };
}


/** A Gamma field holding a JSON-encoded array of strings (outcomes, clobTokenIds, outcomePrices), or an error naming it. */
export function jsonArrayOfStrings(v: unknown, field: string): string[] {
  if (typeof v !== 'string') throw new PolyedgeError('PE_INPUT_JSON', `gamma: ${field} must be a JSON-encoded array`, field);
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new PolyedgeError('PE_INPUT_JSON', `gamma: ${field} is not valid JSON`, field);
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new PolyedgeError('PE_INPUT_JSON', `gamma: ${field} must hold strings`, field);
  return parsed as string[];
}

/** A decimal tick size (0.01) in grid ticks (100), or undefined when it is not a divisor of 1 on the 1e-4 grid. */
function gridTick(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  const scaled = v * PRICE_SCALE;
  const t = Math.round(scaled);
  return Math.abs(scaled - t) < 1e-6 && isGridTickSize(t) ? t : undefined;
}

/** An optional boolean field: undefined when absent, an error naming it when it is anything but a boolean. */
function optionalFlag(m: Record<string, unknown>, field: string, source: string): boolean | undefined {
  const v = m[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new PolyedgeError('PE_INPUT_JSON', `${source}: ${field} must be a boolean`, field);
  return v;
}

/** What Gamma says of one market: who it is, its parameters at listing time, and whether it trades. */
export interface GammaMarket extends Omit<MarketDescriptor, 'feeRate' | 'feeExponent'> {
  /** `closed`, `archived` or `enableOrderBook: false`: the market will never take orders. */
  retired: boolean;
  /** Neither `acceptingOrders` nor `active` is false. */
  accepting: boolean;
}

/**
 * One Gamma market object → the market, or an error naming the field.
 * `slug`, `startMs` and `windowMs` are what was asked for: the answer must
 * be that market. An absent tradability flag does not block: the CLOB
 * lookup that follows has the last word on whether orders are accepted.
 */
export function parseGammaMarket(raw: unknown, slug: string, startMs: number, windowMs: number, underlying: string): GammaMarket {
  if (!isPlainObject(raw)) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: market is not an object');
  const m = raw;
  if (m.slug !== slug) throw new PolyedgeError('PE_INPUT_JSON', `gamma: asked for ${slug}, got ${JSON.stringify(m.slug)}`, 'slug');
  const conditionId = m.conditionId;
  if (typeof conditionId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(conditionId)) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: conditionId must be 0x and 64 hex digits', 'conditionId');
  const ids = jsonArrayOfStrings(m.clobTokenIds, 'clobTokenIds');
  const outcomes = jsonArrayOfStrings(m.outcomes, 'outcomes');
  if (ids.length !== 2 || !ids.every(isTokenId) || ids[0] === ids[1]) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: expected two distinct decimal token ids', 'clobTokenIds');
  if (outcomes.length !== 2 || outcomes[0] === outcomes[1]) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: expected two distinct outcomes', 'outcomes');
  let tick = 100;
  if (m.orderPriceMinTickSize !== undefined) {
    const t = gridTick(m.orderPriceMinTickSize);
    if (t === undefined) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: orderPriceMinTickSize must divide 1 on the 1e-4 grid', 'orderPriceMinTickSize');
    tick = t;
  }
  let minSize = 5;
  if (m.orderMinSize !== undefined) {
    if (typeof m.orderMinSize !== 'number' || !Number.isFinite(m.orderMinSize) || !(m.orderMinSize > 0)) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: orderMinSize must be a positive number', 'orderMinSize');
    minSize = m.orderMinSize;
  }
  let endMs = startMs + windowMs;
  if (typeof m.endDate === 'string') {
    const e = Date.parse(m.endDate);
    if (e !== endMs) throw new PolyedgeError('PE_INPUT_JSON', `gamma: endDate ${m.endDate} is not the end of the ${slug} window`, 'endDate');
    endMs = e;
  }
  const flag = (field: string): boolean | undefined => optionalFlag(m, field, 'gamma');
  const negRisk = flag('negRisk');
  const closed = flag('closed');
  const archived = flag('archived');
  const enableOrderBook = flag('enableOrderBook');
  const acceptingOrders = flag('acceptingOrders');
  const active = flag('active');
  return {
    conditionId,
    slug,
    tokenIds: [ids[0]!, ids[1]!],
    outcomes: [outcomes[0]!, outcomes[1]!],
    tickSize: tick,
    minSize: Math.round(minSize * UNIT),
    negRisk: negRisk === true,
    startMs,
    endMs,
    underlying,
    retired: closed === true || archived === true || enableOrderBook === false,
    accepting: acceptingOrders !== false && active !== false,
  };
}

/** The trading parameters the CLOB holds for a market (`GET /clob-markets/{conditionId}`). */
export interface ClobMarket {
  /** Grid ticks: the CLOB's current tick, which may have moved since Gamma listed the market (§2.6). */
  tickSize: number;
  /** Micro-shares; undefined when `mos` is absent (Gamma's stands). */
  minSize: number | undefined;
  /** Undefined when `nr` is absent (Gamma's stands). */
  negRisk: boolean | undefined;
  /** Taker fee: shares × feeRate × (p·(1−p))^feeExponent (§7.8); rate 0 when the market has no fee schedule. */
  feeRate: number;
  feeExponent: number;
  /** `ao`; absent means accepting. */
  accepting: boolean;
}

function clobError(message: string, field: string): PolyedgeError {
  return new PolyedgeError('PE_INPUT_JSON', `clob-markets: ${message}`, field);
}

/**
 * The compact `/clob-markets` object of `gamma`'s market → its trading
 * parameters, or an error naming the field. It must be the same market
 * with the same tokens on the same outcomes: a token swapped between Up and
 * Down would invert every price the engine reads.
 */
export function parseClobMarket(raw: unknown, gamma: Pick<GammaMarket, 'conditionId' | 'tokenIds' | 'outcomes'>): ClobMarket {
  if (!isPlainObject(raw)) throw new PolyedgeError('PE_INPUT_JSON', 'clob-markets: market is not an object');
  if (typeof raw.c !== 'string' || raw.c.toLowerCase() !== gamma.conditionId.toLowerCase()) throw clobError(`c is ${JSON.stringify(raw.c)}, asked for ${gamma.conditionId}`, 'c');
  const t = raw.t;
  if (!Array.isArray(t) || t.length !== 2) throw clobError('t must list the two tokens', 't');
  const seen = new Set<string>();
  for (const e of t as unknown[]) {
    if (!isPlainObject(e) || !isTokenId(e.t) || typeof e.o !== 'string') throw clobError('t entries must be {t: decimal token id, o: outcome}', 't');
    const k = gamma.tokenIds.indexOf(e.t);
    if (k < 0 || seen.has(e.t)) throw clobError(`t holds token ${e.t}, which is not one of Gamma's clobTokenIds`, 't');
    if (e.o !== gamma.outcomes[k]) throw clobError(`t gives token ${e.t} the outcome "${e.o}", Gamma "${gamma.outcomes[k]!}"`, 't');
    seen.add(e.t);
  }
  const tickSize = gridTick(raw.mts);
  if (tickSize === undefined) throw clobError('mts must divide 1 on the 1e-4 grid', 'mts');
  let minSize: number | undefined;
  if (raw.mos !== undefined && raw.mos !== null) {
    if (typeof raw.mos !== 'number' || !Number.isFinite(raw.mos) || !(raw.mos > 0)) throw clobError('mos must be a positive number', 'mos');
    minSize = Math.round(raw.mos * UNIT);
  }
  let feeRate = 0;
  let feeExponent = 1;
  if (raw.fd !== undefined && raw.fd !== null) {
    const fd = raw.fd;
    if (!isPlainObject(fd)) throw clobError('fd must be an object {r, e, to?}', 'fd');
    if (typeof fd.r !== 'number' || !Number.isFinite(fd.r) || fd.r < 0 || fd.r >= 1) throw clobError('fd.r must be a rate in [0, 1)', 'fd.r');
    if (typeof fd.e !== 'number' || !Number.isFinite(fd.e) || !(fd.e > 0)) throw clobError('fd.e must be an exponent > 0', 'fd.e');
    // The engine charges fees to takers only (paper fills, strategy edges): a market that also charges makers would be priced wrong.
    if (fd.to !== undefined && fd.to !== null && fd.to !== true) throw clobError('fd.to must be true (fees charged to takers only) when given', 'fd.to');
    feeRate = fd.r;
    feeExponent = fd.e;
  }
  return { tickSize, minSize, negRisk: optionalFlag(raw, 'nr', 'clob-markets'), feeRate, feeExponent, accepting: optionalFlag(raw, 'ao', 'clob-markets') !== false };
}

/** The descriptor of a market from its Gamma listing and its CLOB parameters; where both speak, the CLOB, which matches the orders, wins. */
export function describeMarket(g: GammaMarket, c: ClobMarket): MarketDescriptor {
  return {
    conditionId: g.conditionId,
    slug: g.slug,
    tokenIds: g.tokenIds,
    outcomes: g.outcomes,
    tickSize: c.tickSize,
    minSize: c.minSize ?? g.minSize,
    feeRate: c.feeRate,
    feeExponent: c.feeExponent,
    negRisk: c.negRisk ?? g.negRisk,
    startMs: g.startMs,
    endMs: g.endMs,
    underlying: g.underlying,
  };
}

export interface MarketRollerOptions {
  gammaUrl: string;
  /** CLOB REST base URL: `/clob-markets/{conditionId}` is read there (the same base as `/book`). */
  clobRestUrl: string;
  series: readonly string[];
  lookahead: number;
  pollMs: number;
  /** The engine's clock (Unix ms). */
  nowMs: () => number;
  /** What polls run on: the engine's timers (engine.timers), so a poll is due `pollMs` of engine time later; the wall's by default. */
  timers?: Timers | undefined;
  /** Offers a market; true when it is taken or already known (not looked up again), false to retry later (no free slot). */
  offer: (d: MarketDescriptor) => boolean;
  log: (line: string) => void;
  /** Per-request timeout. Default 5 s. */
  timeoutMs?: number;
}

export type Fetched = { ok: true; body: unknown } | { ok: false; status: number | undefined; message: string };

/** GET `url` as JSON; never throws: a transport failure, timeout or HTTP error status is a Fetched that is not ok. */
export async function fetchJson(url: string, timeoutMs: number): Promise<Fetched> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, status: res.status, message: `HTTP ${res.status}` };
    }
    return { ok: true, body: await res.json() };
  } catch (err) {
    return { ok: false, status: undefined, message: (err as Error).message };
  }
}

/**
 * A poll repeated on a timer until stop(): each round resolves with the
 * delay before the next; a round that throws is handed to `failed`, which
 * logs it and says when to try again. stop() waits for the round under way.
 * The delays are the `timers`' (engine time for a session's polls).
 */
export class PollLoop {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private halted = false;

  constructor(
    private readonly round: () => Promise<number>,
    private readonly failed: (err: Error) => number,
    private readonly timers: Timers = wallTimers,
  ) {}

  /** True once stop() was called: a round under way checks it between requests. */
  get stopped(): boolean {
    return this.halted;
  }

  start(delayMs: number): void {
    this.schedule(delayMs);
  }

  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) this.timers.cancel(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.halted) return;
    this.timer = this.timers.after(delayMs, () => {
      this.timer = undefined;
      this.running = this.round().then(
        (next) => this.schedule(next),
        (err: unknown) => this.schedule(this.failed(err as Error)),
      );
    });
  }
}

export class MarketRoller {
  /**
   * Each lookup ends in exactly one of found, notListed, errors, closed
   * (never tradable: not offered, not looked up again) and notAccepting (not
   * yet: retried); deferred counts the found ones that had no free slot.
   */
  readonly counts = { lookups: 0, found: 0, notListed: 0, errors: 0, closed: 0, notAccepting: 0, deferred: 0 };
  private readonly series: Array<{ name: string; underlying: string; windowMs: number }>;
  /** Slugs taken or known never to trade, by window end: dropped once the window is over. */
  private readonly taken = new Map<string, number>();
  /** Last error logged per slug: a venue down for an hour logs each failure once, not once a second. */
  private readonly lastError = new Map<string, string>();
  private readonly loop: PollLoop;

  constructor(private readonly opts: MarketRollerOptions) {
    this.series = opts.series.map((name) => ({ name, ...seriesOf(name) }));
    this.loop = new PollLoop(
      async () => ((await this.poll()) ? opts.pollMs : Math.min(opts.pollMs, 1_000)),
      (err) => {
        opts.log(`discovery: ${err.message}`);
        return opts.pollMs;
      },
      opts.timers,
    );
  }

  start(): void {
    this.loop.start(0);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One round of lookups; resolves with whether the current window of every series is known. */
  async poll(): Promise<boolean> {
    const now = this.opts.nowMs();
    for (const [slug, endMs] of this.taken) if (endMs <= now) this.taken.delete(slug);
    if (this.lastError.size > 1_000) this.lastError.clear();
    let currentKnown = true;
    for (const s of this.series) {
      const first = Math.floor(now / s.windowMs) * s.windowMs;
      for (let k = 0; k <= this.opts.lookahead; k++) {
        const startMs = first + k * s.windowMs;
        const slug = `${s.name}-${startMs / 1000}`;
        if (this.taken.has(slug)) continue;
        const deferred = this.counts.deferred;
        const ok = await this.lookup(slug, startMs, s.windowMs, s.underlying, now);
        if (this.loop.stopped) return false;
        if (k === 0 && !ok) currentKnown = false;
        // No slot for this window: a later one must not take a slot freed while this round's requests were out; this one asks first next poll.
        if (this.counts.deferred !== deferred) break;
      }
    }
    return currentKnown;
  }

  private get(url: string): Promise<Fetched> {
    return fetchJson(url, this.opts.timeoutMs ?? 5_000);
  }

  private async lookup(slug: string, startMs: number, windowMs: number, underlying: string, now: number): Promise<boolean> {
    this.counts.lookups++;
    const listed = await this.get(`${this.opts.gammaUrl}/markets/slug/${slug}`);
    if (!listed.ok && listed.status === 404) {
      this.counts.notListed++;
      return false;
    }
    if (!listed.ok) return this.failed(slug, listed.message);
    let g: GammaMarket;
    try {
      g = parseGammaMarket(listed.body, slug, startMs, windowMs, underlying);
    } catch (err) {
      return this.failed(slug, (err as Error).message);
    }
    if (g.retired) return this.closed(slug, g.endMs, 'closed, archived or without an order book on Gamma');
    if (!g.accepting) return this.notAccepting(slug, startMs, g.endMs, now, 'Gamma');
    // A listed market the CLOB does not know (404) is a venue still setting it up, not a market that will never trade: retried like any failure.
    const params = await this.get(`${this.opts.clobRestUrl}/clob-markets/${g.conditionId}`);
    if (!params.ok) return this.failed(slug, `clob-markets: ${params.message}`);
    let c: ClobMarket;
    try {
      c = parseClobMarket(params.body, g);
    } catch (err) {
      return this.failed(slug, (err as Error).message);
    }
    if (!c.accepting) return this.notAccepting(slug, startMs, g.endMs, now, 'the CLOB');
    const d = describeMarket(g, c);
    this.lastError.delete(slug);
    this.counts.found++;
    if (!this.opts.offer(d)) {
      this.counts.deferred++;
      return false;
    }
    this.taken.set(slug, d.endMs);
    return true;
  }

  /** Known never to trade: not offered, and not looked up again until its window is over. */
  private closed(slug: string, endMs: number, why: string): true {
    this.counts.closed++;
    this.lastError.delete(slug);
    this.opts.log(`discovery: ${slug}: ${why}; not offered`);
    this.taken.set(slug, endMs);
    return true;
  }

  /**
   * A market not accepting orders. Before its window begins that is a
   * market not yet opened for trading (live Up/Down markets accept orders
   * from their listing, about a day ahead, but a venue may open them later):
   * retried on the next poll. Once the window has begun it can only have
   * stopped, as markets do at or before their end (§11.11): never offered.
   */
  private notAccepting(slug: string, startMs: number, endMs: number, now: number, where: string): boolean {
    if (now >= startMs) return this.closed(slug, endMs, `not accepting orders on ${where} with its window under way`);
    this.counts.notAccepting++;
    this.lastError.delete(slug);
    return false;
  }

  private failed(slug: string, message: string): false {
    this.counts.errors++;
    if (this.lastError.get(slug) !== message) this.opts.log(`discovery: ${slug}: ${message}`);
    this.lastError.set(slug, message);
    return false;
  }
}
