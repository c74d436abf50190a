// Where orders go: the seam between order management (order-manager.ts) and
// a venue. The paper venue (paper.ts) implements it against the live books;
// a live CLOB client implements the same calls and reports through the same
// ExecutionListener.

import type { JournalInput } from '../journal/records.js';
import type { ExecutionListener, MarketInfo, Order, Side, TokenInfo } from '../trading/types.js';

export interface ExecutionVenue {
  /** Sends a fresh order (status pending, nothing filled); the venue owns its status, filled and ackMs from now on. */
  submit(order: Order, nowMs: number): void;
  /** Puts back an order a previous run left open, for what is left of it; fill ids carry `fillTag` so they never collide with an earlier run's. */
  reinstate(order: Order, nowMs: number, fillTag: string): void;
  /** Sends a cancel; false when the order is unknown or already final as far as the engine has been told. */
  cancel(orderId: string, nowMs: number): boolean;
  /** Delivers every report due by `nowMs` through the listener. */
  advance(nowMs: number): void;
  /** When advance() next has something to do; Infinity when idle. */
  nextDueMs(): number;
  /** Ends everything on `token` at once (its market closed): a live order there is reported cancelled before this returns. */
  resetToken(token: number): void;
  /** A public trade on `token` (a simulated venue matches against it; a real one ignores it). */
  onTrade(token: number, priceTicks: number, sizeMicro: number, takerSide: Side, nowMs: number): void;
  /** `token`'s book changed (a simulated venue matches against it; a real one ignores it). */
  onBook(token: number, nowMs: number): void;
  /** Ends the session at the venue (a real one: cancel everything, confirm none is left); the engine awaits it at stop. */
  close?(): Promise<unknown>;
  /** Public size ahead of a resting order, micro-shares (an estimate where the venue does not publish it); NaN when it is not resting. */
  queueAhead(orderId: string): number;
  /** Plain counters of a venue that talks to an exchange, read when /metrics is scraped; absent on the paper venue. */
  readonly counters?: VenueCounters;
}

/** What a venue over a REST client counts (numbers only, so the metrics layer needs no venue type). */
export interface VenueCounters {
  /** Orders sent in POST requests, orders sent for cancel, cancel-all requests, trade polls. */
  readonly posts: number;
  readonly cancels: number;
  readonly cancelAlls: number;
  readonly tradePolls: number;
  /** Requests that failed after the client's own retries. */
  readonly failures: number;
  /** Orders the venue refused, or whose POST failed. */
  readonly rejects: number;
  readonly client: {
    /** HTTP attempts, retries among them, waits for the client-side rate limiter (and their total ms), order lookups after an uncertain POST. */
    readonly requests: number;
    readonly retries: number;
    readonly rateLimitWaits: number;
    readonly rateLimitWaitMs: number;
    readonly lookups: number;
    /** Failed attempts by kind, retried ones included. */
    readonly errors: Readonly<Record<string, number>>;
  };
}

/** What a venue other than paper is built from: the engine's slot tables (shared, replaced in place) and its journal. */
export interface VenueParts {
  markets: readonly MarketInfo[];
  tokens: readonly TokenInfo[];
  /** Journals a record (venue_request / venue_response); throws when the journal cannot write. */
  record: (rec: JournalInput) => void;
  /** Engine time, ms. */
  nowMs: () => number;
  /** A venue request failed: persistent failure is an executor fault (the kill switch trips); a passing one is only logged, once per message. */
  fault: (what: string, err: unknown, persistent: boolean) => void;
}

/** A venue other than paper, started: how the engine builds it, and what stops it if start-up fails later. */
export interface VenueStart {
  venue: (listener: ExecutionListener, parts: VenueParts) => ExecutionVenue;
  stop(): Promise<void>;
}
