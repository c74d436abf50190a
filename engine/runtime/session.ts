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
import { createFeedBooks, createFeedRing, startFeed, type FeedHandle } from '../data/feeds.js';
import { MarketDataHub } from '../data/hub.js';
import { liveEndpoints, planFeeds, rtdsSymbolsOf, simulatorEndpoints, tuningOf, type FeedEndpoints } from '../data/plan.js';
import { fieldError, PolyedgeError } from '../errors.js';
import { Journal } from '../journal/journal.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { ENGINE_STATE_NAMES } from '../risk/state.js';
import { buildUpDownSession, SESSION_RTDS_FILES, STEP_MS } from '../session/updown.js';
import type { GammaListing } from '../sim/gamma.js';
import { startSimThread, type SimThread } from '../sim/sim-thread.js';
import { SettlementAuditor } from './audit.js';
import { MarketRoller } from './discovery.js';
import { engineCommands, engineView } from './control.js';
import { Engine, type EngineOptions } from './engine.js';
import type { ReferenceInput, VolatilityInput } from '../references/references.js';
import { SlotPhase, type SlotHooks } from '../markets/slots.js';
import { RelaySource, RelayStat } from '../relay/source.js';
import { registerEngineMetrics } from './metrics.js';

export interface SessionOptions {
  cfg: Config;
  feeds: 'sim' | 'live';
  /** Simulator pacing (sim feeds): 1 = the capture's own pace. */
  speed: number;
  seed: number;
  journalPath: string;
  controlPort?: number | undefined;
  log: (line: string) => void;
  /** Status line sink; undefined = none. */
  status?: ((line: string) => void) | undefined;
  /** Starts the UDP relay receiver on this ADDR:PORT whatever [relay] enabled says. */
  relayBind?: string | undefined;
  /** Sim feeds: adjusts each Gamma listing the simulator serves (tests: a venue that resolves a market the other way). */
  listing?: ((l: GammaListing) => GammaListing) | undefined;
  /** Where orders go (cli/run.ts picks it by mode); the paper venue when absent. */
  venue?: EngineOptions['venue'];
}

export interface Session {
  engine: Engine;
  control: ControlServer;
  hub: MarketDataHub;
  feeds: FeedHandle[];
  sim: SimThread | undefined;
  relay: RelaySource | undefined;
  roller: MarketRoller;
  auditor: SettlementAuditor;
  /** Period of the running status-line timer, ms (NaN without a status sink): what reload_perf_profile re-armed it to. */
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

export async function startSession(opts: SessionOptions): Promise<Session> {
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
async function checkStart(opts: SessionOptions): Promise<void> {
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

async function startParts(opts: SessionOptions, teardown: Teardown): Promise<Session> {
  const { cfg, log } = opts;
  let sim: SimThread | undefined;
  let endpoints: FeedEndpoints;
  let gammaUrl = cfg.venue.gamma_url;
  let engineCfg = cfg;
  if (opts.feeds === 'sim') {
    const session = buildUpDownSession();
    sim = await startSimThread(
      {
      venues: ['polymarket', 'rtds', 'deribit'],
      source: 'recorded',
      seed: opts.seed,
      speed: opts.speed,
      // Listed on the simulator's Gamma lookup: the session discovers and rolls its markets exactly as live does.
      // Gamma's clock is the capture's, like the engine's: a listing resolves a set delay after its window ends there.
      polymarket: { markets: session.markets.map((m) => m.spec), stepMs: STEP_MS, clockStartMs: session.t0Ms, gamma: session.markets.map((m) => opts.listing?.(m.listing) ?? m.listing) },
      rtds: { paths: SESSION_RTDS_FILES },
      deribit: { baseVolatility: 45 },
      },
      cfg.cpu.pin ? cfg.cpu.feeds : -1,
    );
    const started = sim;
    teardown.add('venue simulator', () => started.stop());
    const e = sim.endpoints;
    endpoints = simulatorEndpoints(e);
    gammaUrl = e.polymarket!.restUrl;
    // The session's markets live on the capture's clock (2025-10-29): the engine follows the feed.
    engineCfg = { ...cfg, engine: { ...cfg.engine, clock: 'feed' } };
    log(
      `venue simulator on loopback (thread ${sim.threadId}${cfg.cpu.pin ? `, pinned to core ${cfg.cpu.feeds} beside the feed workers` : ''}): ` +
        `polymarket ${e.polymarket!.wsUrl}, rtds ${e.rtds!.wsUrl}, deribit ${e.deribit!.wsUrl}`,
    );
    log(`session: ${session.markets.length} synthetic BTC Up/Down 5-minute markets following the real Chainlink BTC/USD path of 2025-10-29 (engine/session/data/PROVENANCE.md), listed on the simulator's Gamma`);
  } else {
    endpoints = liveEndpoints(cfg);
  }

  if (cfg.cpu.pin) {
    const tid = native.pinCurrentThread(cfg.cpu.main);
    log(`main thread ${tid} pinned to core ${cfg.cpu.main}; feed workers go to core ${cfg.cpu.feeds}`);
  }

  const feedNames = opts.feeds === 'sim' ? (['polymarket', 'rtds', 'deribit'] as const) : (['polymarket', 'binance', 'rtds', 'deribit'] as const);
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
  const auditor = new SettlementAuditor({
    gammaUrl,
    pollMs: cfg.markets.discovery_poll_ms,
    timeoutMs: cfg.markets.audit_timeout_ms,
    nowMs: () => engine.nowMs(),
    onDisagree: (d, s, winner) => engine.resolve(d, s, winner),
    onAgree: (_d, s) => engine.confirm(s),
    log,
  });
  const hooks: SlotHooks = {
    assign: (slot: number, d: { tokenIds: [string, string] }) => {
      polyFeed.assign(2 * slot, d.tokenIds[0]);
      polyFeed.assign(2 * slot + 1, d.tokenIds[1]);
    },
    release: (slot: number) => {
      polyFeed.release(2 * slot);
      polyFeed.release(2 * slot + 1);
    },
    settled: (d, s) => auditor.watch(d, s),
  };
  const engine = new Engine({ cfg: engineCfg, slots, hooks, hub, polySource, references, volatilities, journalPath: opts.journalPath, log, venue: opts.venue });
  // Until the engine runs there is nothing to cancel or snapshot: closing the journal is all (engine.stop() makes it a no-op later).
  teardown.add('journal', () => engine.journal.close());
  const r = engine.restoredFrom;
  log(`journal ${opts.journalPath}: ${r.records} records replayed, ${r.openOrders} open orders to restore${r.tornTailBytes ? `, torn tail of ${r.tornTailBytes} bytes dropped` : ''}`);
  const metrics = new MetricsRegistry();
  // /control/reload_perf_profile re-arms the status line at its new period (armStatus is set below, before the engine starts).
  let armStatus = (): void => {};
  const handlers = controlHandlers({ view: engineView(engine), commands: engineCommands(engine), metrics: () => metrics.renderPrometheusSliced(), feeds: opts.feeds, mode: cfg.mode, perfChanged: () => armStatus() });
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
    sim,
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
