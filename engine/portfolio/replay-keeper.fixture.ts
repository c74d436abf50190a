// The money a journal replays to, for tests that hold the live engine to it:
// a real Portfolio over vacant market slots, as the engine builds it, and
// the PositionApplier that feeds it.

import type { PositionApplier } from '../journal/ledger.js';
import { vacantSlot, type MarketInfo, type TokenInfo } from '../trading/types.js';
import { Portfolio } from './positions.js';

/**
 * `fromSnapshot`: the applier also loads snapshots, so restore() starts at
 * the journal's last one; without it restore() replays every record from
 * the first (the stricter check: nothing rests on a snapshot's sums).
 */
export function replayKeeper(slots: number, opts: { fromSnapshot: boolean }): { portfolio: Portfolio; applier: PositionApplier } {
  const tokens: TokenInfo[] = [];
  const infos: MarketInfo[] = [];
  for (let m = 0; m < slots; m++) {
    const v = vacantSlot(m);
    infos.push(v.info);
    tokens.push(...v.tokens);
  }
  const portfolio = new Portfolio(tokens, infos);
  const applier: PositionApplier = {
    applyFill: (f) => portfolio.applyFill(f),
    applyMerge: (x) => portfolio.merge(x.strategy ?? '', x.market, x.size, x.mergeId),
    settle: (x) => portfolio.settle(x),
    correct: (x, current) => portfolio.correct(x, current),
    retireMarket: (m) => {
      portfolio.retireMarket(m);
    },
  };
  if (opts.fromSnapshot) applier.restore = (x) => portfolio.restore(x);
  return { portfolio, applier };
}
