// The control plane's handlers over the engine: reads through EngineView,
// actions and reloads through EngineCommands, nothing else. The shapes
// answered here are the HTTP surface (server.ts routes them).

import type { Schema } from '../config/schema.js';
import { markoutParamsSchema } from '../portfolio/markouts.js';
import { riskParamsSchema } from '../risk/gates.js';
import { fusionParamsSchema } from '../references/fusion.js';
import { allocatorParamsSchema, exitParamsSchema, perfParamsSchema } from '../runtime/params.js';
import { completeSetParamsSchema } from '../strategy/complete-set.js';
import { directionalParamsSchema } from '../strategy/directional.js';
import { makerParamsSchema } from '../strategy/maker.js';
import type { ControlHandlers, ReloadHandler } from './server.js';
import type { EngineCommands, EngineView, ParamsSlot } from './view.js';

export interface HandlerOptions {
  view: EngineView;
  commands: EngineCommands;
  /** Prometheus text of every metric. */
  metrics: ControlHandlers['metrics'];
  /** Which feeds the session runs on ('sim' or 'live'), as /health and /shadow report it. */
  feeds: string;
  /** Where orders go ([mode] / --mode), as /pnl and /shadow report it; paper when absent. */
  mode?: string | undefined;
  /** The perf profile was reloaded (the session re-arms its status line). */
  perfChanged: () => void;
}

export function controlHandlers({ view, commands, metrics, feeds, mode = 'paper', perfChanged }: HandlerOptions): ControlHandlers {
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
  const requote = () => commands.requote();
  const strategyReload = (name: string, schema: Schema<unknown>): ReloadHandler<unknown> => ({
    schema,
    current: () => commands.strategyParams(name) ?? {},
    apply: (p) => commands.reloadStrategy(name, p),
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
    reloads: {
      strategy: strategyReload('maker', makerParamsSchema),
      taker: strategyReload('complete_set', completeSetParamsSchema),
      edge_model: strategyReload('directional', directionalParamsSchema),
      allocator: paramsReload(allocatorParamsSchema, commands.allocator, requote),
      risk: paramsReload(riskParamsSchema, commands.risk),
      toxicity: paramsReload(markoutParamsSchema, commands.toxicity, requote),
      fusion: paramsReload(fusionParamsSchema, commands.fusion, requote),
      exit: paramsReload(exitParamsSchema, commands.exit, requote),
      perf_profile: paramsReload(perfParamsSchema, commands.perf, perfChanged),
    },
  };
}

/**
 * A reload route over one parameter set: the server has validated the body
 * against `schema`; set it, let `after` act on it, answer what is now in force.
 */
function paramsReload<P extends object>(schema: Schema<P>, slot: ParamsSlot<P>, after?: () => void): ReloadHandler<unknown> {
  return {
    schema,
    current: () => slot.get(),
    apply: (p) => {
      slot.set(p as P);
      after?.();
      return slot.get();
    },
  };
}
