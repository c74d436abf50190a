// Fault vocabulary, validation of fault requests (API and HTTP control
// endpoint share it), and the ledger that counts what was injected.

import { isRecord } from '../../workers/guards.js';

export const VENUES = ['polymarket', 'binance', 'rtds', 'deribit'] as const;
export type Venue = (typeof VENUES)[number];

export const FAULT_KINDS = [
  'drop',
  'stall',
  'malformed',
  'truncated',
  'duplicate',
  'reorder',
  'tick_size_change',
  'crossed_book',
  'sequence_gap',
  'http_5xx',
  'http_timeout',
  'http_slow',
  'order_version_mismatch',
  'lost_response',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const TRANSPORT: readonly FaultKind[] = ['drop', 'stall', 'malformed', 'truncated', 'duplicate', 'reorder'];

/** Faults of the CLOB trading API (engine/sim/clob): drawn per request, not per WebSocket frame. */
export const HTTP_FAULTS: readonly FaultKind[] = ['http_5xx', 'http_timeout', 'http_slow', 'order_version_mismatch', 'lost_response'];

export const VENUE_FAULTS: Readonly<Record<Venue, readonly FaultKind[]>> = {
  polymarket: [...TRANSPORT, 'tick_size_change', 'crossed_book', ...HTTP_FAULTS],
  binance: [...TRANSPORT, 'sequence_gap'],
  rtds: TRANSPORT,
  deribit: TRANSPORT,
};

/**
 * Kinds the random mode may draw. `tick_size_change` changes the venue's
 * market state for every client, so it is only injected on request; random
 * faults are per connection so a seed reproduces them per connection.
 */
export function randomFaultKinds(venue: Venue): FaultKind[] {
  return VENUE_FAULTS[venue].filter((k) => k !== 'tick_size_change' && !HTTP_FAULTS.includes(k));
}

export const DEFAULT_STALL_MS = 5_000;
const MAX_STALL_MS = 600_000;

export interface FaultOptions {
  /** `stall`: how long the connection stays silent; `http_slow`: how long the answer is held. */
  readonly durationMs?: number;
  /** Polymarket `tick_size_change` / `crossed_book`: the token whose market is hit (default: all markets / the connection's first). */
  readonly assetId?: string;
}

export interface RandomFaultConfig {
  /** Probability per outgoing data frame, per connection; 0 disables. */
  readonly rate: number;
  readonly seed: number;
  /** Venues affected (default all running venues). */
  readonly venues?: readonly Venue[];
  /** Restrict the kinds drawn (default: every per-connection kind of the venue). */
  readonly kinds?: readonly FaultKind[];
  /** Stall length for randomly drawn stalls. */
  readonly stallMs?: number;
}

export type ControlRequest =
  | { readonly action: 'inject'; readonly venue: Venue; readonly fault: FaultKind; readonly options: FaultOptions }
  | { readonly action: 'random'; readonly config: RandomFaultConfig | null };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };


function isVenue(v: unknown): v is Venue {
  return typeof v === 'string' && (VENUES as readonly string[]).includes(v);
}

function isFaultKind(v: unknown): v is FaultKind {
  return typeof v === 'string' && (FAULT_KINDS as readonly string[]).includes(v);
}

function unknownKeys(body: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  return extra.length > 0 ? `unknown field(s): ${extra.join(', ')} (allowed: ${allowed.join(', ')})` : undefined;
}

export function validateStallMs(v: unknown, field: string): Parsed<number> {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_STALL_MS) {
    return { ok: false, error: `'${field}' must be an integer number of milliseconds in [1, ${MAX_STALL_MS}]` };
  }
  return { ok: true, value: v };
}

/** Check that `fault` exists for `venue` and its options are sane. */
export function validateFault(venue: Venue, fault: FaultKind, options: FaultOptions): string | undefined {
  if (!VENUE_FAULTS[venue].includes(fault)) {
    return `fault '${fault}' is not supported for venue '${venue}' (supported: ${VENUE_FAULTS[venue].join(', ')})`;
  }
  if (options.durationMs !== undefined) {
    if (fault !== 'stall' && fault !== 'http_slow') return `'durationMs' only applies to 'stall' and 'http_slow'`;
    const d = validateStallMs(options.durationMs, 'durationMs');
    if (!d.ok) return d.error;
  }
  if (options.assetId !== undefined) {
    if (fault !== 'tick_size_change' && fault !== 'crossed_book') {
      return `'assetId' only applies to 'tick_size_change' and 'crossed_book'`;
    }
    if (typeof options.assetId !== 'string' || options.assetId.length === 0) return `'assetId' must be a non-empty string`;
  }
  return undefined;
}

export function validateRandomConfig(cfg: RandomFaultConfig): string | undefined {
  if (typeof cfg.rate !== 'number' || !Number.isFinite(cfg.rate) || cfg.rate < 0 || cfg.rate > 1) {
    return `'rate' must be a number in [0, 1] (probability per data frame)`;
  }
  if (typeof cfg.seed !== 'number' || !Number.isInteger(cfg.seed) || cfg.seed < 0 || cfg.seed > 0xffffffff) {
    return `'seed' must be an integer in [0, 2^32)`;
  }
  if (cfg.venues !== undefined) {
    if (!Array.isArray(cfg.venues) || cfg.venues.length === 0 || !cfg.venues.every(isVenue)) {
      return `'venues' must be a non-empty array of ${VENUES.join(', ')}`;
    }
  }
  if (cfg.kinds !== undefined) {
    if (!Array.isArray(cfg.kinds) || cfg.kinds.length === 0 || !cfg.kinds.every(isFaultKind)) {
      return `'kinds' must be a non-empty array of ${FAULT_KINDS.join(', ')}`;
    }
    if (cfg.kinds.includes('tick_size_change')) return `'tick_size_change' cannot be drawn randomly; inject it on request`;
  }
  if (cfg.stallMs !== undefined) {
    const d = validateStallMs(cfg.stallMs, 'stallMs');
    if (!d.ok) return d.error;
  }
  return undefined;
}

/**
 * Body of `POST /_sim/fault`:
 *   {"venue":"polymarket","fault":"drop"}
 *   {"venue":"rtds","fault":"stall","durationMs":3000}
 *   {"venue":"polymarket","fault":"tick_size_change","assetId":"…"}
 *   {"fault":"random","rate":0.01,"seed":7,"venues":["binance"],"kinds":["duplicate"],"stallMs":1000}
 *   {"fault":"random","rate":0}                      (turns random faults off)
 */
export function parseControlRequest(body: unknown): Parsed<ControlRequest> {
  if (!isRecord(body)) return { ok: false, error: 'body must be a JSON object' };
  const fault = body['fault'];
  if (fault === 'random') {
    const extra = unknownKeys(body, ['fault', 'rate', 'seed', 'venues', 'kinds', 'stallMs']);
    if (extra) return { ok: false, error: extra };
    if (body['rate'] === 0) return { ok: true, value: { action: 'random', config: null } };
    if (body['seed'] === undefined) return { ok: false, error: `'seed' is required for random faults` };
    const cfg = {
      rate: body['rate'],
      seed: body['seed'],
      venues: body['venues'],
      kinds: body['kinds'],
      stallMs: body['stallMs'],
    } as RandomFaultConfig;
    const err = validateRandomConfig(cfg);
    if (err) return { ok: false, error: err };
    return { ok: true, value: { action: 'random', config: cfg } };
  }
  const extra = unknownKeys(body, ['venue', 'fault', 'durationMs', 'assetId']);
  if (extra) return { ok: false, error: extra };
  if (!isVenue(body['venue'])) return { ok: false, error: `'venue' must be one of ${VENUES.join(', ')}` };
  if (!isFaultKind(fault)) return { ok: false, error: `'fault' must be one of ${FAULT_KINDS.join(', ')}, random` };
  const options: FaultOptions = {
    ...(body['durationMs'] !== undefined ? { durationMs: body['durationMs'] as number } : {}),
    ...(body['assetId'] !== undefined ? { assetId: body['assetId'] as string } : {}),
  };
  const err = validateFault(body['venue'], fault, options);
  if (err) return { ok: false, error: err };
  return { ok: true, value: { action: 'inject', venue: body['venue'], fault, options } };
}

export interface FaultRecord {
  readonly venue: Venue;
  readonly kind: FaultKind;
  /** Connection ordinal within the venue (1 = first accepted); 0 for a CLOB HTTP request. */
  readonly connection: number;
  /** Data-frame ordinal on that connection when the fault took effect; for a CLOB HTTP fault, the request ordinal. */
  readonly frame: number;
  readonly atMs: number;
}

export type FaultCounts = Record<Venue, Record<FaultKind, number>>;

const LOG_CAP = 10_000;

/** One record per fault per affected connection, at the moment it took effect. */
export class FaultLedger {
  private readonly countsByVenue: FaultCounts;
  private readonly records: FaultRecord[] = [];
  private total = 0;

  constructor() {
    const zero = (): Record<FaultKind, number> =>
      Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    this.countsByVenue = { polymarket: zero(), binance: zero(), rtds: zero(), deribit: zero() };
  }

  record(rec: FaultRecord): void {
    this.countsByVenue[rec.venue][rec.kind]++;
    this.total++;
    this.records.push(rec);
    // Long CLI runs keep the recent history only; counts stay exact.
    if (this.records.length > LOG_CAP) this.records.splice(0, this.records.length - LOG_CAP);
  }

  counts(): FaultCounts {
    return structuredClone(this.countsByVenue);
  }

  get totalInjected(): number {
    return this.total;
  }

  log(): readonly FaultRecord[] {
    return this.records.slice();
  }
}
