// `polyedge sim`: run the venue simulator on loopback until SIGINT/SIGTERM.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { VENUES, type Venue } from './faults.js';
import { parseScenarioFile, ScenarioFileError } from './scenario-file.js';
import { VenueSimulator, VenueSimError, type SimEndpoints, type VenueSimulatorOptions } from './simulator.js';

export const SIM_USAGE = `Usage: polyedge sim [options]

Serves simulated Polymarket CLOB (WS /ws/market + GET /book, /clob-markets/{id},
and Gamma's /markets/slug/{slug}), RTDS, Binance
USD-M (streams + GET /fapi/v1/depth) and Deribit (DVOL) on 127.0.0.1 until
interrupted (Ctrl-C / SIGTERM).

Options:
  --venues LIST       comma-separated subset of ${VENUES.join(',')} (default: all)
  --source KIND       recorded | scenario (default: scenario). recorded replays the
                      Binance and RTDS captures in /work/shared/data; Polymarket
                      books and DVOL are always generated
  --seed N            seed for generators and random faults (default: 1)
  --speed X           pacing factor: 1 = original, 10 = 10x faster, max = as fast as
                      clients read (default: 1)
  --port-base P       polymarket on P, binance P+1, rtds P+2, deribit P+3
                      (default: 0 = ephemeral ports)
  --faults RATE       inject random faults with this probability per data frame
                      (seeded by --seed)
  --markets N         number of generated Polymarket markets (default: 2)
  --scenario FILE     TOML scenario file (see engine/sim/scenario-file.ts); flags win
  --data-dir DIR      location of the recorded captures (default: /work/shared/data)
  -h, --help          show this help

Faults on demand: POST <control>/_sim/fault {"venue":"polymarket","fault":"drop"}
Counters:         GET  <control>/_sim/stats
`;

class UsageError extends Error {}

function parseNumber(name: string, v: string, check: (n: number) => boolean, expected: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: expected ${expected}, got '${v}'`);
  return n;
}

export function parseSimArgs(argv: readonly string[]): { help: true } | { help: false; options: VenueSimulatorOptions } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        venues: { type: 'string' },
        source: { type: 'string' },
        seed: { type: 'string' },
        speed: { type: 'string' },
        'port-base': { type: 'string' },
        faults: { type: 'string' },
        markets: { type: 'string' },
        scenario: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { help: true };

  let base: VenueSimulatorOptions = {};
  if (v.scenario !== undefined) {
    let text: string;
    try {
      text = readFileSync(v.scenario, 'utf8');
    } catch (err) {
      throw new UsageError(`--scenario: cannot read ${v.scenario}: ${(err as Error).message}`);
    }
    try {
      base = parseScenarioFile(text);
    } catch (err) {
      if (err instanceof ScenarioFileError) throw new UsageError(`--scenario ${v.scenario}: ${err.message}`);
      throw err;
    }
  }
  const opts: { -readonly [K in keyof VenueSimulatorOptions]: VenueSimulatorOptions[K] } = { ...base };
  if (v.venues !== undefined) {
    const list = v.venues.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const bad = list.filter((s) => !(VENUES as readonly string[]).includes(s));
    if (list.length === 0 || bad.length > 0) throw new UsageError(`--venues: expected a comma-separated subset of ${VENUES.join(',')}, got '${v.venues}'`);
    opts.venues = list as Venue[];
  }
  if (v.source !== undefined) {
    if (v.source !== 'recorded' && v.source !== 'scenario') throw new UsageError(`--source: expected recorded or scenario, got '${v.source}'`);
    opts.source = v.source;
  }
  if (v.seed !== undefined) opts.seed = parseNumber('seed', v.seed, (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, 'an integer in [0, 2^32)');
  if (v.speed !== undefined) {
    opts.speed = v.speed === 'max' ? Infinity : parseNumber('speed', v.speed, (n) => n > 0, "a number > 0 or 'max'");
  }
  if (v['port-base'] !== undefined) {
    opts.portBase = parseNumber('port-base', v['port-base'], (n) => Number.isInteger(n) && n >= 0 && n <= 65532, 'a port in [0, 65532]');
  }
  if (v.markets !== undefined) {
    const markets = parseNumber('markets', v.markets, (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'an integer in [1, 1000]');
    opts.polymarket = { ...opts.polymarket, markets };
  }
  if (v.faults !== undefined) {
    const rate = parseNumber('faults', v.faults, (n) => n >= 0 && n <= 1, 'a probability in [0, 1]');
    opts.faults = rate > 0 ? { ...opts.faults, rate, seed: opts.seed ?? opts.faults?.seed ?? 1 } : undefined;
  }
  if (v['data-dir'] !== undefined) opts.dataDir = v['data-dir'];
  return { help: false, options: opts };
}

export function describeEndpoints(urls: SimEndpoints, sim: VenueSimulator): string {
  const lines: string[] = [];
  if (urls.polymarket) {
    lines.push(`polymarket  ws    ${urls.polymarket.wsUrl}`);
    lines.push(`            rest  ${urls.polymarket.restUrl}/book?token_id=<token>`);
    lines.push(`            rest  ${urls.polymarket.restUrl}/clob-markets/<conditionId>`);
    for (const m of sim.polymarketMarkets()) lines.push(`            market ${m.conditionId} YES=${m.yesTokenId} NO=${m.noTokenId}`);
  }
  if (urls.binance) {
    const s = urls.binance.symbol.toLowerCase();
    lines.push(`binance     ws    ${urls.binance.wsBaseUrl}/public/stream?streams=${s}@depth@0ms/${s}@bookTicker`);
    lines.push(`            ws    ${urls.binance.wsBaseUrl}/market/stream?streams=${s}@aggTrade/${s}@trade/${s}@forceOrder`);
    lines.push(`            rest  ${urls.binance.restUrl}/fapi/v1/depth?symbol=${urls.binance.symbol}&limit=1000`);
  }
  if (urls.rtds) lines.push(`rtds        ws    ${urls.rtds.wsUrl}`);
  if (urls.deribit) lines.push(`deribit     ws    ${urls.deribit.wsUrl}`);
  lines.push(`control     POST  ${urls.controlUrl}/_sim/fault   GET ${urls.controlUrl}/_sim/stats`);
  return lines.join('\n');
}

function signalWaiter(): { readonly received: Promise<NodeJS.Signals>; dispose(): void } {
  let on: (sig: NodeJS.Signals) => void = () => {};
  const dispose = (): void => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  const received = new Promise<NodeJS.Signals>((resolve) => {
    on = (sig) => {
      dispose();
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  return { received, dispose };
}

export async function simCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseSimArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`polyedge sim: ${err.message}\n\n${SIM_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(SIM_USAGE);
    return 0;
  }
  let sim: VenueSimulator;
  try {
    sim = new VenueSimulator({ ...parsed.options, log: (line) => process.stderr.write(`sim: ${line}\n`) });
  } catch (err) {
    if (!(err instanceof VenueSimError)) throw err;
    process.stderr.write(`polyedge sim: ${err.message}\n`);
    return 2;
  }
  // Listen for signals before starting so an early Ctrl-C still shuts down cleanly.
  const signal = signalWaiter();
  let urls: SimEndpoints;
  try {
    urls = await sim.start();
  } catch (err) {
    signal.dispose();
    process.stderr.write(`polyedge sim: failed to start: ${(err as Error).message}\n`);
    await sim.stop();
    return 1;
  }
  const o = parsed.options;
  const speed = o.speed === undefined ? 1 : o.speed === Infinity ? 'max' : o.speed;
  process.stdout.write(
    `polyedge sim: source=${o.source ?? 'scenario'} seed=${o.seed ?? 1} speed=${speed}` +
      `${o.faults ? ` faults=${o.faults.rate}` : ''}\n${describeEndpoints(urls, sim)}\nCtrl-C to stop.\n`,
  );
  const sig = await signal.received;
  const stats = sim.stats();
  await sim.stop();
  process.stdout.write(`polyedge sim: ${sig}, stopped; ${stats.totalFaults} fault(s) injected\n`);
  return 0;
}
