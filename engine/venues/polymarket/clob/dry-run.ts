// The dry-run venue: everything live trading does up to the wire, and
// nothing past it. Each order the strategies and risk gates send becomes the
// signed V2/V3 order the live venue would post (the same builder, amount
// rules and flags), and the exact `POST /order` body, or the `DELETE /order`
// body of a cancel, is journaled as a venue_request with the answer a
// healthy venue would give as its venue_response. Nothing is sent and
// nothing fills: a GTC/GTD order is acknowledged as resting (status `live`)
// until it is cancelled, expires or its market closes; a FOK/FAK order, which
// could only have been filled or killed, is acknowledged `unmatched` and its
// whole size cancelled as unfilled.
//
// Reports reach the engine from advance(), never from inside submit() or
// cancel(): the order manager walks its own live lists while it cancels, and
// a report removing an order under that walk would skip the next one.

import { fieldError } from '../../../errors.js';
import type { JournalInput, VenueMethod, VenueOrderStatus } from '../../../journal/records.js';
import type { OrderSigner } from '../../../native.js';
import { GTD_MIN_LEAD_SECONDS } from '../order/build.js';
import { signOrder, type VenueSigning } from './intent.js';
import { Report, VenueReports } from './reports.js';
import type { ExecutionVenue } from '../../../execution/venue.js';
import type { ExecutionListener, MarketInfo, Order, RejectReason, TokenInfo } from '../../../trading/types.js';

export const ORDER_PATH = '/order';

export interface DryRunVenueOptions {
  /** From POLY_PRIVATE_KEY (cli/sign.ts signerFromEnv): the key never becomes a JS string. */
  signer: OrderSigner;
  /** The API key the orders belong to (POLY_API_KEY); bodies carry it as `owner`. */
  owner: string;
  signing: VenueSigning;
  /** The engine's slot tables, shared by reference (slots are replaced in place). */
  markets: readonly MarketInfo[];
  tokens: readonly TokenInfo[];
  listener: ExecutionListener;
  /** Journals a record (throws when the journal cannot write: the order is then neither sent nor acked). */
  record: (rec: JournalInput) => void;
  /** One line per request, for a debug log; undefined = none. */
  debug?: ((line: string) => void) | undefined;
}

interface Resting {
  order: Order;
  /** The order's hash: the venue's order id, what a cancel names. */
  hash: string;
  /** When the venue would expire it (its expiration less the security threshold), Unix ms; Infinity for GTC. */
  expiresAtMs: number;
}

export class DryRunVenue implements ExecutionVenue {
  private readonly o: DryRunVenueOptions;
  /** Orders acked (or about to be) and not yet final, by engine id. */
  private readonly resting = new Map<string, Resting>();
  private readonly reports: VenueReports;
  private nextExpiryMs = Infinity;
  /** Requests journaled, by method (what a test or a status line reads). */
  readonly requests = { post: 0, delete: 0 };

  constructor(opts: DryRunVenueOptions) {
    if (!opts.owner) throw fieldError('PE_ENV_MISSING', 'POLY_API_KEY', 'dry-run needs an owner for the order bodies');
    this.o = opts;
    this.reports = new VenueReports(opts.listener);
  }

  submit(order: Order, nowMs: number): void {
    if (order.status !== 'pending' || order.filled !== 0) return this.reject(order, 'invalid_order', nowMs);
    this.place(order, order.size, nowMs);
  }

  /** In dry-run nothing of a previous run rests at the venue: what is left of the order is posted afresh. */
  reinstate(order: Order, nowMs: number): void {
    order.status = 'pending';
    const rest = order.size - order.filled;
    if (!(rest > 0)) return this.reject(order, 'invalid_order', nowMs);
    this.place(order, rest, nowMs);
  }

  cancel(orderId: string, nowMs: number): boolean {
    const r = this.resting.get(orderId);
    if (r === undefined) return false;
    const body = JSON.stringify({ orderID: r.hash });
    this.journal(r.order.id, 'DELETE', body, r.hash, nowMs);
    this.respond(r.order.id, 'DELETE', r.hash, '', nowMs);
    this.finish(r, Report.Cancel, nowMs);
    return true;
  }

  advance(nowMs: number): void {
    if (nowMs >= this.nextExpiryMs) this.expire(nowMs);
    this.reports.deliver();
  }

  nextDueMs(): number {
    return this.reports.size > 0 ? this.reports.nextDueMs() : this.nextExpiryMs;
  }

  resetToken(token: number): void {
    // Reports already due go first, so no ack arrives after the cancel below.
    this.reports.deliver();
    // The market closed: the venue ends its orders itself, no request goes out.
    for (const r of [...this.resting.values()]) {
      if (r.order.token !== token) continue;
      this.resting.delete(r.order.id);
      r.order.status = 'cancelled';
      this.o.listener.onCancel(r.order);
    }
    this.recomputeExpiry();
  }

  onTrade(): void {}

  onBook(): void {}

  /** The venue publishes no queue position and dry-run models none. */
  queueAhead(): number {
    return NaN;
  }

  get openCount(): number {
    return this.resting.size;
  }

  private place(order: Order, size: number, nowMs: number): void {
    if (this.resting.has(order.id)) return this.reject(order, 'duplicate_id', nowMs);
    const signed = signOrder(order, size, nowMs, this.o, this.o.debug && ((l) => this.o.debug!(`dry-run: ${l}`)));
    if (typeof signed === 'string') return this.reject(order, signed, nowMs);
    const { built } = signed;
    const body = JSON.stringify(built.body);
    this.journal(order.id, 'POST', body, built.hash, nowMs);
    const taker = order.type === 'FOK' || order.type === 'FAK';
    this.respond(order.id, 'POST', built.hash, taker ? 'unmatched' : 'live', nowMs);
    order.ackMs = nowMs;
    this.push(Report.Ack, order, nowMs, undefined);
    if (taker) return this.push(Report.Cancel, order, nowMs, undefined);
    const expiresAtMs = order.type === 'GTD' ? (Number(built.body.order.expiration) - GTD_MIN_LEAD_SECONDS) * 1000 : Infinity;
    this.resting.set(order.id, { order, hash: built.hash, expiresAtMs });
    if (expiresAtMs < this.nextExpiryMs) this.nextExpiryMs = expiresAtMs;
  }

  private journal(orderId: string, method: VenueMethod, body: string, venueOrderId: string, nowMs: number): void {
    this.o.record({ type: 'venue_request', tsMs: nowMs, v: 1, orderId, method, path: ORDER_PATH, body, venueOrderId });
    if (method === 'POST') this.requests.post++;
    else this.requests.delete++;
    this.o.debug?.(`dry-run ${method} ${ORDER_PATH} order ${orderId} (${venueOrderId}): ${body}`);
  }

  /** What a healthy venue answers; nothing matches, so no amount moved. */
  private respond(orderId: string, method: VenueMethod, hash: string, status: VenueOrderStatus | '', nowMs: number): void {
    this.o.record({ type: 'venue_response', tsMs: nowMs, v: 1, orderId, method, httpStatus: 200, success: true, errorMsg: '', orderID: hash, status, makingAmount: '0', takingAmount: '0' });
  }

  private reject(order: Order, reason: RejectReason, nowMs: number): void {
    this.push(Report.Reject, order, nowMs, reason);
  }

  private finish(r: Resting, kind: typeof Report.Cancel | typeof Report.Expire, nowMs: number): void {
    this.resting.delete(r.order.id);
    this.push(kind, r.order, nowMs, undefined);
    if (r.expiresAtMs === this.nextExpiryMs) this.recomputeExpiry();
  }

  private expire(nowMs: number): void {
    for (const r of [...this.resting.values()]) if (r.expiresAtMs <= nowMs) this.finish(r, Report.Expire, nowMs);
    this.recomputeExpiry();
  }

  private recomputeExpiry(): void {
    let next = Infinity;
    for (const r of this.resting.values()) if (r.expiresAtMs < next) next = r.expiresAtMs;
    this.nextExpiryMs = next;
  }

  private push(kind: Report, order: Order, due: number, reason: RejectReason | undefined): void {
    this.reports.push(kind, order, due, reason);
  }
}
