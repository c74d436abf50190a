// `polyedge run` (what `npm start` runs): the engine in paper mode (or
// dry-run, or live: see prepareVenue), on the bundled offline session by
// default or on the live feeds with --feeds live.

import { CONTROL_TOKEN_ENV } from '../control/server.js';
import type { Config } from '../config/config.js';
import { apiSecretsFromEnv, loadConfig, loadDotEnv, PRIVATE_KEY_ENV } from '../config/load.js';
import { fieldError, PolyedgeError } from '../errors.js';
import { exchangeAddress } from '../venues/polymarket/order/exchanges.js';
import { unsetLiveLimits } from '../risk/gates.js';
import { DryRunVenue } from '../venues/polymarket/clob/dry-run.js';
import { allowEntriesProblem, allowListOf, allowProblem } from '../feeds/relay/allow.js';
import { parseEndpoint } from '../feeds/relay/endpoint.js';
import type { VenueStart } from '../execution/venue.js';
import { startSession } from '../runtime/session.js';
import { optionalInt, type Command } from './args.js';
import { signerFromEnv } from './sign.js';

const MODES = ['paper', 'dry-run', 'live'] as const;
type Mode = (typeof MODES)[number];
/** The order bodies' owner in dry-run when no POLY_API_KEY is set: a nil UUID no venue knows. */
export const DRY_RUN_OWNER = '00000000-0000-0000-0000-000000000000';

/**
 * The venue of `mode`, or undefined for paper. Everything live needs is
 * checked here, before any feed or thread starts, and the first thing
 * missing stops start-up naming it: every [live] limit, the signing key,
 * the L2 credentials, then --confirm-live. Dry-run needs the key only (the
 * [live] limits it has are applied, the others not).
 */
function prepareVenue(mode: Mode, cfg: Config, confirmed: boolean, log: (line: string) => void, debug: ((line: string) => void) | undefined): PreparedVenue | undefined {
  if (mode === 'paper') return undefined;
  const unset = unsetLiveLimits(cfg.live);
  if (mode === 'live' && unset.length > 0) {
    throw fieldError('PE_CONFIG_INVALID', `live.${unset[0]}`, 'must be set (> 0) for mode = "live": the [live] limits have no default, live is never unlimited');
  }
  const signer = signerFromEnv();
  // An order version with no exchange on this chain would have every order refused: say so now.
  exchangeAddress(cfg.signing.order_version, cfg.venue.chain_id, false);
  const secrets = apiSecretsFromEnv();
  if (mode === 'live') {
    if (secrets === undefined) throw new PolyedgeError('PE_ENV_MISSING', 'POLY_API_KEY: live needs the L2 credentials POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE', 'POLY_API_KEY');
    if (!confirmed) throw fieldError('PE_CONFIG_INVALID', 'confirm-live', 'mode = "live" sends real orders: pass --confirm-live on the command line to say so');
    return {
      keys: { address: signer.address, apiKey: secrets.apiKey, secret: secrets.secret, passphrase: secrets.passphrase },
      start: async (clobUrl) => {
        const { startLiveVenue } = await import('../venues/polymarket/clob/start.js');
        const heartbeat = { intervalMs: cfg.live.heartbeat_interval_ms, failAfterMs: cfg.live.heartbeat_fail_after_ms };
        return startLiveVenue({ clobUrl, signer, creds: secrets, signing: { ...cfg.signing, chain_id: cfg.venue.chain_id }, heartbeat, log, debug });
      },
    };
  }
  for (const k of unset) log(`dry-run: [live] ${k} is not set, so not applied (live refuses to start without it)`);
  const owner = secrets?.apiKey ?? DRY_RUN_OWNER;
  log(`dry-run: orders signed with ${PRIVATE_KEY_ENV} (${signer.address}) for owner ${secrets ? 'POLY_API_KEY' : DRY_RUN_OWNER}, journaled as venue requests, never sent`);
  const signing = { ...cfg.signing, chain_id: cfg.venue.chain_id };
  return {
    keys: undefined,
    start: async () => ({
      venue: (listener, parts) => new DryRunVenue({ signer, owner, signing, markets: parts.markets, tokens: parts.tokens, listener, record: parts.record, debug }),
      stop: async () => {},
    }),
  };
}

/** A venue other than paper, checked; started by the session once the CLOB's address is known. */
interface PreparedVenue {
  /** The key pair live trading presents, for offline venues to know it (the simulator's CLOB). */
  keys: { address: string; apiKey: string; secret: string; passphrase: string } | undefined;
  start: (clobUrl: string) => Promise<VenueStart>;
}

export const runCommand: Command = {
  name: 'run',
  summary:
    'Runs the engine, in paper mode unless --mode (or mode in the config) says dry-run or live.\n' +
    'dry-run signs every order and journals the request it would send, sending nothing (needs POLY_PRIVATE_KEY);\n' +
    'live needs POLY_PRIVATE_KEY, POLY_API_KEY/SECRET/PASSPHRASE, every [live] limit and --confirm-live.\n' +
    'By default on the bundled offline session (synthetic BTC Up/Down\n' +
    'markets on the venue simulator, following the real RTDS capture of 2025-10-29): no network, no keys.\n' +
    '--feeds live trades on paper against the live Polymarket, Binance, RTDS and Deribit feeds.\n' +
    `The control plane listens on [control] host:port; POSTs need Authorization: Bearer $${CONTROL_TOKEN_ENV}.`,
  usage: 'run [--mode paper|dry-run|live [--confirm-live]] [--debug] [--feeds sim|live] [--relay ADDR:PORT [--relay-allow IP,...]] [--speed X] [--seed N] [--journal PATH] [--port N] [--duration S] [--config FILE]',
  options: {
    mode: { type: 'string' },
    'confirm-live': { type: 'boolean' },
    debug: { type: 'boolean' },
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
    mode: 'paper (default: mode in the config), dry-run or live',
    'confirm-live': 'required with --mode live (or mode = "live"): real orders, real money',
    debug: 'log every venue request (dry-run: each order and cancel body)',
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
    const modeArg = typeof v.mode === 'string' ? v.mode : cfg.mode;
    if (!(MODES as readonly string[]).includes(modeArg)) throw new PolyedgeError('PE_USAGE', `--mode must be paper, dry-run or live, got ${JSON.stringify(modeArg)}`, 'mode');
    const mode = modeArg as Mode;
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
    const runCfg = { ...cfg, mode, relay: relayAllow === undefined ? cfg.relay : { ...cfg.relay, allow: relayAllow } };
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    const venue = prepareVenue(mode, runCfg, v['confirm-live'] === true, log, v.debug === true ? (line) => log(`debug ${line}`) : undefined);
    // Refused here, before any feed or thread starts, rather than half-way through start-up.
    const relayOn = relayBind ?? (runCfg.relay.enabled ? runCfg.relay.bind : undefined);
    const relayHost = relayOn === undefined ? undefined : parseEndpoint(relayOn, { allowPortZero: true });
    if (relayHost !== undefined && typeof relayHost !== 'string') {
      const why = allowProblem(relayHost.host, runCfg.relay.allow);
      if (why !== undefined) throw fieldError('PE_CONFIG_INVALID', 'relay.allow', `${why}. Senders go in [relay] allow or --relay-allow`);
    }
    // The simulator is a dev tool the engine never imports: the CLI hands it over as the session's offline venues.
    // Live against the offline session trades on the simulator's CLOB, which must know the key pair the engine presents
    // and plays the venue's dead-man switch with the engine's own bound as its timeout.
    const offline =
      feeds === 'sim'
        ? (await import('../sim/offline.js')).bundledVenues({ clobKeys: venue?.keys && [venue.keys], clobHeartbeatTimeoutMs: mode === 'live' ? runCfg.live.heartbeat_fail_after_ms : undefined })
        : undefined;
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
      venue: venue?.start,
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
