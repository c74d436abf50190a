// VenueSimulator: the programmatic entry point. Starts the selected venues
// on loopback, wires their sources and the shared fault ledger, and exposes
// fault injection, stats and manual stepping to tests.
import { controlHandlers, type ControlResult, type ControlTarget } from './control.js';
import {
  FaultLedger,
  VENUES,
  validateFault,
  validateRandomConfig,
  type ControlRequest,
  type FaultCounts,
  type FaultKind,
  type FaultOptions,
  type FaultRecord,
  type RandomFaultConfig,
  type Venue,
} from './faults.js';
import type { Pacing } from './pacer.js';
import { BinanceVenue, type BinanceOptions, type BinanceSource } from './binance.js';
import { DeribitVenue, type DeribitOptions } from './deribit.js';
import { FaultTargetError, PolymarketVenue, type PmBookSnapshot, type PmMarketInfo, type PolymarketOptions } from './polymarket.js';
import { RtdsVenue } from './rtds.js';
import type { ClobApi } from './clob/api.js';
import {
  CaptureTimeline,
  defaultBinanceCapturePath,
  defaultRtdsPaths,
  loadBinanceCapture,
  loadRtdsRecording,
  RecordedRtdsTimeline,
  DEFAULT_DATA_DIR,
} from './recorded.js';
import { BinanceBookWalk, RtdsPriceWalk } from './scenario.js';
import type { DepthSnapshot } from './binance-types.js';
import type { VenueServer, VenueStats } from './venue.js';

export type SimSource = 'recorded' | 'scenario';

export interface VenueSimulatorOptions {
  /** Venues to serve. Default: all four. */
  readonly venues?: readonly Venue[];
  /**
   * `recorded` replays the Binance and RTDS captures; `scenario` generates
   * everything. Polymarket books and DVOL are always generated (no
   * continuous recording exists). Default `scenario`.
   */
  readonly source?: SimSource;
  /** Seed for every generator and for fault randomness. Default 1. */
  readonly seed?: number;
  /**
   * 1 = original pacing, X = X times faster, Infinity = as fast as clients
   * read, `manual` = nothing is emitted until `advance()`. Default 1.
   */
  readonly speed?: number | 'manual';
  /**
   * A timed replay starts once every venue replaying a capture (RTDS and
   * Binance in `recorded` mode; any venue in `scenario` mode) has a client,
   * all venues at the same instant, instead of at start(): a session replayed
   * far faster than the wall would otherwise lose the minutes of market time
   * its own start-up takes. Default false.
   */
  readonly startWhenConnected?: boolean;
  /** 0 (default) = ephemeral ports; else polymarket = P, binance = P+1, rtds = P+2, deribit = P+3. */
  readonly portBase?: number;
  /** Random faults active from the start. */
  readonly faults?: RandomFaultConfig;
  /** Where the recorded captures live. Default /work/shared/data. */
  readonly dataDir?: string;
  readonly polymarket?: PolymarketOptions;
  readonly binance?: BinanceOptions & {
    /** Scenario mode: generated book parameters. */
    readonly startPrice?: number;
    readonly stepMs?: number;
    readonly symbol?: string;
    /** Recorded mode: capture file (hftbacktest format). */
    readonly capturePath?: string;
  };
  readonly rtds?: {
    /** Scenario mode: update interval per symbol. Default 1000 ms. */
    readonly intervalMs?: number;
    /** Recorded mode: jsonl files to merge. */
    readonly paths?: readonly string[];
  };
  readonly deribit?: DeribitOptions;
  /** Diagnostics (rejected client messages, source exhaustion). Default: silent. */
  readonly log?: (line: string) => void;
}

export interface SimEndpoints {
  readonly polymarket?: { readonly port: number; readonly wsUrl: string; readonly restUrl: string };
  /** Append `/stream?streams=…`, `/public/stream?…`, `/market/stream?…` or `/ws/<stream>` to `wsBaseUrl`. */
  readonly binance?: { readonly port: number; readonly wsBaseUrl: string; readonly restUrl: string; readonly symbol: string };
  readonly rtds?: { readonly port: number; readonly wsUrl: string };
  readonly deribit?: { readonly port: number; readonly wsUrl: string };
  /** Base URL of `/_sim/fault` and `/_sim/stats` (served on every venue port; this is the first). */
  readonly controlUrl: string;
}

export interface SimStats {
  readonly uptimeMs: number;
  readonly source: SimSource;
  readonly seed: number;
  readonly venues: Partial<Record<Venue, VenueStats>>;
  /** Injected faults by venue and kind: one per affected connection, counted when the client could see it. */
  readonly faults: FaultCounts;
  readonly totalFaults: number;
  readonly randomFaults: RandomFaultConfig | null;
  readonly deribitHeartbeatTimeouts: number;
}

const PORT_OFFSET: Readonly<Record<Venue, number>> = { polymarket: 0, binance: 1, rtds: 2, deribit: 3 };

export class VenueSimError extends Error {}

export class VenueSimulator implements ControlTarget {
  private readonly ledger = new FaultLedger();
  private readonly servers = new Map<Venue, VenueServer<unknown>>();
  private readonly venueList: readonly Venue[];
  private readonly seed: number;
  private readonly source: SimSource;
  private readonly pacing: Pacing;
  private readonly log: (line: string) => void;
  private random: RandomFaultConfig | null = null;
  private startedAt = 0;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private endpoints: SimEndpoints | undefined;
  /** Watches for every venue's first client (startWhenConnected). */
  private feedGate: NodeJS.Timeout | undefined;

  constructor(private readonly opts: VenueSimulatorOptions = {}) {
    const venues = opts.venues ?? VENUES;
    if (venues.length === 0) throw new VenueSimError('at least one venue is required');
    for (const v of venues) if (!(VENUES as readonly string[]).includes(v)) throw new VenueSimError(`unknown venue '${String(v)}'`);
    this.venueList = [...new Set(venues)];
    this.seed = opts.seed ?? 1;
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) throw new VenueSimError('seed must be an integer in [0, 2^32)');
    this.source = opts.source ?? 'scenario';
    const speed = opts.speed ?? 1;
    if (speed !== 'manual' && !(typeof speed === 'number' && speed > 0)) {
      throw new VenueSimError(`speed must be > 0, Infinity or 'manual', got ${String(speed)}`);
    }
    this.pacing = speed === 'manual' ? { mode: 'manual' } : { mode: 'timed', speed };
    const portBase = opts.portBase ?? 0;
    if (!Number.isInteger(portBase) || portBase < 0 || portBase > 65535 - 3) throw new VenueSimError('portBase must be 0 or a port ≤ 65532');
    if (opts.faults) {
      const err = validateRandomConfig(opts.faults);
      if (err) throw new VenueSimError(`faults: ${err}`);
    }
    this.log = opts.log ?? (() => {});
  }

  async start(): Promise<SimEndpoints> {
    if (this.state !== 'new') throw new VenueSimError(`start() called on a ${this.state} simulator`);
    this.state = 'starting';
    const deps = { ledger: this.ledger, log: this.log };
    const routes = controlHandlers(this);
    try {
      for (const venue of this.venueList) {
        const server = this.createVenue(venue, deps);
        server.mountControl(routes);
        this.servers.set(venue, server);
        const base = this.opts.portBase ?? 0;
        await server.listen(base === 0 ? 0 : base + PORT_OFFSET[venue]);
      }
    } catch (err) {
      for (const s of this.servers.values()) s.close();
      this.servers.clear();
      this.state = 'stopped';
      throw err;
    }
    this.startedAt = Date.now();
    this.state = 'running';
    if (this.opts.faults) this.setRandomFaults(this.opts.faults);
    if (this.opts.startWhenConnected === true && this.pacing.mode === 'timed') this.startFeedsWhenConnected();
    else for (const s of this.servers.values()) s.startFeed();
    this.endpoints = this.buildEndpoints();
    return this.endpoints;
  }

  /** Closes every listener, connection and timer. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearInterval(this.feedGate);
    for (const s of this.servers.values()) s.close();
    // Let uWS run its close callbacks before reporting closed.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  get urls(): SimEndpoints {
    if (!this.endpoints) throw new VenueSimError('simulator not started');
    return this.endpoints;
  }

  /**
   * Injects a fault into every open connection of `venue` (or changes the
   * venue's state, for `tick_size_change`). Returns the number of
   * connections affected or armed; frame faults are counted when they take
   * effect on the next data frame.
   */
  injectFault(venue: Venue, fault: FaultKind, options: FaultOptions = {}): number {
    const err = validateFault(venue, fault, options);
    if (err) throw new VenueSimError(err);
    return this.server(venue).injectFault(fault, options);
  }

  /** Random faults per data frame per connection; `null` or rate 0 turns them off. */
  setRandomFaults(cfg: RandomFaultConfig | null): void {
    if (cfg) {
      const err = validateRandomConfig(cfg);
      if (err) throw new VenueSimError(err);
      const missing = cfg.venues?.filter((v) => !this.servers.has(v)) ?? [];
      if (missing.length > 0) throw new VenueSimError(`venue(s) not running: ${missing.join(', ')}`);
    }
    this.random = cfg && cfg.rate > 0 ? cfg : null;
    for (const s of this.servers.values()) s.setRandomFaults(this.random);
  }

  /** Manual pacing: emit the next `n` events of `venue`'s source. Returns how many were emitted. */
  advance(venue: Venue, n = 1): number {
    return this.server(venue).advance(n);
  }

  stats(): SimStats {
    const venues: Partial<Record<Venue, VenueStats>> = {};
    for (const [v, s] of this.servers) venues[v] = s.stats();
    const deribit = this.servers.get('deribit');
    return {
      uptimeMs: this.startedAt ? Date.now() - this.startedAt : 0,
      source: this.source,
      seed: this.seed,
      venues,
      faults: this.ledger.counts(),
      totalFaults: this.ledger.totalInjected,
      randomFaults: this.random,
      deribitHeartbeatTimeouts: deribit instanceof DeribitVenue ? deribit.heartbeatTimeoutCount : 0,
    };
  }

  /** Every fault that took effect, in order (the most recent 10 000). */
  faultLog(): readonly FaultRecord[] {
    return this.ledger.log();
  }

  polymarketMarkets(): PmMarketInfo[] {
    return this.polymarket().markets();
  }

  polymarketBook(tokenId: string): PmBookSnapshot | undefined {
    return this.polymarket().book(tokenId);
  }

  /** The CLOB trading API of the polymarket venue: register keys, inspect orders and trades. */
  polymarketClob(): ClobApi {
    return this.polymarket().clob;
  }

  binanceDepth(limit?: number): DepthSnapshot {
    const s = this.server('binance');
    if (!(s instanceof BinanceVenue)) throw new VenueSimError('binance is not running');
    return s.depthSnapshot(limit);
  }

  applyControl(req: ControlRequest): ControlResult {
    try {
      if (req.action === 'random') {
        this.setRandomFaults(req.config);
        return { status: 200, body: { ok: true, randomFaults: this.random } };
      }
      if (!this.servers.has(req.venue)) return { status: 409, body: { error: `venue '${req.venue}' is not running` } };
      const connections = this.injectFault(req.venue, req.fault, req.options);
      return { status: 200, body: { ok: true, venue: req.venue, fault: req.fault, connections } };
    } catch (err) {
      if (err instanceof VenueSimError || err instanceof FaultTargetError) return { status: 400, body: { error: err.message } };
      throw err;
    }
  }

  private startFeedsWhenConnected(): void {
    const servers = [...this.servers.values()];
    const recorded = [...this.servers].filter(([v]) => this.source === 'recorded' && (v === 'rtds' || v === 'binance')).map(([, s]) => s);
    // A generated venue's client may connect only later (the Polymarket feed once it has markets): only the recordings wait for theirs.
    const ready = (): boolean => (recorded.length > 0 ? recorded.every((s) => s.openConnections > 0) : servers.some((s) => s.openConnections > 0));
    this.feedGate = setInterval(() => {
      if (!ready()) return;
      clearInterval(this.feedGate);
      this.feedGate = undefined;
      for (const s of this.servers.values()) s.startFeed();
    }, 2);
  }

  private polymarket(): PolymarketVenue {
    const s = this.server('polymarket');
    if (!(s instanceof PolymarketVenue)) throw new VenueSimError('polymarket is not running');
    return s;
  }

  private server(venue: Venue): VenueServer<unknown> {
    const s = this.servers.get(venue);
    if (!s) throw new VenueSimError(`venue '${venue}' is not running`);
    return s;
  }

  private createVenue(venue: Venue, deps: { ledger: FaultLedger; log: (line: string) => void }): VenueServer<unknown> {
    const dataDir = this.opts.dataDir ?? DEFAULT_DATA_DIR;
    const recorded = this.source === 'recorded';
    switch (venue) {
      case 'polymarket':
        return new PolymarketVenue(deps, this.seed, this.pacing, this.opts.polymarket) as VenueServer<unknown>;
      case 'binance': {
        const bo = this.opts.binance ?? {};
        let source: BinanceSource;
        if (recorded) {
          const capture = loadBinanceCapture(bo.capturePath ?? defaultBinanceCapturePath(dataDir));
          source = { timeline: new CaptureTimeline(capture), seedSnapshot: capture.snapshot, symbol: capture.symbol };
        } else {
          const walk = new BinanceBookWalk({
            seed: this.seed,
            ...(bo.symbol !== undefined ? { symbol: bo.symbol } : {}),
            ...(bo.startPrice !== undefined ? { startPrice: bo.startPrice } : {}),
            ...(bo.stepMs !== undefined ? { stepMs: bo.stepMs } : {}),
          });
          source = { timeline: walk, seedSnapshot: walk.snapshot(Date.now()), symbol: (bo.symbol ?? 'BTCUSDT').toUpperCase() };
        }
        return new BinanceVenue(deps, this.seed, this.pacing, source, bo) as VenueServer<unknown>;
      }
      case 'rtds': {
        const ro = this.opts.rtds ?? {};
        const timeline = recorded
          ? new RecordedRtdsTimeline(loadRtdsRecording(ro.paths ?? defaultRtdsPaths(this.opts.dataDir)))
          : new RtdsPriceWalk(this.seed, ro.intervalMs ?? 1000);
        return new RtdsVenue(deps, this.pacing, timeline) as VenueServer<unknown>;
      }
      case 'deribit':
        return new DeribitVenue(deps, this.seed, this.pacing, this.opts.deribit) as VenueServer<unknown>;
    }
  }

  private buildEndpoints(): SimEndpoints {
    const base = (v: Venue): { port: number; http: string; ws: string } | undefined => {
      const s = this.servers.get(v);
      return s ? { port: s.port, http: `http://127.0.0.1:${s.port}`, ws: `ws://127.0.0.1:${s.port}` } : undefined;
    };
    const pm = base('polymarket');
    const bn = base('binance');
    const rt = base('rtds');
    const db = base('deribit');
    const first = base(this.venueList[0] as Venue) as { http: string };
    const bnServer = this.servers.get('binance');
    return {
      ...(pm ? { polymarket: { port: pm.port, wsUrl: `${pm.ws}/ws/market`, restUrl: pm.http } } : {}),
      ...(bn && bnServer instanceof BinanceVenue ? { binance: { port: bn.port, wsBaseUrl: bn.ws, restUrl: bn.http, symbol: bnServer.symbol } } : {}),
      ...(rt ? { rtds: { port: rt.port, wsUrl: `${rt.ws}/` } } : {}),
      ...(db ? { deribit: { port: db.port, wsUrl: `${db.ws}/ws/api/v2` } } : {}),
      controlUrl: first.http,
    };
  }
}
