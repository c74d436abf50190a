// What every simulated venue shares: one server (uws.ts) on its own loopback port,
// connection bookkeeping, fault routing, and handlers that never let a bad
// client (or a simulator bug) take the process down.
import { createApp, type HttpRequest, type HttpResponse, type SimApp } from './uws.js';
import { SimConnection, type VenueFaultHook } from './connection.js';
import { randomFaultKinds, type FaultKind, type FaultLedger, type FaultOptions, type RandomFaultConfig, type Venue } from './faults.js';
import { sendJson, type ResponseGuard } from './http.js';
import type { PacerHooks } from './pacer.js';

export interface VenueDeps {
  readonly ledger: FaultLedger;
  readonly log: (line: string) => void;
}

export interface VenueStats {
  readonly port: number;
  readonly connections: number;
  readonly totalConnections: number;
  readonly framesSent: number;
  readonly invalidMessages: number;
  readonly eventsEmitted: number;
  readonly sourceExhausted: boolean;
}

export type Accepted<S> = { readonly ok: true; readonly state: S } | { readonly ok: false; readonly status: number; readonly error: string };

export interface WsRouteHandlers<S> {
  /** Validate the upgrade request; the returned state becomes the connection's. */
  accept(url: string, query: string): Accepted<S>;
  open?(conn: SimConnection<S>): void;
  message(conn: SimConnection<S>, text: string, isBinary: boolean): void;
  close?(conn: SimConnection<S>): void;
}

export type HttpHandler = (res: HttpResponse, req: HttpRequest, guard: ResponseGuard) => void;

interface SocketData<S> {
  readonly state: S;
  conn: SimConnection<S> | undefined;
}

/** A client whose send buffer exceeds this makes the pacer wait. */
const BLOCKED_BYTES = 1 << 20;
const MAX_BACKPRESSURE = 16 << 20;
const MAX_CLIENT_MESSAGE = 64 << 10;

export abstract class VenueServer<S> {
  readonly app: SimApp;
  protected readonly conns = new Set<SimConnection<S>>();
  protected invalidMessages = 0;
  private nextId = 1;
  private randomCfg: RandomFaultConfig | null = null;
  private boundPort = 0;
  private closing = false;
  /** Frames sent on connections that have since closed, so stats survive reconnects. */
  private closedFramesSent = 0;

  /** `app`: a transport other than the process's default (see PolymarketVenue). */
  protected constructor(
    readonly venue: Venue,
    protected readonly deps: VenueDeps,
    app?: SimApp,
  ) {
    this.app = app ?? createApp();
  }

  /** Begin emitting events (according to the pacing chosen by the venue). */
  abstract startFeed(): void;
  abstract stopFeed(): void;
  /** Manual pacing: emit the next `n` source events now. */
  abstract advance(n: number): number;
  protected abstract eventsEmitted(): number;
  protected abstract sourceExhausted(): boolean;

  get port(): number {
    return this.boundPort;
  }

  get openConnections(): number {
    return this.conns.size;
  }

  async listen(port: number): Promise<number> {
    this.app.any('/*', (res) => {
      const guard: ResponseGuard = { aborted: false, done: false };
      sendJson(res, guard, 404, { error: 'not found' });
    });
    const bound = await this.app.listen('127.0.0.1', port);
    if (bound === null) throw new Error(`${this.venue}: cannot listen on 127.0.0.1:${port}`);
    this.boundPort = bound;
    return bound;
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.stopFeed();
    for (const conn of this.conns) conn.markClosed();
    this.conns.clear();
    // Closes every accepted socket too, so nothing keeps the event loop alive.
    this.app.close();
  }

  /**
   * Apply a fault to every open connection. Returns how many connections it
   * was applied or armed on. Venue-state faults override this.
   */
  injectFault(kind: FaultKind, options: FaultOptions): number {
    let n = 0;
    for (const conn of [...this.conns]) {
      if (conn.inject(kind, options.durationMs)) n++;
    }
    return n;
  }

  setRandomFaults(cfg: RandomFaultConfig | null): void {
    this.randomCfg = cfg && (!cfg.venues || cfg.venues.includes(this.venue)) ? cfg : null;
    for (const conn of this.conns) conn.setRandom(this.randomCfg, this.randomKinds());
  }

  stats(): VenueStats {
    let framesSent = 0;
    for (const conn of this.conns) framesSent += conn.framesSent;
    return {
      port: this.boundPort,
      connections: this.conns.size,
      totalConnections: this.nextId - 1,
      framesSent: framesSent + this.closedFramesSent,
      invalidMessages: this.invalidMessages,
      eventsEmitted: this.eventsEmitted(),
      sourceExhausted: this.sourceExhausted(),
    };
  }

  /** Adds the `/_sim/*` control routes (see control.ts) to this venue's port. */
  mountControl(routes: { readonly fault: HttpHandler; readonly stats: HttpHandler }): void {
    this.httpPost('/_sim/fault', routes.fault);
    this.httpGet('/_sim/stats', routes.stats);
  }

  /** Pacer hooks every venue uses: client backpressure and "nobody listening". */
  protected pacerHooks(onEnd?: () => void): PacerHooks {
    return { blocked: () => this.blocked(), idle: () => this.conns.size === 0, ...(onEnd ? { onEnd } : {}) };
  }

  /** Wraps a paced event handler: a bug while rendering one event is logged, not fatal. */
  protected safely<E>(fn: (event: E) => void): (event: E) => void {
    return (event) => {
      try {
        fn(event);
      } catch (err) {
        this.deps.log(`${this.venue}: event handler failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      }
    };
  }

  /** True while a client is too far behind for more data to be useful. */
  protected blocked(): boolean {
    for (const conn of this.conns) if (conn.bufferedAmount() > BLOCKED_BYTES) return true;
    return false;
  }

  protected venueFaultHook(): VenueFaultHook | undefined {
    return undefined;
  }

  protected rejectMessage(conn: SimConnection<S>, reason: string): void {
    this.invalidMessages++;
    this.deps.log(`${this.venue}#${conn.id}: rejected client message: ${reason}`);
  }

  private randomKinds(): FaultKind[] {
    const kinds = randomFaultKinds(this.venue);
    const only = this.randomCfg?.kinds;
    return only ? kinds.filter((k) => only.includes(k)) : kinds;
  }

  protected wsRoute(pattern: string, h: WsRouteHandlers<S>): void {
    this.app.ws<SocketData<S>>(pattern, {
      maxPayloadLength: MAX_CLIENT_MESSAGE,
      idleTimeout: 0,
      sendPingsAutomatically: false,
      maxBackpressure: MAX_BACKPRESSURE,
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => {
        try {
          const url = req.getUrl();
          const query = req.getQuery() ?? '';
          const key = req.getHeader('sec-websocket-key');
          const protocol = req.getHeader('sec-websocket-protocol');
          const extensions = req.getHeader('sec-websocket-extensions');
          const accepted = this.closing ? ({ ok: false, status: 409, error: 'simulator stopping' } as const) : h.accept(url, query);
          if (!accepted.ok) {
            sendJson(res, { aborted: false, done: false }, accepted.status, { error: accepted.error });
            return;
          }
          const data: SocketData<S> = { state: accepted.state, conn: undefined };
          res.upgrade(data, key, protocol, extensions, context);
        } catch (err) {
          this.deps.log(`${this.venue}: upgrade failed: ${String(err)}`);
          sendJson(res, { aborted: false, done: false }, 500, { error: 'internal error' });
        }
      },
      open: (ws) => {
        const data = ws.getUserData();
        const conn = new SimConnection<S>(ws, this.venue, this.nextId++, data.state, this.deps.ledger, this.venueFaultHook());
        data.conn = conn;
        if (this.closing) {
          conn.close();
          return;
        }
        this.conns.add(conn);
        conn.setRandom(this.randomCfg, this.randomKinds());
        this.guard(conn, () => h.open?.(conn));
      },
      message: (ws, message, isBinary) => {
        const conn = ws.getUserData().conn;
        if (!conn || conn.closed) return;
        // The ArrayBuffer is only valid during this callback: decode (copy) now.
        const text = Buffer.from(message).toString('utf8');
        this.guard(conn, () => h.message(conn, text, isBinary));
      },
      close: (ws) => {
        const conn = ws.getUserData().conn;
        if (!conn) return;
        conn.markClosed();
        if (this.conns.delete(conn)) this.closedFramesSent += conn.framesSent;
        this.guard(conn, () => h.close?.(conn));
      },
    });
  }

  protected httpGet(pattern: string, handler: HttpHandler): void {
    this.app.get(pattern, (res, req) => this.guardHttp(res, req, handler));
  }

  protected httpPost(pattern: string, handler: HttpHandler): void {
    this.app.post(pattern, (res, req) => this.guardHttp(res, req, handler));
  }

  protected httpDel(pattern: string, handler: HttpHandler): void {
    this.app.del(pattern, (res, req) => this.guardHttp(res, req, handler));
  }

  private guardHttp(res: HttpResponse, req: HttpRequest, handler: HttpHandler): void {
    const guard: ResponseGuard = { aborted: false, done: false };
    res.onAborted(() => {
      guard.aborted = true;
    });
    try {
      handler(res, req, guard);
    } catch (err) {
      this.deps.log(`${this.venue}: HTTP handler failed: ${String(err)}`);
      sendJson(res, guard, 500, { error: 'internal error' });
    }
  }

  private guard(conn: SimConnection<S>, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.deps.log(`${this.venue}#${conn.id}: handler failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }
}
