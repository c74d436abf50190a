// A venue WebSocket that stays up: reconnect with exponential backoff and
// full jitter, an application-level keep-alive (Polymarket and RTDS want a
// text PING and answer PONG), and stall detection: no frame and no PONG
// within the window means the socket is dead even if TCP says otherwise, so
// it is torn down and reopened, and the owner resyncs its state.
//
//   connecting ──open──▶ open ──close/error/stall──▶ waiting(backoff) ──▶ connecting
//        ▲                                                                   │
//        └───────────────────────────────────────────────────────────────────┘
//
// Every frame is stamped with the native monotonic clock before anything
// else looks at it.

import WebSocket from 'ws';
import { native } from '../engine/native.js';
import { COUNTER } from './counters.js';
import { backoffDelayMs } from './backoff.js';

export interface ConnectionOptions {
  url: string;
  /** Text keep-alive sent every `pingIntervalMs` (e.g. "PING"); none when undefined. */
  pingText?: string | undefined;
  pingIntervalMs?: number;
  /** No frame (data or pong) for this long → the connection is declared stalled. */
  stallMs: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  counters: Float64Array;
  /** Called on every open, including reconnects: send subscriptions here. */
  onOpen(send: (text: string) => void, reconnect: boolean): void;
  /** Raw frame bytes and their receive time (CLOCK_MONOTONIC ns). */
  onFrame(data: Buffer, recvNs: bigint): void;
  /** The connection was lost (closed, errored, or stalled); state built from it is suspect. */
  onDown?(reason: string): void;
  /** Deterministic jitter in tests; Math.random otherwise. */
  random?: () => number;
}

export class FeedConnection {
  private ws: WebSocket | undefined;
  private attempts = 0;
  private everOpened = false;
  private lastFrameMs = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly opts: ConnectionOptions) {
    this.random = opts.random ?? Math.random;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ws?.removeAllListeners();
    this.ws?.on('error', () => {});
    this.ws?.terminate();
    this.ws = undefined;
  }

  send(text: string): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text);
    return true;
  }

  /** Tears the socket down as if it had stalled (a data watchdog fired); the normal reconnect follows. */
  drop(): void {
    this.opts.counters[COUNTER.stalls]!++;
    this.ws?.terminate();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.opts.url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.on('open', () => {
      this.attempts = 0;
      this.lastFrameMs = Date.now();
      const reconnect = this.everOpened;
      this.everOpened = true;
      this.opts.onOpen((t) => ws.send(t), reconnect);
      this.armTimers(ws);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const recvNs = native.nowNs();
      this.lastFrameMs = Date.now();
      const c = this.opts.counters;
      if (!isBinary && data.length === 4 && data.toString('latin1') === 'PONG') {
        c[COUNTER.pongs]!++;
        return;
      }
      this.opts.onFrame(data, recvNs);
    });
    ws.on('pong', () => {
      this.lastFrameMs = Date.now();
    });
    ws.on('error', () => {
      // 'close' follows every 'error'; the reconnect happens there.
    });
    ws.on('close', () => this.down(ws, 'closed'));
  }

  private armTimers(ws: WebSocket): void {
    this.clearTimers();
    const { pingText, pingIntervalMs = 10_000, stallMs, counters } = this.opts;
    if (pingText !== undefined) {
      this.pingTimer = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(pingText);
          counters[COUNTER.pings]!++;
        }
      }, pingIntervalMs);
    }
    this.stallTimer = setInterval(() => {
      if (Date.now() - this.lastFrameMs > stallMs) {
        counters[COUNTER.stalls]!++;
        ws.terminate();
      }
    }, Math.max(50, Math.floor(stallMs / 4)));
  }

  private clearTimers(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.pingTimer = undefined;
    this.stallTimer = undefined;
  }

  private down(ws: WebSocket, reason: string): void {
    if (this.ws !== ws) return;
    this.clearTimers();
    this.ws = undefined;
    if (this.stopped) return;
    this.opts.onDown?.(reason);
    this.opts.counters[COUNTER.reconnects]!++;
    const delay = backoffDelayMs(this.attempts++, { baseMs: this.opts.backoffBaseMs ?? 250, maxMs: this.opts.backoffMaxMs ?? 10_000 }, this.random);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
