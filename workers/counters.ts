// Per-feed counters in shared memory: the worker increments, the main thread
// (metrics, status line, tests) reads. One Float64Array per feed so values
// stay exact far past 2^32; each slot has a single writer (the feed worker),
// so plain stores suffice and readers tolerate a value one update old.

export const COUNTER_NAMES = [
  'frames',
  'bytes',
  'parseErrors',
  'unknownEvents',
  'gaps',
  'resyncs',
  'reconnects',
  'staleDrops',
  'crossed',
  'bookMismatches',
  'ringDrops',
  'pings',
  'pongs',
  'stalls',
  'restSnapshots',
  'restErrors',
  /** Polymarket price_change entries whose own best bid and ask cross, met while their token resyncs: kept for the replay, never applied to a live book. */
  'crossedResyncing',
  /** Polymarket REST snapshots that, with the changes kept since their resync began, came out crossed (`crossed` counts the stream's). */
  'crossedSnapshots',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

export const COUNTER: { readonly [K in CounterName]: number } = Object.fromEntries(
  COUNTER_NAMES.map((name, i) => [name, i]),
) as { [K in CounterName]: number };

export const COUNTER_SLOTS = 32;

export function createCounters(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(COUNTER_SLOTS * Float64Array.BYTES_PER_ELEMENT));
}

export function readCounters(counters: Float64Array): Record<CounterName, number> {
  const out = {} as Record<CounterName, number>;
  for (const name of COUNTER_NAMES) out[name] = counters[COUNTER[name]]!;
  return out;
}
