// The market lookups the engine's discovery uses, served by the simulator's
// Polymarket port for the markets it was told to list: Gamma's
// `GET /markets/slug/{slug}` (protocols §5.1–5.3) and the CLOB's compact
// `GET /clob-markets/{conditionId}` (§6.1, §7.8). The Gamma object carries the
// fields §5.2 names, with the quirks the real one has: outcomes and
// clobTokenIds are JSON-encoded strings, dates ISO-8601. Token ids and tick
// come from the book model, so a market found here is exactly the one the
// market channel streams; the fee schedule comes from the listing.
//
// Resolution: a listing given a `winner` shows as resolved (closed, the
// winner's outcomePrice "1" and the other "0") once the simulator's clock is
// `resolveDelayMs` past its window's end; before that, open at 0.5 / 0.5.
// `resolveOpposite` makes the venue resolve it to the other outcome: a venue
// that disagrees with the market's own outcome, for tests of the audit.

import type { PmMarketState } from './scenario.js';

/** Minimum order size in shares, as on the book snapshots (`min_order_size`). */
const MIN_ORDER_SHARES = 5;

/** A market the simulator lists on Gamma, matched to a model market by conditionId. */
export interface GammaListing {
  readonly conditionId: string;
  readonly slug: string;
  readonly question: string;
  /** [first, second] outcome: the model's YES token is the first. */
  readonly outcomes: readonly [string, string];
  readonly startMs: number;
  readonly endMs: number;
  readonly description?: string;
  readonly resolutionSource?: string;
  /** Taker fee schedule (`fd` on /clob-markets: shares × rate × (p·(1−p))^exponent). Absent: the market charges no fee. */
  readonly fee?: { readonly rate: number; readonly exponent: number };
  /** Gamma `closed` (default false). */
  readonly closed?: boolean;
  /** Gamma `acceptingOrders` and CLOB `ao` (default true). */
  readonly acceptingOrders?: boolean;
  /** Index into `outcomes` of the outcome the market resolves to; absent: it never resolves. */
  readonly winner?: 0 | 1;
  /** Simulator time after `endMs` when Gamma shows it resolved (default 0). */
  readonly resolveDelayMs?: number;
  /** Gamma resolves it to the outcome other than `winner`. */
  readonly resolveOpposite?: boolean;
}

/** The index of the outcome Gamma shows as the winner at simulator time `nowMs`, or undefined while unresolved. */
function resolvedWinner(listing: GammaListing, nowMs: number): 0 | 1 | undefined {
  if (listing.winner === undefined || nowMs < listing.endMs + (listing.resolveDelayMs ?? 0)) return undefined;
  return listing.resolveOpposite === true ? ((1 - listing.winner) as 0 | 1) : listing.winner;
}

/** The Gamma market object of `listing` at simulator time `nowMs`; `m` is its model market (milli-price tick). */
export function gammaMarketObject(listing: GammaListing, m: PmMarketState, id: number, nowMs: number): Record<string, unknown> {
  const winner = resolvedWinner(listing, nowMs);
  return {
    id: String(id),
    conditionId: m.conditionId,
    questionID: `0x${m.conditionId.slice(2).split('').reverse().join('')}`,
    slug: listing.slug,
    question: listing.question,
    description: listing.description ?? '',
    resolutionSource: listing.resolutionSource ?? '',
    outcomes: JSON.stringify(listing.outcomes),
    outcomePrices: JSON.stringify(winner === undefined ? ['0.5', '0.5'] : winner === 0 ? ['1', '0'] : ['0', '1']),
    clobTokenIds: JSON.stringify([m.yesTokenId, m.noTokenId]),
    version: 'v1',
    negRisk: false,
    enableOrderBook: true,
    acceptingOrders: listing.acceptingOrders ?? true,
    active: true,
    closed: winner !== undefined || (listing.closed ?? false),
    ...(winner !== undefined ? { umaResolutionStatus: 'resolved' } : {}),
    archived: false,
    orderPriceMinTickSize: m.tick / 1000,
    orderMinSize: MIN_ORDER_SHARES,
    startDate: new Date(listing.startMs - 86_400_000).toISOString(),
    eventStartTime: new Date(listing.startMs).toISOString(),
    endDate: new Date(listing.endMs).toISOString(),
    feesEnabled: listing.fee !== undefined && listing.fee.rate > 0,
  };
}

/** The compact `/clob-markets` object of `listing`; `m` is its model market, whose current tick it gives. */
export function clobMarketObject(listing: GammaListing, m: PmMarketState): Record<string, unknown> {
  const fee = listing.fee;
  // mbf/tbf are the V1 base fees in bps, which live fee-charging markets show as 1000 (Gamma makerBaseFee/takerBaseFee); V2 fees are `fd`.
  const baseFee = fee !== undefined && fee.rate > 0 ? 1000 : 0;
  return {
    c: m.conditionId,
    t: [
      { t: m.yesTokenId, o: listing.outcomes[0] },
      { t: m.noTokenId, o: listing.outcomes[1] },
    ],
    mts: m.tick / 1000,
    nr: false,
    ...(fee !== undefined ? { fd: { r: fee.rate, e: fee.exponent, to: true } } : {}),
    mbf: baseFee,
    tbf: baseFee,
    ao: listing.acceptingOrders ?? true,
    mos: MIN_ORDER_SHARES,
  };
}
