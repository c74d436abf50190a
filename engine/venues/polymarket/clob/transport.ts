// HTTP to the CLOB: one keep-alive pool with a connection kept warm, a
// deadline per request, the L2 HMAC over the exact body bytes sent, the
// server's clock for POLY_TIMESTAMP, the client-side rate limiter, and
// retries with jittered backoff for what is safe to send again.
//
// What is safe to send again is the caller's call (`resend`): a GET or a
// cancel may go out twice; an order POST that may have reached the CLOB must
// not, so its timeouts, 5xx and dropped connections come back to the caller
// (ClobError.maybeDelivered) to be looked up first. 429 and 425 are answers
// the CLOB gives before doing anything, and a refused connection carried
// nothing, so those are retried for every request.

import { Pool, errors as undiciErrors } from 'undici';
import { PolyedgeError, type ErrorCode } from '../../../errors.js';
import { backoffDelayMs, type Backoff } from '../../../../workers/backoff.js';
import { l2Headers, type ApiCredentials } from '../order/hmac.js';
import { RateLimiter, routeFamily, type BucketSpec, type RouteFamily } from './limiter.js';
import { parseServerTime, venueMessage } from './responses.js';

export type ErrorKind = 'bad_request' | 'auth' | 'not_found' | 'not_ready' | 'rate_limited' | 'server' | 'http' | 'response' | 'timeout' | 'network';

const KIND_CODE: Record<ErrorKind, ErrorCode> = {
  bad_request: 'PE_CLOB_REQUEST',
  auth: 'PE_CLOB_AUTH',
  not_found: 'PE_CLOB_NOT_FOUND',
  not_ready: 'PE_CLOB_NOT_READY',
  rate_limited: 'PE_CLOB_RATE_LIMIT',
  server: 'PE_CLOB_SERVER',
  http: 'PE_CLOB_HTTP',
  response: 'PE_CLOB_RESPONSE',
  timeout: 'PE_CLOB_TIMEOUT',
  network: 'PE_CLOB_UNREACHABLE',
};

/**
 * A failed CLOB request. The message names the route, the status and the
 * CLOB's own reason (`error`/`errorMsg`), never a header: no secret, key or
 * signature can reach a log through it.
 */
export class ClobError extends PolyedgeError {
  constructor(
    readonly kind: ErrorKind,
    /** `POST /order`; no query string (it may carry ids, never secrets, but stays out for brevity). */
    readonly route: string,
    /** HTTP status, 0 when no answer came. */
    readonly status: number,
    /** The CLOB's reason, or the transport's when no answer came. */
    readonly venueMessage: string,
    /** The request may have reached the CLOB and been acted on (timeout, 5xx, connection lost after sending). */
    readonly maybeDelivered: boolean,
    readonly retryAfterMs = 0,
  ) {
    super(KIND_CODE[kind], `${route}${status ? ` → ${status}` : ''}: ${venueMessage}`);
    this.name = 'ClobError';
  }
}

/** Plain numbers for the metrics layer. */
export interface ClobCounters {
  requests: number;
  retries: number;
  /** Requests that waited for the client-side limiter, and the total wait. */
  rateLimitWaits: number;
  rateLimitWaitMs: number;
  /** Order lookups after a POST that may have landed. */
  lookups: number;
  /** Failed attempts by kind, retried ones included. */
  errors: Record<ErrorKind, number>;
}

export interface TransportOptions {
  /** CLOB base URL, e.g. https://clob.polymarket.com */
  url: string;
  /** Deadline of one attempt, connect to last body byte. */
  timeoutMs?: number;
  connections?: number;
  /** A request (GET /time) goes out when the pool was idle this long, so one connection stays open and the clock stays synced; 0 turns it off. */
  warmIntervalMs?: number;
  /** Retries after the first attempt for retryable failures. */
  retries?: number;
  backoff?: Backoff;
  /** Uniform [0, 1): jitter source (a seeded Prng in tests). */
  random?: () => number;
  limits?: Readonly<Record<RouteFamily, readonly BucketSpec[]>>;
  /** Wall clock in ms. */
  now?: () => number;
}

export interface L2Auth {
  address: string;
  creds: ApiCredentials;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** API path without the query string: the one that is signed. */
  path: string;
  query?: Record<string, string | undefined>;
  /** The exact JSON text to send and sign. */
  body?: string;
  /** L2 signs with the API secret; a function gives ready headers (L1) per attempt, from the server time in seconds. */
  auth?: 'l2' | ((serverSeconds: number) => Record<string, string>);
  /** May this request go out again after it may have reached the CLOB? */
  resend: boolean;
}

export interface Answer {
  status: number;
  text: string;
  /** Retry-After of a 429/425, as sent. */
  retryAfter?: string | undefined;
}

const DEFAULTS = { timeoutMs: 5_000, connections: 4, warmIntervalMs: 15_000, retries: 3, backoff: { baseMs: 100, maxMs: 3_000 } };
/** Codes of a connection that failed before any byte of the request was written. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ClobTransport {
  readonly counters: ClobCounters = {
    requests: 0,
    retries: 0,
    rateLimitWaits: 0,
    rateLimitWaitMs: 0,
    lookups: 0,
    errors: { bad_request: 0, auth: 0, not_found: 0, not_ready: 0, rate_limited: 0, server: 0, http: 0, response: 0, timeout: 0, network: 0 },
  };
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly opts: Required<Omit<TransportOptions, 'limits'>>;
  private readonly limiter: RateLimiter;
  // Private fields: util.inspect and JSON.stringify of the transport never show the credentials.
  #auth: L2Auth | undefined;
  /** Server clock minus ours, ms. */
  private offsetMs = 0;
  private lastUseMs = 0;
  private warmTimer: NodeJS.Timeout | undefined;
  /** The warm-up period in force: the configured one, shortened to half the server's keep-alive hint. */
  private warmPeriodMs: number;
  private closed = false;

  constructor(options: TransportOptions, auth?: L2Auth) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PolyedgeError('PE_USAGE', `clob_url: must be http(s), got ${url.protocol}`, 'clob_url');
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.opts = {
      url: options.url,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      connections: options.connections ?? DEFAULTS.connections,
      warmIntervalMs: options.warmIntervalMs ?? DEFAULTS.warmIntervalMs,
      retries: options.retries ?? DEFAULTS.retries,
      backoff: options.backoff ?? DEFAULTS.backoff,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
    this.limiter = new RateLimiter(options.limits, this.opts.now());
    this.pool = new Pool(url.origin, {
      connections: this.opts.connections,
      pipelining: 1,
      // Longer than the warm-up period, so the warmed connection is the one reused.
      keepAliveTimeout: Math.max(60_000, this.opts.warmIntervalMs * 4),
      keepAliveMaxTimeout: 10 * 60_000,
      connect: { timeout: this.opts.timeoutMs },
    });
    this.#auth = auth;
    this.warmPeriodMs = this.opts.warmIntervalMs;
    this.scheduleWarm();
  }

  get hasL2(): boolean {
    return this.#auth !== undefined;
  }

  /** The API key (the `owner` of orders); not a secret. */
  get apiKey(): string | undefined {
    return this.#auth?.creds.apiKey;
  }

  /** Server time now, Unix seconds (POLY_TIMESTAMP). */
  serverSeconds(): number {
    return Math.floor((this.opts.now() + this.offsetMs) / 1000);
  }

  /** Server clock minus ours in ms (whole-second resolution: /time is in seconds). */
  get clockOffsetMs(): number {
    return this.offsetMs;
  }

  /** GET /time and take the offset at the round trip's midpoint. */
  async syncTime(): Promise<number> {
    const t0 = this.opts.now();
    const answer = await this.request({ method: 'GET', path: '/time', resend: true });
    const t1 = this.opts.now();
    const server = parseServerTime('GET /time', answer.text);
    // /time truncates to the second: its true value lies in [s, s+1), so the midpoint of that second is the best estimate.
    this.offsetMs = server * 1000 + 500 - (t0 + t1) / 2;
    return this.offsetMs;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.warmTimer) clearTimeout(this.warmTimer);
    await this.pool.close();
  }

  private scheduleWarm(): void {
    if (this.closed || this.warmPeriodMs <= 0) return;
    this.warmTimer = setTimeout(() => {
      if (this.opts.now() - this.lastUseMs >= this.warmPeriodMs) {
        // A failure here is retried on the next tick; the request that needs the connection reports its own.
        this.syncTime().catch(() => undefined);
      }
      this.scheduleWarm();
    }, this.warmPeriodMs);
    this.warmTimer.unref();
  }

  /** A server that closes idle connections sooner than our period (`Keep-Alive: timeout=N`) gets its connection used at N/2. */
  private noteKeepAlive(header: string | undefined): void {
    const m = header ? /timeout=(\d+)/.exec(header) : null;
    if (!m || this.opts.warmIntervalMs <= 0) return;
    const period = Math.min(this.opts.warmIntervalMs, Math.max(500, (Number(m[1]) * 1000) / 2));
    if (period === this.warmPeriodMs) return;
    this.warmPeriodMs = period;
    if (this.warmTimer) clearTimeout(this.warmTimer);
    this.scheduleWarm();
  }

  /** The warm-up period in force, ms (0: off). */
  get warmupPeriodMs(): number {
    return this.warmPeriodMs;
  }

  /** One request, with limiter waits and retries; throws ClobError on a non-2xx final answer. */
  async request(spec: RequestSpec): Promise<Answer> {
    const route = `${spec.method} ${spec.path}`;
    const family = routeFamily(spec.method, spec.path);
    for (let attempt = 0; ; attempt++) {
      await this.waitForToken(family);
      let err: ClobError;
      try {
        const answer = await this.attempt(spec, route);
        if (answer.status >= 200 && answer.status < 300) return answer;
        err = statusError(route, answer);
      } catch (e) {
        if (!(e instanceof ClobError)) throw e;
        err = e;
      }
      this.counters.errors[err.kind]++;
      const retryable =
        err.kind === 'rate_limited' || err.kind === 'not_ready' || (err.kind === 'network' && !err.maybeDelivered) || (spec.resend && (err.kind === 'server' || err.kind === 'timeout' || err.kind === 'network'));
      if (!retryable || attempt >= this.opts.retries || this.closed) throw err;
      this.counters.retries++;
      await sleep(Math.max(err.retryAfterMs, backoffDelayMs(attempt, this.opts.backoff, this.opts.random)));
    }
  }

  private async waitForToken(family: RouteFamily): Promise<void> {
    let waited = false;
    for (;;) {
      const wait = this.limiter.tryTake(family, this.opts.now());
      if (wait === 0) return;
      if (!waited) this.counters.rateLimitWaits++;
      waited = true;
      this.counters.rateLimitWaitMs += wait;
      await sleep(wait);
    }
  }

  private headers(spec: RequestSpec): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (spec.body !== undefined) h['content-type'] = 'application/json';
    if (spec.auth === 'l2') {
      const auth = this.#auth;
      if (!auth) throw new PolyedgeError('PE_ENV_MISSING', 'POLY_API_KEY: L2 credentials are needed for this request (POLY_API_KEY, POLY_API_SECRET, POLY_API_PASSPHRASE)', 'POLY_API_KEY');
      Object.assign(h, l2Headers(auth.address, auth.creds, spec.method, spec.path, spec.body, this.serverSeconds()));
    } else if (typeof spec.auth === 'function') {
      Object.assign(h, spec.auth(this.serverSeconds()));
    }
    return h;
  }

  private async attempt(spec: RequestSpec, route: string): Promise<Answer> {
    if (this.closed) throw new ClobError('network', route, 0, 'client closed', false);
    // Signed per attempt: a retry carries a fresh POLY_TIMESTAMP.
    const headers = this.headers(spec);
    const query = spec.query ? queryString(spec.query) : '';
    this.counters.requests++;
    this.lastUseMs = this.opts.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs);
    try {
      const res = await this.pool.request({
        method: spec.method,
        path: `${this.prefix}${spec.path}${query}`,
        headers,
        body: spec.body ?? null,
        signal: abort.signal,
      });
      const text = await res.body.text();
      const retryAfter = headerValue(res.headers['retry-after']);
      this.noteKeepAlive(headerValue(res.headers['keep-alive']));
      return { status: res.statusCode, text, retryAfter };
    } catch (err) {
      if (abort.signal.aborted) throw new ClobError('timeout', route, 0, `no answer within ${this.opts.timeoutMs} ms`, true);
      throw networkError(route, err);
    } finally {
      clearTimeout(timer);
      this.lastUseMs = this.opts.now();
    }
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function queryString(q: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, v);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Retry-After in seconds (integer) or an HTTP date; ms, capped so a bad header cannot park the client. */
function retryAfterMs(v: string | undefined): number {
  if (!v) return 0;
  const secs = /^\d+$/.test(v.trim()) ? Number(v) : (Date.parse(v) - Date.now()) / 1000;
  return Number.isFinite(secs) && secs > 0 ? Math.min(secs * 1000, 30_000) : 0;
}

export function statusError(route: string, answer: Answer): ClobError {
  const s = answer.status;
  const msg = venueMessage(answer.text) || `HTTP ${s}`;
  if (s === 400) return new ClobError('bad_request', route, s, msg, false);
  if (s === 401 || s === 403) return new ClobError('auth', route, s, msg, false);
  if (s === 404) return new ClobError('not_found', route, s, msg, false);
  if (s === 425) return new ClobError('not_ready', route, s, msg, false, retryAfterMs(answer.retryAfter));
  if (s === 429) return new ClobError('rate_limited', route, s, msg, false, retryAfterMs(answer.retryAfter));
  if (s >= 500) return new ClobError('server', route, s, msg, true);
  return new ClobError('http', route, s, msg, s >= 300 ? false : true);
}

function networkError(route: string, err: unknown): ClobError {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const notSent = typeof code === 'string' && NOT_SENT.has(code);
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new ClobError('timeout', route, 0, message, true);
  }
  return new ClobError('network', route, 0, `${typeof code === 'string' ? `${code} ` : ''}${message}`, !notSent);
}
