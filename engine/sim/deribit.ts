// Deribit JSON-RPC over WebSocket (`/ws/api/v2`, protocols.md §10): DVOL
// subscriptions, heartbeats with `test_request`, `public/test`.
import { Pacer, type Pacing } from './pacer.js';
import { DvolWalk, type DvolTick } from './scenario.js';
import { VenueServer, type VenueDeps } from './venue.js';
import type { SimConnection } from './connection.js';
import { isPlainObject } from '../../workers/guards.js';

export interface DeribitOptions {
  /** DVOL level the generator reverts to. Default: the recorded sample (129.36). */
  readonly baseVolatility?: number;
  /** Publication interval at speed 1. Default 1000 ms. */
  readonly intervalMs?: number;
  /**
   * Wall-clock length of one heartbeat "second". The venue's minimum
   * interval is 10 s; tests shrink the unit instead of the interval.
   */
  readonly heartbeatUnitMs?: number;
}

interface DeribitConnState {
  readonly channels: Set<string>;
  heartbeat: NodeJS.Timeout | undefined;
  awaitingTest: boolean;
}

const INDEXES = ['btc_usd', 'eth_usd'] as const;
const CHANNELS: readonly string[] = INDEXES.map((i) => `deribit_volatility_index.${i}`);
const MIN_HEARTBEAT_S = 10;
const API_VERSION = '1.2.26';

type RpcId = number | string | null;

interface RpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

class RpcFailure extends Error {
  constructor(readonly rpc: RpcError) {
    super(rpc.message);
  }
}

const invalidParams = (reason: string, param?: string): RpcFailure =>
  new RpcFailure({ code: -32602, message: 'Invalid params', data: { reason, ...(param ? { param } : {}) } });


function channelList(params: Record<string, unknown>): string[] {
  const channels = params['channels'];
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => typeof c === 'string')) {
    throw invalidParams("'channels' must be a non-empty array of strings", 'channels');
  }
  return channels as string[];
}

export class DeribitVenue extends VenueServer<DeribitConnState> {
  private readonly pacer: Pacer<DvolTick>;
  private readonly heartbeatUnitMs: number;
  private heartbeatTimeouts = 0;

  constructor(deps: VenueDeps, seed: number, pacing: Pacing, opts: DeribitOptions = {}) {
    super('deribit', deps);
    this.heartbeatUnitMs = opts.heartbeatUnitMs ?? 1000;
    if (!(this.heartbeatUnitMs > 0)) throw new RangeError('deribit heartbeatUnitMs must be > 0');
    const walk = new DvolWalk(seed, INDEXES, opts.baseVolatility, opts.intervalMs ?? 1000);
    this.pacer = new Pacer(walk, pacing, this.safely((tick: DvolTick) => this.publish(tick)), this.pacerHooks());
    this.wsRoute('/ws/api/v2', {
      accept: () => ({ ok: true, state: { channels: new Set<string>(), heartbeat: undefined, awaitingTest: false } }),
      message: (conn, text, isBinary) => this.onMessage(conn, text, isBinary),
      close: (conn) => this.stopHeartbeat(conn),
    });
  }

  startFeed(): void {
    this.pacer.start();
  }

  stopFeed(): void {
    this.pacer.stop();
    for (const conn of this.conns) this.stopHeartbeat(conn);
  }

  advance(n: number): number {
    return this.pacer.advance(n);
  }

  protected eventsEmitted(): number {
    return this.pacer.emitted;
  }

  protected sourceExhausted(): boolean {
    return false;
  }

  /** Connections closed because a `test_request` went unanswered. */
  get heartbeatTimeoutCount(): number {
    return this.heartbeatTimeouts;
  }

  private publish(tick: DvolTick): void {
    const channel = `deribit_volatility_index.${tick.indexName}`;
    const frame = JSON.stringify({
      jsonrpc: '2.0',
      method: 'subscription',
      params: { channel, data: { volatility: tick.volatility, timestamp: tick.timestamp, index_name: tick.indexName } },
    });
    for (const conn of this.conns) if (conn.state.channels.has(channel)) conn.sendData(frame);
  }

  private onMessage(conn: SimConnection<DeribitConnState>, text: string, isBinary: boolean): void {
    const usIn = Date.now() * 1000;
    const respond = (id: RpcId, body: { result: unknown } | { error: RpcError }): void => {
      const usOut = Date.now() * 1000;
      conn.sendControl(JSON.stringify({ jsonrpc: '2.0', id, ...body, usIn, usOut, usDiff: usOut - usIn, testnet: false }));
    };
    const fail = (id: RpcId, error: RpcError): void => {
      this.rejectMessage(conn, error.message + (error.data ? ` ${JSON.stringify(error.data)}` : ''));
      respond(id, { error });
    };
    if (isBinary) return fail(null, { code: -32700, message: 'Parse error', data: { reason: 'binary frames are not accepted' } });
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch {
      return fail(null, { code: -32700, message: 'Parse error' });
    }
    if (!isPlainObject(req)) return fail(null, { code: -32600, message: 'Invalid Request', data: { reason: 'expected a JSON object' } });
    const rawId = req['id'];
    const idOk = rawId === undefined || rawId === null || typeof rawId === 'string' || (typeof rawId === 'number' && Number.isFinite(rawId));
    const id: RpcId = idOk ? ((rawId as RpcId | undefined) ?? null) : null;
    if (!idOk) return fail(null, { code: -32600, message: 'Invalid Request', data: { reason: "'id' must be a number or a string" } });
    if (req['jsonrpc'] !== undefined && req['jsonrpc'] !== '2.0') {
      return fail(id, { code: -32600, message: 'Invalid Request', data: { reason: "'jsonrpc' must be \"2.0\"" } });
    }
    const method = req['method'];
    if (typeof method !== 'string') return fail(id, { code: -32600, message: 'Invalid Request', data: { reason: "'method' must be a string" } });
    const params = req['params'] ?? {};
    if (!isPlainObject(params)) return fail(id, { code: -32602, message: 'Invalid params', data: { reason: "'params' must be an object" } });
    try {
      respond(id, { result: this.call(conn, method, params) });
    } catch (err) {
      if (err instanceof RpcFailure) return fail(id, err.rpc);
      throw err;
    }
  }

  private call(conn: SimConnection<DeribitConnState>, method: string, params: Record<string, unknown>): unknown {
    const s = conn.state;
    switch (method) {
      case 'public/subscribe': {
        const channels = channelList(params);
        const unknown = channels.filter((c) => !CHANNELS.includes(c));
        if (unknown.length > 0) throw invalidParams(`unsupported channel(s) ${unknown.join(', ')}; simulated: ${CHANNELS.join(', ')}`, 'channels');
        for (const c of channels) s.channels.add(c);
        return channels;
      }
      case 'public/unsubscribe': {
        const channels = channelList(params);
        for (const c of channels) s.channels.delete(c);
        return channels;
      }
      case 'public/unsubscribe_all':
        s.channels.clear();
        return 'ok';
      case 'public/set_heartbeat': {
        const interval = params['interval'];
        if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < MIN_HEARTBEAT_S) {
          throw invalidParams(`'interval' must be a number of seconds ≥ ${MIN_HEARTBEAT_S}`, 'interval');
        }
        this.startHeartbeat(conn, interval);
        return 'ok';
      }
      case 'public/disable_heartbeat':
        this.stopHeartbeat(conn);
        return 'ok';
      case 'public/test':
        s.awaitingTest = false;
        return { version: API_VERSION };
      case 'public/hello':
        return { version: API_VERSION };
      case 'public/get_time':
        return Date.now();
      default:
        throw new RpcFailure({ code: -32601, message: 'Method not found', data: { method } });
    }
  }

  private startHeartbeat(conn: SimConnection<DeribitConnState>, intervalS: number): void {
    this.stopHeartbeat(conn);
    const s = conn.state;
    s.heartbeat = setInterval(this.safely(() => {
      if (conn.closed) return this.stopHeartbeat(conn);
      // A stalled venue neither asks nor judges.
      if (conn.isStalled()) {
        s.awaitingTest = false;
        return;
      }
      if (s.awaitingTest) {
        this.heartbeatTimeouts++;
        this.deps.log(`deribit#${conn.id}: test_request not answered, closing`);
        this.stopHeartbeat(conn);
        conn.end(1000, 'heartbeat: public/test not called after test_request');
        return;
      }
      s.awaitingTest = true;
      conn.sendControl(JSON.stringify({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'test_request' } }));
    }), intervalS * this.heartbeatUnitMs);
  }

  private stopHeartbeat(conn: SimConnection<DeribitConnState>): void {
    if (conn.state.heartbeat) clearInterval(conn.state.heartbeat);
    conn.state.heartbeat = undefined;
    conn.state.awaitingTest = false;
  }
}
