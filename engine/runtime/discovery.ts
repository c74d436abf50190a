// Market discovery for rolling Up/Down series (protocols §5.3, §11.11): the
// current window and `lookahead` windows after it, looked up on Gamma by
// slug (`{series}-{windowStartUnixSeconds}`), validated field by field at the
// edge, and offered to the engine, which gives each a market slot.
//
//   now ──▶ window starts w₀, w₀+W, … w₀+lookahead·W ──▶ slug ──GET /markets/slug──▶ descriptor ──▶ engine.addMarket
//
// The same code runs against live Gamma and against the venue simulator
// (whose clock, for the bundled session, is the capture's): `nowMs` is the
// engine's clock, not the wall's. A slug found and taken is not looked up
// again; one not found (not listed yet, or a clock still on the wall before
// the feed clock takes over) is retried on the next poll, and polls come
// every second until the current window of every series is known.

import { PolyedgeError } from '../errors.js';
import { PRICE_SCALE, UNIT, type MarketDescriptor } from '../trading/types.js';

const SERIES = /^([a-z0-9]+)-updown-(5m|15m)$/;

/** Window length and underlying of a series name such as "btc-updown-5m". */
export function seriesOf(series: string): { underlying: string; windowMs: number } {
  const m = SERIES.exec(series);
  if (!m) throw new PolyedgeError('PE_CONFIG_INVALID', `markets.series: "${series}" is not {asset}-updown-{5m|15m}`, 'markets.series');
  return { underlying: m[1]!, windowMs: m[2] === '5m' ? 300_000 : 900_000 };
}

function jsonArrayOfStrings(v: unknown, field: string): string[] {
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

/**
 * One Gamma market object → the market's descriptor, or an error naming the
 * field. `slug`, `startMs` and `windowMs` are what was asked for: the answer
 * must be that market.
 */
export function parseGammaMarket(raw: unknown, slug: string, startMs: number, windowMs: number, underlying: string): MarketDescriptor {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: market is not an object');
  const m = raw as Record<string, unknown>;
  if (m.slug !== slug) throw new PolyedgeError('PE_INPUT_JSON', `gamma: asked for ${slug}, got ${JSON.stringify(m.slug)}`, 'slug');
  const conditionId = m.conditionId;
  if (typeof conditionId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(conditionId)) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: conditionId must be 0x and 64 hex digits', 'conditionId');
  const ids = jsonArrayOfStrings(m.clobTokenIds, 'clobTokenIds');
  const outcomes = jsonArrayOfStrings(m.outcomes, 'outcomes');
  if (ids.length !== 2 || !ids.every((id) => /^\d{1,100}$/.test(id)) || ids[0] === ids[1]) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: expected two distinct decimal token ids', 'clobTokenIds');
  if (outcomes.length !== 2) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: expected two outcomes', 'outcomes');
  let tick = 100;
  if (m.orderPriceMinTickSize !== undefined) {
    const t = typeof m.orderPriceMinTickSize === 'number' ? Math.round(m.orderPriceMinTickSize * PRICE_SCALE) : NaN;
    if (!(t >= 1 && PRICE_SCALE % t === 0)) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: orderPriceMinTickSize must divide 1 on the 1e-4 grid', 'orderPriceMinTickSize');
    tick = t;
  }
  let minSize = 5;
  if (m.orderMinSize !== undefined) {
    if (typeof m.orderMinSize !== 'number' || !(m.orderMinSize > 0)) throw new PolyedgeError('PE_INPUT_JSON', 'gamma: orderMinSize must be a positive number', 'orderMinSize');
    minSize = m.orderMinSize;
  }
  let endMs = startMs + windowMs;
  if (typeof m.endDate === 'string') {
    const e = Date.parse(m.endDate);
    if (e !== endMs) throw new PolyedgeError('PE_INPUT_JSON', `gamma: endDate ${m.endDate} is not the end of the ${slug} window`, 'endDate');
    endMs = e;
  }
  return {
    conditionId,
    slug,
    tokenIds: [ids[0]!, ids[1]!],
    outcomes: [outcomes[0]!, outcomes[1]!],
    tickSize: tick,
    minSize: Math.round(minSize * UNIT),
    // Fee parameters live on /clob-markets (fd.r, fd.e); until they are read, assume the crypto markets' taker fee.
    feeRate: 0.25,
    feeExponent: 2,
    negRisk: m.negRisk === true,
    startMs,
    endMs,
    underlying,
  };
}

export interface MarketRollerOptions {
  gammaUrl: string;
  series: readonly string[];
  lookahead: number;
  pollMs: number;
  /** The engine's clock (Unix ms). */
  nowMs: () => number;
  /** Offers a market; true when it is taken or already known (not looked up again), false to retry later (no free slot). */
  offer: (d: MarketDescriptor) => boolean;
  log: (line: string) => void;
  /** Per-lookup timeout. Default 5 s. */
  timeoutMs?: number;
}

export class MarketRoller {
  readonly counts = { lookups: 0, found: 0, notListed: 0, errors: 0, deferred: 0 };
  private readonly series: Array<{ name: string; underlying: string; windowMs: number }>;
  /** Slugs taken, by window end: dropped once the window is over. */
  private readonly taken = new Map<string, number>();
  /** Last error logged per slug: a venue down for an hour logs each failure once, not once a second. */
  private readonly lastError = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: MarketRollerOptions) {
    this.series = opts.series.map((name) => ({ name, ...seriesOf(name) }));
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
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
        const ok = await this.lookup(slug, startMs, s.windowMs, s.underlying);
        if (this.stopped) return false;
        if (k === 0 && !ok) currentKnown = false;
      }
    }
    return currentKnown;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().then(
        (currentKnown) => this.schedule(currentKnown ? this.opts.pollMs : Math.min(this.opts.pollMs, 1_000)),
        (err: unknown) => {
          this.opts.log(`discovery: ${(err as Error).message}`);
          this.schedule(this.opts.pollMs);
        },
      );
    }, delayMs);
  }

  private async lookup(slug: string, startMs: number, windowMs: number, underlying: string): Promise<boolean> {
    this.counts.lookups++;
    let body: unknown;
    try {
      const res = await fetch(`${this.opts.gammaUrl}/markets/slug/${slug}`, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000) });
      if (res.status === 404) {
        await res.body?.cancel();
        this.counts.notListed++;
        return false;
      }
      if (!res.ok) {
        await res.body?.cancel();
        return this.failed(slug, `HTTP ${res.status}`);
      }
      body = await res.json();
    } catch (err) {
      return this.failed(slug, (err as Error).message);
    }
    let d: MarketDescriptor;
    try {
      d = parseGammaMarket(body, slug, startMs, windowMs, underlying);
    } catch (err) {
      return this.failed(slug, (err as Error).message);
    }
    this.lastError.delete(slug);
    this.counts.found++;
    if (!this.opts.offer(d)) {
      this.counts.deferred++;
      return false;
    }
    this.taken.set(slug, d.endMs);
    return true;
  }

  private failed(slug: string, message: string): false {
    this.counts.errors++;
    if (this.lastError.get(slug) !== message) this.opts.log(`discovery: ${slug}: ${message}`);
    this.lastError.set(slug, message);
    return false;
  }
}
