// Why this file is over 600 lines: one order lifecycle (post, cancel, fills read from trades, a lapsed heartbeat, close), whose ordering rules must be read together.
// The live venue: the engine's orders on the Polymarket CLOB V2 through the
// REST client (client.ts), behind the same ExecutionVenue seam as paper and
// dry-run. Orders are signed exactly as dry-run journals them (intent.ts).
//
// Timing. submit() and cancel() only queue: the requests of one pass leave
// together on the next microtask (one POST /orders of up to 15 orders, one
// DELETE /orders, or DELETE /cancel-all when every order is being
// cancelled), and their answers become reports that advance() delivers
// between two events, like every other venue's.
//
// What counts as a fill. This part of live trading learns of fills from
// GET /data/trades, polled while anything rests or matched: a taker fill is a
// trade whose taker order is ours, a maker fill a `maker_orders` entry of
// ours, each counted once by trade id, bucket and order. A trade the venue
// reports FAILED books nothing. Before a cancel or an unfilled remainder is
// reported, the trades are read once more, so no fill can arrive for an
// order the engine already closed.
//
// Every request body and every answer is journaled (venue_request,
// venue_response) before it moves any state, without secrets or headers.

import type { ExecutionVenue, VenueCounters } from '../../../execution/venue.js';
import type { JournalInput, VenueMethod, VenueOrderStatus } from '../../../journal/records.js';
import type { OrderSigner } from '../../../native.js';
import { PolyedgeError } from '../../../errors.js';
import { feeMicros, PRICE_SCALE, Side, UNIT, type ExecutionListener, type Fill, type MarketInfo, type Order, type RejectReason, type TokenInfo } from '../../../trading/types.js';
import { buildSignedOrder, type BuiltOrder } from '../order/build.js';
import { chunks, ClobClient, MAX_BATCH_ORDERS, type OrderSource } from './client.js';
import { ClobError } from './transport.js';
import { signOrder, type orderIntent, type VenueSigning } from './intent.js';
import { Report, VenueReports } from './reports.js';
import type { PostOrderResult, Trade } from './responses.js';

/** Consecutive failed requests (after the client's own retries) that make a persistent failure: the venue reports it as a fault. */
export const MAX_CONSECUTIVE_FAILURES = 3;
/** How long a closed order's trades are still looked for: a trade the venue matched before the close but listed after it. */
const RETIRED_KEEP_MS = 60_000;
const CANCEL_RETRY_BASE_MS = 100;
const CANCEL_RETRY_MAX_MS = 5_000;
/** How often the trades are read while an order rests or has matched. */
export const DEFAULT_TRADE_POLL_MS = 500;

export interface LiveVenueOptions {
  client: ClobClient;
  /** From POLY_PRIVATE_KEY (cli/sign.ts signerFromEnv): the key never becomes a JS string. */
  signer: OrderSigner;
  /** The API key the orders belong to (POLY_API_KEY). */
  owner: string;
  signing: VenueSigning;
  markets: readonly MarketInfo[];
  tokens: readonly TokenInfo[];
  listener: ExecutionListener;
  /** Journals a record; throws when the journal cannot write (the order is then not sent). */
  record: (rec: JournalInput) => void;
  /** Engine time, ms. */
  nowMs: () => number;
  /** A request failed after the client's retries; persistent failure trips the kill switch through this. */
  fault: (what: string, err: unknown, persistent: boolean) => void;
  log: (line: string) => void;
  /** One line per request for a debug log; undefined = none. */
  debug?: ((line: string) => void) | undefined;
  tradePollMs?: number;
  /** The dead-man switch's heartbeats (heartbeat.ts): no order is sent while they may have lapsed; stopped at close. */
  heartbeat?: { stale(): boolean; stop(): void } | undefined;
}

const enum Stage {
  /** POST sent, no answer yet. */
  Posting,
  /** Acked and resting on the book. */
  Resting,
  /** Matched on entry (wholly, or a FAK/FOK in part): waiting for its trades. */
  Matched,
  /** Cancel sent, no answer yet. */
  Cancelling,
}

interface Entry {
  order: Order;
  hash: string;
  tokenId: string;
  stage: Stage;
  /** The engine asked for a cancel while the POST was in flight, or a cancel failed: send one when possible. */
  cancelWanted: boolean;
  /** Shares the entry match took (micro), from the POST answer; the order closes once its trades add up to this. */
  matchedMicro: number;
  /** The rest is cancelled once the matched part is booked (FAK/FOK, and an order the venue left unmatched). */
  closeAfterMatch: boolean;
  /** Filled as the venue's trades say (micro); order.filled catches up as the reports are delivered. */
  venueFilled: number;
  /** A cancel that failed is sent again from this engine time on, backing off per failure. */
  cancelRetryAtMs: number;
  cancelFailures: number;
  /** What POST /orders sends: the signed order, re-signed if the CLOB's order version changes. */
  source: OrderSource;
}


/** Venue error text → the engine's reject reason. */
export function rejectReasonOf(errorMsg: string): RejectReason {
  const m = errorMsg.toLowerCase();
  if (m.includes('post-only') || m.includes('post only') || m.includes('cross')) return 'post_only_cross';
  if (m.includes('expir')) return 'expired';
  if (m.includes('fok') || m.includes('fully filled') || m.includes('fill or kill')) return 'fok_unfilled';
  if (m.includes('duplicate')) return 'duplicate_id';
  return 'invalid_order';
}

/** A decimal string of shares or dollars as micro-units; NaN when it is not one. */
function micros(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) return NaN;
  const [whole, frac = ''] = text.split('.');
  return Number(whole) * UNIT + Number((frac + '000000').slice(0, 6));
}

/** A price decimal string as 1e-4 grid ticks; NaN off the grid. */
function ticks(text: string): number {
  const t = Number(text) * PRICE_SCALE;
  const r = Math.round(t);
  return Math.abs(t - r) < 1e-6 && r > 0 && r < PRICE_SCALE ? r : NaN;
}

export class LiveVenue implements ExecutionVenue {
  private readonly o: LiveVenueOptions;
  private readonly byId = new Map<string, Entry>();
  private readonly byHash = new Map<string, Entry>();
  /** Orders closed in the last RETIRED_KEEP_MS (wall), by hash: their late-read trades still book. */
  private readonly retired = new Map<string, { e: Entry; untilMs: number }>();
  private readonly reports: VenueReports;
  private posts: Entry[] = [];
  private cancels: Entry[] = [];
  private flushScheduled = false;
  /** Fills counted, by `trade:bucket:order hash`. */
  private readonly seenFills = new Set<string>();
  /** Highest match_time seen (the venue's unit), the next poll's `after`. */
  private lastMatchTime = NaN;
  private polling: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;
  /** The listing after lost heartbeats: cancels wait for it, so what it shows gone was the venue's doing. */
  private reconciling: Promise<void> | undefined;
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();
  readonly counts: { posts: number; cancels: number; cancelAlls: number; tradePolls: number; failures: number; rejects: number; readonly client: VenueCounters['client'] };

  constructor(opts: LiveVenueOptions) {
    if (!opts.owner) throw new PolyedgeError('PE_ENV_MISSING', 'POLY_API_KEY: live trading needs the API key the orders belong to', 'POLY_API_KEY');
    this.o = opts;
    this.reports = new VenueReports(opts.listener);
    // The client's counters object is the transport's own, moved in place: the metrics read it live.
    this.counts = { posts: 0, cancels: 0, cancelAlls: 0, tradePolls: 0, failures: 0, rejects: 0, client: opts.client.counters };
  }

  get counters(): VenueCounters {
    return this.counts;
  }

  submit(order: Order, nowMs: number): void {
    if (order.status !== 'pending' || order.filled !== 0) return this.push(Report.Reject, order, 'invalid_order');
    this.place(order, order.size, nowMs);
  }

  /**
   * A previous run's order is not posted again: start-up cancelled everything
   * at the venue, and what it filled meanwhile is unknown here, so a re-post
   * would trade on a stale position. It is reported cancelled.
   */
  reinstate(order: Order): void {
    this.push(Report.Cancel, order, undefined);
  }

  cancel(orderId: string): boolean {
    const e = this.byId.get(orderId);
    if (e === undefined) return false;
    // A GTC/GTD matched in part on entry rests with its remainder: that is cancelled now, its trades still book.
    const restingRest = e.stage === Stage.Matched && !e.closeAfterMatch;
    if (e.stage === Stage.Posting || (e.stage === Stage.Matched && !restingRest)) {
      e.cancelWanted = true;
    } else if (e.stage === Stage.Resting || restingRest) {
      e.stage = Stage.Cancelling;
      this.cancels.push(e);
      this.scheduleFlush();
    }
    return true;
  }

  advance(nowMs: number): void {
    for (const e of this.byId.values()) {
      if (e.cancelWanted && e.stage === Stage.Resting && nowMs >= e.cancelRetryAtMs) {
        e.cancelWanted = false;
        e.stage = Stage.Cancelling;
        this.cancels.push(e);
        this.scheduleFlush();
      }
    }
    this.deliver();
  }

  nextDueMs(): number {
    if (this.reports.size > 0) return this.o.nowMs();
    let next = Infinity;
    for (const e of this.byId.values()) if (e.cancelWanted && e.stage === Stage.Resting && e.cancelRetryAtMs < next) next = e.cancelRetryAtMs;
    return next;
  }

  resetToken(token: number): void {
    this.deliver();
    let tokenId = '';
    for (const e of [...this.byId.values()]) {
      if (e.order.token !== token) continue;
      tokenId = e.tokenId;
      this.forget(e);
      e.order.status = 'cancelled';
      this.o.listener.onCancel(e.order);
    }
    // The market closed: the venue ends its orders too; this makes sure nothing of ours stays on that book.
    if (tokenId !== '') this.track(this.request('DELETE /cancel-market-orders', () => this.o.client.cancelMarketOrders({ asset_id: tokenId })));
  }

  onTrade(): void {}

  onBook(): void {}

  queueAhead(): number {
    return NaN;
  }

  get openCount(): number {
    return this.byId.size;
  }

  /**
   * The end of the session (and what a restart does first): DELETE
   * /cancel-all, then open orders listed until none is left (cancelling any
   * the listing still shows), the trades read a last time, the client closed.
   * Resolves with how many orders were still open at the last listing.
   */
  async close(): Promise<number> {
    this.closed = true;
    this.o.heartbeat?.stop();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await Promise.allSettled([...this.inflight]);
    let open = NaN;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (attempt === 0) {
          this.counts.cancelAlls++;
          await this.o.client.cancelAll();
        }
        const left = await this.o.client.openOrders();
        open = left.length;
        if (open === 0) break;
        await this.o.client.cancelOrders(left.map((x) => x.id));
      } catch (err) {
        this.o.fault('cancel-all at stop', err, false);
      }
    }
    await this.pollTrades().catch((err: unknown) => this.o.fault('reading trades at stop', err, false));
    for (const e of [...this.byId.values()]) {
      this.forget(e);
      this.push(Report.Cancel, e.order, undefined);
    }
    this.deliver();
    const c = this.counts;
    this.o.log(
      `live: stopped: ${c.posts} orders posted, ${c.cancels} cancels, ${c.cancelAlls} cancel-alls, ${c.rejects} rejected, ${c.failures} failed requests; ` +
        `${Number.isNaN(open) ? 'open orders could not be listed' : `${open} orders open on the CLOB`} after DELETE /cancel-all`,
    );
    await this.o.client.close();
    return open;
  }

  /**
   * Heartbeats stopped getting through: the venue has probably cancelled
   * every order of ours, so none is taken as resting on our word. The open
   * orders are listed, then the trades read (a fill before the venue's
   * cancel is booked), and each order the listing no longer showed is
   * reported cancelled. The kill switch that trips next cancels the rest,
   * its requests held until the listing is in.
   */
  onHeartbeatLost(): void {
    if (this.closed || this.reconciling !== undefined) return;
    this.reconciling = (async () => {
      const open = await this.request('GET /data/orders', () => this.o.client.openOrders());
      const still = new Set(open.map((x) => x.id));
      const gone = [...this.byId.values()].filter((e) => (e.stage === Stage.Resting || e.stage === Stage.Cancelling) && !still.has(e.hash));
      await this.pollTrades();
      for (const e of gone) {
        if (!this.byId.has(e.order.id)) continue;
        this.forget(e);
        this.push(Report.Cancel, e.order, undefined);
      }
      // Closed here: the held cancels go for what the listing still showed.
      this.cancels = this.cancels.filter((e) => this.byId.has(e.order.id));
      this.o.log(`live: heartbeats lost: ${gone.length} resting orders no longer open on the CLOB (cancelled by the venue), ${open.length} still open; trades read before any was reported cancelled`);
    })().finally(() => {
      this.reconciling = undefined;
      if (this.cancels.length > 0) this.scheduleFlush();
    });
    this.track(this.reconciling);
  }

  // ---- sending ----------------------------------------------------------------

  private place(order: Order, size: number, nowMs: number): void {
    if (this.closed || this.byId.has(order.id)) return this.push(Report.Reject, order, this.closed ? 'invalid_order' : 'duplicate_id');
    // The venue may have cancelled everything of ours and the engine is about to halt: nothing is posted on a stale picture.
    if (this.o.heartbeat?.stale() === true) return this.push(Report.Reject, order, 'invalid_order');
    const signed = signOrder(order, size, nowMs, this.o, this.o.debug && ((l) => this.o.debug!(`live: ${l}`)));
    if (typeof signed === 'string') return this.push(Report.Reject, order, signed);
    const { built, intent } = signed;
    const e: Entry = { order, hash: built.hash, tokenId: signed.tokenId, stage: Stage.Posting, cancelWanted: false, matchedMicro: 0, closeAfterMatch: false, venueFilled: order.filled, cancelRetryAtMs: 0, cancelFailures: 0, source: () => built };
    e.source = (version) => this.resign(e, built, intent, version, nowMs);
    this.journalRequest(order.id, 'POST', '/order', JSON.stringify(built.body), built.hash, nowMs);
    this.byId.set(order.id, e);
    this.byHash.set(e.hash, e);
    this.posts.push(e);
    this.scheduleFlush();
  }

  /** The CLOB moved to another order version: the same order signed for it, journaled as the request it now is. */
  private resign(e: Entry, first: BuiltOrder, intent: ReturnType<typeof orderIntent>, version: 2 | 3, nowMs: number): BuiltOrder {
    if (version === intent.version) return first;
    const built = buildSignedOrder(this.o.signer, { ...intent, version }, nowMs);
    this.byHash.delete(e.hash);
    e.hash = built.hash;
    this.byHash.set(e.hash, e);
    this.journalRequest(e.order.id, 'POST', '/order', JSON.stringify(built.body), built.hash, this.o.nowMs());
    return built;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.posts.length > 0) {
      // An order forgotten while queued (its market closed) is not sent.
      const all = this.posts.filter((e) => this.byId.get(e.order.id) === e);
      this.posts = [];
      this.counts.posts += all.length;
      // One request per batch the CLOB takes: a failure covers only the orders of its own request.
      for (const batch of chunks(all, MAX_BATCH_ORDERS)) {
        this.track(
          this.handled(
            this.request('POST /orders', () => this.o.client.postOrders(batch.map((e) => e.source))).then(
              (results) => results.forEach((r, i) => this.onPosted(batch[i]!, r)),
              (err: unknown) => batch.forEach((e) => this.onPostFailed(e, err)),
            ),
          ),
        );
      }
    }
    if (this.cancels.length > 0 && this.reconciling === undefined) {
      const batch = this.cancels;
      this.cancels = [];
      this.counts.cancels += batch.length;
      // Every order we hold is going: one DELETE /cancel-all also takes whatever we do not know about.
      const everything = batch.length === this.byId.size && this.byId.size > 1;
      // Each order's record carries the request's exact body (the batch's ids, as the client sends them: at most MAX_CANCEL_IDS, far above a pass).
      const body = everything ? '' : JSON.stringify(batch.map((e) => e.hash));
      for (const e of batch) this.journalRequest(e.order.id, 'DELETE', everything ? '/cancel-all' : '/orders', body, e.hash, this.o.nowMs());
      if (everything) this.counts.cancelAlls++;
      this.track(
        this.request(everything ? 'DELETE /cancel-all' : 'DELETE /orders', () => (everything ? this.o.client.cancelAll() : this.o.client.cancelOrders(batch.map((e) => e.hash)))).then(
          async (r) => {
            // The kill switch and flatten cancel everything: confirm by listing, and cancel whatever the listing still shows.
            if (everything) await this.sweepOpenOrders().catch((err: unknown) => this.o.fault('listing open orders after a cancel-all', err, false));
            // A fill that raced the cancel is booked before the order closes: once the order is forgotten its trades are not ours any more.
            await this.readTradesSurely('reading trades after a cancel');
            for (const e of batch) {
              if (!this.byId.has(e.order.id)) continue;
              const refused = r.not_canceled[e.hash];
              this.journalResponse(e.order.id, 'DELETE', 200, refused === undefined, refused ?? '', e.hash, '');
              // Refused because it is no longer open (filled, or gone): the trades above said what happened; nothing rests.
              this.forget(e);
              this.push(Report.Cancel, e.order, undefined);
            }
          },
          (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            for (const e of batch) {
              if (!this.byId.has(e.order.id)) continue;
              this.journalResponse(e.order.id, 'DELETE', err instanceof PolyedgeError && 'status' in err ? Number(err.status) : 0, false, message, e.hash, '');
              // Still resting as far as we know: sent again after a pause that doubles per failure (at most 5 s).
              e.stage = Stage.Resting;
              e.cancelWanted = true;
              e.cancelFailures++;
              e.cancelRetryAtMs = this.o.nowMs() + Math.min(CANCEL_RETRY_MAX_MS, CANCEL_RETRY_BASE_MS * 2 ** Math.min(e.cancelFailures - 1, 10));
            }
          },
        ),
      );
    }
  }

  /** Lists the key's open orders and cancels any still there; resolves with how many the listing showed. */
  private async sweepOpenOrders(): Promise<number> {
    const listed = await this.request('GET /data/orders', () => this.o.client.openOrders());
    // Orders posted since the cancel-all stay: only what the engine does not hold, or holds as being cancelled, goes.
    const left = listed.filter((x) => this.byHash.get(x.id)?.stage !== Stage.Resting && this.byHash.get(x.id)?.stage !== Stage.Posting);
    if (left.length > 0) await this.request('DELETE /orders', () => this.o.client.cancelOrders(left.map((x) => x.id)));
    return left.length;
  }

  private onPosted(e: Entry, r: PostOrderResult): void {
    const status = r.status.toLowerCase();
    // An order a lookup found already cancelled (a FAK killed after a partial fill) is one that matched and closed.
    const closedFound = r.success && (status === 'canceled' || status === 'cancelled');
    const known: VenueOrderStatus | '' = status === 'live' || status === 'matched' || status === 'delayed' || status === 'unmatched' ? status : closedFound ? 'unmatched' : '';
    this.journalResponse(e.order.id, 'POST', 200, r.success, r.errorMsg, r.orderID || e.hash, known, r.makingAmount, r.takingAmount);
    if (!this.byId.has(e.order.id)) return;
    if (!r.success || known === '') {
      this.forget(e);
      this.counts.rejects++;
      return this.push(Report.Reject, e.order, rejectReasonOf(r.errorMsg));
    }
    e.order.ackMs = this.o.nowMs();
    this.push(Report.Ack, e.order, undefined);
    const taker = e.order.type === 'FAK' || e.order.type === 'FOK';
    // Shares matched on entry: what a BUY takes, what a SELL gives.
    const matched = micros(e.order.side === Side.Buy ? r.takingAmount : r.makingAmount);
    if (known === 'live' || known === 'delayed') {
      e.stage = Stage.Resting;
      if (matched > 0) {
        e.stage = Stage.Matched;
        e.matchedMicro = matched;
      }
    } else if (known === 'matched') {
      e.stage = Stage.Matched;
      e.matchedMicro = matched > 0 ? matched : e.order.size;
      e.closeAfterMatch = taker;
    } else {
      // unmatched: a FAK/FOK that took nothing; or found already cancelled, after what it matched.
      e.stage = Stage.Matched;
      e.matchedMicro = closedFound && matched > 0 ? matched : 0;
      e.closeAfterMatch = true;
    }
    this.afterFills(e);
    if (e.stage === Stage.Matched) this.pollSoon(0);
    else this.pollSoon();
  }

  private onPostFailed(e: Entry, err: unknown): void {
    const venueMessage = err instanceof PolyedgeError ? err.message : String(err);
    this.journalResponse(e.order.id, 'POST', 0, false, venueMessage, e.hash, '');
    if (!this.byId.has(e.order.id)) return;
    // The client could not tell whether a PE_CLOB_UNCERTAIN order landed: it is held as resting (acked) with a cancel
    // wanted, so its trades are still booked and the cancel is retried until the CLOB answers; then it closes as cancelled.
    if (err instanceof PolyedgeError && err.code === 'PE_CLOB_UNCERTAIN') {
      e.order.ackMs = this.o.nowMs();
      this.push(Report.Ack, e.order, undefined);
      e.stage = Stage.Resting;
      e.cancelWanted = true;
      e.cancelRetryAtMs = this.o.nowMs();
      this.pollSoon();
      return;
    }
    this.forget(e);
    this.counts.rejects++;
    this.push(Report.Reject, e.order, 'invalid_order');
  }

  // ---- fills ------------------------------------------------------------------

  private pollSoon(delayMs = this.o.tradePollMs ?? DEFAULT_TRADE_POLL_MS): void {
    if (this.closed) return;
    if (this.pollTimer) {
      if (delayMs > 0) return;
      clearTimeout(this.pollTimer);
    }
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.track(
        this.pollTrades().then(
          () => this.pollAgainIfNeeded(),
          (err: unknown) => {
            this.o.fault('reading trades', err, false);
            this.pollAgainIfNeeded();
          },
        ),
      );
    }, delayMs);
    this.pollTimer.unref?.();
  }

  private pollAgainIfNeeded(): void {
    const now = Date.now();
    for (const [hash, r] of this.retired) if (r.untilMs <= now) this.retired.delete(hash);
    if (this.retired.size > 0) return this.pollSoon();
    for (const e of this.byId.values()) if (e.stage !== Stage.Posting) return this.pollSoon();
  }

  /** A live order by venue hash, or one closed lately whose token still names the same market (a slot reused since belongs to another). */
  private entryOf(hash: string): Entry | undefined {
    const live = this.byHash.get(hash);
    if (live !== undefined) return live;
    const r = this.retired.get(hash);
    if (r === undefined) return undefined;
    if (this.o.tokens[r.e.order.token]?.tokenId !== r.e.tokenId) {
      this.retired.delete(hash);
      this.o.fault(`a fill of order ${r.e.order.id} on a market no longer held`, new Error(`token slot ${r.e.order.token} now holds another market`), false);
      return undefined;
    }
    return r.e;
  }

  /** Reads the trades since the last one seen and books every fill of ours once; concurrent callers share one read. */
  private pollTrades(): Promise<void> {
    this.polling ??= (async () => {
      try {
        this.counts.tradePolls++;
        const after = Number.isFinite(this.lastMatchTime) ? String(this.lastMatchTime - 1) : undefined;
        const trades = await this.request('GET /data/trades', () => this.o.client.trades(after === undefined ? {} : { after }));
        for (const t of trades) this.onTrade_(t);
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  /** Reads the trades, trying again (a few times, backing off) when a read fails; a fault is reported for the last failure only. */
  private async readTradesSurely(what: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.pollTrades();
      } catch (err) {
        if (attempt >= 4 || this.closed) return this.o.fault(what, err, false);
        await new Promise((r) => setTimeout(r, CANCEL_RETRY_BASE_MS * 2 ** attempt));
      }
    }
  }

  private onTrade_(t: Trade): void {
    const mt = Number(t.match_time);
    if (Number.isFinite(mt) && !(mt <= this.lastMatchTime)) this.lastMatchTime = mt;
    if (t.status.toUpperCase() === 'FAILED') return;
    const base = `${t.id}:${t.bucket_index}`;
    const taker = this.entryOf(t.taker_order_id);
    if (taker !== undefined) {
      // The taker's fill is each maker's piece at that maker's price (the trade's own price is the taker's limit): a
      // maker on the other outcome token (a mint or merge match) trades at 1 − its price in the taker's token.
      if (t.maker_orders.length === 0) this.book(taker, `${base}:${taker.hash}`, 'taker', micros(t.size), ticks(t.price));
      t.maker_orders.forEach((m, i) => {
        const p = ticks(m.price);
        // Without the maker's token the piece's price in ours is unknown: the trade's own price stands in.
        const price = m.asset_id === '' ? ticks(t.price) : m.asset_id === t.asset_id ? p : PRICE_SCALE - p;
        this.book(taker, `${base}:${taker.hash}:${i}`, 'taker', micros(m.matched_amount), price);
      });
    }
    for (const m of t.maker_orders) {
      const maker = this.entryOf(m.order_id);
      if (maker !== undefined) this.book(maker, `${base}:${maker.hash}`, 'maker', micros(m.matched_amount), ticks(m.price));
    }
  }

  /**
   * Books `size` micro-shares at `price` ticks, once per `key`. Not clipped to the order's size: a market BUY
   * spends dollars, and better prices than its limit buy more shares than the engine's estimate; the venue's
   * count is the position.
   */
  private book(e: Entry, key: string, liquidity: 'maker' | 'taker', size: number, price: number): void {
    if (this.seenFills.has(key)) return;
    if (!(size > 0) || !(price > 0 && price < PRICE_SCALE)) {
      this.o.fault(`a trade of order ${e.order.id} the venue reported`, new Error(`unreadable fill: size ${size} micro, price ${price} ticks`), false);
      return;
    }
    this.seenFills.add(key);
    const market = this.o.markets[this.o.tokens[e.order.token]!.market]!;
    const fill: Fill = {
      orderId: e.order.id,
      strategy: e.order.strategy,
      token: e.order.token,
      side: e.order.side,
      price,
      size,
      fee: liquidity === 'taker' ? feeMicros(price, size, market.feeRate, market.feeExponent) : 0,
      liquidity,
      tsMs: this.o.nowMs(),
      fillId: `clob:${key}`,
    };
    e.venueFilled += size;
    this.push(Report.Fill, e.order, undefined, fill);
    if (this.byId.get(e.order.id) === e) this.afterFills(e);
    else if (e.venueFilled >= e.order.size) this.retired.delete(e.hash);
  }

  /** Closes an order whose fills are all in: filled, or its unmatched rest cancelled. */
  private afterFills(e: Entry): void {
    if (e.venueFilled >= e.order.size) {
      this.forget(e);
      return;
    }
    if (e.stage !== Stage.Matched) return;
    const bookedAll = e.venueFilled >= e.matchedMicro;
    if (!bookedAll) return;
    if (e.closeAfterMatch) {
      this.forget(e);
      this.push(Report.Cancel, e.order, undefined);
    } else {
      // A GTC/GTD that matched in part rests with the remainder.
      e.stage = Stage.Resting;
      if (e.cancelWanted) {
        e.cancelWanted = false;
        e.stage = Stage.Cancelling;
        this.cancels.push(e);
        this.scheduleFlush();
      }
    }
  }

  // ---- plumbing ---------------------------------------------------------------

  /** Runs a client call, counting failures; MAX_CONSECUTIVE_FAILURES in a row is a persistent failure. */
  private async request<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      const v = await call();
      this.consecutiveFailures = 0;
      return v;
    } catch (err) {
      this.counts.failures++;
      // The CLOB answered and refused this request (400, 404): that refuses an order, it is not the venue failing.
      const refused = err instanceof ClobError && (err.kind === 'bad_request' || err.kind === 'not_found');
      if (!refused) this.consecutiveFailures++;
      this.o.fault(what, err, !refused && this.consecutiveFailures >= MAX_CONSECUTIVE_FAILURES);
      throw err;
    }
  }

  /** An error thrown while applying an answer is a bug of ours that leaves orders in doubt: a persistent fault (kill switch). */
  private handled(p: Promise<unknown>): Promise<unknown> {
    return p.catch((err: unknown) => this.o.fault('applying a CLOB answer', err, true));
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined);
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  private forget(e: Entry): void {
    this.byId.delete(e.order.id);
    this.byHash.delete(e.hash);
    // Closed here, but a trade matched before the close may not have been read yet: its fill still counts.
    if (e.venueFilled < e.order.size) this.retired.set(e.hash, { e, untilMs: Date.now() + RETIRED_KEEP_MS });
  }

  private journalRequest(orderId: string, method: VenueMethod, path: string, body: string, venueOrderId: string, nowMs: number): void {
    this.o.record({ type: 'venue_request', tsMs: nowMs, v: 1, orderId, method, path, body, venueOrderId });
    this.o.debug?.(`live ${method} ${path} order ${orderId} (${venueOrderId}): ${body}`);
  }

  private journalResponse(
    orderId: string,
    method: VenueMethod,
    httpStatus: number,
    success: boolean,
    errorMsg: string,
    orderID: string,
    status: VenueOrderStatus | '',
    makingAmount = '0',
    takingAmount = '0',
  ): void {
    this.o.record({ type: 'venue_response', tsMs: this.o.nowMs(), v: 1, orderId, method, httpStatus, success, errorMsg, orderID, status, makingAmount, takingAmount });
  }

  private push(kind: Report, order: Order, reason: RejectReason | undefined, fill?: Fill): void {
    this.reports.push(kind, order, this.o.nowMs(), reason, fill);
  }

  private deliver(): void {
    this.reports.deliver();
  }
}
