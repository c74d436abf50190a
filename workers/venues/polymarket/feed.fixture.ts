// Test helpers for the Polymarket feed core: a core over real shared-memory
// books, an event consumer that rebuilds books from the records alone, and a
// client that drives the core from real WebSocket connections to the venue
// simulator (one per shard), with a PING/PONG barrier so a test knows every
// frame the simulator sent has been applied.
import WebSocket from 'ws';
import { BookFlag, Side } from '../../shared-memory/book-layout.js';
import { createPolymarketBooks, PolymarketBookWriter } from './book.js';
import { BookReader, TopOfBook } from '../../shared-memory/book-reader.js';
import { createCounters } from '../../counters.js';
import { EventKind, Flag, type EventRecord } from '../../shared-memory/event-layout.js';
import type { EventSink } from '../../event-sink.js';
import { PolymarketCore, subscribeMessage, type PolymarketCoreOptions } from './feed.js';
import type { VenueSimulator } from '../../../engine/sim/simulator.js';
import type { PmBookSnapshot } from '../../../engine/sim/polymarket.js';

/** A book as [tick, size] pairs, best first, plus its tick size: what tests compare. */
export interface PlainBook {
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
  tick: number;
}

const toTicks = (price: string): number => Math.round(Number(price) * 10_000);

/** The simulator's `GET /book` view of a token, in the same terms as readBook(). */
export function simBook(s: PmBookSnapshot): PlainBook {
  const side = (levels: PmBookSnapshot['bids'], desc: boolean): Array<[number, number]> =>
    levels.map((l): [number, number] => [toTicks(l.price), Number(l.size)]).sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]));
  return { bids: side(s.bids, true), asks: side(s.asks, false), tick: toTicks(s.tick_size) };
}

const depthTicks = new Int32Array(10_001);
const depthSizes = new Float64Array(10_001);

/** Every level of a shared book through the seqlocked reader. */
export function readBook(reader: BookReader, token: number): PlainBook {
  const side = (s: Side): Array<[number, number]> => {
    const n = reader.depth(token, s, depthTicks.length, depthTicks, depthSizes);
    return Array.from({ length: n }, (_, i): [number, number] => [depthTicks[i]!, depthSizes[i]!]);
  };
  return { bids: side(Side.Bid), asks: side(Side.Ask), tick: reader.top(token, new TopOfBook()).tickSize };
}

/**
 * A consumer of the event records: rebuilds each token's book from
 * BookSnapshotBegin / LevelUpdate / Resync alone, and counts every kind per
 * token, so tests can check the records tell the same story as the books.
 */
export class EventBooks implements EventSink {
  readonly bids: Array<Map<number, number>>;
  readonly asks: Array<Map<number, number>>;
  /** counts[kind][token] */
  readonly counts: number[][];
  readonly resyncReasons: number[][];
  /** Every record, copied, when `keep` is set. */
  readonly records: EventRecord[] = [];

  constructor(
    tokens: number,
    private readonly keep = false,
  ) {
    this.bids = Array.from({ length: tokens }, () => new Map());
    this.asks = Array.from({ length: tokens }, () => new Map());
    this.counts = Array.from({ length: 16 }, () => new Array<number>(tokens).fill(0));
    this.resyncReasons = Array.from({ length: tokens }, () => []);
  }

  emit(e: EventRecord): void {
    if (this.keep) this.records.push({ ...e });
    this.counts[e.kind]![e.token]!++;
    const bids = this.bids[e.token]!;
    const asks = this.asks[e.token]!;
    switch (e.kind) {
      case EventKind.BookSnapshotBegin:
        bids.clear();
        asks.clear();
        break;
      case EventKind.LevelUpdate: {
        const side = (e.flags & Flag.Ask) !== 0 ? asks : bids;
        if (e.size > 0) side.set(e.price, e.size);
        else side.delete(e.price);
        break;
      }
      case EventKind.Resync:
        bids.clear();
        asks.clear();
        this.resyncReasons[e.token]!.push(e.aux0);
        break;
      default:
        break;
    }
  }

  /** The rebuilt book of one token, best first (tick not tracked: 0). */
  book(token: number): PlainBook {
    const sorted = (m: Map<number, number>, desc: boolean): Array<[number, number]> => [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]));
    return { bids: sorted(this.bids[token]!, true), asks: sorted(this.asks[token]!, false), tick: 0 };
  }

  count(kind: number, token: number): number {
    return this.counts[kind]![token]!;
  }
}

export interface CoreRig {
  core: PolymarketCore;
  books: PolymarketBookWriter;
  reader: BookReader;
  counters: Float64Array;
  events: EventBooks;
  /** Every requestSnapshot call, in order. */
  requests: number[];
}

/** A core over `extra.slots` books (default one per token). */
export function newRig(tokens: readonly string[], extra: Partial<PolymarketCoreOptions> = {}, keepRecords = true): CoreRig {
  const slots = extra.slots ?? tokens.length;
  const set = createPolymarketBooks(slots);
  const books = new PolymarketBookWriter(set);
  const counters = createCounters();
  const events = new EventBooks(slots, keepRecords);
  const requests: number[] = [];
  const core = new PolymarketCore({
    tokens,
    books,
    events,
    counters,
    source: 3,
    requestSnapshot: (t) => requests.push(t),
    ...extra,
  });
  return { core, books, reader: new BookReader(set), counters, events, requests };
}

export function isResyncingFlag(reader: BookReader, token: number): boolean {
  return (reader.top(token, new TopOfBook()).flags & BookFlag.Resyncing) !== 0;
}

interface Shard {
  readonly tokens: readonly number[];
  ws: WebSocket | undefined;
  pongs: number;
  dropped: boolean;
  readonly waiters: Set<() => void>;
}

/**
 * Drives a PolymarketCore from one WebSocket per shard, as the feed worker
 * does: frames go to onFrame as they arrive, a closed socket is onDown for its
 * shard's tokens, and snapshot requests are answered from the simulator's
 * REST endpoint when the test calls serveSnapshots().
 */
export class SimFeed {
  readonly shards: Shard[];
  /** Simulator connection ordinal (as its fault log names it) → the shard that socket served. */
  readonly connections = new Map<number, Shard>();
  private stopping = false;

  constructor(
    private readonly rig: CoreRig,
    private readonly sim: VenueSimulator,
    private readonly tokenIds: readonly string[],
    shards: readonly (readonly number[])[],
    /** Runs after every frame the core applied (assertions on every intermediate state). */
    private readonly afterFrame: () => void = () => {},
  ) {
    this.shards = shards.map((tokens) => ({ tokens, ws: undefined, pongs: 0, dropped: false, waiters: new Set() }));
  }

  async connectAll(): Promise<void> {
    for (const s of this.shards) await this.connect(s);
  }

  /** Waits until every open socket has delivered everything the simulator sent before now. */
  async barrier(timeoutMs = 5000): Promise<void> {
    await Promise.all(this.shards.map((s) => this.barrierOne(s, timeoutMs)));
  }

  /**
   * Reconnects every shard whose socket dropped (resubscribing brings fresh
   * `book`s), again if the new socket drops too. Returns how many connects.
   */
  async reconnectDropped(): Promise<number> {
    let n = 0;
    for (let again = true; again; ) {
      again = false;
      for (const s of this.shards) {
        if (!s.dropped) continue;
        s.dropped = false;
        await this.connect(s);
        n++;
        again = true;
      }
    }
    return n;
  }

  /** Answers the core's snapshot requests (and any they cause) from GET /book. */
  async serveSnapshots(): Promise<number> {
    const rest = this.sim.urls.polymarket!.restUrl;
    let served = 0;
    while (this.rig.requests.length > 0) {
      const token = this.rig.requests.shift()!;
      const res = await fetch(`${rest}/book?token_id=${this.tokenIds[token]!}`);
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`GET /book for token ${token}: HTTP ${res.status}`);
      if (!this.rig.core.onSnapshot(token, body, Number(process.hrtime.bigint()))) throw new Error(`snapshot of token ${token} rejected`);
      served++;
    }
    return served;
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.shards.map(
        (s) =>
          new Promise<void>((resolve) => {
            const ws = s.ws;
            if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.terminate();
          }),
      ),
    );
  }

  private async connect(s: Shard): Promise<void> {
    const ws = new WebSocket(this.sim.urls.polymarket!.wsUrl);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // Sockets open one at a time, so the newest ordinal is this one.
    this.connections.set(this.sim.stats().venues.polymarket!.totalConnections, s);
    s.ws = ws;
    ws.on('message', (data: WebSocket.RawData) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.rig.core.onFrame(buf, Number(process.hrtime.bigint()));
      this.afterFrame();
      if (buf.length === 4 && buf.toString('latin1') === 'PONG') {
        s.pongs++;
        this.wake(s);
      }
    });
    ws.on('error', () => {
      // 'close' follows.
    });
    ws.on('close', () => {
      if (s.ws !== ws) return;
      s.ws = undefined;
      if (!this.stopping) {
        s.dropped = true;
        this.rig.core.onDown(s.tokens);
      }
      this.wake(s);
    });
    ws.send(subscribeMessage(s.tokens.map((t) => this.tokenIds[t]!)));
    await this.barrierOne(s, 5000);
  }

  private barrierOne(s: Shard, timeoutMs: number): Promise<void> {
    const ws = s.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve();
    const target = s.pongs + 1;
    ws.send('PING');
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (s.pongs < target && s.ws === ws) return;
        clearTimeout(timer);
        s.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        s.waiters.delete(check);
        reject(new Error(`no PONG within ${timeoutMs} ms`));
      }, timeoutMs);
      s.waiters.add(check);
    });
  }

  private wake(s: Shard): void {
    for (const w of [...s.waiters]) w();
  }
}
