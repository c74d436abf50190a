// The control plane's handlers over the engine: reads through EngineView,
// actions and reloads through EngineCommands, nothing else. The shapes
// answered here are the HTTP surface (server.ts routes them).

import type { ControlHandlers, ReloadHandler } from './server.js';
import type { EngineCommands, EngineView, TunableInForce } from './view.js';

export interface HandlerOptions {
  view: EngineView;
  commands: EngineCommands;
  /** Prometheus text of every metric. */
  metrics: ControlHandlers['metrics'];
  /** Which feeds the session runs on ('sim' or 'live'), as /health and /shadow report it. */
  feeds: string;
  /** Where orders go ([mode] / --mode), as /pnl and /shadow report it; paper when absent. */
  mode?: string | undefined;
  /** A set was reloaded (the session re-arms its status line when the perf profile changed its period). */
  reloaded: () => void;
}

export function controlHandlers({ view, commands, metrics, feeds, mode = 'paper', reloaded }: HandlerOptions): ControlHandlers {
  const pnl = () => ({ mode, ...view.pnl(), dailyPnl: view.dailyPnl(), units: 'micro-pUSD' });
  const shadow = () => ({
    mode,
    feeds,
    counts: view.counts(),
    outcomes: view.ordersByOutcome(),
    pnl: pnl(),
    liveOrders: view.liveOrders().length,
  });
  let finalShadow: object | undefined;
  let finalToxicity: object | undefined;
  const reload = (t: TunableInForce): ReloadHandler<unknown> => ({
    name: t.name,
    description: t.description,
    schema: t.schema,
    current: () => t.slot.get(),
    // The server has validated the body against t.schema; a refusal the schema cannot express throws before anything changed.
    apply: (p) => {
      t.slot.set(p);
      if (t.requote) commands.requote();
      reloaded();
      return t.slot.get();
    },
  });
  return {
    health: () => ({ ok: true, state: view.stateName(), feeds, events: view.counts().events, killSwitchLatched: view.killSwitchLatched(), ...view.faultReport() }),
    metrics,
    positions: () => ({ units: { position: 'micro-shares', money: 'micro-pUSD' }, positions: view.positions() }),
    pnl,
    markets: () => ({ slots: view.marketSlots() }),
    orders: () => ({ orders: view.liveOrders() }),
    shadowLive: shadow,
    shadowFinal: () => finalShadow ?? { final: false, note: 'no shadow session has been closed yet (POST /control/reset_shadow closes one)', live: shadow() },
    pnlByEngine: () => ({ units: 'micro-pUSD', byStrategy: view.pnlByStrategy() }),
    toxicityLive: () => view.toxicity(),
    toxicityFinal: () => finalToxicity ?? { final: false, note: 'no shadow session has been closed yet', live: view.toxicity() },
    pause: () => commands.pause(),
    resume: () => commands.resume(),
    flatten: () => commands.flatten(),
    resetShadow: () => {
      finalShadow = { final: true, closedAtMs: view.nowMs(), ...shadow() };
      finalToxicity = { final: true, ...view.toxicity() };
      return { reset: true, final: finalShadow };
    },
    reloads: commands.tunables.map(reload),
  };
}
