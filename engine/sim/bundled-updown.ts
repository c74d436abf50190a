// The bundled markets of the offline session (`npm start`): synthetic Polymarket BTC Up/Down 5-minute
// markets whose Up price follows the real Chainlink BTC/USD path of the
// bundled RTDS capture (see data/PROVENANCE.md). Deterministic: the same
// capture and seed give the same markets, ids and paths.
//
//   capture  19:25:04 ─────────────────────────────────────────── 19:46:57
//   windows  [19:25 ─ 19:30)[19:30 ─ 19:35)[19:35 ─ 19:40)[19:40 ─ 19:45)
//   Up mid   0.5 before its window, Φ(ln(S/S₀)/(σ√τ)) inside, 0.99 / 0.01 after

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { BUNDLED_RTDS_PATHS } from './recorded.js';
import type { GammaListing } from './gamma.js';
import type { PmMarketSpec } from './scenario.js';
import { normCdf } from '../strategy/pricing.js';
import { PRICE_SCALE, UNIT, type MarketDescriptor } from '../trading/types.js';

export const BUNDLED_RTDS_FILES = BUNDLED_RTDS_PATHS;

export const WINDOW_MS = 5 * 60_000;
/** One path step per second of capture time; the simulator's Polymarket step. */
export const STEP_MS = 1_000;
/**
 * Annualised BTC volatility used to turn the path into a fair probability.
 * 0.45 is in the range BTC's DVOL spent in late 2025; the session's markets
 * are synthetic, so this is a stated assumption, not a measurement.
 */
export const BUNDLED_SIGMA = 0.45;
/**
 * Taker fee parameters of the synthetic markets (protocols §7.8 formula);
 * assumed, not read from a venue. The simulator's /clob-markets serves them,
 * and the engine takes them from there as it does live.
 */
export const BUNDLED_FEE_RATE = 0.25;
export const BUNDLED_FEE_EXPONENT = 2;
/**
 * Capture time after a window's end when the simulator's Gamma shows the
 * market resolved. Live Up/Down markets resolve within minutes of their
 * end; one minute keeps the whole audit inside the capture.
 */
export const BUNDLED_RESOLVE_DELAY_MS = 60_000;

export interface BundledMarket {
  /** What the simulator's market channel streams. */
  spec: PmMarketSpec;
  /** What the simulator's Gamma and /clob-markets lookups answer: the engine finds the market and its fees there, as live. */
  listing: GammaListing;
  /** The market as the engine will know it once discovered. */
  descriptor: MarketDescriptor;
  /** The outcome the path resolves to (ties go to Up, §11.12): the first outcome (Up) won. */
  upWins: boolean;
}

export interface BundledMarkets {
  /** Capture time of path step 0 (Unix ms). */
  t0Ms: number;
  markets: BundledMarket[];
  /** Chainlink BTC/USD points of the capture, (payload timestamp, value). */
  path: Array<{ tsMs: number; price: number }>;
}

const MS_PER_YEAR = 365.25 * 86_400_000;

/** A decimal token id derived from `text`: the same every run. */
export function decimalId(text: string): string {
  return BigInt(`0x${createHash('sha256').update(text).digest('hex')}`).toString(10);
}

export function readChainlinkBtc(path = BUNDLED_RTDS_FILES[1]!): Array<{ tsMs: number; price: number }> {
  const out: Array<{ tsMs: number; price: number }> = [];
  for (const line of gunzipSync(readFileSync(path)).toString('utf8').split('\n')) {
    if (!line.includes('"btc/usd"')) continue;
    const m = JSON.parse(line) as { payload?: { symbol?: unknown; timestamp?: unknown; value?: unknown } };
    const p = m.payload;
    if (p?.symbol === 'btc/usd' && typeof p.timestamp === 'number' && typeof p.value === 'number') out.push({ tsMs: p.timestamp, price: p.value });
  }
  out.sort((a, b) => a.tsMs - b.tsMs);
  return out;
}

function lastAtOrBefore(path: ReadonlyArray<{ tsMs: number; price: number }>, tMs: number): number | undefined {
  let out: number | undefined;
  for (const x of path) {
    if (x.tsMs > tMs) break;
    out = x.price;
  }
  return out;
}

/** Builds the session's markets: every 5-minute window that starts no later than 5 s into the capture and ends inside it. */
export function buildBundledMarkets(path = readChainlinkBtc()): BundledMarkets {
  if (path.length < 2) throw new Error('session capture has no BTC/USD path');
  const t0Ms = path[0]!.tsMs;
  const tEnd = path[path.length - 1]!.tsMs;
  const steps = Math.floor((tEnd - t0Ms) / STEP_MS) + 1;
  // Price at each step: the last Chainlink value at or before it.
  const priceAt = new Float64Array(steps);
  for (let k = 0, j = 0; k < steps; k++) {
    const t = t0Ms + k * STEP_MS;
    while (j + 1 < path.length && path[j + 1]!.tsMs <= t) j++;
    priceAt[k] = path[j]!.price;
  }
  const markets: BundledMarket[] = [];
  for (let start = Math.floor(t0Ms / WINDOW_MS) * WINDOW_MS; start + WINDOW_MS <= tEnd; start += WINDOW_MS) {
    if (start < t0Ms - 5_000) continue;
    const end = start + WINDOW_MS;
    // The resolution rule on the raw points, as the engine settles it: the last price at or before each boundary (the first one for a window that began before the capture).
    const open = lastAtOrBefore(path, start) ?? path[0]!.price;
    const close = lastAtOrBefore(path, end)!;
    const upWins = close >= open;
    const upPath: number[] = [];
    for (let k = 0; k < steps; k++) {
      const t = t0Ms + k * STEP_MS;
      let p: number;
      if (t < start) p = 0.5;
      else if (t >= end) p = upWins ? 0.99 : 0.01; // ties go to Up (protocols §11.12)
      else {
        const tau = (end - t) / MS_PER_YEAR;
        // Kept off the extremes so both books keep two sides while the window runs.
        p = Math.min(0.97, Math.max(0.03, normCdf(Math.log(priceAt[k]! / open) / (BUNDLED_SIGMA * Math.sqrt(tau)))));
      }
      upPath.push(p);
    }
    const slug = `btc-updown-5m-${start / 1000}`;
    const conditionId = `0x${createHash('sha256').update(`polyedge-session:${slug}`).digest('hex')}`;
    const up = decimalId(`${slug}:Up`);
    const down = decimalId(`${slug}:Down`);
    const descriptor: MarketDescriptor = {
      conditionId,
      slug,
      tokenIds: [up, down],
      outcomes: ['Up', 'Down'],
      tickSize: PRICE_SCALE / 100,
      minSize: 5 * UNIT,
      feeRate: BUNDLED_FEE_RATE,
      feeExponent: BUNDLED_FEE_EXPONENT,
      negRisk: false,
      startMs: start,
      endMs: end,
      underlying: 'btc',
    };
    markets.push({
      spec: { conditionId, yesTokenId: up, noTokenId: down, startPrice: upPath[0]!, path: upPath },
      listing: {
        conditionId,
        slug,
        question: `Bitcoin Up or Down - ${new Date(start).toISOString()} (synthetic, polyedge bundled session)`,
        outcomes: ['Up', 'Down'],
        startMs: start,
        endMs: end,
        description: 'Synthetic market of the polyedge offline session: "Up" if the Chainlink BTC/USD price at the end of the window is greater than or equal to the price at its beginning, else "Down".',
        resolutionSource: 'https://data.chain.link/streams/btc-usd',
        fee: { rate: BUNDLED_FEE_RATE, exponent: BUNDLED_FEE_EXPONENT },
        winner: upWins ? 0 : 1,
        resolveDelayMs: BUNDLED_RESOLVE_DELAY_MS,
      },
      descriptor,
      upWins,
    });
  }
  return { t0Ms, markets, path };
}
