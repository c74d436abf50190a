// The main thread's one view of market data: it drains every feed's ring,
// keeps the latest external prices and volatilities, exposes the shared books
// through seqlock readers, and measures per source how old data is when it
// arrives (venue timestamp → our receive stamp) and when we get to it
// (receive stamp → drain).
//
//   feed worker ─ring─┐
//   feed worker ─ring─┼─▶ hub.drain(handler) ─▶ decision code
//   relay thread─ring─┘        │
//                              └─ prices, vols, histograms, counters
//
// Drain cost is per batch, not per event: one clock read per ring per drain,
// one scratch record reused for every event, latest values updated in place.

import { native } from '../native.js';
import { BookBusyError, BookReader } from '../../workers/shared-memory/book-reader.js';
import type { BookSet } from '../../workers/shared-memory/book-layout.js';
import { readCounters, type CounterName } from '../../workers/counters.js';
import { EventKind, EventViews, MAX_SOURCES, newEventRecord, type EventRecord } from '../../workers/shared-memory/event-layout.js';
import type { Ring, RingConsumer } from '../../workers/shared-memory/ring.js';
import { LatencyHistogram } from '../metrics/latency.js';

export interface HubSourceSpec {
  name: string;
  ring: Ring;
  /** The feed's shared counters; undefined for sources without them. */
  counters?: Float64Array | undefined;
  /** Names of the source's tokens/symbols, by event token index (for prices and reports). */
  symbols?: readonly string[] | undefined;
}

/** Latest value of one external price or volatility series, updated in place. */
export class LatestValue {
  bid = NaN;
  ask = NaN;
  exchTsMs = NaN;
  recvNs = NaN;
  updates = 0;

  get mid(): number {
    return (this.bid + this.ask) / 2;
  }
}

class SourceState {
  readonly consumer: RingConsumer;
  readonly views: EventViews;
  readonly exchangeToReceive = new LatencyHistogram();
  readonly receiveToDrain = new LatencyHistogram();
  readonly prices: LatestValue[] = [];
  readonly vols: LatestValue[] = [];
  events = 0;
  /** Events whose handling met a book the writer kept busy past the reader's budget (BookBusyError): skipped. */
  busyBookEvents = 0;
  pending: Promise<number> | undefined;

  constructor(
    readonly index: number,
    readonly spec: HubSourceSpec,
  ) {
    this.consumer = spec.ring.consumer({ wait: 'async' });
    this.views = new EventViews(spec.ring.sab, spec.ring.dataByteOffset, spec.ring.capacity);
  }

  latest(list: LatestValue[], token: number): LatestValue {
    let v = list[token];
    if (!v) {
      // First value of a token: the only allocation, once per series.
      for (let i = list.length; i <= token; i++) list.push(new LatestValue());
      v = list[token]!;
    }
    return v;
  }
}

export type EventHandler = (e: EventRecord, source: number) => void;

export interface HubOptions {
  polymarketBooks?: BookSet | undefined;
  binanceBooks?: BookSet | undefined;
}

export class MarketDataHub {
  private readonly sources: SourceState[] = [];
  private readonly scratch = newEventRecord();
  /** CLOCK_REALTIME − CLOCK_MONOTONIC in ns, sampled once: turns receive stamps into wall time. */
  private readonly monoToWallNs: number;
  readonly polymarket: BookReader | undefined;
  readonly binance: BookReader | undefined;

  constructor(opts: HubOptions = {}) {
    this.monoToWallNs = Number(native.wallNs() - native.nowNs());
    this.polymarket = opts.polymarketBooks ? new BookReader(opts.polymarketBooks) : undefined;
    this.binance = opts.binanceBooks ? new BookReader(opts.binanceBooks) : undefined;
  }

  /** Registers a ring; returns its source index (stamp it on the feed's events). */
  addSource(spec: HubSourceSpec): number {
    if (this.sources.length >= MAX_SOURCES) throw new RangeError(`DataHub: an event record names at most ${MAX_SOURCES} sources`);
    const s = new SourceState(this.sources.length, spec);
    this.sources.push(s);
    return s.index;
  }

  /** Counters of a source created before its feed (the ring comes first, the worker after). */
  attachCounters(source: number, counters: Float64Array): void {
    this.sources[source]!.spec.counters = counters;
  }

  get sourceCount(): number {
    return this.sources.length;
  }

  sourceName(source: number): string {
    return this.sources[source]!.spec.name;
  }

  sourceIndex(name: string): number {
    return this.sources.findIndex((s) => s.spec.name === name);
  }

  /**
   * Drains up to maxPerSource events from every ring, calling handler for
   * each (the record is a reused scratch object: copy what you keep). Returns
   * the number of events drained.
   */
  drain(handler: EventHandler | undefined, maxPerSource = 4096): number {
    let total = 0;
    const e = this.scratch;
    for (let si = 0; si < this.sources.length; si++) {
      const s = this.sources[si]!;
      const c = s.consumer;
      let n = c.available();
      if (n === 0) continue;
      if (n > maxPerSource) n = maxPerSource;
      const nowNs = Number(native.nowNs());
      const wall = this.monoToWallNs;
      for (let i = 0; i < n; i++) {
        s.views.read(c.slot(i), e);
        s.receiveToDrain.recordNs(nowNs - e.recvNs);
        if (e.exchTsMs > 0) s.exchangeToReceive.recordNs(e.recvNs + wall - e.exchTsMs * 1e6);
        if (e.kind === EventKind.ExternalPrice) {
          const v = s.latest(s.prices, e.token);
          v.bid = e.aux0;
          v.ask = e.aux1;
          v.exchTsMs = e.exchTsMs;
          v.recvNs = e.recvNs;
          v.updates++;
        } else if (e.kind === EventKind.Volatility) {
          const v = s.latest(s.vols, e.token);
          v.bid = v.ask = e.aux0;
          v.exchTsMs = e.exchTsMs;
          v.recvNs = e.recvNs;
          v.updates++;
        }
        if (handler !== undefined) {
          try {
            handler(e, si);
          } catch (err) {
            // A book the writer kept busy past the reader's budget: this event's decision is skipped, the next
            // one reads the book again. Anything else is a fault: the events up to this one stay consumed.
            if (!(err instanceof BookBusyError)) {
              c.release(i + 1);
              s.events += i + 1;
              throw err;
            }
            s.busyBookEvents++;
          }
        }
      }
      c.release(n);
      s.events += n;
      total += n;
    }
    return total;
  }

  /**
   * Resolves when any ring has events (or after timeoutMs), without blocking
   * the event loop. Each ring keeps at most one outstanding wait, reused by
   * later calls until it settles.
   */
  async waitForData(timeoutMs: number): Promise<void> {
    const waits: Promise<number>[] = [];
    for (const s of this.sources) {
      if (s.consumer.available() > 0) return;
      if (!s.pending) {
        const p = s.consumer.waitForDataAsync(timeoutMs);
        s.pending = p;
        void p.then(() => {
          if (s.pending === p) s.pending = undefined;
        });
      }
      waits.push(s.pending);
    }
    if (waits.length === 0) {
      await new Promise((r) => setTimeout(r, timeoutMs));
      return;
    }
    await Promise.race([...waits, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** Latest external price of (source, token), or undefined before the first. */
  price(source: number, token: number): LatestValue | undefined {
    return this.sources[source]?.prices[token];
  }

  volatility(source: number, token: number): LatestValue | undefined {
    return this.sources[source]?.vols[token];
  }

  /** Receive stamp (CLOCK_MONOTONIC ns) as Unix ms. */
  recvWallMs(recvNs: number): number {
    return (recvNs + this.monoToWallNs) / 1e6;
  }

  /** Events of the source skipped because a book stayed busy past the reader's budget. */
  busyBookEvents(source: number): number {
    return this.sources[source]!.busyBookEvents;
  }

  latency(source: number): { exchangeToReceive: LatencyHistogram; receiveToDrain: LatencyHistogram } {
    const s = this.sources[source]!;
    return { exchangeToReceive: s.exchangeToReceive, receiveToDrain: s.receiveToDrain };
  }

  events(source: number): number {
    return this.sources[source]!.events;
  }

  counters(source: number): Record<CounterName, number> | undefined {
    const c = this.sources[source]!.spec.counters;
    return c ? readCounters(c) : undefined;
  }

  /** Events the producer dropped because this thread fell behind (drop policy). */
  dropped(source: number): number {
    return this.sources[source]!.consumer.dropped;
  }
}
