// Replay of our own recordings (.pedrec): every frame, REST snapshot and
// Polymarket slot assignment goes through exactly the core the live worker
// ran, in the order the worker saw them, as fast as possible or at the
// recorded pace.

import { setTimeout as sleep } from 'node:timers/promises';
import { BinanceBookWriter, createBinanceBooks } from '../../workers/venues/binance/book.js';
import { createPolymarketBooks, PolymarketBookWriter } from '../../workers/venues/polymarket/book.js';
import { createCounters } from '../../workers/counters.js';
import { polymarketSlots, type FeedSpec, type PolymarketFeedSpec } from '../../workers/feed-init.js';
import { BinanceCore } from '../../workers/venues/binance/feed.js';
import { DeribitCore } from '../../workers/venues/deribit/feed.js';
import { discardEvents, type EventSink } from '../../workers/event-sink.js';
import { PolymarketCore } from '../../workers/venues/polymarket/feed.js';
import { RtdsCore } from '../../workers/venues/rtds/feed.js';
import { decodeSlotOp, readRecording, slotOpsSource, type RecordedFrame, type RecordingHeader } from '../../workers/recording/recording.js';
import { PolyedgeError } from '../errors.js';
import { isPlainObject } from '../../workers/guards.js';
import { PRICE_SCALE } from '../trading/types.js';

/** One top-of-book change, with prices and sizes as decimal strings. */
export interface TopLine {
  venue: string;
  symbol: string;
  /** Last applied venue update id; undefined where the venue has none (Polymarket). */
  u: number | undefined;
  ts: number;
  bid: string;
  bidSize: string;
  ask: string;
  askSize: string;
}

export interface ReplayOptions {
  pace: 'fast' | 'recorded';
  onTop?: ((t: TopLine) => void) | undefined;
  events?: EventSink;
}

export interface ReplayResult {
  feed: string;
  frames: number;
  snapshots: number;
  /** Slot assignments and releases applied. */
  slotOps: number;
  /** Recorded slot ops refused (as the worker refused them) or unreadable. */
  slotErrors: number;
  tornBytes: number;
  counters: Float64Array;
}

interface ReplayCore {
  onFrame(data: Uint8Array, recvNs: number): void;
  onSnapshot(key: number, body: Uint8Array, recvNs: number): boolean;
  /** Polymarket: throws RangeError where the worker refused the same op. */
  assign?(slot: number, tokenId: string): void;
  release?(slot: number): void;
}

function isFeedSpec(v: unknown): v is FeedSpec {
  if (!isPlainObject(v)) return false;
  const f = v.feed;
  return f === 'polymarket' || f === 'binance' || f === 'rtds' || f === 'deribit';
}

/** Polymarket prices on the 1e-4 grid, printed with the decimals of the tick in force. */
function polyPrice(ticks: number): string {
  return ticks < 0 ? '' : (ticks / PRICE_SCALE).toFixed(ticks % 100 === 0 ? 2 : ticks % 10 === 0 ? 3 : 4);
}

/**
 * Slot occupants a file began with, when its meta says (a file started after
 * slots changed hands): a token id or null per slot.
 */
function assignedAtStart(path: string, spec: PolymarketFeedSpec, slots: number): Array<string | null> | undefined {
  const assigned: unknown = (spec as { assigned?: unknown }).assigned;
  if (assigned === undefined) return undefined;
  if (!Array.isArray(assigned) || assigned.length !== slots || !assigned.every((a) => a === null || typeof a === 'string')) {
    throw new PolyedgeError('PE_USAGE', `${path}: meta.assigned must list a token id or null for each of the ${slots} slots`, 'input');
  }
  return assigned as Array<string | null>;
}

function buildCore(path: string, spec: FeedSpec, counters: Float64Array, opts: ReplayOptions): ReplayCore {
  const events = opts.events ?? discardEvents;
  const onTop = opts.onTop;
  switch (spec.feed) {
    case 'polymarket': {
      const slots = polymarketSlots(spec);
      const assigned = assignedAtStart(path, spec, slots);
      const core: PolymarketCore = new PolymarketCore({
        tokens: assigned ? [] : spec.tokenIds,
        slots,
        books: new PolymarketBookWriter(createPolymarketBooks(slots)),
        events,
        counters,
        source: 0,
        requestSnapshot: () => {},
        onTopChange: onTop
          ? (t) =>
              onTop({
                venue: 'polymarket',
                symbol: core.tokenAt(t.token) ?? '',
                u: undefined,
                ts: t.eventMs,
                bid: polyPrice(t.bidTicks),
                bidSize: t.bidTicks < 0 ? '' : String(t.bidSize),
                ask: polyPrice(t.askTicks),
                askSize: t.askTicks < 0 ? '' : String(t.askSize),
              })
          : undefined,
      });
      core.start();
      assigned?.forEach((id, slot) => id !== null && core.assign(slot, id));
      return core;
    }
    case 'binance': {
      const core: BinanceCore = new BinanceCore({
        symbols: spec.symbols,
        books: new BinanceBookWriter(createBinanceBooks(spec.symbols.map((s) => ({ tickValue: 10 ** -s.tickExp })))),
        events,
        counters,
        source: 0,
        requestSnapshot: () => {},
        onTopChange: onTop
          ? (t) =>
              onTop({
                venue: 'binance-usdm',
                symbol: spec.symbols[t.sym]!.symbol,
                u: t.u,
                ts: t.eventMs,
                bid: core.formatPrice(t.sym, t.bidTicks),
                bidSize: core.formatQty(t.sym, t.bidQty),
                ask: core.formatPrice(t.sym, t.askTicks),
                askSize: core.formatQty(t.sym, t.askQty),
              })
          : undefined,
      });
      core.start();
      return core;
    }
    case 'rtds': {
      const core = new RtdsCore({ symbols: spec.symbols, events, counters, source: 0 });
      return { onFrame: (d, ns) => core.onFrame(d, ns), onSnapshot: () => false };
    }
    case 'deribit': {
      const core = new DeribitCore({ indices: spec.indices, events, counters, source: 0, send: () => false });
      return { onFrame: (d, ns) => core.onFrame(d, ns), onSnapshot: () => false };
    }
  }
}

/** Replays one .pedrec file. */
export async function replayRecordingFile(path: string, opts: ReplayOptions): Promise<ReplayResult> {
  const counters = createCounters();
  let core: ReplayCore | undefined;
  let feed = '';
  let frames = 0;
  let snapshots = 0;
  let slotOps = 0;
  let slotErrors = 0;
  /** Source index of the slot assignments; -1 in recordings without them. */
  let slotSource = -1;
  const start = (header: RecordingHeader): ReplayCore => {
    const meta = header.meta;
    if (!isFeedSpec(meta)) throw new PolyedgeError('PE_USAGE', `${path}: the recording does not describe its feed (recorded by an older polyedge?)`, 'input');
    feed = meta.feed;
    slotSource = header.sources.indexOf(slotOpsSource(meta.feed));
    return buildCore(path, meta, counters, opts);
  };
  const applySlotOp = (c: ReplayCore, payload: Uint8Array): void => {
    const op = decodeSlotOp(payload);
    try {
      if (typeof op === 'string') throw new RangeError(op);
      if (!c.assign || !c.release) throw new RangeError(`the ${feed} feed has no token slots`);
      if (op.op === 'assign') c.assign(op.slot, op.tokenId);
      else c.release(op.slot);
      slotOps++;
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      slotErrors++;
    }
  };
  const apply = (c: ReplayCore, f: RecordedFrame): void => {
    if (f.source === 0) {
      frames++;
      c.onFrame(f.payload, f.recvMonoNs);
    } else if (f.source === slotSource) {
      applySlotOp(c, f.payload);
    } else {
      snapshots++;
      c.onSnapshot(f.source - 1, f.payload, f.recvMonoNs);
    }
  };
  const result = (tornBytes: number): ReplayResult => ({ feed, frames, snapshots, slotOps, slotErrors, tornBytes, counters });
  if (opts.pace === 'fast') {
    const read = readRecording(
      path,
      (f) => apply(core!, f),
      (h) => (core = start(h)),
    );
    return result(read.tornBytes);
  }
  // Recorded pace awaits between frames, and the reader is synchronous: copy the frames out first.
  const kept: RecordedFrame[] = [];
  const read = readRecording(path, (f) => kept.push({ ...f, payload: Uint8Array.prototype.slice.call(f.payload) }));
  core = start(read.header);
  let prevNs = NaN;
  for (const f of kept) {
    if (f.recvMonoNs > prevNs) await sleep((f.recvMonoNs - prevNs) / 1e6);
    prevNs = f.recvMonoNs;
    apply(core, f);
  }
  return result(read.tornBytes);
}
