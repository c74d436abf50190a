// Order management: the engine's side of every order, between the decision
// and the venue. It journals each order before sending it, keeps the orders
// it believes live (per strategy and token, what StrategyContext.openOrders
// shows), sends cancels with their reason and retries one a failure kept
// from being sent, merges complete sets, and turns the venue's reports
// (acks, fills, cancels, rejects, expiries) into journal records. It knows
// the venue only through ExecutionVenue.
//
// Every record goes through `record`, which journals it and then applies it
// to state: memory never runs ahead of the journal.

import { native } from '../native.js';
import type { TopOfBook } from '../../workers/shared-memory/book-reader.js';
import type { JournalInput, Merge } from '../journal/records.js';
import { LatencyHistogram } from '../metrics/latency.js';
import type { DesiredOrder, ExecutionListener, Fill, Order, RejectReason } from '../trading/types.js';
import type { ExecutionVenue } from './venue.js';

/** Counters the order manager moves (the engine's own counts object, shared). */
export interface OrderCounts {
  ordersSent: number;
  cancelsSent: number;
  fills: number;
  rejects: number;
  merges: number;
}

interface LiveOrder {
  order: Order;
  strategy: number;
  cancelSent: boolean;
  /** Why we cancel it, journaled when the venue confirms; undefined until we ask. */
  cancelReason: string | undefined;
  /** Monotonic ns when the decision sent it: the start of decision_to_ack. */
  sentNs: number;
}

export interface OrderManagerOptions {
  /** Builds the venue that reports to `listener`. */
  venue: (listener: ExecutionListener) => ExecutionVenue;
  /** Strategy names, by strategy index. */
  strategies: readonly string[];
  /** Token count (market slots × 2). */
  tokens: number;
  /** Unique per run: order, merge and fill ids carry it, so no id repeats an earlier run's. */
  runTag: string;
  nowMs: () => number;
  /** Journals a record, then applies it to state; throws when the journal cannot write (nothing applied). */
  record: (rec: JournalInput) => void;
  /** Whether the journal already holds this fill (a duplicate report moves no money). */
  knownFill: (fillId: string) => boolean;
  /** A fresh fill, after its record. */
  onFill: (fill: Fill) => void;
  /** A cancel failed while the venue delivered due reports; the order is retried next pass. */
  onCancelError: (err: unknown) => void;
  counts: OrderCounts;
}

/** The reason journaled for a cancel the venue reports without our asking: the unfilled rest of a FAK or FOK, or the venue's own. */
function unaskedCancel(o: Order): string {
  return o.type === 'FAK' || o.type === 'FOK' ? 'unfilled' : 'venue';
}

/** Index of the desired order that keeps `o` unchanged, or -1 (a loop, not a closure: it runs per decision). */
function matchingDesired(desired: readonly DesiredOrder[], o: Order): number {
  for (let k = 0; k < desired.length; k++) {
    const d = desired[k]!;
    if (d.token === o.token && d.side === o.side && d.price === o.price && d.size === o.size && d.type === o.type && d.postOnly === o.postOnly) return k;
  }
  return -1;
}

export class OrderManager {
  readonly venue: ExecutionVenue;
  /** Decision (order sent to the venue) → its ack processed, monotonic ns. */
  readonly decisionToAck = new LatencyHistogram();
  /** Terminal outcomes by `strategy:outcome` (cancel, expire, reject:<reason>). */
  readonly ordersByOutcome = new Map<string, number>();
  private readonly opts: OrderManagerOptions;
  private readonly live = new Map<string, LiveOrder>();
  /** [strategy][token] → live orders. */
  private readonly liveBy: Order[][][];
  /** Orders whose cancel a failing report delivery may have kept from being sent: sent again next pass. */
  private readonly cancelRetries: LiveOrder[] = [];
  private seq = 0;

  constructor(opts: OrderManagerOptions) {
    this.opts = opts;
    this.liveBy = opts.strategies.map(() => Array.from({ length: opts.tokens }, () => []));
    const { record, nowMs } = opts;
    this.venue = opts.venue({
      onAck: (o) => {
        const l = this.live.get(o.id);
        if (l) this.decisionToAck.recordNs(Number(native.nowNs()) - l.sentNs);
        record({ type: 'ack', tsMs: nowMs(), orderId: o.id, ackMs: o.ackMs, venueId: '' });
      },
      onReject: (o, reason) => this.onTerminal(o, { type: 'reject', tsMs: nowMs(), orderId: o.id, reason }, reason),
      onFill: (f) => this.onFill(f),
      onCancel: (o) => this.onTerminal(o, { type: 'cancel', tsMs: nowMs(), orderId: o.id, reason: this.live.get(o.id)?.cancelReason ?? unaskedCancel(o) }),
      onExpire: (o) => this.onTerminal(o, { type: 'expire', tsMs: nowMs(), orderId: o.id }),
    });
  }

  /** Orders live for strategy `s` on token `t` (the manager's own array: read, do not keep). */
  openOrders(s: number, t: number): readonly Order[] {
    return this.liveBy[s]![t]!;
  }

  /** Orders believed live, copied. */
  liveOrders(): Order[] {
    return [...this.live.values()].map((l) => ({ ...l.order }));
  }

  get liveCount(): number {
    return this.live.size;
  }

  /** Whether `o` (this very object) is live here. */
  isLive(o: Order): boolean {
    return this.live.get(o.id)?.order === o;
  }

  /** Journals and sends a new order of strategy `s`; `book`: the order token's book as the decision read it (records.ts BookProvenance). */
  submit(s: number, d: DesiredOrder, book: Readonly<TopOfBook>): void {
    const now = this.opts.nowMs();
    const order: Order = {
      id: `${this.opts.runTag}-${++this.seq}`,
      strategy: this.opts.strategies[s]!,
      token: d.token,
      side: d.side,
      price: d.price,
      size: d.size,
      filled: 0,
      type: d.type,
      postOnly: d.postOnly,
      expiresMs: d.expiresMs,
      reason: d.reason,
      status: 'pending',
      createdMs: now,
      ackMs: NaN,
    };
    this.opts.record({ type: 'order', tsMs: now, order: { ...order }, bookSeq: book.version, bookFlags: book.flags, bookTsMs: book.exchTsMs });
    this.track(order, s);
    this.opts.counts.ordersSent++;
    this.venue.submit(order, now);
  }

  /** Journals an order of the previous run as restored for its `remaining` size and puts it back on the venue; `book`: what the risk gate passed it on. */
  reinstate(o: Order, s: number, remaining: number, book: Readonly<TopOfBook>, now: number): void {
    this.opts.record({ type: 'restored', tsMs: now, orderId: o.id, remaining, bookSeq: book.version, bookFlags: book.flags, bookTsMs: book.exchTsMs });
    this.track(o, s);
    this.venue.reinstate(o, now, this.opts.runTag);
  }

  /**
   * Keeps strategy `s`'s live orders on `tokens` that `desired` re-emits
   * (removing them from it), cancels the rest with `why`; what is left in
   * `desired` is new.
   */
  reconcile(s: number, tokens: readonly [number, number], desired: DesiredOrder[], why: string): void {
    for (let side = 0; side < 2; side++) {
      const orders = this.liveBy[s]![tokens[side]!]!;
      for (let i = 0; i < orders.length; i++) {
        const o = orders[i]!;
        const k = matchingDesired(desired, o);
        if (k >= 0) desired.splice(k, 1);
        else this.cancel(o, why);
      }
    }
  }

  /** Sends a cancel for `o`, whose confirmation journals `why`; may throw from the venue's due reports (cancelAll guards). */
  cancel(o: Order, why: string): void {
    const l = this.live.get(o.id);
    if (!l || l.cancelSent) return;
    l.cancelReason = why;
    this.venue.cancel(o.id, this.opts.nowMs());
    // Marked only once the venue took it: venue.cancel first delivers due reports, and one that throws there may leave it unsent.
    l.cancelSent = true;
    this.opts.counts.cancelsSent++;
  }

  /** Cancels every live order with `why`; one whose cancel fails is retried next pass, so a fault cannot leave an order resting. Never throws. */
  cancelAll(why: string): number {
    let n = 0;
    for (const l of this.live.values()) {
      if (l.cancelSent) continue;
      n++;
      this.cancelGuarded(l, why);
    }
    return n;
  }

  /** Sends again the cancels a failure kept from being sent (each keeps its first reason). */
  retryCancels(): void {
    if (this.cancelRetries.length === 0) return;
    for (const l of this.cancelRetries.splice(0)) if (this.live.get(l.order.id) === l) this.cancelGuarded(l, l.cancelReason ?? 'retry');
  }

  /** Ends every order on `token` at once (its market closed or its slot is reused); their cancels journal `why`. */
  resetToken(token: number, why: string): void {
    for (const l of this.live.values()) if (l.order.token === token && l.cancelReason === undefined) l.cancelReason = why;
    this.venue.resetToken(token);
  }

  /** Journals a paper merge of `size` complete sets of strategy `s` in market `market` (1 of each token → 1 pUSD). */
  merge(s: number, market: number, tokens: readonly [number, number], size: number): void {
    const merge: Merge = { mergeId: `${this.opts.runTag}-merge-${++this.seq}`, strategy: this.opts.strategies[s]!, market, tokens: [tokens[0], tokens[1]], size };
    this.opts.record({ type: 'merge', tsMs: this.opts.nowMs(), merge });
    this.opts.counts.merges++;
  }

  private track(o: Order, s: number): void {
    this.live.set(o.id, { order: o, strategy: s, cancelSent: false, cancelReason: undefined, sentNs: Number(native.nowNs()) });
    this.liveBy[s]![o.token]!.push(o);
  }

  private cancelGuarded(l: LiveOrder, why: string): void {
    try {
      this.cancel(l.order, why);
    } catch (err) {
      if (!l.cancelSent && !this.cancelRetries.includes(l)) this.cancelRetries.push(l);
      this.opts.onCancelError(err);
    }
  }

  private onFill(f: Fill): void {
    const fresh = !this.opts.knownFill(f.fillId);
    this.opts.record({ type: 'fill', tsMs: this.opts.nowMs(), fill: { ...f } });
    if (!fresh) return;
    this.opts.counts.fills++;
    this.opts.onFill(f);
    const l = this.live.get(f.orderId);
    if (l && l.order.filled >= l.order.size) this.forget(l);
  }

  private onTerminal(o: Order, rec: JournalInput, rejectReason?: RejectReason): void {
    this.opts.record(rec);
    const key = `${o.strategy}:${rec.type === 'reject' ? `reject:${rejectReason}` : rec.type}`;
    this.ordersByOutcome.set(key, (this.ordersByOutcome.get(key) ?? 0) + 1);
    if (rec.type === 'reject') this.opts.counts.rejects++;
    const l = this.live.get(o.id);
    if (l) this.forget(l);
  }

  private forget(l: LiveOrder): void {
    this.live.delete(l.order.id);
    const arr = this.liveBy[l.strategy]![l.order.token]!;
    const i = arr.indexOf(l.order);
    if (i >= 0) arr.splice(i, 1);
  }
}
