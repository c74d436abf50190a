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
// The engine keeps the loop and the pass; the parts and their wiring are
// EngineParts (parts.ts), and each concept is its own part: orders (execution/order-manager.ts, over an ExecutionVenue),
// restart reinstatement (execution/restart.ts), market slots and settlement
// (markets/), reference prices (references/), engine time (clock/), faults,
// dirty tracking, decision latency and the strategy's view (runtime/).

import { BookFlag, NO_TICK } from '../../workers/shared-memory/book-layout.js';
import { BookBusyError, TopOfBook } from '../../workers/shared-memory/book-reader.js';
import type { EventRecord } from '../../workers/shared-memory/event-layout.js';
import type { FaultReport, MarketSlotView } from '../control/view.js';
import type { SlotPhase } from '../markets/slots.js';
import { native } from '../native.js';
import { RiskReason } from '../risk/gates.js';
import { completeSetFactory, mergeableSets } from '../strategy/complete-set.js';
import type { DesiredOrder, MarketDescriptor, Order, Settlement } from '../trading/types.js';
import { eventKindName, FaultSite } from './faults.js';
import type { PerfParams } from './params.js';
import { EngineParts } from './parts.js';

export type { EngineOptions } from './parts.js';

const DAY_MS = 86_400_000;
/** A fault outside the pass's guarded units waits this long before the next turn, so one that repeats every turn does not spin. */
const LOOP_FAULT_BACKOFF_MS = 100;

export class Engine extends EngineParts {
  private readonly desired: DesiredOrder[] = [];
  private readonly top = new TopOfBook();
  private riskCheckedFills = -1;
  private riskCheckedLimit = NaN;
  /** Restored audits not handed to the auditor yet: the feed clock has no price so far (see start()). */
  private auditsAwaitClock = false;
  private running = false;
  private loopDone: Promise<void> | undefined;
  /** The strategy the latest market decision ran last, for the fault's site; -1 before its strategies. */
  private decidingStrategy = -1;

  // ---- lifecycle ----------------------------------------------------------

  /** Whether this run's session start record is in the journal (on the feed clock, from its first price). */
  private sessionStarted = false;

  /** On the feed clock the first price starts the session and hands over the audits that waited for the clock. */
  protected override onClockSource(): void {
    if (!this.sessionStarted) this.recordSessionStart();
    if (this.auditsAwaitClock) {
      this.auditsAwaitClock = false;
      this.slots.resumeAudits();
    }
  }

  private recordSessionStart(): void {
    this.sessionStarted = true;
    this.writer.record({ type: 'session', tsMs: this.nowMs(), event: 'start', note: `session ${this.runTag}` });
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
    this.restart.begin(this.ledger.openOrders.values(), this.clock.wallMs() + this.restoreWaitMs);
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
    try {
      await this.orders.venue.close?.();
      this.orders.venue.advance(this.nowMs());
    } catch (err) {
      this.log(`stopping the venue failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.writer.checkpoint(this.nowMs());
    if (this.sessionStarted) this.writer.record({ type: 'session', tsMs: this.nowMs(), event: 'stop', note: `session ${this.runTag}` });
    this.journal.close();
  }

  /** Never rejects: every turn's error ends in fault(), which does not throw, so stop() is the only place that awaits it. */
  private async loop(): Promise<void> {
    let sinceYield = 0;
    while (this.running) {
      try {
        const n = this.pass();
        this.timers.run();
        this.latency.rotateIfDue(this.clock.wallMs(), this.perf.metrics_window_ms);
        if (n > 0 && ++sinceYield < 64) continue;
        sinceYield = 0;
        if (this.perf.wait === 'spin' || n > 0) {
          // Let I/O (the control plane) run between passes, then poll again.
          await new Promise<void>((r) => setImmediate(r));
          continue;
        }
        const due = Math.min(this.orders.venue.nextDueMs(), this.timers.nextDueMs) - this.nowMs();
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

  /** New perf parameters (/control/reload/perf): a shorter metrics window also cuts the current one short, so the new length holds from now. */
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
      // Every registered strategy has a switch; one registered after the last reload has none yet and stays on.
      const enabled = this.allocator[this.strategies[s]!.name]?.enabled !== false;
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
