// The Gamma market lookup the engine's discovery uses (`GET /markets/slug/{slug}`,
// protocols §5.1–5.3), served by the simulator's Polymarket port for the
// markets it was told to list. The object carries the fields §5.2 names, with
// the quirks the real one has: outcomes and clobTokenIds are JSON-encoded
// strings, dates ISO-8601. Token ids and tick come from the book model, so a
// market found here is exactly the one the market channel streams.

import type { PmMarketState } from './scenario.js';

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
}

/** The Gamma market object of `listing`; `m` is its model market (milli-price tick). */
export function gammaMarketObject(listing: GammaListing, m: PmMarketState, id: number): Record<string, unknown> {
  return {
    id: String(id),
    conditionId: m.conditionId,
    questionID: `0x${m.conditionId.slice(2).split('').reverse().join('')}`,
    slug: listing.slug,
    question: listing.question,
    description: listing.description ?? '',
    resolutionSource: listing.resolutionSource ?? '',
    outcomes: JSON.stringify(listing.outcomes),
    outcomePrices: JSON.stringify(['0.5', '0.5']),
    clobTokenIds: JSON.stringify([m.yesTokenId, m.noTokenId]),
    version: 'v1',
    negRisk: false,
    enableOrderBook: true,
    acceptingOrders: true,
    active: true,
    closed: false,
    archived: false,
    orderPriceMinTickSize: m.tick / 1000,
    orderMinSize: 5,
    startDate: new Date(listing.startMs - 86_400_000).toISOString(),
    eventStartTime: new Date(listing.startMs).toISOString(),
    endDate: new Date(listing.endMs).toISOString(),
    feesEnabled: true,
  };
}
