// RelaySource: the UDP relay as an engine feed. A native thread
// (native/src/relay_recv.rs) receives, decodes and publishes every price as
// an ExternalPrice event into a Ring; the engine drains `ring` like any
// other feed ring, and reads the counters from `stats`.
//
// Waiting for data. The native thread cannot call Atomics.notify (V8 keeps
// its waiters in its own lists, not on a futex of the word), so a consumer
// that parks is woken in two steps: the thread sees the ring's parked flag
// after a publish, clears it, and queues `wake` on this thread's event loop,
// which runs Atomics.notify. Therefore:
//  - `spin` consumers (a dedicated loop) see a record ~100 ns after publish;
//  - `async` consumers (waitForDataAsync on the main thread) cost one
//    event-loop hop per idle-to-busy transition, nothing while busy;
//  - `spin-then-wait` in a worker works too, woken through this thread's
//    event loop, so keep it free.
//
// Record fields (ExternalPrice, see workers/shared-memory/event-layout.ts): aux0/aux1 =
// bid/ask (float64, bit-exact), size = one-way latency ns, seq = frame
// sequence (NaN for legacy), token = stream, price/price2 = send stamp
// seconds / nanoseconds, recvNs = CLOCK_MONOTONIC at receipt.

import { native } from '../../native.js';
import {
  EVENT_F64_STRIDE,
  EVENT_I32_STRIDE,
  F64_AUX0,
  F64_AUX1,
  F64_EXCH_TS_MS,
  F64_RECV_NS,
  F64_SEQ,
  F64_SIZE,
  I32_PRICE,
  I32_PRICE2,
  I32_TOKEN,
  MAX_SOURCES,
  type EventViews,
} from '../../../workers/shared-memory/event-layout.js';
import { Ring, type FullPolicy } from '../../../workers/shared-memory/ring.js';
import { allowProblem } from './allow.js';
import { formatEndpoint, parseEndpoint } from './endpoint.js';

/** Slots of `RelaySource.stats` (native/src/relay_recv.rs S_*). */
export const RelayStat = {
  /** Packets that passed every gate (published, or counted in ringDrops by a full `drop` ring). */
  packets: 0,
  /** Rejected: not a packet (length, magic, version, reserved flags). */
  garbage: 1,
  /** Extended-frame sequence numbers skipped (per stream, after its first frame). */
  lost: 2,
  /** Extended frames at or behind their stream's last sequence: dropped, never published. */
  late: 3,
  /** Sequence of the last accepted extended frame; NaN before the first. */
  lastSeq: 4,
  legacy: 5,
  bytes: 6,
  recvErrors: 7,
  /** A stream's sequence jumped back by more than 65 536: the sender restarted. */
  restarts: 8,
  ringDrops: 9,
  /** Parked-consumer wake-ups sent through the event loop. */
  wakes: 10,
  /** recvmmsg calls that returned datagrams. */
  batches: 11,
  /** 1 while the receive thread runs. */
  running: 12,
  /** Datagrams from a source address not in `allow`: dropped before decoding (their bytes still count in `bytes`). */
  foreign: 13,
  /** Rejected: bid or ask not finite and > 0, or a size not finite and >= 0. */
  value: 14,
  /** Rejected: bid above ask. */
  crossed: 15,
  /** Rejected: spread wider than maxSpreadBps of the mid. */
  spread: 16,
  /** Rejected: send stamp further than maxSkewMs from this host's clock (the exchange stamp is passed on, not judged). */
  skew: 17,
  /** Rejected: send stamp older than the last accepted one of its stream. */
  backwards: 18,
  /** Rejected: MAC required but absent, or present and wrong (or no key to check it). */
  mac: 19,
} as const;
export type RelayStatName = keyof typeof RelayStat;
export const RELAY_STAT_SLOTS = 24;

/**
 * The reason label of each receive-thread rejection and its slot: every
 * datagram received is in `packets` or in exactly one of these.
 */
export const RELAY_REJECT_REASONS = [
  ['malformed', RelayStat.garbage],
  ['foreign', RelayStat.foreign],
  ['mac', RelayStat.mac],
  ['value', RelayStat.value],
  ['crossed', RelayStat.crossed],
  ['spread', RelayStat.spread],
  ['skew', RelayStat.skew],
  ['late', RelayStat.late],
  ['backwards', RelayStat.backwards],
] as const;

// ring.ts's consumer-parked header word (H_CONSUMER_PARKED); the native
// producer mirrors the same header layout.
const CONSUMER_PARKED_WORD = 96;

type RelayReceiver = InstanceType<typeof native.RelayReceiver>;

export interface RelaySourceOptions {
  /** "ADDR:PORT" to bind; port 0 picks a free one (see `address`). */
  bind: string;
  /** CPU for the receive thread. */
  cpu?: number;
  /** Receive thread busy-polls the socket (a core at 100 %) instead of blocking. */
  spin?: boolean;
  /** SO_BUSY_POLL, microseconds (0 = off). Default 50. */
  busyPollUs?: number;
  /** Requested SO_RCVBUF bytes. Default 8 MiB. */
  rcvbufBytes?: number;
  /** Ring slots, a power of two. Default 65 536 (4 MiB). */
  capacity?: number;
  /** What a full ring does: `drop` (default) counts and discards the newest; `block` makes the thread wait. */
  fullPolicy?: FullPolicy;
  /** Event `source` id of every record. Default 0. */
  source?: number;
  /**
   * Sender IP addresses accepted (allow.ts). Empty or absent: any sender,
   * which only a loopback `bind` may use; start() refuses it elsewhere.
   */
  allow?: readonly string[];
  /** Widest spread accepted, basis points of the mid (default 50). */
  maxSpreadBps?: number;
  /** Furthest a send stamp may be from this host's clock, either way, ms (default 1000). */
  maxSkewMs?: number;
  /** Environment variable holding the hex MAC key; native code reads it (the key never becomes a JS string). */
  macKeyEnv?: string;
  /** Refuse every datagram without a valid MAC, legacy packets included (needs macKeyEnv). */
  requireMac?: boolean;
}

function checkInt(name: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) {
    throw new RangeError(`RelaySource: ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
}

export class RelaySource {
  /** The ring the engine drains (one consumer; the native thread is its producer). */
  readonly ring: Ring;
  /** Counters by RelayStat slot, written by the receive thread once per batch. */
  readonly stats: Float64Array;
  /** Bound address, with the real port. */
  readonly address: string;
  /** SO_RCVBUF as the kernel reports it (twice the payload budget). */
  readonly rcvbufBytes: number;
  /** SO_BUSY_POLL in effect; 0 when the kernel refused or it was off. */
  readonly busyPollUs: number;
  /** Kernel thread id of the receive thread. */
  readonly threadId: number;
  private receiver: RelayReceiver | undefined;

  private constructor(ring: Ring, stats: Float64Array, receiver: RelayReceiver) {
    this.ring = ring;
    this.stats = stats;
    this.receiver = receiver;
    this.address = receiver.localAddress;
    this.rcvbufBytes = receiver.rcvbufBytes;
    this.busyPollUs = receiver.busyPollUs;
    this.threadId = receiver.threadId;
  }

  /** Binds, starts the receive thread and returns once it is receiving. Throws on bad options or a socket error. */
  static start(opts: RelaySourceOptions): RelaySource {
    const ep = parseEndpoint(opts.bind, { allowPortZero: true });
    if (typeof ep === 'string') throw new RangeError(`RelaySource: bind: ${ep}`);
    checkInt('cpu', opts.cpu, 0, 1023);
    checkInt('busyPollUs', opts.busyPollUs, 0, 1_000_000);
    checkInt('rcvbufBytes', opts.rcvbufBytes, 4096, 1 << 30);
    checkInt('source', opts.source, 0, MAX_SOURCES - 1);
    checkInt('maxSkewMs', opts.maxSkewMs, 1, 3_600_000);
    if (opts.maxSpreadBps !== undefined && !(Number.isFinite(opts.maxSpreadBps) && opts.maxSpreadBps >= 0 && opts.maxSpreadBps <= 10_000)) {
      throw new RangeError(`RelaySource: maxSpreadBps must be a number in [0, 10000], got ${String(opts.maxSpreadBps)}`);
    }
    if (opts.requireMac === true && opts.macKeyEnv === undefined) throw new RangeError('RelaySource: requireMac needs macKeyEnv, the environment variable holding the key');
    const allow = opts.allow ?? [];
    const allowWhy = allowProblem(ep.host, allow);
    if (allowWhy !== undefined) throw new RangeError(`RelaySource: allow ${allowWhy}`);
    const ring = Ring.create({ capacity: opts.capacity ?? 65_536, fullPolicy: opts.fullPolicy ?? 'drop' });
    const stats = new Float64Array(new SharedArrayBuffer(RELAY_STAT_SLOTS * 8));
    const header = ring.header;
    const receiver = new native.RelayReceiver(
      {
        bind: formatEndpoint(ep),
        ...(opts.cpu !== undefined ? { cpu: opts.cpu } : {}),
        ...(opts.spin !== undefined ? { spin: opts.spin } : {}),
        ...(opts.busyPollUs !== undefined ? { busyPollUs: opts.busyPollUs } : {}),
        ...(opts.rcvbufBytes !== undefined ? { rcvbufBytes: opts.rcvbufBytes } : {}),
        ...(opts.source !== undefined ? { source: opts.source } : {}),
        allow: [...allow],
        ...(opts.maxSpreadBps !== undefined ? { maxSpreadBps: opts.maxSpreadBps } : {}),
        ...(opts.maxSkewMs !== undefined ? { maxSkewMs: opts.maxSkewMs } : {}),
        ...(opts.macKeyEnv !== undefined ? { macKeyEnv: opts.macKeyEnv } : {}),
        ...(opts.requireMac !== undefined ? { requireMac: opts.requireMac } : {}),
      },
      new Uint8Array(ring.sab),
      stats,
      () => {
        Atomics.notify(header, CONSUMER_PARKED_WORD);
      },
    );
    return new RelaySource(ring, stats, receiver);
  }

  get running(): boolean {
    return this.stats[RelayStat.running] === 1;
  }

  /** Snapshot of every counter (allocates: for status lines and tests). */
  counters(): Record<RelayStatName, number> {
    const out = {} as Record<RelayStatName, number>;
    for (const [name, slot] of Object.entries(RelayStat) as [RelayStatName, number][]) out[name] = this.stats[slot]!;
    return out;
  }

  /**
   * Stops the thread (at most ~50 ms when blocking), closes the socket and
   * the ring: a consumer drains what was published, then sees `done`.
   */
  stop(): void {
    if (!this.receiver) return;
    this.receiver.stop();
    this.receiver = undefined;
    // The thread's own wake-up is queued behind this call; notify now.
    Atomics.notify(this.ring.header, CONSUMER_PARKED_WORD);
  }
}

/** One relay record, decoded; allocate once and reuse. */
export interface RelayPrice {
  /** CLOCK_MONOTONIC ns when the receive thread got the datagram. */
  recvNs: number;
  /** Venue event time, Unix ms (NaN for legacy packets). */
  exchTsMs: number;
  /** Extended-frame sequence; NaN for legacy packets. */
  seq: number;
  stream: number;
  bid: number;
  ask: number;
  /** Receiver CLOCK_REALTIME at receipt minus the sender's CLOCK_REALTIME send stamp. */
  latencyNs: number;
  /** Sender's send stamp: whole Unix seconds and the nanoseconds past them (exact). */
  sendSec: number;
  sendNsInSec: number;
}

export function newRelayPrice(): RelayPrice {
  return { recvNs: 0, exchTsMs: NaN, seq: NaN, stream: 0, bid: 0, ask: 0, latencyNs: 0, sendSec: 0, sendNsInSec: 0 };
}

/** Reads slot `slot` of a relay ring's EventViews into `out`. */
export function readRelayPrice(v: EventViews, slot: number, out: RelayPrice): RelayPrice {
  const f = slot * EVENT_F64_STRIDE;
  const i = slot * EVENT_I32_STRIDE;
  out.recvNs = v.f64[f + F64_RECV_NS]!;
  out.exchTsMs = v.f64[f + F64_EXCH_TS_MS]!;
  out.seq = v.f64[f + F64_SEQ]!;
  out.latencyNs = v.f64[f + F64_SIZE]!;
  out.bid = v.f64[f + F64_AUX0]!;
  out.ask = v.f64[f + F64_AUX1]!;
  out.stream = v.i32[i + I32_TOKEN]!;
  out.sendSec = v.i32[i + I32_PRICE]! >>> 0;
  out.sendNsInSec = v.i32[i + I32_PRICE2]!;
  return out;
}

/** The send stamp in whole microseconds (a legacy packet's ts_micros exactly). */
export function sendMicros(p: RelayPrice): number {
  return p.sendSec * 1_000_000 + Math.floor(p.sendNsInSec / 1000);
}
