// Test plumbing: 5-minute BTC Up/Down windows for the venue simulator, each
// a model market at even odds and its Gamma listing, with ids derived from
// the slug as the bundled session derives its own.
import { createHash } from 'node:crypto';
import type { GammaListing } from './gamma.js';
import type { PmMarketSpec } from './scenario.js';
import { decimalId, WINDOW_MS } from './bundled-updown.js';

/** Windows k = 0.. from `firstStartMs`, one per patch, each listing patched by its own. */
export function listedWindows(firstStartMs: number, patches: ReadonlyArray<Partial<GammaListing>>): { specs: PmMarketSpec[]; listings: GammaListing[] } {
  const specs: PmMarketSpec[] = [];
  const listings: GammaListing[] = [];
  patches.forEach((patch, k) => {
    const start = firstStartMs + k * WINDOW_MS;
    const slug = `btc-updown-5m-${start / 1000}`;
    const conditionId = `0x${createHash('sha256').update(`polyedge-test:${slug}`).digest('hex')}`;
    specs.push({ conditionId, yesTokenId: decimalId(`${slug}:Up`), noTokenId: decimalId(`${slug}:Down`), startPrice: 0.5 });
    listings.push({ conditionId, slug, question: `Bitcoin Up or Down ${slug}`, outcomes: ['Up', 'Down'], startMs: start, endMs: start + WINDOW_MS, ...patch });
  });
  return { specs, listings };
}
