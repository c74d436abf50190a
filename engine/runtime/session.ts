// One engine session: feeds (the bundled offline session on the venue
// simulator, or the live venues), pinned feed workers, the hub, the engine,
// the control plane and the status line; and a clean stop.
//
// Start-up refuses what it can check before it starts anything (control port
// and host, the token rule, the journal path), and every part it starts is
// registered with a teardown: a later step that throws stops what came before
// it, so a failed start leaves no thread, timer or socket behind and the
// process can exit. stop() runs the same teardown.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { native } from '../native.js';
import type { Config } from '../config/config.js';
import { controlHandlers } from '../control/handlers.js';
import { CONTROL_TOKEN_ENV, controlBindRefusal, controlPortRefusal, startControlServer, type ControlServer } from '../control/server.js';
import { createFeedBooks, createFeedRing, startFeed, type FeedHandle } from '../feeds/spawn.js';
import { MarketDataHub } from '../feeds/hub.js';
import { liveEndpoints, planFeeds, rtdsSymbolsOf, tuningOf, type FeedEndpoints } from '../feeds/plan.js';
import { fieldError, PolyedgeError } from '../errors.js';
import { Journal } from '../journal/journal.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { ENGINE_STATE_NAMES } from '../risk/state.js';
import type { FeedName } from '../../workers/feed-init.js';
import { SettlementAuditor } from '../markets/audit.js';
import { MarketRoller } from '../venues/polymarket/discovery.js';
import { engineCommands, engineView } from './control.js';
import { Engine } from './engine.js';
import type { VenueStart } from '../execution/venue.js';
import type { ReferenceInput, VolatilityInput } from '../references/references.js';
import { SlotPhase, type SlotHooks } from '../markets/slots.js';
import { RelaySource, RelayStat } from '../feeds/relay/source.js';
import { registerEngineMetrics } from './metrics.js';

/**
 * Venues a session trades against in place of the real ones: the venue
 * simulator, which the CLI or a test starts through this seam (the engine
 * never imports the simulator: it is a test double and a dev tool).
 */
export interface OfflineVenues {
  readonly endpoints: FeedEndpoints;
  readonly gammaUrl: string;
  /** The feeds it serves, in start order. */
  readonly feeds: readonly FeedName[];
  /** Its markets live on a recorded day: the engine follows the feed's clock, not the wall's. */
  readonly feedClock: boolean;
  /** What it is, for the session's log. */
  readonly description: readonly string[];
  stop(): Promise<void>;
}

export interface OfflineVenueRequest {
  seed: number;
  /** 1 = the recording's own pace. */
  speed: number;
  /** Core for its thread; -1 leaves it unpinned. */
  cpu: number;
}

export interface SessionOptions<V extends OfflineVenues = OfflineVenues> {
  cfg: Config;
  /** Starts offline venues to trade against; absent: the live venues of cfg.venue. */
  offline?: ((request: OfflineVenueRequest) => Promise<V>) | undefined;
  /** Offline venue pacing: 1 = the recording's own pace. */
  speed: number;
  seed: number;
  journalPath: string;
  controlPort?: number | undefined;
  log: (line: string) => void;
  /** Status line sink; undefined = none. */
  status?: ((line: string) => void) | undefined;
  /** Starts the UDP relay receiver on this ADDR:PORT whatever [relay] enabled says. */
  relayBind?: string | undefined;
  /**
   * Where orders go (cli/run.ts picks it by mode), started once the CLOB's
   * address is known (offline venues serve their own) and before the engine
   * exists; the paper venue when absent.
   */
  venue?: ((clobUrl: string) => Promise<VenueStart>) | undefined;
}

export interface Session<V extends OfflineVenues = OfflineVenues> {
  engine: Engine;
  control: ControlServer;
  hub: MarketDataHub;
  feeds: FeedHandle[];
  offline: V | undefined;
  relay: RelaySource | undefined;
  roller: MarketRoller;
  auditor: SettlementAuditor;
  /** Period of the running status-line timer, ms (NaN without a status sink): what /control/reload/perf re-armed it to. */
  statusPeriodMs(): number;
  stop(): Promise<void>;
}

/** Node's timers hold a delay of at most 2^31 − 1 ms; a larger one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const usd = (micros: number): string => (micros / 1e6).toFixed(2);

/** A host name lookup that takes longer than this is refused as unresolvable rather than waited for. */
const RESOLVE_TIMEOUT_MS = 5_000;

/** What startSession started, stopped last first: after a failed start, and by Session.stop(). */
class Teardown {
  private readonly steps: { what: string; undo: () => unknown }[] = [];

  add(what: string, undo: () => unknown): void {
    this.steps.push({ what, undo });
  }

  /** Runs every step even when one fails, then throws the first failure. Running it again does nothing. */
  async run(log: (line: string) => void): Promise<void> {
    let failure: { err: unknown } | undefined;
    for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
      try {
        await step.undo();
      } catch (err) {
        log(`stopping ${step.what} failed: ${err instanceof Error ? err.message : String(err)}`);
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }
}

export async function startSession<V extends OfflineVenues = OfflineVenues>(opts: SessionOptions<V>): Promise<Session<V>> {
  await checkStart(opts);
  const teardown = new Teardown();
  try {
    return await startParts(opts, teardown);
  } catch (err) {
    // The start-up error is the one to report; a failure while undoing is logged by the teardown.
    await teardown.run(opts.log).catch(() => undefined);
    throw err;
  }
}

/** Refuses, before a thread or socket exists, what is bound to fail later in start-up. */
async function checkStart(opts: SessionOptions<OfflineVenues>): Promise<void> {
  const { cfg } = opts;
  const refusal = controlPortRefusal(opts.controlPort ?? cfg.control.port) ?? controlBindRefusal(cfg.control.host, process.env[CONTROL_TOKEN_ENV]);
  if (refusal) throw refusal;
  Journal.check(opts.journalPath);
  await checkResolvable(cfg.control.host, 'control.host');
}

async function checkResolvable(host: string, key: string): Promise<void> {
  if (isIP(host) !== 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: `no answer within ${RESOLVE_TIMEOUT_MS} ms` })), RESOLVE_TIMEOUT_MS);
  });
  try {
    await Promise.race([lookup(host), timeout]);
  } catch (err) {
    throw fieldError('PE_CONFIG_INVALID', key, `${host} cannot be resolved (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  } finally {
    clearTimeout(timer);
  }
}

async function startParts<V extends OfflineVenues>(opts: SessionOptions<V>, teardown: Teardown): Promise<Session<V>> {
  const { cfg, log } = opts;
  let offline: V | undefined;
  let endpoints: FeedEndpoints;
  let gammaUrl = cfg.venue.gamma_url;
  let engineCfg = cfg;
  if (opts.offline) {
    const started = await opts.offline({ seed: opts.seed, speed: opts.speed, cpu: cfg.cpu.pin ? cfg.cpu.feeds : -1 });
    offline = started;
    teardown.add('offline venues', () => started.stop());
    endpoints = started.endpoints;
    gammaUrl = started.gammaUrl;
    if (started.feedClock) engineCfg = { ...cfg, engine: { ...cfg.engine, clock: 'feed' } };
    for (const line of started.description) log(line);
  } else {
    endpoints = liveEndpoints(cfg);
  }

  if (cfg.cpu.pin) {
    const tid = native.pinCurrentThread(cfg.cpu.main);
    log(`main thread ${tid} pinned to core ${cfg.cpu.main}; feed workers go to core ${cfg.cpu.feeds}`);
  }

  const feedNames: readonly FeedName[] = offline ? offline.feeds : ['polymarket', 'binance', 'rtds', 'deribit'];
  const slots = cfg.markets.slots;
  // No tokens at start: markets are assigned to slots as discovery finds them (and the journal restores them).
  const specs = planFeeds(cfg, endpoints, feedNames, [], 2 * slots);
  const polySpec = specs.find((s) => s.feed === 'polymarket');
  const polyBooks = polySpec ? createFeedBooks(polySpec) : undefined;
  const hub = new MarketDataHub({ polymarketBooks: polyBooks });
  const feeds: FeedHandle[] = [];
  teardown.add('feed workers', () => Promise.all(feeds.map((f) => f.stop())));
  let polySource = -1;
  const references: ReferenceInput[] = [];
  const volatilities: VolatilityInput[] = [];
  for (const spec of specs) {
    const ring = createFeedRing();
    const source = hub.addSource({ name: spec.feed, ring });
    const handle = startFeed(
      { spec, source, ring, cpu: cfg.cpu.pin ? cfg.cpu.feeds : -1, tuning: tuningOf(cfg), onError: (m) => log(`${spec.feed}: ${m}`) },
      spec.feed === 'polymarket' ? polyBooks : createFeedBooks(spec),
    );
    hub.attachCounters(source, handle.counters);
    feeds.push(handle);
    if (spec.feed === 'polymarket') polySource = source;
    if (spec.feed === 'rtds') {
      rtdsSymbolsOf(cfg.feeds.binance_symbols).forEach((s, token) => {
        const underlying = s.symbol.replace(/usdt$|\/usd$/, '');
        references.push({ source, token, name: s.topic === 'binance' ? 'rtds-binance' : 'rtds-chainlink', underlying });
      });
    }
    if (spec.feed === 'binance') {
      // The futures book is a reference too: its mid, from the book the worker keeps.
      spec.symbols.forEach((s, token) => references.push({ source, token, name: 'binance-futures', underlying: s.symbol.toLowerCase().replace(/usdt$/, ''), tickSize: 10 ** -s.tickExp }));
    }
    if (spec.feed === 'deribit') spec.indices.forEach((index, token) => volatilities.push({ source, token, underlying: index.replace(/_usd$/, '') }));
  }
  const relayCfg = opts.relayBind !== undefined ? { ...cfg.relay, enabled: true, bind: opts.relayBind } : cfg.relay;
  let relay: RelaySource | undefined;
  if (relayCfg.enabled) {
    relay = startRelay(relayCfg, hub.sourceCount);
    const started = relay;
    teardown.add('relay receiver', () => started.stop());
    const source = hub.addSource({ name: 'relay', ring: relay.ring });
    references.push({ source, token: relayCfg.stream, name: 'relay', underlying: relayCfg.underlying, bandBps: relayCfg.max_deviation_bps });
    log(
      `relay receiver on ${relay.address}: thread ${relay.threadId} ${relayCfg.cpu >= 0 ? `pinned to core ${relayCfg.cpu}` : 'unpinned'}, ${relayCfg.spin ? 'spinning' : 'blocking'}, ` +
        `SO_BUSY_POLL ${relay.busyPollUs} µs, SO_RCVBUF ${relay.rcvbufBytes} B; stream ${relayCfg.stream} quotes ${relayCfg.underlying}; ` +
        `MAC ${relayCfg.require_mac ? 'required' : relayCfg.mac_key_env in process.env ? 'checked when present' : 'off (no key)'}`,
    );
  }
  for (const f of feeds) {
    const r = await f.ready;
    log(`${r.feed} feed worker thread ${r.tid} pinned to core ${r.cpu < 0 ? 'none' : r.cpu} (taskset -cp ${r.tid} shows ${r.affinity.join(',')})`);
  }

  const polyFeed = feeds.find((f) => f.name === 'polymarket');
  if (!polyFeed) throw new PolyedgeError('PE_USAGE', 'the engine needs the polymarket feed', 'feeds');
  const hooks: SlotHooks = {
    assign: (slot: number, d: { tokenIds: [string, string] }) => {
      polyFeed.assign(2 * slot, d.tokenIds[0]);
      polyFeed.assign(2 * slot + 1, d.tokenIds[1]);
    },
    release: (slot: number) => {
      polyFeed.release(2 * slot);
      polyFeed.release(2 * slot + 1);
    },
    // Called from engine.start() on (never while the engine is built), once the auditor below exists.
    settled: (d, s) => auditor.watch(d, s),
  };
  let venue: VenueStart | undefined;
  if (opts.venue) {
    venue = await opts.venue(endpoints.polymarket?.restUrl ?? cfg.venue.clob_url);
    const started = venue;
    teardown.add('execution venue', () => started.stop());
  }
  const engine = new Engine({ cfg: engineCfg, slots, hooks, hub, polySource, references, volatilities, journalPath: opts.journalPath, log, venue: venue?.venue });
  // Polls and deadlines on the engine's timers: on a recorded day replayed faster than the wall, they keep pace with the markets.
  const auditor = new SettlementAuditor({
    gammaUrl,
    pollMs: cfg.markets.discovery_poll_ms,
    timeoutMs: cfg.markets.audit_timeout_ms,
    nowMs: () => engine.nowMs(),
    timers: engine.timers,
    onDisagree: (d, s, winner) => engine.resolve(d, s, winner),
    onAgree: (_d, s) => engine.confirm(s),
    log,
  });
  // Until the engine runs there is nothing to cancel or snapshot: closing the journal is all (engine.stop() makes it a no-op later).
  teardown.add('journal', () => engine.journal.close());
  const r = engine.restoredFrom;
  log(`journal ${opts.journalPath}: ${r.records} records replayed, ${r.openOrders} open orders to restore${r.tornTailBytes ? `, torn tail of ${r.tornTailBytes} bytes dropped` : ''}`);
  const metrics = new MetricsRegistry();
  // A reload of /control/reload/perf re-arms the status line at its new period (armStatus is set below, before the engine starts).
  let armStatus = (): void => {};
  const handlers = controlHandlers({ view: engineView(engine), commands: engineCommands(engine), metrics: () => metrics.renderPrometheusSliced(), feeds: offline ? 'sim' : 'live', mode: cfg.mode, reloaded: () => armStatus() });
  const control = await startControlServer({ host: cfg.control.host, port: opts.controlPort ?? cfg.control.port, token: process.env[CONTROL_TOKEN_ENV], handlers });
  teardown.add('control plane', () => control.close());

  log(`control plane on ${control.url} (POST needs Authorization: Bearer $${CONTROL_TOKEN_ENV}${process.env[CONTROL_TOKEN_ENV] ? '' : ', which is not set: every POST answers 401'})`);
  teardown.add('engine', () => engine.stop());
  engine.start();
  const roller = new MarketRoller({
    gammaUrl,
    clobRestUrl: endpoints.polymarket?.restUrl ?? cfg.venue.clob_url,
    series: cfg.markets.series,
    lookahead: cfg.markets.lookahead_windows,
    pollMs: cfg.markets.discovery_poll_ms,
    nowMs: () => engine.nowMs(),
    timers: engine.timers,
    offer: (d) => engine.addMarket(d),
    log,
  });
  registerEngineMetrics(metrics, engine, hub, () => control.requestCounts(), relay, roller, auditor);
  roller.start();
  teardown.add('discovery', () => roller.stop());
  auditor.start();
  teardown.add('settlement audit', () => auditor.stop());
  log(`discovery: ${cfg.markets.series.join(', ')} on ${gammaUrl}, the current window and ${cfg.markets.lookahead_windows} ahead, in ${slots} market slots`);

  let lastEvents = 0;
  let lastAt = Date.now();
  let statusTimer: NodeJS.Timeout | undefined;
  let statusPeriodMs = NaN;
  const statusLine = opts.status
    ? () => {
        const now = Date.now();
        const c = engine.counts;
        const rate = ((c.events - lastEvents) * 1000) / Math.max(1, now - lastAt);
        lastEvents = c.events;
        lastAt = now;
        const t = engine.latency.rotateRecent().summary();
        const pnl = engine.portfolio.total(engine.marks);
        const held = engine.portfolio.entries().filter((e) => e.position !== 0).length;
        const active = engine.slotsIn(SlotPhase.Active);
        const relayPart = relay ? ` | relay ${relay.stats[RelayStat.packets]} pkts, ${relay.stats[RelayStat.lost]} lost, ${relay.stats[RelayStat.garbage]} garbage` : '';
        opts.status!(
          `[${ENGINE_STATE_NAMES[engine.state.state]}] ${rate.toFixed(0)} ev/s | tick→decision p50 ${(t.p50Ns / 1e3).toFixed(1)} µs p99 ${(t.p99Ns / 1e3).toFixed(1)} µs | ` +
            `markets ${active} (${c.settlements} settled) | orders ${c.ordersSent} fills ${c.fills} live ${engine.liveOrders().length} | positions ${held} | PnL ${usd(pnl.realised + pnl.unrealised - pnl.fees)} (realised ${usd(pnl.realised)}, fees ${usd(pnl.fees)})${relayPart}`,
        );
      }
    : undefined;
  armStatus = () => {
    // The schema bounds the period; clamping again keeps Node from turning an overlong delay into a 1 ms loop.
    const period = Math.min(Math.max(engine.perf.status_interval_ms, 1), MAX_TIMER_MS);
    if (statusLine === undefined || period === statusPeriodMs) return;
    if (statusTimer) clearInterval(statusTimer);
    statusPeriodMs = period;
    statusTimer = setInterval(statusLine, period);
  };
  armStatus();
  teardown.add('status line', () => {
    armStatus = () => {};
    clearInterval(statusTimer);
  });

  return {
    engine,
    control,
    hub,
    feeds,
    offline,
    relay,
    roller,
    auditor,
    statusPeriodMs: () => statusPeriodMs,
    stop: () => teardown.run(log),
  };
}

/** The relay receiver, its refusals in the catalog's terms: a bad option is the config's, a socket error I/O. */
function startRelay(relayCfg: Config['relay'], source: number): RelaySource {
  try {
    return RelaySource.start({
      bind: relayCfg.bind,
      allow: relayCfg.allow,
      ...(relayCfg.cpu >= 0 ? { cpu: relayCfg.cpu } : {}),
      spin: relayCfg.spin,
      busyPollUs: relayCfg.busy_poll_us,
      rcvbufBytes: relayCfg.rcvbuf_bytes,
      source,
      maxSpreadBps: relayCfg.max_spread_bps,
      maxSkewMs: relayCfg.max_skew_ms,
      // `in`: whether the key is set, without reading it into a JS string.
      ...(relayCfg.require_mac || relayCfg.mac_key_env in process.env ? { macKeyEnv: relayCfg.mac_key_env } : {}),
      requireMac: relayCfg.require_mac,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof RangeError) throw fieldError('PE_CONFIG_INVALID', 'relay', message);
    throw new PolyedgeError('PE_IO', `relay receiver on ${relayCfg.bind}: ${message}`, 'relay.bind');
  }
}
