// Why this file is over 600 lines: one matching model, documented in full below (~90 lines); its queue, shadow and latency state share private records (Working, Event) a split would have to export.
// Paper execution: a model of the Polymarket matching engine that answers
// our orders from the real shared books and the public trade feed, so a
// strategy runs unchanged in paper and live. Event-driven, no timers: the
// engine hands in orders, cancels, trades and book changes with its clock,
// and advance(nowMs) delivers whatever the latency model has made due.
//
// Latency. Three delays, each mean ± uniform jitter drawn from one seeded
// PRNG in call order, so the same inputs and seed give the same event
// sequence:
//   post    engine → matching engine for a new order (it matches on arrival)
//   cancel  engine → matching engine for a cancel (the order can still fill
//           until the cancel arrives)
//   ack     matching engine → engine for every report (ack, reject, fill,
//           cancel, expiry)
// Each direction is one FIFO link: a message never overtakes an earlier one
// on the same link (a cancel cannot arrive before its order; a fill report
// never precedes its ack). Venue-side events are processed against the book
// as published when the engine calls in, so the engine should call
// advance(t) before it lets the feed apply a change stamped after t.
//
// Our orders are not in the public book. Everything below is the
// counterfactual "what if they had been":
//
// Queue. A resting order joins the back of its level: size ahead = the
// displayed size at its price and side when it arrives. A public trade at
// that price consumes the size ahead first and fills us with the excess
// (partial fills). A public trade at a worse price means the taker went
// through our price, so we fill up to the traded size. A displayed level
// decrease not explained by trades since the last look is cancels, which
// we take as spread over the level in proportion to size (each resting
// share equally likely to be cancelled): ahead shrinks by
// cancels × ahead / level. That is the linear case of the probabilistic
// queue models in common use (hftbacktest's ProbQueueModel); it sits between
// "cancels are all behind us" (never advances, pessimistic) and "all ahead"
// (optimistic), and needs no per-order data the feed does not have.
// Increases join behind us. The trade that shrank a level must reach
// onTrade before the book change that shows it; when the book comes first
// the drop reads as cancels and the queue advances twice for it.
//
// Taking. FOK/FAK and the crossing part of GTC/GTD walk the opposite levels
// (BookReader.depth) up to the limit, each level at its own price, taker
// fee by the V2 formula; makers pay nothing. A resting order the opposite
// side crosses (best ask ≤ our bid) fills as maker at our price: a real
// seller posting there would have matched us.
//
// Consumed liquidity. What we take stays taken: a shadow per level records
// size consumed by our fills, and only displayed − consumed is available to
// our next order. The feed never removes what we took (it does not know of
// us), so the shadow erodes only as the displayed level shrinks: a drop of
// x removes up to x of the shadow (the public orders we took are gone for
// real), and an increase is new size anyone can take. Two of our orders
// therefore never take the same displayed size, within one book version or
// across versions that leave the level alone.
//
// Sizes: book levels are float shares, converted to micro-shares; fills are
// whole lots (SIZE_LOT), rounded down, so notionals stay exact.
//
// GTD: Order.expiresMs is when the order stops being live. The venue's
// one-minute security threshold (protocols §6.3) is the order builder's
// business when it signs the expiration field.
//
// Market slots (trading/types): a token index is reused by the next market
// of its slot. Orders on a vacant slot's tokens are refused as
// unknown_token, and resetToken() wipes what the executor remembers of a
// token before its new market trades, so no shadow or queue position of the
// old book leaks into the new one.
import { NO_TICK, Side as BookSide } from '../../workers/shared-memory/book-layout.js';
import { POLY_LEVELS } from '../../workers/venues/polymarket/book.js';
import { TopOfBook, type BookReader } from '../../workers/shared-memory/book-reader.js';
import { Prng } from '../../workers/prng.js';
import { number, object, type Infer } from '../config/schema.js';
import {
  feeMicros,
  PRICE_SCALE,
  SIZE_LOT,
  Side,
  UNIT,
  isVacant,
  type ExecutionListener,
  type Fill,
  type Liquidity,
  type MarketInfo,
  type Order,
  type RejectReason,
  type TokenInfo,
} from '../trading/types.js';
import type { ExecutionVenue } from './venue.js';

function delaySchema(what: string, meanMs: number, jitterMs: number) {
  return object(
    {
      meanMs: number({ min: 0, max: 60_000, default: meanMs, description: `mean ${what} delay, ms` }),
      jitterMs: number({ min: 0, max: 60_000, default: jitterMs, description: 'half-width of the uniform jitter around the mean, ms' }),
    },
    { description: `${what} latency` },
  );
}

export const paperParamsSchema = object({
  seed: number({ integer: true, min: 0, max: 0xffff_ffff, default: 1, description: 'seed of the latency jitter' }),
  post: delaySchema('order to matching engine', 50, 15),
  cancel: delaySchema('cancel to matching engine', 50, 15),
  ack: delaySchema('matching engine to engine (every report)', 30, 10),
});
export type PaperParams = Infer<typeof paperParamsSchema>;
type Delay = PaperParams['post'];

const Ev = {
  Arrive: 0,
  CancelArrive: 1,
  Expire: 2,
  Ack: 3,
  Reject: 4,
  Fill: 5,
  Cancelled: 6,
  Expired: 7,
} as const;
type Ev = (typeof Ev)[keyof typeof Ev];

/** How a walk of the opposite book uses what it finds. */
const Walk = { Probe: 0, Dry: 1, Taker: 2, Maker: 3 } as const;
type Walk = (typeof Walk)[keyof typeof Walk];

/** Venue-side state of one order. */
class Working {
  /** Venue-side unfilled size; order.filled lags it by the report delay. */
  remaining: number;
  /** Public size ahead of us at our level, micro-shares. */
  ahead = 0;
  /** Displayed size of our level when last observed, micro-shares. */
  levelSeen = 0;
  /** Public volume traded at our level since levelSeen was taken. */
  traded = 0;
  resting = false;
  /** Another live order had this id when it was submitted. */
  duplicate = false;
  /** Cancelled by resetToken(): whatever is still queued for it is void. */
  voided = false;
  /** Put back by reinstate(): it may carry fills from before; its fill ids carry this tag so they never repeat an earlier run's. */
  readonly fillTag: string;
  fills = 0;
  constructor(
    readonly order: Order,
    fillTag = '',
  ) {
    this.fillTag = fillTag;
    this.remaining = order.size - order.filled;
  }
}

class Event {
  constructor(
    readonly due: number,
    readonly seq: number,
    readonly kind: Ev,
    readonly rec: Working,
    readonly fill: Fill | null,
    readonly reason: RejectReason | null,
  ) {}
}

/** Size our fills took from one displayed level, until the feed shows it gone. */
class Shadow {
  constructor(
    readonly key: number,
    readonly side: BookSide,
    readonly tick: number,
    public displayed: number,
    public consumed: number,
  ) {}
}

/** Binary min-heap on (due, seq): ties leave in scheduling order. */
class EventQueue {
  private readonly heap: Event[] = [];

  peek(): Event | undefined {
    return this.heap[0];
  }

  push(e: Event): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function toMicro(shares: number): number {
  return Math.round(shares * UNIT);
}

function lotFloor(micro: number): number {
  return micro > 0 ? Math.floor(micro / SIZE_LOT) * SIZE_LOT : 0;
}

/** Book side an order of this side rests on (Buy → bids). */
function ownSide(side: Side): BookSide {
  return side === Side.Buy ? BookSide.Bid : BookSide.Ask;
}

function oppositeSide(side: Side): BookSide {
  return side === Side.Buy ? BookSide.Ask : BookSide.Bid;
}

function levelKey(token: number, side: BookSide, tick: number): number {
  return (token * 2 + side) * 16_384 + tick;
}

export interface PaperExecutorOptions {
  books: BookReader;
  /** Read at each order's arrival: tick size, minimum size and fees in force then. */
  markets: readonly MarketInfo[];
  tokens: readonly TokenInfo[];
  params: PaperParams;
  listener: ExecutionListener;
}

export class PaperExecutor implements ExecutionVenue {
  /** Public trades dropped for a bad token, price, size or side. */
  droppedTrades = 0;
  /** Book notifications dropped for a bad token. */
  droppedBooks = 0;
  private readonly books: BookReader;
  private readonly markets: readonly MarketInfo[];
  private readonly tokens: readonly TokenInfo[];
  private readonly params: PaperParams;
  private readonly listener: ExecutionListener;
  private readonly prng: Prng;
  private readonly queue = new EventQueue();
  private readonly byId = new Map<string, Working>();
  /** Resting orders per token, [bids, asks], each best price first then arrival order (time priority). */
  private readonly restingByToken: Working[][][] = [];
  private readonly shadows = new Map<number, Shadow>();
  private readonly shadowsByToken: Shadow[][] = [];
  private eventSeq = 0;
  private upFreeMs = -Infinity;
  private downFreeMs = -Infinity;
  private advancing = false;
  private readonly top = new TopOfBook();
  private readonly depthTicks = new Int32Array(POLY_LEVELS);
  private readonly depthSizes = new Float64Array(POLY_LEVELS);

  constructor(opts: PaperExecutorOptions) {
    this.books = opts.books;
    this.markets = opts.markets;
    this.tokens = opts.tokens;
    this.params = opts.params;
    this.listener = opts.listener;
    this.prng = new Prng(opts.params.seed);
  }

  /**
   * Sends an order. The executor owns its status, filled and ackMs from now
   * on; it must be fresh (status pending, nothing filled).
   */
  submit(order: Order, nowMs: number): void {
    this.advance(nowMs);
    const rec = new Working(order);
    if (this.byId.has(order.id)) rec.duplicate = true;
    else this.byId.set(order.id, rec);
    this.schedule(this.uplink(nowMs, this.params.post), Ev.Arrive, rec, null, null);
    this.advance(nowMs);
  }

  /**
   * Puts back an order a previous run left resting (the venue died with that
   * process): what is left of it travels and arrives exactly like a fresh
   * order of the same id, price and remaining size, so it takes what it
   * crosses, a post-only one that would cross is rejected, and the rest
   * joins the back of its level (the queue position a fresh order gets).
   * The executor owns its status, filled and ackMs from now on; `filled` is
   * what the journal counted; fill ids read `id:<fillTag>-n`, so with a tag
   * unique per run they never collide with an earlier run's.
   */
  reinstate(order: Order, nowMs: number, fillTag: string): void {
    this.advance(nowMs);
    order.status = 'pending';
    const rec = new Working(order, fillTag);
    if (this.byId.has(order.id)) rec.duplicate = true;
    else this.byId.set(order.id, rec);
    this.schedule(this.uplink(nowMs, this.params.post), Ev.Arrive, rec, null, null);
    this.advance(nowMs);
  }

  /**
   * Sends a cancel. False when the order is unknown or already final as far
   * as the engine has been told; a cancel that reaches the venue after the
   * order filled or expired does nothing (the fill or expiry report says why).
   */
  cancel(orderId: string, nowMs: number): boolean {
    this.advance(nowMs);
    const rec = this.byId.get(orderId);
    if (rec === undefined) return false;
    const s = rec.order.status;
    if (s !== 'pending' && s !== 'open') return false;
    this.schedule(this.uplink(nowMs, this.params.cancel), Ev.CancelArrive, rec, null, null);
    this.advance(nowMs);
    return true;
  }

  /** A public trade: `takerSide` Buy lifted asks, Sell hit bids. */
  onTrade(token: number, priceTicks: number, sizeMicro: number, takerSide: Side, nowMs: number): void {
    this.advance(nowMs);
    if (
      this.tokens[token] === undefined ||
      !Number.isInteger(priceTicks) ||
      priceTicks <= 0 ||
      priceTicks >= PRICE_SCALE ||
      !Number.isInteger(sizeMicro) ||
      sizeMicro <= 0 ||
      (takerSide !== Side.Buy && takerSide !== Side.Sell)
    ) {
      this.droppedTrades++;
      return;
    }
    const makerBook = takerSide === Side.Buy ? BookSide.Ask : BookSide.Bid;
    const list = this.restingByToken[token]?.[makerBook];
    if (list === undefined || list.length === 0) return;
    const bids = makerBook === BookSide.Bid;
    let left = sizeMicro;
    let i = 0;
    // Better than the print: the taker went through our price first.
    for (; i < list.length; i++) {
      const rec = list[i]!;
      if (bids ? rec.order.price <= priceTicks : rec.order.price >= priceTicks) break;
      const take = Math.min(rec.remaining, lotFloor(left));
      if (take > 0) {
        left -= take;
        this.fill(rec, rec.order.price, take, 'maker', nowMs);
      }
    }
    // At the print: the taker eats the queue front to back; our earlier
    // orders at the level stand in front of our later ones.
    let oursInFront = 0;
    let oursFilled = 0;
    for (; i < list.length && list[i]!.order.price === priceTicks; i++) {
      const rec = list[i]!;
      const remaining = rec.remaining;
      const front = rec.ahead + oursInFront;
      const take = Math.min(remaining, lotFloor(left - front));
      const publicTaken = Math.min(left, front) - oursFilled;
      if (publicTaken > 0) rec.ahead = Math.max(0, rec.ahead - publicTaken);
      rec.traded += sizeMicro;
      oursInFront += remaining;
      oursFilled += take;
      if (take > 0) this.fill(rec, priceTicks, take, 'maker', nowMs);
    }
    compact(list);
    this.advance(nowMs);
  }

  /** The book of `token` changed: move queues, erode shadows, fill what the other side crossed. */
  onBook(token: number, nowMs: number): void {
    this.advance(nowMs);
    if (this.tokens[token] === undefined) {
      this.droppedBooks++;
      return;
    }
    const shadows = this.shadowsByToken[token];
    if (shadows !== undefined) {
      for (let i = shadows.length - 1; i >= 0; i--) {
        const sh = shadows[i]!;
        this.syncShadow(sh, toMicro(this.books.sizeAt(token, sh.side, sh.tick)));
        if (sh.consumed === 0) {
          this.shadows.delete(sh.key);
          shadows[i] = shadows[shadows.length - 1]!;
          shadows.pop();
        }
      }
    }
    const sides = this.restingByToken[token];
    if (sides === undefined) return;
    for (const list of sides) for (const rec of list) this.requeue(rec);
    let top: TopOfBook | undefined;
    for (const list of sides) {
      if (list.length === 0) continue;
      top ??= this.books.top(token, this.top);
      for (const rec of list) {
        const buy = rec.order.side === Side.Buy;
        const opp = buy ? top.askTick : top.bidTick;
        if (opp === NO_TICK || (buy ? opp > rec.order.price : opp < rec.order.price)) break;
        this.walk(rec, nowMs, Walk.Maker);
      }
      compact(list);
    }
    this.advance(nowMs);
  }

  /**
   * Delivers everything due at or before nowMs, in (time, scheduling) order.
   * Every input above also calls it before its own work (older events first)
   * and after (so a zero-latency model answers at once).
   */
  advance(nowMs: number): void {
    // A listener that submits or cancels from inside a report re-enters here;
    // the outer loop picks its events up.
    if (this.advancing) return;
    this.advancing = true;
    try {
      for (let e = this.queue.peek(); e !== undefined && e.due <= nowMs; e = this.queue.peek()) {
        this.queue.pop();
        this.dispatch(e);
      }
    } finally {
      this.advancing = false;
    }
  }

  /** When advance() next has something to do; Infinity when idle. */
  nextDueMs(): number {
    return this.queue.peek()?.due ?? Infinity;
  }

  /**
   * Forgets everything about `token` (shadow levels, resting orders, queue
   * positions) so the token's next market starts clean. An order still live
   * there is cancelled at once through the listener, and any event still in
   * flight for it is dropped: the engine cancels before a market's end, so
   * normally there is none.
   */
  resetToken(token: number): void {
    const live: Working[] = [];
    for (const rec of this.byId.values()) if (rec.order.token === token) live.push(rec);
    for (const rec of live) {
      if (rec.resting) this.unrest(rec);
      rec.voided = true;
      rec.order.status = 'cancelled';
      this.forget(rec);
      this.listener.onCancel(rec.order);
    }
    const shadows = this.shadowsByToken[token];
    if (shadows !== undefined) {
      for (const sh of shadows) this.shadows.delete(sh.key);
      shadows.length = 0;
    }
    const sides = this.restingByToken[token];
    if (sides !== undefined) for (const list of sides) list.length = 0;
  }

  /** Public size ahead of a resting order, micro-shares; NaN when it is not resting. */
  queueAhead(orderId: string): number {
    const rec = this.byId.get(orderId);
    return rec !== undefined && rec.resting ? rec.ahead : NaN;
  }

  private dispatch(e: Event): void {
    const rec = e.rec;
    if (rec.voided) return;
    const o = rec.order;
    switch (e.kind) {
      case Ev.Arrive:
        this.arrive(rec, e.due);
        return;
      case Ev.CancelArrive:
        if (!rec.resting) return;
        this.unrest(rec);
        this.schedule(this.downlink(e.due), Ev.Cancelled, rec, null, null);
        return;
      case Ev.Expire:
        if (!rec.resting) return;
        this.unrest(rec);
        this.schedule(this.downlink(e.due), Ev.Expired, rec, null, null);
        return;
      case Ev.Ack:
        o.status = 'open';
        o.ackMs = e.due;
        this.listener.onAck(o);
        return;
      case Ev.Reject:
        o.status = 'rejected';
        this.forget(rec);
        this.listener.onReject(o, e.reason!);
        return;
      case Ev.Fill: {
        const f = e.fill!;
        o.filled += f.size;
        if (o.filled >= o.size) {
          o.status = 'filled';
          this.forget(rec);
        }
        this.listener.onFill(f);
        return;
      }
      case Ev.Cancelled:
        o.status = 'cancelled';
        this.forget(rec);
        this.listener.onCancel(o);
        return;
      case Ev.Expired:
        o.status = 'expired';
        this.forget(rec);
        this.listener.onExpire(o);
        return;
    }
  }

  /** The order reaches the matching engine at venue time t. */
  private arrive(rec: Working, t: number): void {
    const o = rec.order;
    let reason: RejectReason | null = rec.duplicate ? 'duplicate_id' : this.check(o, t, rec.fillTag !== '');
    if (reason === null && o.postOnly && this.walk(rec, t, Walk.Probe) > 0) reason = 'post_only_cross';
    if (reason === null && o.type === 'FOK' && this.walk(rec, t, Walk.Dry) < rec.remaining) reason = 'fok_unfilled';
    if (reason !== null) {
      this.schedule(this.downlink(t), Ev.Reject, rec, null, reason);
      return;
    }
    this.schedule(this.downlink(t), Ev.Ack, rec, null, null);
    this.walk(rec, t, Walk.Taker);
    if (rec.remaining === 0) return;
    if (o.type === 'FAK' || o.type === 'FOK') {
      this.schedule(this.downlink(t), Ev.Cancelled, rec, null, null);
      return;
    }
    this.rest(rec, t);
  }

  /** What the venue would refuse, checked on arrival against the market as it is then. */
  private check(o: Order, t: number, restored: boolean): RejectReason | null {
    const token = Number.isInteger(o.token) ? this.tokens[o.token] : undefined;
    const m = token === undefined ? undefined : this.markets[token.market];
    if (m === undefined || isVacant(m)) return 'unknown_token';
    if (o.status !== 'pending' || (restored ? !(o.filled >= 0 && o.filled < o.size) : o.filled !== 0)) return 'invalid_order';
    if (o.side !== Side.Buy && o.side !== Side.Sell) return 'invalid_order';
    const tick = m.tickSize;
    if (!Number.isInteger(o.price) || o.price % tick !== 0 || o.price < tick || o.price > PRICE_SCALE - tick) return 'invalid_order';
    if (!Number.isInteger(o.size) || o.size <= 0 || o.size % SIZE_LOT !== 0 || o.size < m.minSize) return 'invalid_order';
    switch (o.type) {
      case 'GTC':
        return null;
      case 'GTD':
        if (!Number.isFinite(o.expiresMs)) return 'invalid_order';
        return o.expiresMs <= t ? 'expired' : null;
      case 'FOK':
      case 'FAK':
        return o.postOnly ? 'invalid_order' : null;
      default:
        return 'invalid_order';
    }
  }

  /** Joins the back of its level. */
  private rest(rec: Working, t: number): void {
    const o = rec.order;
    const side = ownSide(o.side);
    const level = toMicro(this.books.sizeAt(o.token, side, o.price));
    rec.ahead = level;
    rec.levelSeen = level;
    rec.traded = 0;
    rec.resting = true;
    let sides = this.restingByToken[o.token];
    if (sides === undefined) {
      sides = [[], []];
      this.restingByToken[o.token] = sides;
    }
    const list = sides[side]!;
    const bids = side === BookSide.Bid;
    let i = list.length;
    while (i > 0 && (bids ? list[i - 1]!.order.price < o.price : list[i - 1]!.order.price > o.price)) i--;
    list.splice(i, 0, rec);
    if (o.type === 'GTD') this.schedule(Math.max(o.expiresMs, t), Ev.Expire, rec, null, null);
  }

  private unrest(rec: Working): void {
    const o = rec.order;
    const list = this.restingByToken[o.token]?.[ownSide(o.side)];
    const i = list === undefined ? -1 : list.indexOf(rec);
    if (i >= 0) list!.splice(i, 1);
    rec.resting = false;
  }

  /** Re-reads the order's level: trades explain drops first, the rest is cancels spread pro rata. */
  private requeue(rec: Working): void {
    const o = rec.order;
    const level = toMicro(this.books.sizeAt(o.token, ownSide(o.side), o.price));
    const drop = rec.levelSeen - level;
    if (drop > 0) {
      const byTrades = Math.min(drop, rec.traded);
      const cancels = drop - byTrades;
      const before = rec.levelSeen - byTrades;
      // Rounded down: the queue never advances further than the model says.
      if (cancels > 0 && rec.ahead > 0 && before > 0) rec.ahead = Math.max(0, rec.ahead - Math.floor((cancels * rec.ahead) / before));
      rec.traded = 0;
    } else if (drop < 0) {
      // The level grew: whatever traded is already netted into this size.
      rec.traded = 0;
    }
    if (rec.ahead > level) rec.ahead = level;
    rec.levelSeen = level;
  }

  /**
   * Walks the opposite side up to the order's limit.
   *   Probe: size available at crossing prices, stopping at the first (post-only test)
   *   Dry:   lots that could fill, up to the remaining size, consuming nothing (FOK test)
   *   Taker: fills at each level's price with the taker fee
   *   Maker: fills at the order's own price, no fee (the other side crossed a resting order)
   */
  private walk(rec: Working, t: number, mode: Walk): number {
    const o = rec.order;
    const buy = o.side === Side.Buy;
    const opp = oppositeSide(o.side);
    const n = this.books.depth(o.token, opp, POLY_LEVELS, this.depthTicks, this.depthSizes);
    const want = rec.remaining;
    let got = 0;
    for (let i = 0; i < n && got < want; i++) {
      const tick = this.depthTicks[i]!;
      if (buy ? tick > o.price : tick < o.price) break;
      const displayed = toMicro(this.depthSizes[i]!);
      const key = levelKey(o.token, opp, tick);
      const sh = this.shadows.get(key);
      const avail = sh === undefined ? displayed : this.syncShadow(sh, displayed);
      if (mode === Walk.Probe) {
        if (avail > 0) return avail;
        continue;
      }
      const take = Math.min(lotFloor(avail), want - got);
      if (take <= 0) continue;
      got += take;
      if (mode === Walk.Dry) continue;
      this.consume(o.token, opp, tick, key, sh, displayed, take);
      if (mode === Walk.Taker) this.fill(rec, tick, take, 'taker', t);
      else this.fill(rec, o.price, take, 'maker', t);
    }
    return got;
  }

  private consume(token: number, side: BookSide, tick: number, key: number, sh: Shadow | undefined, displayed: number, take: number): void {
    if (sh === undefined) {
      sh = new Shadow(key, side, tick, displayed, 0);
      this.shadows.set(key, sh);
      (this.shadowsByToken[token] ??= []).push(sh);
    }
    sh.consumed += take;
  }

  /** Erodes the shadow by any drop of the displayed level; returns what is left for us. */
  private syncShadow(sh: Shadow, displayed: number): number {
    if (displayed < sh.displayed) sh.consumed = Math.max(0, sh.consumed - (sh.displayed - displayed));
    sh.displayed = displayed;
    return Math.max(0, displayed - sh.consumed);
  }

  /** A venue-side fill at time t; the report follows on the downlink. Callers iterating a resting list compact it. */
  private fill(rec: Working, price: number, size: number, liquidity: Liquidity, t: number): void {
    const o = rec.order;
    const m = this.markets[this.tokens[o.token]!.market]!;
    rec.remaining -= size;
    if (rec.remaining === 0) rec.resting = false;
    const f: Fill = {
      orderId: o.id,
      strategy: o.strategy,
      token: o.token,
      side: o.side,
      price,
      size,
      fee: liquidity === 'taker' ? feeMicros(price, size, m.feeRate, m.feeExponent) : 0,
      liquidity,
      tsMs: t,
      fillId: rec.fillTag === '' ? `${o.id}:${++rec.fills}` : `${o.id}:${rec.fillTag}-${++rec.fills}`,
    };
    this.schedule(this.downlink(t), Ev.Fill, rec, f, null);
  }

  private forget(rec: Working): void {
    if (this.byId.get(rec.order.id) === rec) this.byId.delete(rec.order.id);
  }

  private schedule(due: number, kind: Ev, rec: Working, fill: Fill | null, reason: RejectReason | null): void {
    this.queue.push(new Event(due, this.eventSeq++, kind, rec, fill, reason));
  }

  private uplink(nowMs: number, d: Delay): number {
    this.upFreeMs = Math.max(nowMs + this.sample(d), this.upFreeMs);
    return this.upFreeMs;
  }

  private downlink(t: number): number {
    this.downFreeMs = Math.max(t + this.sample(this.params.ack), this.downFreeMs);
    return this.downFreeMs;
  }

  /** Whole ms, mean ± uniform jitter, never negative. */
  private sample(d: Delay): number {
    return Math.max(0, Math.round(d.meanMs + (2 * this.prng.next() - 1) * d.jitterMs));
  }
}

/** Drops orders that stopped resting (filled) while a loop walked the list. */
function compact(list: Working[]): void {
  let w = 0;
  for (let r = 0; r < list.length; r++) {
    const rec = list[r]!;
    if (rec.resting) list[w++] = rec;
  }
  list.length = w;
}
