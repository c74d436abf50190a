// Restart: the orders the journal held open when the previous run stopped.
// The venue that held them died with that process (the paper venue) or may
// still hold them; each goes back, or is cancelled with a journaled
// `restart:` reason, once the engine can judge it (see pass()).

import type { JournalInput } from '../journal/records.js';
import { SlotPhase } from '../markets/slots.js';
import { RiskReason, RISK_REASON_NAMES, type RiskGate, type RiskView } from '../risk/gates.js';
import type { MarketInfo, Order, TokenInfo } from '../trading/types.js';
import type { OrderManager } from './order-manager.js';

/** Wall time a restart gives each order it restores to find its book live and pass the risk gate before it is cancelled. */
export const RESTORE_WAIT_MS = 30_000;
/** Risk refusals a restored order waits out (the book or the rate may come right); any other cancels it. */
const RESTORE_TRANSIENT: ReadonlySet<RiskReason> = new Set([RiskReason.BookStale, RiskReason.BookCrossed, RiskReason.RateLimit, RiskReason.Paused]);

/**
 * The loop's fault handler (runtime/faults.ts), as far as a restart uses it;
 * declared here so the domain does not import the loop.
 */
export interface RestartFaults {
  /** True for a busy book (counted; the work is retried next pass), false for a fault. */
  deferBusy(err: unknown): boolean;
  /** A fault in the executor unit of the loop: counted, kept for /health, trips the kill switch. */
  executorFault(site: string, err: unknown): void;
}

export interface ReinstatementOptions {
  orders: OrderManager;
  risk: RiskGate;
  /** The risk gate's view; it reads the positions of the strategy forStrategy() chose. */
  riskView: RiskView;
  forStrategy: (s: number) => void;
  strategies: readonly { readonly name: string }[];
  tokens: readonly TokenInfo[];
  markets: readonly MarketInfo[];
  /** SlotPhase per market slot. */
  phase: Uint8Array;
  /** The exit parameter set (runtime/params.ts), live: a reload applies to the next pass. */
  exit: () => { readonly cancel_before_end_ms: number };
  faults: RestartFaults;
  record: (rec: JournalInput) => void;
  nowMs: () => number;
  /** Real time for the deadline (the clock's wallMs). */
  wallMs: () => number;
  log: (line: string) => void;
}

export class Reinstatement {
  readonly outcome = { reinstated: 0, cancelled: 0, expired: 0 };
  /** Orders the journal held open at start, not back on the venue yet (copies: the journal's stay its own). */
  private readonly pending: Order[] = [];
  /** Wall ms after which an order still waiting is cancelled. */
  private deadline = 0;

  constructor(private readonly o: ReinstatementOptions) {}

  /** Queues copies of `open`; those still waiting at wall time `deadlineMs` are cancelled. */
  begin(open: Iterable<Order>, deadlineMs: number): void {
    for (const o of open) this.pending.push({ ...o });
    this.deadline = deadlineMs;
  }

  /** Orders still waiting. */
  get waiting(): number {
    return this.pending.length;
  }

  /**
   * The orders a restart found open in the journal. The paper venue died with
   * the previous process, so each goes back under its own id, price and
   * remaining size, once the engine can judge it, in this order:
   *   strategy no longer running              → cancelled, restart:strategy_not_running
   *   market settled or its slot released     → cancelled, restart:market_closed
   *   engine time not known yet (feed clock   → waits
   *     before its first price)
   *   window over, or within                  → cancelled, restart:window_ended
   *     exit.cancel_before_end_ms of its end
   *   GTD past its expiry                     → expired
   *   the risk gate on the remaining size, as any order (its minimum-size rule on the size placed: a partly
   *   filled order rests on with a rest below the minimum, as it would have on the venue):
   *     pass                                  → back on the venue ('restored' record with the book it
   *                                             passed on), at the back of its level like a fresh order
   *     book stale, resyncing or crossed,     → waits for a later pass
   *       rate limit, PAUSED
   *     any other refusal (HALTED, limits,    → cancelled, restart:risk_<reason>
   *       size, price)
   *   still waiting at the deadline (begin()) → cancelled, restart:not_live:<last refusal>
   * Positions and money are the journal's and are not touched: only fills
   * after the order is back move them.
   */
  pass(now: number, clockKnown: boolean): void {
    const expired = this.o.wallMs() >= this.deadline;
    // A fault below may cancel every order (drop) while this walks its own copy.
    for (const o of this.pending.splice(0)) {
      let wait = false;
      try {
        wait = this.reinstateOne(o, now, clockKnown, expired);
      } catch (err) {
        // Once journaled back it is live like any order sent: a busy book met in the venue call never puts it back twice.
        if (this.o.faults.deferBusy(err)) wait = !this.o.orders.isLive(o);
        // Left open in the journal, so the next restart takes it up again.
        else this.o.faults.executorFault(`reinstate(order ${o.id})`, err);
      }
      if (wait) this.pending.push(o);
    }
    if (this.pending.length === 0) {
      const r = this.outcome;
      this.o.log(`restart: ${r.reinstated} open orders back on the paper venue, ${r.cancelled} cancelled (journaled reasons restart:*), ${r.expired} expired`);
    }
  }

  /** True: the order waits for a later pass. */
  private reinstateOne(o: Order, now: number, clockKnown: boolean, expired: boolean): boolean {
    const s = this.o.strategies.findIndex((x) => x.name === o.strategy);
    const m = this.o.tokens[o.token]?.market ?? -1;
    if (s < 0) return this.endRestored(o, 'restart:strategy_not_running');
    if (m < 0 || this.o.phase[m] !== SlotPhase.Active) return this.endRestored(o, 'restart:market_closed');
    if (!clockKnown) return expired ? this.endRestored(o, 'restart:not_live:no_clock') : true;
    if (this.o.markets[m]!.endMs - now < this.o.exit().cancel_before_end_ms) return this.endRestored(o, 'restart:window_ended');
    if (o.type === 'GTD' && o.expiresMs <= now) {
      this.o.record({ type: 'expire', tsMs: now, orderId: o.id });
      this.outcome.expired++;
      return false;
    }
    const remaining = o.size - o.filled;
    // Reports already due land first: a busy book among them throws here, before the order is journaled back.
    this.o.orders.venue.advance(now);
    this.o.forStrategy(s);
    const reason = this.o.risk.check({ token: o.token, side: o.side, price: o.price, size: remaining, type: o.type, postOnly: o.postOnly, expiresMs: o.expiresMs, reason: o.reason }, this.o.riskView, o.size);
    if (reason === RiskReason.Pass) {
      this.o.orders.reinstate(o, s, remaining, this.o.risk.lastTop, now);
      this.outcome.reinstated++;
      return false;
    }
    if (!RESTORE_TRANSIENT.has(reason)) return this.endRestored(o, `restart:risk_${RISK_REASON_NAMES[reason]}`);
    return expired ? this.endRestored(o, `restart:not_live:${RISK_REASON_NAMES[reason]}`) : true;
  }

  private endRestored(o: Order, reason: string): false {
    this.o.record({ type: 'cancel', tsMs: this.o.nowMs(), orderId: o.id, reason });
    this.outcome.cancelled++;
    return false;
  }

  /** Journals every order still waiting to be restored as cancelled (restart:`why`). Never throws: one the journal refuses stays open there, for the next restart. */
  drop(why: string): number {
    let n = 0;
    for (const o of this.pending.splice(0)) {
      try {
        this.endRestored(o, `restart:${why}`);
        n++;
      } catch {
        // The journal is failing (fault() already knows): nothing more to do here.
      }
    }
    return n;
  }
}
