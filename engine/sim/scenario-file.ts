// Scenario files (TOML) for `polyedge sim --scenario`: market ids and price
// paths, generator parameters, random faults. Every field is validated and
// unknown keys are rejected so a typo cannot silently fall back to a default.
//
//   seed = 7
//   source = "scenario"            # or "recorded"
//   speed = 1
//   [polymarket]
//   step_ms = 250
//   levels = 5
//   trade_probability = 0.25
//   markets = 2                    # or [[polymarket.market]] tables:
//   [[polymarket.market]]
//   condition_id = "0x…"; yes_token_id = "…"; no_token_id = "…"
//   start_price = 0.5
//   path = [0.5, 0.7, 0.97, 0.99]
//   [binance]   start_price, step_ms, symbol, routing = "strict"|"lenient", capture
//   [rtds]      interval_ms, paths = ["…jsonl"]
//   [deribit]   base_volatility, interval_ms
//   [faults]    rate, seed, venues = […], kinds = […], stall_ms
import { parse } from 'smol-toml';
import { isTokenId } from '../../workers/venues/polymarket/feed.js';
import { FAULT_KINDS, VENUES, validateRandomConfig, type FaultKind, type RandomFaultConfig, type Venue } from './faults.js';
import type { PmMarketSpec } from './scenario.js';
import type { VenueSimulatorOptions } from './simulator.js';
import { isPlainObject } from '../../workers/guards.js';

export class ScenarioFileError extends Error {}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  // smol-toml parses datetimes to Date objects, which are not tables.
  return isPlainObject(v) && !(v instanceof Date);
}

class Reader {
  constructor(
    private readonly t: Table,
    private readonly where: string,
  ) {
    for (const k of Object.keys(t)) this.known.add(k);
  }
  private readonly known = new Set<string>();
  private readonly used = new Set<string>();

  private fail(key: string, expected: string): never {
    throw new ScenarioFileError(`${this.where}${key}: expected ${expected}, got ${JSON.stringify(this.t[key])}`);
  }

  number(key: string, check: (n: number) => boolean, expected: string): number | undefined {
    this.used.add(key);
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) this.fail(key, expected);
    return v;
  }

  string(key: string, check: (s: string) => boolean, expected: string): string | undefined {
    this.used.add(key);
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !check(v)) this.fail(key, expected);
    return v;
  }

  stringArray(key: string, check: (s: string) => boolean, expected: string): string[] | undefined {
    this.used.add(key);
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && check(s))) this.fail(key, expected);
    return v as string[];
  }

  numberArray(key: string, check: (n: number) => boolean, expected: string): number[] | undefined {
    this.used.add(key);
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((n) => typeof n === 'number' && Number.isFinite(n) && check(n))) this.fail(key, expected);
    return v as number[];
  }

  raw(key: string): unknown {
    this.used.add(key);
    return this.t[key];
  }

  table(key: string): Reader | undefined {
    this.used.add(key);
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (!isTable(v)) this.fail(key, 'a table');
    return new Reader(v, `${this.where}${key}.`);
  }

  /** Rejects keys nobody asked for. Call after reading every field. */
  done(): void {
    const extra = [...this.known].filter((k) => !this.used.has(k));
    if (extra.length === 0) return;
    const at = this.where === '' ? 'top level' : this.where.replace(/\.$/, '');
    throw new ScenarioFileError(`${at}: unknown key(s) ${extra.join(', ')}`);
  }
}

const positive = (n: number): boolean => n > 0;
const posInt = (n: number): boolean => Number.isInteger(n) && n > 0;
const u32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const prob = (n: number): boolean => n >= 0 && n <= 1;
const open01 = (n: number): boolean => n > 0 && n < 1;
const nonEmpty = (s: string): boolean => s.length > 0;

function parseMarkets(v: unknown): number | PmMarketSpec[] {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 1000) throw new ScenarioFileError(`polymarket.markets: expected an integer in [1, 1000], got ${v}`);
    return v;
  }
  if (!Array.isArray(v) || v.length === 0) throw new ScenarioFileError('polymarket.market: expected one or more [[polymarket.market]] tables');
  return v.map((entry, i): PmMarketSpec => {
    if (!isTable(entry)) throw new ScenarioFileError(`polymarket.market[${i}]: expected a table`);
    const r = new Reader(entry, `polymarket.market[${i}].`);
    const spec: PmMarketSpec = {
      ...opt('conditionId', r.string('condition_id', (s) => /^0x[0-9a-fA-F]{64}$/.test(s), '0x + 64 hex digits')),
      ...opt('yesTokenId', r.string('yes_token_id', isTokenId, 'a decimal token id string')),
      ...opt('noTokenId', r.string('no_token_id', isTokenId, 'a decimal token id string')),
      ...opt('startPrice', r.number('start_price', open01, 'a price in (0, 1)')),
      ...opt('path', r.numberArray('path', open01, 'a non-empty array of prices in (0, 1)')),
    };
    r.done();
    return spec;
  });
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

/** Parses scenario TOML into simulator options (CLI flags are applied on top). */
export function parseScenarioFile(text: string): VenueSimulatorOptions {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    throw new ScenarioFileError(`not valid TOML: ${(err as Error).message}`);
  }
  const root = new Reader(doc, '');
  const seed = root.number('seed', u32, 'an integer in [0, 2^32)');
  const source = root.string('source', (s) => s === 'recorded' || s === 'scenario', '"recorded" or "scenario"') as 'recorded' | 'scenario' | undefined;
  const speed = root.number('speed', positive, 'a number > 0');
  const venues = root.stringArray('venues', (s) => (VENUES as readonly string[]).includes(s), `an array of ${VENUES.join(', ')}`) as Venue[] | undefined;

  const pmR = root.table('polymarket');
  let polymarket: VenueSimulatorOptions['polymarket'];
  if (pmR) {
    const marketsCount = pmR.raw('markets');
    const marketTables = pmR.raw('market');
    if (marketsCount !== undefined && marketTables !== undefined) {
      throw new ScenarioFileError('polymarket: give either markets = N or [[polymarket.market]] tables, not both');
    }
    const markets = marketsCount !== undefined || marketTables !== undefined ? parseMarkets(marketsCount ?? marketTables) : undefined;
    polymarket = {
      ...opt('markets', markets),
      ...opt('stepMs', pmR.number('step_ms', positive, 'milliseconds > 0')),
      ...opt('levels', pmR.number('levels', (n) => Number.isInteger(n) && n >= 2 && n <= 50, 'an integer in [2, 50]')),
      ...opt('tradeProbability', pmR.number('trade_probability', prob, 'a probability in [0, 1]')),
    };
    pmR.done();
  }

  const bnR = root.table('binance');
  let binance: VenueSimulatorOptions['binance'];
  if (bnR) {
    binance = {
      ...opt('startPrice', bnR.number('start_price', positive, 'a price > 0')),
      ...opt('stepMs', bnR.number('step_ms', positive, 'milliseconds > 0')),
      ...opt('symbol', bnR.string('symbol', (s) => /^[A-Za-z0-9]{2,30}$/.test(s), 'a symbol like BTCUSDT')),
      ...opt('routing', bnR.string('routing', (s) => s === 'strict' || s === 'lenient', '"strict" or "lenient"') as 'strict' | 'lenient' | undefined),
      ...opt('capturePath', bnR.string('capture', nonEmpty, 'a file path')),
    };
    bnR.done();
  }

  const rtR = root.table('rtds');
  let rtds: VenueSimulatorOptions['rtds'];
  if (rtR) {
    rtds = {
      ...opt('intervalMs', rtR.number('interval_ms', positive, 'milliseconds > 0')),
      ...opt('paths', rtR.stringArray('paths', nonEmpty, 'an array of file paths')),
    };
    rtR.done();
  }

  const dbR = root.table('deribit');
  let deribit: VenueSimulatorOptions['deribit'];
  if (dbR) {
    deribit = {
      ...opt('baseVolatility', dbR.number('base_volatility', positive, 'a number > 0')),
      ...opt('intervalMs', dbR.number('interval_ms', positive, 'milliseconds > 0')),
    };
    dbR.done();
  }

  const fR = root.table('faults');
  let faults: RandomFaultConfig | undefined;
  if (fR) {
    const rate = fR.number('rate', prob, 'a probability in [0, 1]');
    if (rate === undefined) throw new ScenarioFileError('faults.rate is required');
    const cfg: RandomFaultConfig = {
      rate,
      seed: fR.number('seed', u32, 'an integer in [0, 2^32)') ?? seed ?? 1,
      ...opt('venues', fR.stringArray('venues', (s) => (VENUES as readonly string[]).includes(s), `an array of ${VENUES.join(', ')}`) as Venue[] | undefined),
      ...opt('kinds', fR.stringArray('kinds', (s) => (FAULT_KINDS as readonly string[]).includes(s), `an array of ${FAULT_KINDS.join(', ')}`) as FaultKind[] | undefined),
      ...opt('stallMs', fR.number('stall_ms', posInt, 'an integer number of milliseconds')),
    };
    fR.done();
    const err = validateRandomConfig(cfg);
    if (err) throw new ScenarioFileError(`faults: ${err}`);
    if (rate > 0) faults = cfg;
  }
  root.done();

  return {
    ...opt('seed', seed),
    ...opt('source', source),
    ...opt('speed', speed),
    ...opt('venues', venues),
    ...opt('polymarket', polymarket),
    ...opt('binance', binance),
    ...opt('rtds', rtds),
    ...opt('deribit', deribit),
    ...opt('faults', faults),
  };
}
