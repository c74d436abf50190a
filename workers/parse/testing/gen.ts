// Seeded generator of realistic Polymarket market-channel traffic, shaped
// like the recorded messages and protocols.md §2.5: current `price_changes[]`
// format, one entry per token of a complementary pair (a bid at p on one
// token is an ask at 1 - p on the other, same size), compact JSON as sent.
import { prng } from './data.js';

/** The complementary Yes/No pair of the recorded `new_market` message (NVDA above $240). */
export const PAIR = [
  '76043073756653678226373981964075571318267289248134717369284518995922789326425',
  '31690934263385727664202099278545688007799199447969475608906331829650099442770',
] as const;
export const PAIR_MARKET = '0x311d0c4b6671ab54af4970c06fcf58662516f5168997bdda209ec3db5aa6b0c1';

const HEX = '0123456789abcdef';

function hex(rnd: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX[Math.floor(rnd() * 16)];
  return s;
}

/** Price text as the venue writes it: "0.54", "0.5" (no trailing zero), tick 0.01. */
function px(cents: number): string {
  const s = (cents / 100).toFixed(2);
  return s.endsWith('0') ? s.slice(0, -1) : s;
}

export interface GeneratedChange {
  frame: string;
  /** Price in cents (on token 0) and whether token 0's level is a bid. */
  cents: number;
  bidOnFirst: boolean;
  size: string;
}

/**
 * `count` price_change frames for PAIR with a random-walking mid (cents), sizes
 * with 2 decimals, occasional removals (size "0").
 */
export function priceChangeFrames(count: number, seed: number): GeneratedChange[] {
  const rnd = prng(seed);
  let mid = 54;
  let ts = 1779862957116;
  const out: GeneratedChange[] = [];
  for (let k = 0; k < count; k++) {
    if (rnd() < 0.05) mid = Math.min(90, Math.max(10, mid + (rnd() < 0.5 ? -1 : 1)));
    ts += 1 + Math.floor(rnd() * 40);
    const bidOnFirst = rnd() < 0.5;
    const dist = Math.floor(rnd() * 8);
    const cents = bidOnFirst ? mid - dist : mid + 1 + dist;
    const size = rnd() < 0.15 ? '0' : (rnd() * 5000).toFixed(2);
    const bb0 = px(mid);
    const ba0 = px(mid + 1);
    const bb1 = px(100 - (mid + 1));
    const ba1 = px(100 - mid);
    const frame =
      `{"event_type":"price_change","market":"${PAIR_MARKET}","timestamp":"${ts}","price_changes":[` +
      `{"asset_id":"${PAIR[0]}","price":"${px(cents)}","size":"${size}","side":"${bidOnFirst ? 'BUY' : 'SELL'}","hash":"${hex(rnd, 40)}","best_bid":"${bb0}","best_ask":"${ba0}"},` +
      `{"asset_id":"${PAIR[1]}","price":"${px(100 - cents)}","size":"${size}","side":"${bidOnFirst ? 'SELL' : 'BUY'}","hash":"${hex(rnd, 40)}","best_bid":"${bb1}","best_ask":"${ba1}"}]}`;
    out.push({ frame, cents, bidOnFirst, size });
  }
  return out;
}
