// `polyedge run` (what `npm start` runs): the engine in paper mode, on the
// bundled offline session by default or on the live feeds with --feeds live.

import { CONTROL_TOKEN_ENV } from '../control/server.js';
import { loadConfig, loadDotEnv } from '../config/load.js';
import { fieldError, PolyedgeError } from '../errors.js';
import { allowEntriesProblem, allowListOf, allowProblem } from '../feeds/relay/allow.js';
import { parseEndpoint } from '../feeds/relay/endpoint.js';
import { startSession } from '../runtime/session.js';
import { optionalInt, type Command } from './args.js';

export const runCommand: Command = {
  name: 'run',
  summary:
    'Runs the engine in paper mode. By default on the bundled offline session (synthetic BTC Up/Down\n' +
    'markets on the venue simulator, following the real RTDS capture of 2025-10-29): no network, no keys.\n' +
    '--feeds live trades on paper against the live Polymarket, Binance, RTDS and Deribit feeds.\n' +
    `The control plane listens on [control] host:port; POSTs need Authorization: Bearer $${CONTROL_TOKEN_ENV}.`,
  usage: 'run [--feeds sim|live] [--relay ADDR:PORT [--relay-allow IP,...]] [--speed X] [--seed N] [--journal PATH] [--port N] [--duration S] [--config FILE]',
  options: {
    feeds: { type: 'string' },
    relay: { type: 'string' },
    'relay-allow': { type: 'string' },
    speed: { type: 'string' },
    seed: { type: 'string' },
    journal: { type: 'string' },
    port: { type: 'string' },
    duration: { type: 'string' },
    config: { type: 'string' },
  },
  help: {
    feeds: 'sim (default: the bundled session on loopback) or live',
    relay: 'also receive the UDP relay (polyedge relay send) on ADDR:PORT as a reference price source ([relay] in the config)',
    'relay-allow': 'sender IP addresses the relay accepts, comma-separated (default: [relay] allow); required when the relay binds a non-loopback address',
    speed: 'session pace, 1 = the capture as it happened (default 1)',
    seed: 'seed of the synthetic Polymarket books (default 1)',
    journal: 'journal file (default: [journal] path); restored on start',
    port: 'control plane port (default: [control] port; 0 = any free port)',
    duration: 'stop after this many seconds, at least 1 (default: until Ctrl-C)',
    config: 'config file (default configs/default.toml or $POLYEDGE_CONFIG)',
  },
  async run(v) {
    loadDotEnv();
    const cfg = loadConfig(typeof v.config === 'string' ? v.config : undefined);
    if (cfg.mode === 'live') {
      throw new PolyedgeError('PE_USAGE', 'mode = "live" is not available yet: this build executes on paper only', 'mode');
    }
    const feeds = typeof v.feeds === 'string' ? v.feeds : 'sim';
    if (feeds !== 'sim' && feeds !== 'live') throw new PolyedgeError('PE_USAGE', '--feeds must be sim or live', 'feeds');
    const speed = typeof v.speed === 'string' ? Number(v.speed) : 1;
    if (!(speed > 0) || !Number.isFinite(speed)) throw new PolyedgeError('PE_USAGE', `--speed must be a positive number, got ${JSON.stringify(v.speed)}`, 'speed');
    // 0 would read as "no limit" further down: a caller asking for no time at all made a mistake.
    const duration = optionalInt(v, 'duration', { min: 1 });
    const seed = optionalInt(v, 'seed') ?? 1;
    const controlPort = optionalInt(v, 'port', { max: 65535 });
    if (v.journal === '') throw new PolyedgeError('PE_USAGE', '--journal must name a file, got an empty path', 'journal');
    const relayBind = typeof v.relay === 'string' ? v.relay : undefined;
    if (relayBind !== undefined && typeof parseEndpoint(relayBind, { allowPortZero: true }) === 'string') {
      throw new PolyedgeError('PE_USAGE', `--relay must be ADDR:PORT, got ${JSON.stringify(relayBind)}`, 'relay');
    }
    const relayAllow = typeof v['relay-allow'] === 'string' ? allowListOf(v['relay-allow']) : undefined;
    const allowBad = relayAllow === undefined ? undefined : allowEntriesProblem(relayAllow);
    if (allowBad !== undefined) throw new PolyedgeError('PE_USAGE', `--relay-allow: ${allowBad}`, 'relay-allow');
    // The flag stands in for [relay] allow; the session reads it from there.
    const runCfg = relayAllow === undefined ? cfg : { ...cfg, relay: { ...cfg.relay, allow: relayAllow } };
    // Refused here, before any feed or thread starts, rather than half-way through start-up.
    const relayOn = relayBind ?? (runCfg.relay.enabled ? runCfg.relay.bind : undefined);
    const relayHost = relayOn === undefined ? undefined : parseEndpoint(relayOn, { allowPortZero: true });
    if (relayHost !== undefined && typeof relayHost !== 'string') {
      const why = allowProblem(relayHost.host, runCfg.relay.allow);
      if (why !== undefined) throw fieldError('PE_CONFIG_INVALID', 'relay.allow', `${why}. Senders go in [relay] allow or --relay-allow`);
    }
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    // The simulator is a dev tool the engine never imports: the CLI hands it over as the session's offline venues.
    const offline = feeds === 'sim' ? (await import('../sim/offline.js')).bundledVenues() : undefined;
    const session = await startSession({
      cfg: runCfg,
      offline,
      speed,
      seed,
      journalPath: typeof v.journal === 'string' ? v.journal : cfg.journal.path,
      controlPort,
      relayBind,
      log,
      status: (line) => process.stdout.write(`${line}\n`),
    });
    let stop: () => void = () => {};
    const stopped = new Promise<void>((r) => (stop = r));
    process.once('SIGINT', () => stop());
    process.once('SIGTERM', () => stop());
    const timer = duration ? setTimeout(() => stop(), duration * 1000) : undefined;
    await stopped;
    if (timer) clearTimeout(timer);
    log('stopping: cancelling open orders, flushing the journal');
    await session.stop();
    const pnl = session.engine.portfolio.total(session.engine.marks);
    log(`stopped. orders ${session.engine.counts.ordersSent}, fills ${session.engine.counts.fills}, net PnL ${(pnl.net / 1e6).toFixed(2)} pUSD`);
    return 0;
  },
};
