// Client-side rate limits (protocols §6.6): token buckets per route family,
// so a burst of our own waits here instead of drawing 429s that Cloudflare
// may answer with longer throttles. The documented numbers change; the
// server's 429 stays the authority and the client backs off on it anyway.

/** Route families with their own documented limits. */
export type RouteFamily = 'general' | 'order' | 'orders' | 'cancel' | 'data' | 'balance' | 'balance_update' | 'auth';

export interface BucketSpec {
  /** Requests allowed per window; also the burst the bucket holds. */
  limit: number;
  windowMs: number;
}

const TEN_S = 10_000;
const TEN_MIN = 600_000;

/**
 * Every family also draws from `general` (CLOB 9 000 / 10 s). Trading routes
 * have a burst and a sustained limit; a request needs a token from each.
 * Cancels by list, all and market have no published figure: they share the
 * `DELETE /order` buckets, the closest documented route.
 */
export const DOCUMENTED_LIMITS: Readonly<Record<RouteFamily, readonly BucketSpec[]>> = {
  general: [{ limit: 9_000, windowMs: TEN_S }],
  order: [{ limit: 3_500, windowMs: TEN_S }, { limit: 36_000, windowMs: TEN_MIN }],
  orders: [{ limit: 1_000, windowMs: TEN_S }, { limit: 15_000, windowMs: TEN_MIN }],
  cancel: [{ limit: 3_000, windowMs: TEN_S }, { limit: 30_000, windowMs: TEN_MIN }],
  data: [{ limit: 500, windowMs: TEN_S }],
  balance: [{ limit: 200, windowMs: TEN_S }],
  balance_update: [{ limit: 50, windowMs: TEN_S }],
  auth: [{ limit: 100, windowMs: TEN_S }],
};

/** The family of a method and API path (no query string). */
export function routeFamily(method: string, path: string): RouteFamily {
  if (path === '/order') return method === 'POST' ? 'order' : 'cancel';
  if (path === '/orders') return method === 'POST' ? 'orders' : 'cancel';
  if (path === '/cancel-all' || path === '/cancel-market-orders') return 'cancel';
  if (path.startsWith('/data/')) return 'data';
  if (path === '/balance-allowance/update') return 'balance_update';
  if (path === '/balance-allowance') return 'balance';
  if (path.startsWith('/auth/')) return 'auth';
  return 'general';
}

class Bucket {
  private tokens: number;
  private stamp: number;
  private readonly perMs: number;

  constructor(
    private readonly capacity: number,
    windowMs: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.stamp = nowMs;
    this.perMs = capacity / windowMs;
  }

  /** Ms until one token is available (0 when one is there now). */
  waitMs(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perMs);
  }

  take(): void {
    this.tokens -= 1;
  }

  private refill(nowMs: number): void {
    // A clock that steps back must not drain the bucket.
    const elapsed = Math.max(0, nowMs - this.stamp);
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perMs);
    this.stamp = Math.max(this.stamp, nowMs);
  }
}

export class RateLimiter {
  private readonly buckets = new Map<RouteFamily, Bucket[]>();

  /** `scale` (0, 1] keeps a margin below the documented figures; tests use small limits through `limits`. */
  constructor(
    limits: Readonly<Record<RouteFamily, readonly BucketSpec[]>> = DOCUMENTED_LIMITS,
    nowMs = 0,
    scale = 1,
  ) {
    for (const [family, specs] of Object.entries(limits) as Array<[RouteFamily, readonly BucketSpec[]]>) {
      this.buckets.set(
        family,
        specs.map((s) => new Bucket(Math.max(1, Math.floor(s.limit * scale)), s.windowMs, nowMs)),
      );
    }
  }

  /**
   * Takes one token from every bucket of `family` and of `general` and
   * returns 0, or takes nothing and returns the ms to wait before asking
   * again. All or nothing, so a request that waits holds no tokens.
   */
  tryTake(family: RouteFamily, nowMs: number): number {
    const own = this.buckets.get(family) ?? [];
    const general = family === 'general' ? [] : this.buckets.get('general') ?? [];
    let wait = 0;
    for (const b of own) wait = Math.max(wait, b.waitMs(nowMs));
    for (const b of general) wait = Math.max(wait, b.waitMs(nowMs));
    if (wait > 0) return wait;
    for (const b of own) b.take();
    for (const b of general) b.take();
    return 0;
  }
}
