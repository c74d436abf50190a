// The loop's own tunable sets (strategies, risk, markouts and fusion declare
// theirs beside their code; engine/tunables/registry.ts lists them all).

import { boolean, number, object, oneOf, validate, type Infer, type Schema } from '../config/schema.js';
import { followsRegistry, strategyNames, type strategyFactories } from '../strategy/registry.js';
import type { Tunable } from '../tunables/tunable.js';
import { METRICS_WINDOW_MS, STATUS_INTERVAL_MS } from './perf.js';

const strategySwitch = object({ enabled: boolean({ default: true, description: 'the strategy may quote and trade' }) });
type StrategySwitch = Infer<typeof strategySwitch>;

/** One switch per registered strategy, built-ins typed; a plug-in registered later has one too. */
export type AllocatorParams = { [K in keyof typeof strategyFactories]: StrategySwitch } & { [name: string]: StrategySwitch | undefined };

export const allocatorParamsSchema: Schema<AllocatorParams> = followsRegistry(
  () => object(Object.fromEntries(strategyNames().map((name) => [name, strategySwitch]))) as Schema<unknown> as Schema<AllocatorParams>,
);

/** Every registered strategy switched on. */
export function defaultAllocator(): AllocatorParams {
  const r = validate(allocatorParamsSchema, {});
  if (!r.ok) throw new Error('allocator defaults violate their schema');
  return r.value;
}

export const exitParamsSchema = object({
  cancel_before_end_ms: number({ integer: true, min: 0, max: 3_600_000, default: 3_000, description: 'stop quoting and cancel this long before a market window ends; at most 1 hour' }),
});
export type ExitParams = Infer<typeof exitParamsSchema>;

/** The perf keys, which the config file keeps in [engine] beside the keys a run cannot change. */
export const perfFields = {
  wait: oneOf(['async', 'spin'] as const, { default: 'async', description: 'sleep on the rings between passes, or busy-poll (a pinned core, lowest latency)' }),
  status_interval_ms: STATUS_INTERVAL_MS,
  metrics_window_ms: METRICS_WINDOW_MS,
};
export const perfParamsSchema = object(perfFields);
export type PerfParams = Infer<typeof perfParamsSchema>;

export const allocatorTunable: Tunable<AllocatorParams, { allocator: AllocatorParams }> = {
  name: 'allocator',
  schema: allocatorParamsSchema,
  config: undefined,
  description: 'which strategies may quote and trade; one switched off has its orders cancelled',
  requote: true,
  bind: (host) => ({ get: () => host.allocator, set: (p) => (host.allocator = p) }),
};

export const exitTunable: Tunable<ExitParams, { exit: ExitParams }> = {
  name: 'exit',
  schema: exitParamsSchema,
  config: undefined,
  description: 'when quoting stops before a market window ends',
  requote: true,
  bind: (host) => ({ get: () => host.exit, set: (p) => (host.exit = p) }),
};

export const perfTunable: Tunable<PerfParams, { readonly perf: PerfParams; setPerf(p: PerfParams): void }> = {
  name: 'perf',
  schema: perfParamsSchema,
  config: 'engine',
  description: 'perf profile: how the loop waits, the status line period, the tick_to_decision window',
  requote: false,
  bind: (host) => ({ get: () => host.perf, set: (p) => host.setPerf(p) }),
};
