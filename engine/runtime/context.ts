// What a strategy's decide() and the risk gate see of the engine. One pair
// serves every strategy in turn: `ctx.strategy` selects whose positions and
// open orders they read, so a decision allocates nothing.

import type { BookReader } from '../../workers/shared-memory/book-reader.js';
import type { OrderManager } from '../execution/order-manager.js';
import type { MarkoutTracker } from '../portfolio/markouts.js';
import type { Portfolio } from '../portfolio/positions.js';
import type { References } from '../references/references.js';
import type { RiskView } from '../risk/gates.js';
import type { EngineStateMachine } from '../risk/state.js';
import type { Strategy, StrategyContext } from '../strategy/types.js';
import type { MarketInfo, TokenInfo } from '../trading/types.js';

export interface DecisionViewsOptions {
  markets: readonly MarketInfo[];
  tokens: readonly TokenInfo[];
  books: BookReader;
  /** Mid per token in ticks. */
  marks: Float64Array;
  /** The window's opening price per slot (MarketSlots.windowOpen). */
  windowOpen: Float64Array;
  portfolio: Portfolio;
  strategies: readonly Strategy<unknown>[];
  orders: OrderManager;
  markouts: MarkoutTracker;
  references: References;
  state: EngineStateMachine;
  nowMs: () => number;
}

export interface DecisionViews {
  /** The strategy context; set `strategy` to the deciding strategy's index first. */
  ctx: StrategyContext & { strategy: number };
  /** The risk gate's view, of the strategy ctx.strategy selects. */
  risk: RiskView;
}

export function decisionViews(o: DecisionViewsOptions): DecisionViews {
  const { markets, tokens, books, marks, portfolio, strategies } = o;
  const ctx: StrategyContext & { strategy: number } = {
    strategy: 0,
    get nowMs() {
      return o.nowMs();
    },
    markets,
    tokens,
    books,
    referencePrice: (u) => o.references.fusion.price(u, o.nowMs()),
    windowOpenPrice: (m) => o.windowOpen[m]!,
    volatility: (u) => o.references.volatility(u),
    position: (t) => portfolio.position(strategies[ctx.strategy]!.name, t),
    openOrders: (t) => o.orders.openOrders(ctx.strategy, t),
    toxicity: (m) => o.markouts.toxicity(m),
  };
  const risk: RiskView = {
    get nowMs() {
      return o.nowMs();
    },
    get engineState() {
      return o.state.state;
    },
    books,
    tokens,
    markets,
    position: (t) => portfolio.position(strategies[ctx.strategy]!.name, t),
    marketPosition: (m) => {
      const name = strategies[ctx.strategy]!.name;
      const [a, b] = markets[m]!.tokens;
      return portfolio.position(name, a) + portfolio.position(name, b);
    },
    grossExposure: () => portfolio.grossExposure(marks),
    dailyPnl: () => portfolio.dailyPnl(marks),
  };
  return { ctx, risk };
}
