// Deribit DVOL core (protocols §10): JSON-RPC over WebSocket. On open it asks
// for heartbeats and subscribes; every `test_request` heartbeat is answered
// with `public/test` at once, or Deribit closes the connection. Each DVOL
// tick becomes a Volatility event: aux0 = annualised volatility as a
// fraction (DVOL 55.2 → 0.552), aux1 = the index's horizon, 30 days.

import { COUNTER } from '../../counters.js';
import { EventKind, newEventRecord } from '../../shared-memory/event-layout.js';
import { DeribitParser, DVOL_CHANNEL_PREFIX, type DeribitSink } from './parse.js';
import { Status } from '../../parse/json.js';
import type { EventSink } from '../../event-sink.js';

/** DVOL is a 30-day implied volatility index. */
export const DVOL_HORIZON_S = 30 * 86_400;
/** Seconds; Deribit's minimum. */
export const HEARTBEAT_INTERVAL_S = 10;

const RPC_SET_HEARTBEAT = 1;
const RPC_SUBSCRIBE = 2;
const RPC_TEST = 3;

export interface DeribitCoreOptions {
  /** DVOL index names ("btc_usd"); event token = index in this list. */
  indices: readonly string[];
  events: EventSink;
  counters: Float64Array;
  source: number;
  /** Sends one text frame on the current connection (false when it is down). */
  send(text: string): boolean;
}

export class DeribitCore implements DeribitSink {
  readonly parser: DeribitParser;
  private readonly ev = newEventRecord();
  private recvNs = 0;
  private readonly testReply = JSON.stringify({ jsonrpc: '2.0', id: RPC_TEST, method: 'public/test', params: {} });
  testRequestsAnswered = 0;
  rpcErrors = 0;

  constructor(private readonly opts: DeribitCoreOptions) {
    this.parser = new DeribitParser(this);
    opts.indices.forEach((name, i) => this.parser.registerIndex(name, i));
    this.ev.source = opts.source;
    this.ev.kind = EventKind.Volatility;
  }

  /** Messages to send on every (re)connect, in order. */
  openMessages(): string[] {
    return [
      JSON.stringify({ jsonrpc: '2.0', id: RPC_SET_HEARTBEAT, method: 'public/set_heartbeat', params: { interval: HEARTBEAT_INTERVAL_S } }),
      JSON.stringify({
        jsonrpc: '2.0',
        id: RPC_SUBSCRIBE,
        method: 'public/subscribe',
        params: { channels: this.opts.indices.map((n) => DVOL_CHANNEL_PREFIX + n) },
      }),
    ];
  }

  onFrame(data: Uint8Array, recvNs: number): void {
    const c = this.opts.counters;
    c[COUNTER.frames]!++;
    c[COUNTER.bytes]! += data.length;
    this.recvNs = recvNs;
    const status = this.parser.parse(data);
    if (status < 0) c[COUNTER.parseErrors]!++;
    else if (status === Status.UNKNOWN_EVENT || status === Status.UNKNOWN_ID) c[COUNTER.unknownEvents]!++;
  }

  onVolatility(index: number, volatility: number, tsMs: number): void {
    const e = this.ev;
    e.token = index;
    e.recvNs = this.recvNs;
    e.exchTsMs = tsMs;
    e.seq = NaN;
    e.aux0 = volatility / 100;
    e.aux1 = DVOL_HORIZON_S;
    this.opts.events.emit(e);
  }

  onTestRequest(): void {
    if (this.opts.send(this.testReply)) this.testRequestsAnswered++;
  }

  onRpcResult(_id: number, _resultJson: string): void {}

  onRpcError(_id: number, _code: number, _errorJson: string): void {
    // A rejected subscribe or heartbeat leaves the feed silent; the stall
    // watchdog reconnects, and the count makes the cause visible.
    this.rpcErrors++;
    this.opts.counters[COUNTER.restErrors]!++;
  }
}
