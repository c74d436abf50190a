// The engine's parts and how they connect: each part is built here, once,
// from the config and the options, and handed the others it reads or the
// callbacks it reports through. Engine (engine.ts) extends this with the
// loop, the pass and the decisions; the split keeps the wiring, which is
// long and changes with every new part, apart from the loop it serves.

import type { BookReader } from '../../workers/shared-memory/book-reader.js';
import { FeedClock, WallClock, type Clock } from '../clock/clock.js';
import { ClockTimers } from '../clock/timers.js';
import type { Config } from '../config/config.js';
import type { MarketDataHub } from '../feeds/hub.js';
import { OrderManager } from '../execution/order-manager.js';
import { PaperExecutor } from '../execution/paper.js';
import { Reinstatement, RESTORE_WAIT_MS } from '../execution/restart.js';
import type { ExecutionVenue, VenueParts } from '../execution/venue.js';
import type { Journal } from '../journal/journal.js';
import type { JournalInput } from '../journal/records.js';
import type { JournalLedger } from '../journal/ledger.js';
import { JournalWriter } from '../journal/writer.js';
import { MarketSlots, vacantSlots, type SlotHooks } from '../markets/slots.js';
import { MarkoutTracker } from '../portfolio/markouts.js';
import { Portfolio } from '../portfolio/positions.js';
import type { ReferenceFusion } from '../references/fusion.js';
import { References, type ReferenceInput, type VolatilityInput } from '../references/references.js';
import { RiskGate, RISK_REASON_NAMES, type RiskView } from '../risk/gates.js';
import { EngineStateMachine } from '../risk/state.js';
import { createStrategy } from '../strategy/registry.js';
import type { Strategy, StrategyContext } from '../strategy/types.js';
import type { ExecutionListener, MarketInfo, TokenInfo } from '../trading/types.js';
import { decisionViews } from './context.js';
import { DecisionLatency } from './decision-latency.js';
import { DirtySet } from './dirty.js';
import { EventRouter } from './events.js';
import { Faults, FaultSite } from './faults.js';
import { defaultAllocator, type AllocatorParams, type ExitParams, type PerfParams } from './params.js';

export interface EngineOptions {
  cfg: Config;
  /** Market slots (the hub's Polymarket book set holds two books per slot). */
  slots: number;
  hooks?: SlotHooks | undefined;
  hub: MarketDataHub;
  /** Hub source of the Polymarket market channel (books are the hub's Polymarket books). */
  polySource: number;
  references: readonly ReferenceInput[];
  volatilities: readonly VolatilityInput[];
  journalPath: string;
  log: (line: string) => void;
  /** The venue orders go to, reporting to `listener`; the paper venue on the hub's Polymarket books by default. */
  venue?: ((listener: ExecutionListener, parts: VenueParts) => ExecutionVenue) | undefined;
  /** Engine time; by default the wall, or the reference feed's clock with [engine] clock = "feed". */
  clock?: Clock | undefined;
}

export abstract class EngineParts {
  readonly cfg: Config;
  readonly markets: MarketInfo[];
  readonly tokens: TokenInfo[];
  readonly hub: MarketDataHub;
  readonly books: BookReader;
  readonly state = new EngineStateMachine();
  readonly risk: RiskGate;
  readonly portfolio: Portfolio;
  readonly markouts: MarkoutTracker;
  readonly references: References;
  readonly fusion: ReferenceFusion;
  readonly orders: OrderManager;
  readonly strategies: Strategy<unknown>[];
  readonly writer: JournalWriter;
  readonly journal: Journal;
  readonly ledger: JournalLedger;
  /** Mid per token in ticks (NaN: no two-sided book). */
  readonly marks: Float64Array;
  readonly latency: DecisionLatency;
  readonly counts = { events: 0, decisions: 0, ordersSent: 0, cancelsSent: 0, fills: 0, rejects: 0, merges: 0, marketsAdded: 0, settlements: 0, inexactSettlements: 0, corrections: 0, noFreeSlot: 0, busyBookDeferrals: 0 };
  readonly slots: MarketSlots;
  readonly riskRejections = new Float64Array(RISK_REASON_NAMES.length);
  readonly faults: Faults;
  readonly restoredFrom: { records: number; tornTailBytes: number; openOrders: number; warning: string | undefined };
  readonly restart: Reinstatement;
  /** Wall time a restored order may wait for its book (RESTORE_WAIT_MS). */
  restoreWaitMs = RESTORE_WAIT_MS;

  allocator: AllocatorParams = defaultAllocator();
  exit: ExitParams = { cancel_before_end_ms: 3_000 };
  perf: PerfParams;

  readonly clock: Clock;
  /** Timers due at engine time, run by the loop: what a session does every N ms of market time (discovery, the settlement audit). */
  readonly timers: ClockTimers;
  /** The strategy context and the risk gate's view (ctx.strategy selects the strategy both read). */
  readonly ctx: StrategyContext & { strategy: number };
  readonly riskView: RiskView;


  protected readonly dirty: DirtySet;
  protected readonly events: EventRouter;
  protected readonly runTag: string;
  protected readonly log: (line: string) => void;

  constructor(opts: EngineOptions) {
    const { cfg } = opts;
    this.cfg = cfg;
    // Shared by reference with portfolio, markouts, the venue and strategies: slots are replaced in place.
    ({ markets: this.markets, tokens: this.tokens } = vacantSlots(opts.slots));
    this.hub = opts.hub;
    this.log = opts.log;
    if (!opts.hub.polymarket) throw new Error('Engine: the hub has no Polymarket books');
    this.books = opts.hub.polymarket;
    this.clock = opts.clock ?? (cfg.engine.clock === 'feed' ? new FeedClock() : new WallClock());
    this.runTag = this.clock.wallMs().toString(36);
    this.perf = { wait: cfg.engine.wait, status_interval_ms: cfg.engine.status_interval_ms, metrics_window_ms: cfg.engine.metrics_window_ms };
    this.risk = new RiskGate(cfg.risk);
    // Paper sends nothing anywhere: the [live] caps bind what dry-run would send and live sends.
    if (cfg.mode !== 'paper') this.risk.setLiveLimits(cfg.live, () => this.orders.liveCount);
    this.faults = new Faults({ state: this.state, nowMs: () => this.nowMs(), log: this.log, cancelAll: (why) => this.cancelAll(why), counts: this.counts });
    this.timers = new ClockTimers(this.clock, (err) => this.faults.fault(FaultSite.Loop, 'an engine-time timer', err));
    this.portfolio = new Portfolio(this.tokens, this.markets);
    this.markouts = new MarkoutTracker({ tokens: this.tokens, markets: this.markets, params: cfg.toxicity, correctionWindowMs: cfg.markets.audit_timeout_ms });
    this.references = new References(cfg.fusion, opts.references, opts.volatilities, this.log);
    this.fusion = this.references.fusion;
    this.latency = new DecisionLatency(opts.hub.sourceCount);
    this.strategies = cfg.engine.strategies.map((name) => createStrategy(name, cfg.strategy[name as keyof Config['strategy']]));
    this.marks = new Float64Array(this.tokens.length).fill(NaN);

    this.orders = new OrderManager({
      venue: (listener) =>
        opts.venue
          ? opts.venue(listener, { markets: this.markets, tokens: this.tokens, record: (rec) => this.writer.record(rec), nowMs: () => this.nowMs(), fault: (what, err, persistent) => this.venueFault(what, err, persistent) })
          : new PaperExecutor({ books: this.books, markets: this.markets, tokens: this.tokens, params: cfg.paper, listener }),
      strategies: this.strategies.map((x) => x.name),
      tokens: this.tokens.length,
      runTag: this.runTag,
      nowMs: () => this.nowMs(),
      record: (rec) => this.writer.record(rec),
      knownFill: (id) => this.ledger.fillIds.has(id),
      onFill: (f) => this.markouts.onFill(f),
      onCancelError: (err) => {
        if (!this.faults.deferBusy(err)) this.faults.fault(FaultSite.Executor, 'executor.cancel (delivering due reports)', err);
      },
      counts: this.counts,
    });

    // Restore: positions and open orders exactly as journaled before a crash or stop.
    this.writer = JournalWriter.open(opts.journalPath, cfg.journal, cfg.markets.audit_timeout_ms, this.portfolio, this.log);
    this.journal = this.writer.journal;
    this.ledger = this.writer.ledger;
    this.restoredFrom = this.writer.restoredFrom;
    this.slots = new MarketSlots({
      markets: this.markets,
      tokens: this.tokens,
      marks: this.marks,
      ledger: this.ledger,
      portfolio: this.portfolio,
      markouts: this.markouts,
      orders: this.orders,
      hooks: opts.hooks,
      counts: this.counts,
      nowMs: () => this.nowMs(),
      record: (rec) => this.writer.record(rec),
      // Dirty no more: only active slots are.
      onSettled: (m) => this.dirty.close(m),
      log: this.log,
    });
    this.dirty = new DirtySet(this.slots.phase);
    this.events = new EventRouter({
      polySource: opts.polySource,
      tokens: this.tokens,
      markets: this.markets,
      phase: this.slots.phase,
      venue: this.orders.venue,
      dirty: this.dirty,
      references: this.references,
      slots: this.slots,
      clock: this.clock,
      hub: this.hub,
      onClockSource: () => this.onClockSource(),
    });
    ({ ctx: this.ctx, risk: this.riskView } = decisionViews({
      markets: this.markets,
      tokens: this.tokens,
      books: this.books,
      marks: this.marks,
      windowOpen: this.slots.windowOpen,
      portfolio: this.portfolio,
      strategies: this.strategies,
      orders: this.orders,
      markouts: this.markouts,
      references: this.references,
      state: this.state,
      nowMs: () => this.nowMs(),
    }));
    this.restart = new Reinstatement({
      orders: this.orders,
      risk: this.risk,
      riskView: this.riskView,
      forStrategy: (s) => (this.ctx.strategy = s),
      strategies: this.strategies,
      tokens: this.tokens,
      markets: this.markets,
      phase: this.slots.phase,
      exit: () => this.exit,
      faults: this.faults,
      record: (rec) => this.writer.record(rec),
      nowMs: () => this.nowMs(),
      wallMs: () => this.clock.wallMs(),
      log: this.log,
    });
    this.slots.restore(opts.journalPath);
  }

  /** Engine time, Unix ms (the injected Clock). */
  nowMs(): number {
    return this.clock.nowMs();
  }

  /** Cancels every live order and every order still waiting to be restored, journaling `why`. Never throws. */
  private readonly venueFaultsLogged = new Set<string>();

  private venueFault(what: string, err: unknown, persistent: boolean): void {
    if (persistent) return this.faults.executorFault(`venue: ${what} (failing persistently)`, err);
    const message = err instanceof Error ? err.message : String(err);
    // A storm of failures logs each distinct message once; /metrics counts them all (the client's counters).
    if (this.venueFaultsLogged.size < 64 && !this.venueFaultsLogged.has(message)) {
      this.venueFaultsLogged.add(message);
      this.log(`venue: ${what} failed: ${message}`);
    }
  }

  cancelAll(why: string): number {
    return this.orders.cancelAll(why) + this.restart.drop(why);
  }

  /** The reference feed's clock got its first price (EventRouter). */
  protected abstract onClockSource(): void;
}
