// The two perf keys [engine] sets at start-up and /control/reload/perf
// changes at run time: one definition, so the file and the route accept the
// same values. Both arm timers, so both stay far below Node's 2^31 − 1 ms
// ceiling (a larger delay fires after 1 ms, in a loop for setInterval).
import { number } from '../config/schema.js';

export const STATUS_INTERVAL_MS = number({ integer: true, min: 100, max: 3_600_000, default: 3_000, description: 'period of the status line, ms; at most 1 hour' });
export const METRICS_WINDOW_MS = number({ integer: true, min: 1_000, max: 3_600_000, default: 10_000, description: 'length of the tick_to_decision window published at /metrics, ms; at most 1 hour' });
