// The engine as the control plane sees it (engine/control/view.ts): snapshots
// of its state and the operator's commands, so the handlers never hold a
// reference to the engine's live structures.

import type { EngineCommands, EngineView } from '../control/view.js';
import { PolyedgeError } from '../errors.js';
import { reloadParams } from '../strategy/registry.js';
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
  const strategyByName = (name: string) => engine.strategies.find((s) => s.name === name);
  return {
    pause: () => engine.pause(),
    resume: () => engine.resume(),
    flatten: () => engine.flatten(),
    requote: () => engine.touchAll(),
    strategyParams: (name) => strategyByName(name)?.params() as object | undefined,
    reloadStrategy: (name, params) => {
      const s = strategyByName(name);
      // Accepting parameters nothing would use is a reload that silently does not take effect.
      if (!s) throw new PolyedgeError('PE_CONFIG_INVALID', `${name} is not running: add it to engine.strategies to reload its parameters`, 'engine.strategies');
      const r = reloadParams(s, params);
      if (!r.ok) throw new PolyedgeError('PE_CONFIG_INVALID', r.violations.map((v) => `${v.path} ${v.message}`).join('; '), r.violations[0]?.path);
      engine.touchAll();
      return { applied: true, params: r.params };
    },
    allocator: { get: () => engine.allocator, set: (p) => (engine.allocator = p) },
    risk: { get: () => engine.risk.params(), set: (p) => engine.risk.setParams(p) },
    toxicity: { get: () => engine.markouts.currentParams, set: (p) => engine.markouts.setParams(p) },
    fusion: { get: () => engine.fusion.getParams(), set: (p) => engine.fusion.setParams(p) },
    exit: { get: () => engine.exit, set: (p) => (engine.exit = p) },
    perf: { get: () => engine.perf, set: (p) => engine.setPerf(p) },
  };
}
