// An in-memory implementation of ControlHandlers for the server's own tests
// (the engine's are in handlers.ts): it keeps just enough state (paused
// flag, parameters per reload) to show what the server did. Its reload routes
// are the registry's (engine/tunables/registry.ts), with small schemas of its
// own so the server's validation can be seen field by field.

import { fieldError } from '../errors.js';
import { boolean, number, object, oneOf, type Schema } from '../config/schema.js';
import { tunables } from '../tunables/registry.js';
import type { ControlHandlers, ReloadHandler } from './server.js';

const strategySchema = object({
  edge_bps: number({ min: 0, max: 500, default: 20, description: 'quoted edge over fair value' }),
  size: number({ integer: true, gt: 0, default: 100_000 }),
  side: oneOf(['both', 'bid', 'ask'] as const, { default: 'both' }),
});

const riskSchema = object({
  max_position: number({ gt: 0, default: 500 }),
  daily_loss_limit: number({ gt: 0 }),
});

const takerSchema = object({
  min_edge_bps: number({ min: 0, default: 5 }),
  max_edge_bps: number({ min: 0, default: 50 }),
});

const genericSchema = object({
  enabled: boolean({ default: true }),
  weight: number({ min: 0, max: 1, default: 0.5 }),
});

/** The fixture's schema of a reload route; routes not named here take the generic one. */
const SPECIAL_SCHEMAS: Record<string, Schema<Record<string, unknown>>> = {
  'strategy/maker': strategySchema,
  'strategy/complete_set': takerSchema,
  risk: riskSchema,
};

export function fixtureSchema(name: string): Schema<Record<string, unknown>> {
  return SPECIAL_SCHEMAS[name] ?? genericSchema;
}

export interface FixtureEngine {
  handlers: ControlHandlers;
  /** Handler calls in order, e.g. `pause`, `reload:risk`. */
  calls: string[];
  /** Reload route names, the registry's, in its order. */
  reloadNames: string[];
  params: Record<string, Record<string, unknown>>;
  /** Value served as polyedge_tick_to_decision_seconds{quantile="0.99"}. */
  tickToDecisionP99: number;
}

/** Initial parameters: the schema defaults, plus what risk requires. */
function initialParams(name: string): Record<string, unknown> {
  const r = fixtureSchema(name).validate(name === 'risk' ? { daily_loss_limit: 100 } : {}, '', []);
  if (r === undefined) throw new Error(`fixture schema ${name} has no valid initial value`);
  return r;
}

export function fixtureEngine(): FixtureEngine {
  const calls: string[] = [];
  const sets = tunables();
  const params: Record<string, Record<string, unknown>> = Object.fromEntries(sets.map((t) => [t.name, initialParams(t.name)]));
  let paused = false;
  const reload = (name: string, description: string): ReloadHandler<Record<string, unknown>> => ({
    name,
    description,
    schema: fixtureSchema(name),
    current: () => params[name]!,
    apply(p) {
      if (name === 'strategy/complete_set' && (p.min_edge_bps as number) > (p.max_edge_bps as number)) {
        throw fieldError('PE_CONFIG_INVALID', 'min_edge_bps', 'must be <= max_edge_bps');
      }
      calls.push(`reload:${name}`);
      params[name] = p;
      return p;
    },
  });
  const engine: FixtureEngine = {
    calls,
    reloadNames: sets.map((t) => t.name),
    params,
    tickToDecisionP99: 0.0001,
    handlers: {
      health: () => ({ status: 'ok', mode: 'paper', paused }),
      metrics: () =>
        [
          '# HELP polyedge_tick_to_decision_seconds Tick to decision latency.',
          '# TYPE polyedge_tick_to_decision_seconds summary',
          `polyedge_tick_to_decision_seconds{quantile="0.5"} ${engine.tickToDecisionP99 / 4}`,
          `polyedge_tick_to_decision_seconds{quantile="0.99"} ${engine.tickToDecisionP99}`,
          'polyedge_tick_to_decision_seconds_count 1234',
          '',
        ].join('\n'),
      positions: () => ({ positions: [{ token: '123', size: 50_000_000 }] }),
      markets: () => ({ slots: [{ slot: 0, phase: 'active', slug: 'btc-updown-5m-1761766200' }] }),
      pnl: () => ({ realized: 1_000_000, unrealized: -250_000 }),
      orders: () => ({ orders: [] }),
      shadowLive: () => ({ engines: ['a', 'b'], final: false }),
      shadowFinal: () => ({ engines: ['a', 'b'], final: true }),
      pnlByEngine: () => ({ a: 10, b: -3 }),
      toxicityLive: () => ({ markets: { m1: 0.2 }, final: false }),
      toxicityFinal: () => ({ markets: { m1: 0.25 }, final: true }),
      pause: () => {
        calls.push('pause');
        paused = true;
        return { paused };
      },
      resume: () => {
        calls.push('resume');
        paused = false;
        return { paused };
      },
      flatten: async () => {
        calls.push('flatten');
        return { cancelled: 0, closing: 1 };
      },
      resetShadow: () => {
        calls.push('resetShadow');
        return { reset: true };
      },
      reloads: sets.map((t) => reload(t.name, t.description)),
    },
  };
  return engine;
}
