// The engine as the control plane sees it (engine/control/view.ts): snapshots
// of its state and the operator's commands (pause, resume, flatten, and the
// tunable sets of engine/tunables/registry.ts bound to it),
// so the handlers never hold a reference to the engine's live structures.
// Commands run between two passes of the loop, like every control request.

import { TopOfBook } from '../../workers/shared-memory/book-reader.js';
import type { EngineCommands, EngineView } from '../control/view.js';
import { flattenOrders, RISK_REASON_NAMES } from '../risk/gates.js';
import { EngineState } from '../risk/state.js';
import { tunables } from '../tunables/registry.js';
import type { Engine } from './engine.js';

export function engineView(engine: Engine): EngineView {
  return {
    nowMs: () => engine.nowMs(),
    stateName: () => engine.state.name,
    killSwitchLatched: () => engine.state.killSwitchLatched,
    counts: () => ({ ...engine.counts }),
    ordersByOutcome: () => Object.fromEntries(engine.orders.ordersByOutcome),
    faultReport: () => engine.faultReport(),
    pnl: () => engine.portfolio.total(engine.marks),
    dailyPnl: () => engine.portfolio.dailyPnl(engine.marks),
    pnlByStrategy: () => Object.fromEntries(engine.portfolio.byStrategy(engine.marks)),
    positions: () => engine.portfolio.entries().map((e) => ({ ...e, tokenId: engine.tokens[e.token]?.tokenId })),
    marketSlots: () => engine.marketSlots(),
    liveOrders: () => engine.liveOrders(),
    toxicity: () => engine.markouts.report(engine.nowMs()),
  };
}

export function engineCommands(engine: Engine): EngineCommands {
  const top = new TopOfBook();
  return {
    pause: () => {
      engine.state.transition(EngineState.Paused, 'control', engine.nowMs());
      return { state: engine.state.name };
    },
    // Out of HALTED in two deliberate steps (risk/state.ts): the first resume unlatches the kill switch and moves to PAUSED, the second to RUNNING.
    resume: () => {
      if (engine.state.state === EngineState.Halted) {
        engine.state.resetKillSwitch();
        engine.state.transition(EngineState.Paused, 'control: resume out of HALTED (step 1 of 2)', engine.nowMs());
      } else {
        engine.state.transition(EngineState.Running, 'control', engine.nowMs());
      }
      return { state: engine.state.name, killSwitchLatched: engine.state.killSwitchLatched };
    },
    // Cancels every order and sells every position at the best bid (FAK); leaves the engine PAUSED.
    flatten: () => {
      engine.state.transition(EngineState.Paused, 'flatten', engine.nowMs());
      const cancelled = engine.cancelAll('flatten');
      let orders = 0;
      const blocked: Array<{ token: number; reason: string }> = [];
      for (let s = 0; s < engine.strategies.length; s++) {
        engine.ctx.strategy = s;
        const positions = engine.tokens.map((t) => engine.portfolio.position(engine.strategies[s]!.name, t.index));
        const r = flattenOrders(engine.riskView, positions);
        for (const o of r.orders) {
          // The exit path bypasses the book gate by design; its orders journal the book as it is, whatever it shows.
          engine.orders.submit(s, o, engine.books.top(o.token, top));
          orders++;
        }
        for (const b of r.blocked) blocked.push({ token: b.token, reason: RISK_REASON_NAMES[b.reason] ?? String(b.reason) });
      }
      return { cancelled, orders, blocked };
    },
    requote: () => engine.touchAll(),
    tunables: tunables().map(({ bind, ...t }) => ({ ...t, slot: bind(engine) })),
  };
}
