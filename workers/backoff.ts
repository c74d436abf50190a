// Retry delays for everything that reconnects or re-fetches (feed sockets,
// REST snapshots): exponential backoff with full jitter, so a fleet that lost
// a venue at the same instant does not come back in lockstep.

export interface Backoff {
  /** Cap of the first retry; doubles per failed attempt. */
  baseMs: number;
  /** Cap never exceeds this. */
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (0 for the first): uniform whole ms in
 * [0, min(maxMs, baseMs·2^attempt)). `random` is a uniform [0, 1) source:
 * Math.random in production, `() => prng.next()` of a seeded Prng where a
 * test needs the same delays every run.
 */
export function backoffDelayMs(attempt: number, b: Backoff, random: () => number = Math.random): number {
  // The exponent is clamped only to keep base·2^n finite for any attempt
  // count; every sane maxMs is reached long before 2^52.
  const cap = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(attempt, 0), 52));
  return Math.floor(random() * cap);
}
