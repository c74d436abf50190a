// The loop's own tunable sets (strategies, risk, markouts and fusion declare
// theirs beside their code; engine/tunables/registry.ts lists them all).

import { boolean, number, object, oneOf, type Infer } from '../config/schema.js';
import type { Tunable } from '../tunables/tunable.js';
import { METRICS_WINDOW_MS, STATUS_INTERVAL_MS } from './perf.js';

export const allocatorParamsSchema = object({
  maker: object({ enabled: boolean({ default: true }) }),
  complete_set: object({ enabled: boolean({ default: true }) }),
  directional: object({ enabled: boolean({ default: true }) }),
});
export type AllocatorParams = Infer<typeof allocatorParamsSchema>;

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
