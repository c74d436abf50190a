// Token buckets per route (protocols.md §6.6): `limit` requests per
// `windowMs`, refilled continuously. Past the limit the simulator answers
// 429, as the venue's throttle may.
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

export type ClobRoute =
  | 'general'
  | 'POST /order'
  | 'POST /orders'
  | 'DELETE /order'
  | 'DELETE /orders'
  | 'DELETE /cancel-all'
  | 'DELETE /cancel-market-orders'
  | 'GET /data/order'
  | 'GET /data/orders'
  | 'GET /data/trades'
  | 'GET /balance-allowance'
  | 'GET /balance-allowance/update'
  | 'auth'
  | 'POST /v1/heartbeats';

const TEN_S = 10_000;

/** The documented bursts (one documentation snapshot; the venue has raised some since). */
export const DEFAULT_RATE_LIMITS: Readonly<Record<ClobRoute, RateLimit>> = {
  general: { limit: 9_000, windowMs: TEN_S },
  'POST /order': { limit: 3_500, windowMs: TEN_S },
  'POST /orders': { limit: 1_000, windowMs: TEN_S },
  'DELETE /order': { limit: 3_000, windowMs: TEN_S },
  'DELETE /orders': { limit: 1_000, windowMs: TEN_S },
  'DELETE /cancel-all': { limit: 1_000, windowMs: TEN_S },
  'DELETE /cancel-market-orders': { limit: 1_000, windowMs: TEN_S },
  'GET /data/order': { limit: 500, windowMs: TEN_S },
  'GET /data/orders': { limit: 500, windowMs: TEN_S },
  'GET /data/trades': { limit: 500, windowMs: TEN_S },
  'GET /balance-allowance': { limit: 200, windowMs: TEN_S },
  'GET /balance-allowance/update': { limit: 50, windowMs: TEN_S },
  auth: { limit: 100, windowMs: TEN_S },
  'POST /v1/heartbeats': { limit: 3_000, windowMs: TEN_S },
};

class Bucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly cfg: RateLimit,
    now: number,
  ) {
    this.tokens = cfg.limit;
    this.at = now;
  }

  take(now: number): boolean {
    const refill = ((now - this.at) * this.cfg.limit) / this.cfg.windowMs;
    this.tokens = Math.min(this.cfg.limit, this.tokens + Math.max(0, refill));
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export function validateRateLimits(limits: Partial<Record<ClobRoute, RateLimit>>): string | undefined {
  for (const [route, l] of Object.entries(limits)) {
    if (!(route in DEFAULT_RATE_LIMITS)) return `rateLimits: unknown route '${route}'`;
    if (!l || !Number.isInteger(l.limit) || l.limit < 1 || !Number.isFinite(l.windowMs) || l.windowMs <= 0) {
      return `rateLimits['${route}'] needs an integer limit >= 1 and a windowMs > 0`;
    }
  }
  return undefined;
}

export class RateLimiter {
  private readonly buckets = new Map<ClobRoute, Bucket>();
  rejected = 0;

  constructor(
    overrides: Partial<Record<ClobRoute, RateLimit>>,
    private readonly nowMs: () => number,
  ) {
    const now = nowMs();
    for (const route of Object.keys(DEFAULT_RATE_LIMITS) as ClobRoute[]) {
      this.buckets.set(route, new Bucket(overrides[route] ?? DEFAULT_RATE_LIMITS[route], now));
    }
  }

  /** Takes one token from the route's bucket and the general one; false = answer 429. */
  admit(route: ClobRoute): boolean {
    const now = this.nowMs();
    const ok = this.buckets.get(route)!.take(now) && (route === 'general' || this.buckets.get('general')!.take(now));
    if (!ok) this.rejected++;
    return ok;
  }
}
