// The engine's own reloadable parameter sets (strategies, risk, markouts and
// fusion keep theirs beside their code).

import { boolean, number, object, oneOf, type Infer } from '../config/schema.js';
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

export const perfParamsSchema = object({
  wait: oneOf(['async', 'spin'] as const, { default: 'async', description: 'sleep on the rings between passes, or busy-poll' }),
  status_interval_ms: STATUS_INTERVAL_MS,
  metrics_window_ms: METRICS_WINDOW_MS,
});
export type PerfParams = Infer<typeof perfParamsSchema>;
