// Test plumbing for market slots: descriptors of 5-minute up/down markets,
// and slot tables replaced in place, as the engine keeps them.
import { UNIT, vacantSlot, type MarketDescriptor, type MarketInfo, type TokenInfo } from './types.js';

/**
 * A 5-minute up/down market named `name` (condition `0x<name>`, tokens
 * `<name>-up` and `<name>-down`): tick 0.01, 5 shares minimum, no fee,
 * a window from `over.startMs` (default 0); `over` sets any other field.
 */
export function updownMarket(name: string, over: Partial<MarketDescriptor> = {}): MarketDescriptor {
  const underlying = over.underlying ?? 'btc';
  const startMs = over.startMs ?? 0;
  return {
    conditionId: `0x${name}`,
    slug: `${underlying}-updown-5m-${name}`,
    tokenIds: [`${name}-up`, `${name}-down`],
    outcomes: ['Up', 'Down'],
    tickSize: 100,
    minSize: 5 * UNIT,
    feeRate: 0,
    feeExponent: 1,
    negRisk: false,
    startMs,
    endMs: startMs + 300_000,
    underlying,
    ...over,
  };
}

export interface SlotTables {
  markets: MarketInfo[];
  tokens: TokenInfo[];
  /** Puts a slot's market (marketInSlot or vacantSlot) into the tables in place. */
  place(slot: number, s: { info: MarketInfo; tokens: [TokenInfo, TokenInfo] }): void;
}

/**
 * The engine's market and token tables: `vacant` vacant slots, replaced in
 * place, so whatever was built over the arrays sees every market placed later.
 */
export function slotTables(vacant = 0): SlotTables {
  const markets: MarketInfo[] = [];
  const tokens: TokenInfo[] = [];
  const place: SlotTables['place'] = (slot, s) => {
    markets[slot] = s.info;
    tokens[2 * slot] = s.tokens[0];
    tokens[2 * slot + 1] = s.tokens[1];
  };
  for (let i = 0; i < vacant; i++) place(i, vacantSlot(i));
  return { markets, tokens, place };
}
