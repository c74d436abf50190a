// The decision loop on the main thread. One pass:
//
//   drain every ring ──▶ apply events: trades and books to the venue,
//        │               reference prices to fusion, marks, dirty markets
//        ▼
//   venue advance (acks, fills, cancels land: journal → positions)
//        ▼
//   for each dirty market, each strategy: decide ─▶ reconcile ─▶ risk ─▶ submit/cancel
//        ▼
//   kill switch check; journal checkpoint when due
//
// Nothing in a pass blocks: the loop awaits only between passes (on the
// rings, or a timer for the next venue event), which is where the control
// plane's requests run. A reload therefore always lands between two events,
// never inside one.
//
// A fault in a unit of the pass (one event's handling, one token's mark, the
// venue's due reports, one market's decision, the checkpoint) never ends the
// loop: it trips the kill switch and the loop goes on (faults.ts). The unit
// is not redone: its event is consumed, its dirty flag cleared, and the next
// event tries again.
//
// Every change to orders or money is journaled first and applied to state
// from the journal record (journal/writer.ts, JournalLedger), so a restart
// replays exactly the path the live engine took.
//
// The engine keeps the loop, the pass and the wiring; each concept is its
// own part: orders (execution/order-manager.ts, over an ExecutionVenue),
// restart reinstatement (execution/restart.ts), market slots and settlement
// (markets/), reference prices (references/), engine time (clock/), faults,
// dirty tracking, decision latency and the strategy's view (runtime/).

import { BookFlag, NO_TICK } from '../../workers/book/layout.js';
import { BookBusyError, TopOfBook, type BookReader } from '../../workers/book/reader.js';
import type { EventRecord } from '../../workers/event-layout.js';
import { FeedClock, WallClock, type Clock } from '../clock/clock.js';
import type { Config } from '../config/config.js';
import type { FaultReport, MarketSlotView } from '../control/view.js';
import type { MarketDataHub } from '../data/hub.js';
import { OrderManager } from '../execution/order-manager.js';
import { PaperExecutor } from '../execution/paper.js';
import { Reinstatement, RESTORE_WAIT_MS } from '../execution/restart.js';
import type { ExecutionVenue } from '../execution/venue.js';
import type { Journal } from '../journal/journal.js';
import type { JournalLedger } from '../journal/ledger.js';
import { JournalWriter } from '../journal/writer.js';
import { MarketSlots, SlotPhase, vacantSlots, type SlotHooks } from '../markets/slots.js';
import { native } from '../native.js';
import { MarkoutTracker } from '../portfolio/markouts.js';
import { Portfolio } from '../portfolio/positions.js';
import type { ReferenceFusion } from '../references/fusion.js';
import { References, type ReferenceInput, type VolatilityInput } from '../references/references.js';
import { RiskGate, RiskReason, RISK_REASON_NAMES, type RiskView } from '../risk/gates.js';
import { EngineStateMachine } from '../risk/state.js';
import { completeSetFactory, mergeableSets } from '../strategy/complete-set.js';
import { createStrategy } from '../strategy/registry.js';
import type { Strategy, StrategyContext } from '../strategy/types.js';
import type { DesiredOrder, ExecutionListener, MarketDescriptor, MarketInfo, Order, Settlement, TokenInfo } from '../trading/types.js';
import { decisionViews } from './context.js';
import { DecisionLatency } from './decision-latency.js';
import { DirtySet } from './dirty.js';
import { EventRouter } from './events.js';
import { eventKindName, Faults, FaultSite } from './faults.js';
import type { AllocatorParams, ExitParams, PerfParams } from './params.js';

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
  venue?: ((listener: ExecutionListener) => ExecutionVenue) | undefined;
  /** Engine time; by default the wall, or the reference feed's clock with [engine] clock = "feed". */
  clock?: Clock | undefined;
}

const DAY_MS = 86_400_000;
/** A fault outside the pass's guarded units waits this long before the next turn, so one that repeats every turn does not spin. */
const LOOP_FAULT_BACKOFF_MS = 100;

export class Engine {
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
  readonly journalState: JournalLedger;
  /** Mid per token in ticks (NaN: no two-sided book). */
  readonly marks: Float64Array;
  readonly latency: DecisionLatency;
  readonly counts = { events: 0, decisions: 0, ordersSent: 0, cancelsSent: 0, fills: 0, rejects: 0, merges: 0, marketsAdded: 0, settlements: 0, inexactSettlements: 0, corrections: 0, noFreeSlot: 0, busyBookDeferrals: 0 };
  readonly slots: MarketSlots;
  /** SlotPhase per market slot (the slots' own array). */
  readonly slotPhase: Uint8Array;
  readonly riskRejections = new Float64Array(RISK_REASON_NAMES.length);
  readonly faults: Faults;
  /** Faults caught per FaultSite (the fault handler's own array). */
  readonly faultCounts: Float64Array;
  readonly restoredFrom: { records: number; tornTailBytes: number; openOrders: number; warning: string | undefined };
  readonly restart: Reinstatement;
  /** Open orders of the previous run: put back on the venue, or cancelled with a journaled `restart:` reason (see Reinstatement). */
  readonly restoreOutcome: Reinstatement['outcome'];
  /** Wall time a restored order may wait for its book (RESTORE_WAIT_MS). */
  restoreWaitMs = RESTORE_WAIT_MS;

  allocator: AllocatorParams = { maker: { enabled: true }, complete_set: { enabled: true }, directional: { enabled: true } };
  exit: ExitParams = { cancel_before_end_ms: 3_000 };
  perf: PerfParams;

  readonly clock: Clock;
  /** The strategy context and the risk gate's view (ctx.strategy selects the strategy both read). */
  readonly ctx: StrategyContext & { strategy: number };
  readonly riskView: RiskView;

  private readonly dirty: DirtySet;
  private readonly events: EventRouter;
  private readonly desired: DesiredOrder[] = [];
  private readonly top = new TopOfBook();
  private readonly sessionTag: string;
  private riskCheckedFills = -1;
  private riskCheckedLimit = NaN;
  /** Restored audits not handed to the auditor yet: the feed clock has no price so far (see start()). */
  private auditsAwaitClock = false;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private readonly log: (line: string) => void;
  /** Per strategy, its switch in the allocator table; undefined for a plugin, which the table does not list (always on). */
  private readonly allocated: (keyof AllocatorParams | undefined)[];
  /** The strategy the latest market decision ran last, for the fault's site; -1 before its strategies. */
  private decidingStrategy = -1;

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
    this.sessionTag = this.clock.wallMs().toString(36);
    this.perf = { wait: cfg.engine.wait, status_interval_ms: cfg.engine.status_interval_ms, metrics_window_ms: cfg.engine.metrics_window_ms };
    this.risk = new RiskGate(cfg.risk);
    this.faults = new Faults({ state: this.state, nowMs: () => this.nowMs(), log: this.log, cancelAll: (why) => this.cancelAll(why), counts: this.counts });
    this.faultCounts = this.faults.counts;
    this.portfolio = new Portfolio(this.tokens, this.markets);
    this.markouts = new MarkoutTracker({ tokens: this.tokens, markets: this.markets, params: cfg.toxicity, correctionWindowMs: cfg.markets.audit_timeout_ms });
    this.references = new References(cfg.fusion, opts.references, opts.volatilities, this.log);
    this.fusion = this.references.fusion;
    this.latency = new DecisionLatency(opts.hub.sourceCount);
    this.strategies = cfg.engine.strategies.map((name) => createStrategy(name, cfg.strategy[name as keyof Config['strategy']]));
    this.allocated = this.strategies.map((s) => (Object.hasOwn(this.allocator, s.name) ? (s.name as keyof AllocatorParams) : undefined));
    this.marks = new Float64Array(this.tokens.length).fill(NaN);

    this.orders = new OrderManager({
      venue: opts.venue ?? ((listener) => new PaperExecutor({ books: this.books, markets: this.markets, tokens: this.tokens, params: cfg.paper, listener })),
      strategies: this.strategies.map((x) => x.name),
      tokens: this.tokens.length,
      sessionTag: this.sessionTag,
      nowMs: () => this.nowMs(),
      record: (rec) => this.writer.record(rec),
      knownFill: (id) => this.journalState.fillIds.has(id),
      onFill: (f) => this.markouts.onFill(f),
      onCancelError: (err) => {
        if (!this.faults.deferBusy(err)) this.faults.fault(FaultSite.Executor, 'executor.cancel (delivering due reports)', err);
      },
      counts: this.counts,
    });

    // Restore: positions and open orders exactly as journaled before a crash or stop.
    this.writer = JournalWriter.open(opts.journalPath, cfg.journal, cfg.markets.audit_timeout_ms, this.portfolio, this.log);
    this.journal = this.writer.journal;
    this.journalState = this.writer.ledger;
    this.restoredFrom = this.writer.restoredFrom;
    this.slots = new MarketSlots({
      markets: this.markets,
      tokens: this.tokens,
      marks: this.marks,
      ledger: this.journalState,
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
    this.slotPhase = this.slots.phase;
    this.dirty = new DirtySet(this.slotPhase);
    this.events = new EventRouter({
      polySource: opts.polySource,
      tokens: this.tokens,
      markets: this.markets,
      phase: this.slotPhase,
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
      phase: this.slotPhase,
      exit: () => this.exit,
      faults: this.faults,
      record: (rec) => this.writer.record(rec),
      nowMs: () => this.nowMs(),
      wallMs: () => this.clock.wallMs(),
      log: this.log,
    });
    this.restoreOutcome = this.restart.outcome;
    this.slots.restore(opts.journalPath);
  }

  // ---- clock ------------------------------------------------------------

  /** Engine time, Unix ms (the injected Clock). */
  nowMs(): number {
    return this.clock.nowMs();
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Whether this run's session start record is in the journal (on the feed clock, from its first price). */
  private sessionStarted = false;

  /** On the feed clock the first price starts the session and hands over the audits that waited for the clock. */
  private onClockSource(): void {
    if (!this.sessionStarted) this.recordSessionStart();
    if (this.auditsAwaitClock) {
      this.auditsAwaitClock = false;
      this.slots.resumeAudits();
    }
  }

  private recordSessionStart(): void {
    this.sessionStarted = true;
    this.writer.record({ type: 'session', tsMs: this.nowMs(), event: 'start', note: `session ${this.sessionTag}` });
  }

  /** Queues the orders that were open when the previous run stopped for reinstatement, then runs the loop. */
  start(): void {
    // On the feed clock the session starts at its first price: stamped now, on the wall (over a year past a
    // replayed capture), the record would age every pending audit of the journal past its deadline at restore.
    if (this.clock.known) this.recordSessionStart();
    this.portfolio.startDay(this.marks, Math.floor(this.nowMs() / DAY_MS) * DAY_MS);
    this.slots.subscribeActive();
    // On the feed clock the engine's time is the wall's until the first price: an audit handed over now would
    // time out against it (a recording is months old). Those audits wait for the clock (onClockSource).
    this.auditsAwaitClock = !this.clock.known;
    if (!this.auditsAwaitClock) this.slots.resumeAudits();
    // The paper venue died with the process: the orders it held wait for their books.
    this.restart.begin(this.journalState.openOrders.values(), this.clock.wallMs() + this.restoreWaitMs);
    this.running = true;
    this.latency.startWindow(this.clock.wallMs(), this.perf.metrics_window_ms);
    this.loopDone = this.loop();
  }

  /** Stops the loop, cancels every open order, writes a final snapshot and closes the journal. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loopDone;
    this.cancelAll('shutdown');
    this.restart.drop('shutdown');
    // Cancels travel with latency: let the paper venue deliver them.
    const deadline = this.clock.wallMs() + 2_000;
    while (this.orders.liveCount > 0 && this.clock.wallMs() < deadline) {
      this.orders.venue.advance(this.nowMs());
      if (this.orders.liveCount === 0) break;
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, this.orders.venue.nextDueMs() - this.nowMs()))));
    }
    this.writer.checkpoint(this.nowMs());
    if (this.sessionStarted) this.writer.record({ type: 'session', tsMs: this.nowMs(), event: 'stop', note: `session ${this.sessionTag}` });
    this.journal.close();
  }

  /** Never rejects: every turn's error ends in fault(), which does not throw, so stop() is the only place that awaits it. */
  private async loop(): Promise<void> {
    let sinceYield = 0;
    while (this.running) {
      try {
        const n = this.pass();
        this.latency.rotateIfDue(this.clock.wallMs(), this.perf.metrics_window_ms);
        if (n > 0 && ++sinceYield < 64) continue;
        sinceYield = 0;
        if (this.perf.wait === 'spin' || n > 0) {
          // Let I/O (the control plane) run between passes, then poll again.
          await new Promise<void>((r) => setImmediate(r));
          continue;
        }
        const due = this.orders.venue.nextDueMs() - this.nowMs();
        await this.hub.waitForData(Math.max(1, Math.min(50, Number.isFinite(due) ? due : 50)));
      } catch (err) {
        // pass() guards its units; this is everything else (the kill-switch check, the window rotation, the waits) or a bug in a guard.
        this.faults.fault(FaultSite.Loop, 'the decision loop', err);
        await new Promise<void>((r) => setTimeout(r, LOOP_FAULT_BACKOFF_MS));
      }
    }
  }

  /**
   * One pass of the loop; returns the number of events drained. A book its
   * writer holds inside a batch past the reader's budget (BookBusyError)
   * defers only the work that read it: the token or market stays dirty and
   * the next pass reads the book again. Any other error in a unit is a fault
   * (see fault()): the unit's dirty flag is cleared and the pass goes on.
   * Only an active slot is ever dirty (DirtySet), so the loops need
   * not ask.
   */
  pass(): number {
    this.orders.retryCancels();
    let n = 0;
    try {
      n = this.hub.drain(this.onEvent);
    } catch (err) {
      // Each event's handling is guarded in onEvent: this is the hub itself.
      this.faults.fault(FaultSite.Drain, 'hub.drain', err);
    }
    this.counts.events += n;
    const now = this.nowMs();
    const dirty = this.dirty;
    for (let t = 0; t < dirty.token.length; t++) {
      if (dirty.token[t] === 0) continue;
      try {
        this.updateMark(t, now);
        this.orders.venue.onBook(t, now);
      } catch (err) {
        if (this.faults.deferBusy(err)) continue;
        this.faults.fault(FaultSite.Mark, `mark(token ${t})`, err);
      }
      dirty.token[t] = 0;
    }
    try {
      this.orders.venue.advance(now);
    } catch (err) {
      // The paper venue pops each report before delivering it: the one that failed is not delivered again.
      if (!this.faults.deferBusy(err)) this.faults.fault(FaultSite.Executor, 'executor.advance', err);
    }
    try {
      this.markouts.advance(now);
    } catch (err) {
      this.faults.fault(FaultSite.Mark, 'markouts.advance', err);
    }
    // Before the decisions: a restored order is live (and the strategy sees it) before its market decides again.
    if (this.restart.waiting > 0) this.restart.pass(now, this.clock.known);
    for (let m = 0; m < this.markets.length; m++) {
      if (dirty.market[m] === 0) continue;
      try {
        this.decide(m, dirty.sinceNs[m]!, dirty.source[m]!);
      } catch (err) {
        if (this.faults.deferBusy(err)) continue;
        const s = this.decidingStrategy;
        this.faults.fault(FaultSite.Decide, `decide(market ${m}, ${s < 0 ? 'before its strategies' : `strategy ${this.strategies[s]!.name}`})`, err);
      }
      dirty.clean(m);
    }
    // PnL moves only with marks (events) and fills; a spinning loop's empty passes skip the sum over every position (5 % of the main thread, profiled).
    const limit = this.risk.dailyLossLimitMicros;
    const pnlMayMove = n > 0 || this.counts.fills !== this.riskCheckedFills || limit !== this.riskCheckedLimit;
    this.riskCheckedFills = this.counts.fills;
    this.riskCheckedLimit = limit;
    // Acts once, when the switch trips: latched, it stays HALTED (risk refuses every order) until a resume.
    if (pnlMayMove && !this.state.killSwitchLatched && this.state.checkDailyLoss(this.portfolio.dailyPnl(this.marks), limit, now)) {
      this.log(`kill switch: daily loss beyond ${this.risk.params().daily_loss_limit} pUSD (the limit in force); HALTED, cancelling every order`);
      this.cancelAll('kill_switch');
    }
    try {
      this.writer.checkpointIfDue(now);
    } catch (err) {
      this.faults.fault(FaultSite.Checkpoint, 'checkpoint', err);
    }
    return n;
  }

  /** Faults since start and the last one, for /health. */
  faultReport(): FaultReport {
    return this.faults.report();
  }

  /** New perf parameters (reload_perf_profile): a shorter metrics window also cuts the current one short, so the new length holds from now. */
  setPerf(p: PerfParams): void {
    this.perf = p;
    this.latency.setWindowMs(this.clock.wallMs(), p.metrics_window_ms);
  }

  // ---- events ---------------------------------------------------------------

  /**
   * The hub's handler. A fault is this event's alone: it is consumed (the hub
   * never redelivers one) and the drain goes on with the next, so a bad
   * event cannot starve the rings behind it.
   */
  private readonly onEvent = (e: EventRecord, source: number): void => {
    try {
      this.events.apply(e, source);
    } catch (err) {
      // The hub counts a BookBusyError and skips the event's decision.
      if (err instanceof BookBusyError) throw err;
      this.faults.fault(FaultSite.Drain, `event handler (source ${this.hub.sourceName(source)}, ${eventKindName(e.kind)} event)`, err);
    }
  };

  private updateMark(t: number, now: number): void {
    this.books.top(t, this.top);
    const tp = this.top;
    const ok = tp.bidTick !== NO_TICK && tp.askTick !== NO_TICK && (tp.flags & (BookFlag.Crossed | BookFlag.Resyncing)) === 0;
    const mid = ok ? (tp.bidTick + tp.askTick) / 2 : NaN;
    this.marks[t] = mid;
    if (ok) this.markouts.onMid(t, mid, now);
  }

  // ---- decisions ------------------------------------------------------------

  private decide(m: number, sinceNs: number, source: number): void {
    const market = this.markets[m]!;
    const now = this.nowMs();
    this.decidingStrategy = -1;
    // The window's opening price is the fused reference at its start (or the first we saw after it).
    if (Number.isNaN(this.slots.windowOpen[m]!) && market.underlying !== '' && now >= market.startMs) {
      const ref = this.fusion.price(market.underlying, now);
      if (ref) this.slots.windowOpen[m] = ref.price;
    }
    for (let s = 0; s < this.strategies.length; s++) {
      const t0 = Number(native.nowNs());
      this.ctx.strategy = s;
      this.decidingStrategy = s;
      const out = this.desired;
      out.length = 0;
      // Disabled by the allocator, or too close to the window's end: nothing resting (reconcile cancels).
      const switchName = this.allocated[s];
      const enabled = switchName === undefined || this.allocator[switchName].enabled;
      const ending = market.endMs - now < this.exit.cancel_before_end_ms;
      if (enabled && !ending) this.strategies[s]!.decide(this.ctx, m, out);
      this.orders.reconcile(s, market.tokens, out, !enabled ? 'allocator_off' : ending ? 'window_end' : 'requote');
      for (let i = 0; i < out.length; i++) this.send(s, out[i]!);
      const t1 = Number(native.nowNs());
      this.latency.record(t0, t1, sinceNs, source);
      this.counts.decisions++;
      if (this.strategies[s]!.name === completeSetFactory.name) this.mergeSets(s, m);
    }
  }

  private send(s: number, d: DesiredOrder): void {
    const reason = this.risk.check(d, this.riskView);
    if (reason !== RiskReason.Pass) {
      this.riskRejections[reason]!++;
      return;
    }
    this.orders.submit(s, d, this.risk.lastTop);
  }

  /** Cancels every live order and every order still waiting to be restored, journaling `why`. Never throws. */
  cancelAll(why: string): number {
    return this.orders.cancelAll(why) + this.restart.drop(why);
  }

  /** Paper merge of complete sets a complete-set strategy holds: 1 Up + 1 Down → 1 pUSD. */
  private mergeSets(s: number, m: number): void {
    this.ctx.strategy = s;
    const n = mergeableSets(this.ctx, m);
    if (!(n > 0)) return;
    this.orders.merge(s, m, this.markets[m]!.tokens, n);
  }

  // ---- control ----------------------------------------------------------------

  /** The slot table, for /state/markets. */
  marketSlots(): MarketSlotView[] {
    return this.slots.view();
  }

  /** Orders the engine believes live, for /state/orders. */
  liveOrders(): Order[] {
    return this.orders.liveOrders();
  }

  /** Marks every market dirty, so parameter changes show on the next pass even in a quiet market. */
  touchAll(): void {
    this.dirty.touchAll();
  }

  // ---- market slots -----------------------------------------------------------

  /** A discovered market (MarketSlots.addMarket). */
  addMarket(d: MarketDescriptor): boolean {
    return this.slots.addMarket(d);
  }

  /** Market slots in `phase`. */
  slotsIn(phase: SlotPhase): number {
    return this.slots.count(phase);
  }

  /** The venue resolved `market` the other way (MarketSlots.resolve). */
  resolve(market: MarketDescriptor, s: Readonly<Settlement>, winner: 0 | 1): boolean {
    return this.slots.resolve(market, s, winner);
  }

  /** The venue resolved `s`'s market as the engine settled it (MarketSlots.confirm). */
  confirm(s: Readonly<Settlement>): boolean {
    return this.slots.confirm(s);
  }
}
