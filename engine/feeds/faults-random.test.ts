// The real feed workers (pinned threads, real sockets, shared books, rings
// drained by the hub) against the venue simulator's seeded random faults,
// over thousands of frames: the worker never crashes, every fault the
// simulator's ledger records shows up in the worker's counters, every lost
// or disordered frame is followed by a resync, the main thread never reads
// a torn or crossed top of book, and once the faults stop the books are the
// simulator's.
//
// The simulator is driven in lockstep: emit one source event, wait until the
// worker has read every frame the simulator wrote, then wait until it has
// dealt with what they meant (resynced, reconnected) before the next event.
// That makes each relation below exact: no frame is in flight when a
// connection ends, a REST snapshot is never newer than the stream the
// worker has read (the simulator runs on this thread, so it answers the
// snapshot request only once we yield, and we yield only after the worker
// has read everything), and no Binance diff reaches a book that is still
// waiting for its snapshot.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test, type TestContext } from 'node:test';
import { B_STATUS, BookFlag, NO_TICK, Side, type BookSet } from '../../workers/shared-memory/book-layout.js';
import { BookReader, TopOfBook } from '../../workers/shared-memory/book-reader.js';
import { COUNTER, readCounters } from '../../workers/counters.js';
import { EventKind, type EventRecord } from '../../workers/shared-memory/event-layout.js';
import type { FeedSpec } from '../../workers/feed-init.js';
import { planShards, ResyncReason } from '../../workers/venues/polymarket/feed.js';
import { readBook, simBook } from '../../workers/venues/polymarket/feed.fixture.js';
import type { FaultKind, FaultRecord, RandomFaultConfig } from '../sim/faults.js';
import type { VenueSimulator } from '../sim/simulator.js';
import { withSim } from '../sim/testkit.js';
import { createFeedRing, startFeed, type FeedHandle } from './spawn.js';
import { MarketDataHub } from './hub.js';

const FEED_CPU = availableParallelism() > 1 ? 1 : 0;
/** Generous: every wait here normally ends within milliseconds (a stall within one watchdog period). */
const WAIT_MS = 20_000;
/**
 * The watchdog period. Lockstep keeps frames (Binance) or PONGs (Polymarket)
 * flowing, so only a simulated stall goes this long without one.
 */
const STALL_MS = 600;
/** Longer than the watchdog needs, so a stalled connection never resumes: the worker must replace it. */
const SIM_STALL_MS = 10_000;

type SimVenue = 'binance' | 'polymarket';

const topKey = (bid: number, ask: number, bidSize: number, askSize: number): string => `${bid}/${ask}/${bidSize}/${askSize}`;

/**
 * Reads every book's top on this thread while the worker writes, checks each
 * read on its own, and keeps the distinct ones; the worker's BestBidAsk
 * events say which tops it published. A read mixing two write batches would
 * (almost surely) be a tuple the worker never published.
 */
class TopSampler {
  reads = 0;
  private readonly reader: BookReader;
  private readonly top = new TopOfBook();
  private readonly seen: Array<Set<string>>;
  private readonly published: Array<Set<string>>;
  private readonly last: Float64Array;

  constructor(
    books: BookSet,
    private readonly n: number,
    /** Highest valid tick, for venues with a bounded price range. */
    private readonly maxTick = Infinity,
  ) {
    this.reader = new BookReader(books);
    this.seen = Array.from({ length: n }, () => new Set());
    this.published = Array.from({ length: n }, () => new Set());
    this.last = new Float64Array(4 * n).fill(NaN);
  }

  sample(): void {
    const t = this.top;
    for (let b = 0; b < this.n; b++) {
      this.reader.top(b, t);
      this.reads++;
      // A resyncing book is empty and gated: nothing a consumer may use. Version 0: the book as allocated,
      // before the worker's first write (it is not flagged yet either).
      if ((t.flags & BookFlag.Resyncing) !== 0 || t.version === 0) continue;
      if ((t.flags & BookFlag.Crossed) !== 0) assert.fail(`book ${b}: read crossed (${t.bidTick} >= ${t.askTick}) without a Resyncing flag`);
      for (const [side, tick, size] of [['bid', t.bidTick, t.bidSize], ['ask', t.askTick, t.askSize]] as const) {
        if (tick === NO_TICK) continue;
        if (!(size > 0)) assert.fail(`book ${b}: best ${side} ${tick} read with size ${size}`);
        if (!(tick > 0 && tick < this.maxTick) || tick % t.tickSize !== 0) assert.fail(`book ${b}: best ${side} ${tick} is off the grid of tick size ${t.tickSize}`);
      }
      const l = 4 * b;
      const last = this.last;
      if (last[l] === t.bidTick && last[l + 1] === t.askTick && last[l + 2] === t.bidSize && last[l + 3] === t.askSize) continue;
      last[l] = t.bidTick;
      last[l + 1] = t.askTick;
      last[l + 2] = t.bidSize;
      last[l + 3] = t.askSize;
      this.seen[b]!.add(topKey(t.bidTick, t.askTick, t.bidSize, t.askSize));
    }
  }

  tickSize(book: number): number {
    return this.reader.top(book, this.top).tickSize;
  }

  onEvent(e: EventRecord): void {
    if (e.kind === EventKind.BestBidAsk) this.published[e.token]!.add(topKey(e.price, e.price2, e.size, e.aux0));
  }

  /** Every distinct top read was one the worker published (call after the last drain). */
  assertNoTornRead(): number {
    let distinct = 0;
    for (let b = 0; b < this.n; b++) {
      for (const k of this.seen[b]!) {
        assert.ok(this.published[b]!.has(k), `book ${b}: read top ${k} (bid/ask/bidSize/askSize) that the worker never published: a torn read`);
        distinct++;
      }
    }
    return distinct;
  }
}

/** One worker under test, its simulator, and the waits that keep them in lockstep. */
class Lockstep {
  readonly hub = new MarketDataHub();
  readonly source: number;
  readonly feed: FeedHandle;
  readonly sampler: TopSampler;
  readonly errors: string[] = [];
  resyncEvents = 0;
  gapEvents = 0;
  /** Resync events by reason (aux0; Polymarket only), per token. */
  readonly resyncsOf: Array<Map<number, number>>;
  private faultsSeen = 0;
  private exitedEarly = false;
  private stopped = false;
  private readonly onEvent: (e: EventRecord) => void;

  constructor(
    readonly sim: VenueSimulator,
    readonly venue: SimVenue,
    spec: FeedSpec,
    books: number,
    maxTick: number,
    tuning: { stallMs: number; pingIntervalMs: number },
  ) {
    const ring = createFeedRing();
    this.source = this.hub.addSource({ name: venue, ring });
    this.feed = startFeed({
      spec,
      source: this.source,
      ring,
      cpu: FEED_CPU,
      tuning: { ...tuning, backoffBaseMs: 20, backoffMaxMs: 200 },
      onError: (m) => this.errors.push(m),
    });
    this.hub.attachCounters(this.source, this.feed.counters);
    this.feed.worker.once('exit', () => {
      if (!this.stopped) this.exitedEarly = true;
    });
    this.feed.worker.on('message', (m: { type: string }) => {
      if (m.type === 'stopped') this.stopped = true;
    });
    this.sampler = new TopSampler(this.feed.books!, books, maxTick);
    this.resyncsOf = Array.from({ length: books }, () => new Map());
    this.onEvent = (e) => {
      this.sampler.onEvent(e);
      if (e.kind === EventKind.Resync) {
        this.resyncEvents++;
        const per = this.resyncsOf[e.token]!;
        per.set(e.aux0, (per.get(e.aux0) ?? 0) + 1);
      } else if (e.kind === EventKind.Gap) {
        this.gapEvents++;
      }
    };
  }

  counter(name: keyof typeof COUNTER): number {
    return this.feed.counters[COUNTER[name]]!;
  }

  venueStats(): { connections: number; totalConnections: number; framesSent: number } {
    return this.sim.stats().venues[this.venue]!;
  }

  /** Frames the worker took off its sockets: data (good or corrupt) and PONGs. */
  received(): number {
    return this.counter('frames') + this.counter('pongs');
  }

  caughtUp(): boolean {
    return this.received() === this.venueStats().framesSent;
  }

  /** Faults the simulator recorded since the last call. */
  newFaults(): FaultRecord[] {
    const total = this.sim.stats().totalFaults;
    if (total === this.faultsSeen) return [];
    const log = this.sim.faultLog();
    const fresh = log.slice(log.length - (total - this.faultsSeen));
    this.faultsSeen = total;
    return fresh;
  }

  drain(): void {
    this.hub.drain(this.onEvent);
  }

  /**
   * Waits for the worker to read what the simulator just wrote, without
   * yielding: the simulator (this thread) cannot answer a REST request
   * meanwhile, so a snapshot the frames asked for reflects all of them.
   * Only for what one source event writes (a few kB: the sockets take it
   * without the event loop's help).
   */
  spinUntilCaughtUp(what: string): void {
    const deadline = performance.now() + WAIT_MS;
    for (let i = 0; ; i++) {
      this.sampler.sample();
      if ((i & 15) === 0) {
        this.drain();
        if (this.caughtUp()) return;
        if (performance.now() > deadline) assert.fail(`${what}: worker did not read the simulator's frames; ${this.describe()}`);
      }
    }
  }

  /** Yields to the event loop (the simulator's sockets and REST) until `done`, reading tops all along. */
  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = performance.now() + WAIT_MS;
    for (;;) {
      for (let i = 0; i < 64; i++) this.sampler.sample();
      this.drain();
      if (done()) return;
      if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}; ${this.describe()}`);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** One aligned word, written whole: no seqlock needed to read it. */
  isResyncing(book: number): boolean {
    const set = this.feed.books!;
    return (Atomics.load(set.i32, set.i32Base(book) + B_STATUS) & BookFlag.Resyncing) !== 0;
  }

  describe(): string {
    return `worker ${JSON.stringify(readCounters(this.feed.counters))}; simulator ${JSON.stringify(this.venueStats())} faults ${JSON.stringify(this.sim.stats().faults[this.venue])}`;
  }

  /**
   * After the last step: the ring never dropped an event, many distinct tops
   * were read and none was torn, and the worker stops cleanly.
   */
  async finish(t: TestContext): Promise<void> {
    this.drain();
    assert.equal(this.hub.dropped(this.source), 0, 'the ring never dropped an event');
    const distinct = this.sampler.assertNoTornRead();
    t.diagnostic(`${this.sampler.reads} top reads, ${distinct} distinct tops checked against the published ones`);
    assert.ok(distinct > 500 && this.sampler.reads > 100_000, `${this.sampler.reads} reads, ${distinct} distinct tops checked`);
    await this.stop();
    assert.equal(this.counter('ringDrops'), 0);
  }

  /** The worker is still running, answers stop, and never reported an exception. */
  private async stop(): Promise<void> {
    assert.equal(this.exitedEarly, false, 'the worker thread exited before it was told to stop');
    await this.feed.stop();
    assert.ok(this.stopped, 'the worker answered stop');
    assert.deepEqual(this.errors, [], 'no exception escaped a frame or snapshot handler');
  }

  /** Stops a worker a failed test left running (its own assertions do not matter then). */
  async abandon(): Promise<void> {
    if (!this.stopped) await this.feed.stop();
  }
}

function count(faults: readonly FaultRecord[], kind: FaultKind): number {
  return faults.filter((f) => f.kind === kind).length;
}

test('binance worker under seeded random faults: every fault counted, a resync after each, no torn read, converges', async (t) => {
  const depthFrames = 4_000;
  const faults: RandomFaultConfig = { rate: 0.012, seed: 4242, venues: ['binance'], stallMs: SIM_STALL_MS };
  await withSim({ venues: ['binance'], source: 'scenario', speed: 'manual', seed: 31 }, async (sim, urls) => {
    const bn = urls.binance!;
    const rig = new Lockstep(
      sim,
      'binance',
      { feed: 'binance', wsBaseUrl: bn.wsBaseUrl, restUrl: bn.restUrl, symbols: [{ symbol: 'BTCUSDT', tickExp: 1 }], depthStream: '@depth@0ms', trades: false, liquidations: false, bookTicker: false },
      1,
      Infinity,
      // Binance sends no PONGs; the depth frames themselves keep the watchdog quiet.
      { stallMs: STALL_MS, pingIntervalMs: 60_000 },
    );
    try {
      const ready = await rig.feed.ready;
      assert.deepEqual(ready.affinity, [FEED_CPU]);

      // What the simulator's ledger implies for the worker, kept frame by frame.
      const expected = { connections: 1, stalls: 0, gaps: 0 };
      /** A diff was skipped and the worker has not received the diff after it yet. */
      let skipped = false;
      /** Skipped diffs that never surfaced as a gap of their own (see below). */
      let absorbed = 0;
      const settled = (): boolean => {
        const s = rig.venueStats();
        const gaps = rig.counter('gaps');
        if (gaps > expected.gaps) assert.fail(`a gap no fault explains: ${gaps} > ${expected.gaps}; ${rig.describe()}`);
        if (s.totalConnections > expected.connections) assert.fail(`more connections than drops and stalls explain (a watchdog firing on a live stream, or after a stall it did not count); ${rig.describe()}`);
        return (
          rig.caughtUp() &&
          s.connections === 1 &&
          s.totalConnections === expected.connections &&
          rig.counter('stalls') >= expected.stalls &&
          gaps === expected.gaps &&
          // Every snapshot asked for has landed. The book itself stays gated until the next diff
          // bridges to it, which in lockstep only comes with the next step.
          rig.counter('restSnapshots') === rig.counter('resyncs') + 1
        );
      };
      /** Books what the faults just recorded mean for the worker, then waits until it has dealt with them. */
      const absorb = async (fresh: readonly FaultRecord[]): Promise<void> => {
        rig.spinUntilCaughtUp('diff');
        const has = (k: FaultKind): boolean => count(fresh, k) > 0;
        if (has('drop') || has('stall')) {
          // The connection is gone (the frame with it): the reconnect resyncs, so a skipped diff never shows as a gap.
          expected.connections++;
          if (has('stall')) expected.stalls++;
          if (skipped) absorbed++;
          skipped = false;
        } else if (has('sequence_gap')) {
          // Nothing reaches the worker yet; the next diff's pu will not match. Two skips in a row surface as one gap.
          if (skipped) absorbed++;
          skipped = true;
        } else {
          // A diff arrived. A duplicate repeats it (the copy's pu is stale: one gap); a reorder delivers the
          // held diff after the next one (the first to arrive breaks the chain: one gap, and the late one is
          // older than the snapshot that follows, so it is dropped). A pending skip surfaces with this diff,
          // unless a reorder's gap covers it.
          const reorder = has('reorder');
          expected.gaps += (reorder ? 1 : 0) + (has('duplicate') ? 1 : 0) + (skipped && !reorder ? 1 : 0);
          if (skipped && reorder) absorbed++;
          skipped = false;
        }
        await rig.until(settled, `the worker to absorb ${fresh.map((f) => f.kind).join('+') || 'a diff'} (connection ${sim.stats().venues.binance!.totalConnections})`);
      };
      /** One source event; if it wrote a diff (or a fault), wait until the worker has dealt with it. */
      const step = async (): Promise<void> => {
        const sentBefore = rig.venueStats().framesSent;
        sim.advance('binance', 1);
        const fresh = rig.newFaults();
        // Nothing written and nothing recorded: a bookTicker or trade (not subscribed), or a diff held back for a reorder.
        if (rig.venueStats().framesSent === sentBefore && fresh.length === 0) return;
        await absorb(fresh);
      };
      const diffs = async (n: number): Promise<void> => {
        const from = rig.counter('frames');
        while (rig.counter('frames') < from + n) await step();
      };

      await rig.until(settled, 'first snapshot');
      await diffs(200);
      assert.equal(rig.counter('gaps'), 0, 'in sync without a gap before any fault');

      sim.setRandomFaults(faults);
      while (rig.venueStats().framesSent < depthFrames) await step();
      sim.setRandomFaults(null);
      // A diff held for a reorder or a skip may still be pending: a few more diffs in lockstep deliver them.
      await diffs(20);

      // The ways a skipped diff merges with the next fault, on request (random faults rarely line them up).
      const absorbedByChance = absorbed;
      for (const pair of [['sequence_gap', 'sequence_gap'], ['sequence_gap', 'reorder']] as const) {
        for (const k of pair) assert.equal(sim.injectFault('binance', k), 1);
        await diffs(5);
      }
      assert.equal(sim.injectFault('binance', 'sequence_gap'), 1);
      while (!skipped) await step();
      assert.equal(sim.injectFault('binance', 'drop'), 1);
      await absorb(rig.newFaults());
      await diffs(5);
      assert.equal(absorbed - absorbedByChance, 3, 'skip+skip, skip+reorder, skip+drop each absorbed one skip');

      // Faults off: a burst the worker applies while this thread keeps reading, then the books must agree.
      for (let burst = 0; burst < 10; burst++) {
        sim.advance('binance', 3_000);
        await rig.until(settled, `burst ${burst}`);
      }
      assert.equal(rig.newFaults().length, 0);
      const snap = sim.binanceDepth(50);
      const reader = new BookReader(rig.feed.books!);
      const ticks = new Int32Array(50);
      const sizes = new Float64Array(50);
      for (const [side, levels] of [[Side.Bid, snap.bids], [Side.Ask, snap.asks]] as const) {
        const n = reader.depth(0, side, 50, ticks, sizes);
        const ours = Array.from({ length: n }, (_, i) => [ticks[i], sizes[i]]);
        assert.deepEqual(ours, levels.map(([p, q]) => [Math.round(Number(p) * 10), Number(q)]), `${side === Side.Bid ? 'bids' : 'asks'} equal the simulator's after the faults`);
      }
      assert.equal(rig.isResyncing(0), false);

      const f = sim.stats().faults.binance;
      const c = readCounters(rig.feed.counters);
      const ctx = `worker ${JSON.stringify(c)}; injected ${JSON.stringify(f)}; absorbed skips ${absorbed}`;
      t.diagnostic(ctx);
      for (const kind of ['drop', 'stall', 'malformed', 'truncated', 'duplicate', 'reorder', 'sequence_gap'] as const) {
        assert.ok(f[kind] >= 2, `the seed exercises ${kind} (${ctx})`);
      }
      assert.ok(c.frames >= depthFrames, ctx);
      // malformed / truncated: one extra corrupt frame each; lockstep delivers every frame, so each is one parse error and nothing else.
      assert.equal(c.parseErrors, f.malformed + f.truncated, ctx);
      // stall: the connection goes silent until the watchdog replaces it; nothing else is silent that long.
      assert.equal(c.stalls, f.stall, ctx);
      // drop and stall are the only ways a connection ends, and each ends one.
      assert.equal(c.reconnects, f.drop + f.stall, ctx);
      assert.equal(sim.stats().venues.binance!.totalConnections, 1 + c.reconnects, ctx);
      // duplicate / reorder: exactly one gap each. sequence_gap: one gap each, except a skip followed by another
      // skip or a reorder (one gap covers both) or by the end of its connection (the reconnect resyncs instead).
      assert.equal(c.gaps, f.duplicate + f.reorder + f.sequence_gap - absorbed, ctx);
      assert.ok(absorbed < f.sequence_gap, ctx);
      assert.equal(rig.gapEvents, c.gaps);
      // A resync each time: every gap and every lost connection dropped the book and fetched one snapshot.
      assert.equal(c.resyncs, c.gaps + c.reconnects, ctx);
      assert.equal(rig.resyncEvents, c.resyncs, 'one Resync event per resync');
      assert.equal(c.restSnapshots, c.resyncs + 1, ctx);
      assert.equal(c.restErrors, 0, ctx);
      assert.equal(c.bookMismatches, 0, ctx);

      await rig.finish(t);
    } finally {
      await rig.abandon();
    }
  });
});

test('polymarket worker, two shards, under seeded random faults and requested crossed books and tick changes: every fault counted, no torn read, converges', async (t) => {
  const dataFrames = 3_000;
  // reorder is left out: the market channel has no sequence numbers, so a swapped pair can leave a level
  // silently wrong until the venue next touches it; no worker can count that. crossed_book and
  // tick_size_change come on request, at moments when every book is live, so their counts are exact.
  const faults: RandomFaultConfig = { rate: 0.015, seed: 9090, venues: ['polymarket'], kinds: ['drop', 'stall', 'malformed', 'truncated', 'duplicate'], stallMs: SIM_STALL_MS };
  await withSim({ venues: ['polymarket'], source: 'scenario', speed: 'manual', seed: 77, polymarket: { markets: 4, levels: 6 } }, async (sim, urls) => {
    const markets = sim.polymarketMarkets();
    // YES and NO of a market side by side, so each shard carries whole markets.
    const tokenIds = markets.flatMap((m) => [m.yesTokenId, m.noTokenId]);
    const shards = planShards(tokenIds.length, 4);
    assert.equal(shards.length, 2);
    const pm = urls.polymarket!;
    const rig = new Lockstep(
      sim,
      'polymarket',
      { feed: 'polymarket', wsUrl: pm.wsUrl, restUrl: pm.restUrl, tokenIds, slots: tokenIds.length, maxAssetsPerConnection: 4 },
      tokenIds.length,
      10_000,
      // PONGs keep a shard's watchdog quiet while the other shard reconnects and nothing is emitted.
      { stallMs: STALL_MS, pingIntervalMs: 150 },
    );
    try {
      const ready = await rig.feed.ready;
      assert.deepEqual(ready.affinity, [FEED_CPU]);

      const expected = { connections: shards.length, stalls: 0 };
      const tokens = tokenIds.map((_, i) => i);
      /**
       * Data frames the worker must have once every new connection's book dump
       * is in. A REST snapshot can rebuild a dropped shard's books before its
       * new connection has even subscribed, so "no book resyncing" alone does
       * not mean the shard is back.
       */
      let framesDue = 0;
      const reconnected = (f: FaultRecord): boolean => {
        if (f.kind === 'stall') expected.stalls++;
        if (f.kind !== 'drop' && f.kind !== 'stall') return false;
        expected.connections++;
        return true;
      };
      const settled = (): boolean => {
        // While we wait, nothing is emitted: every fault lands on a dump. A lost dump is replaced by the next
        // connection's; a corrupt or duplicated one adds a frame.
        for (const f of rig.newFaults()) if (!reconnected(f) && (f.kind === 'malformed' || f.kind === 'truncated' || f.kind === 'duplicate')) framesDue++;
        const s = rig.venueStats();
        if (s.totalConnections > expected.connections) assert.fail(`more connections than drops and stalls explain (a watchdog firing on a live stream, or after a stall it did not count); ${rig.describe()}`);
        if (rig.counter('frames') > framesDue) assert.fail(`more data frames than the steps and dumps explain; ${rig.describe()}`);
        return (
          rig.caughtUp() &&
          rig.counter('frames') === framesDue &&
          s.connections === shards.length &&
          s.totalConnections === expected.connections &&
          rig.counter('stalls') >= expected.stalls &&
          tokens.every((k) => !rig.isResyncing(k))
        );
      };
      /**
       * After the simulator wrote something: let the worker read it, then wait
       * for any new connection's dump. A burst is more than the sockets hold
       * by themselves, so the worker reads it while we yield.
       */
      const step = async (what: string, burst = false): Promise<void> => {
        if (burst) await rig.until(() => rig.caughtUp(), what);
        else rig.spinUntilCaughtUp(what);
        framesDue = rig.counter('frames');
        for (const f of rig.newFaults()) if (reconnected(f)) framesDue++;
        await rig.until(settled, what);
      };
      const resyncs = (reason: number, only: readonly number[] = tokens): number => only.reduce((n, k) => n + (rig.resyncsOf[k]!.get(reason) ?? 0), 0);
      const tickOf = (k: number): number => rig.sampler.tickSize(k);

      /** A fault on request, with random faults paused so nothing else lands on the frames it causes. */
      let reseeds = 0;
      const onRequest = async (what: string, inject: () => number, check: (n: number) => void): Promise<void> => {
        sim.setRandomFaults(null);
        const n = inject();
        await step(what);
        check(n);
        sim.setRandomFaults({ ...faults, seed: faults.seed + ++reseeds });
      };
      const crossedBook = (): Promise<void> => {
        const crossed = rig.counter('crossed');
        const events = resyncs(ResyncReason.Crossed);
        return onRequest(
          'crossed_book',
          () => sim.injectFault('polymarket', 'crossed_book'),
          (n) => {
            // Each shard gets a price_change crossing its first market, for YES and NO: both books fail the check.
            assert.equal(n, shards.length, `every shard crossed; ${rig.describe()} ${JSON.stringify(sim.faultLog().slice(-4))}`);
            assert.equal(rig.counter('crossed') - crossed, 2 * n, 'both books of each crossed market caught');
            assert.equal(resyncs(ResyncReason.Crossed) - events, 2 * n);
          },
        );
      };
      const tickChange = (market: number): Promise<void> => {
        const pair = [2 * market, 2 * market + 1];
        const events = resyncs(ResyncReason.TickSize, pair);
        return onRequest(
          'tick_size_change',
          () => sim.injectFault('polymarket', 'tick_size_change', { assetId: markets[market]!.yesTokenId }),
          (n) => {
            assert.equal(n, 1, 'one shard carries the market');
            assert.equal(resyncs(ResyncReason.TickSize, pair) - events, 2, 'YES and NO rebuilt for the new tick');
            for (const k of pair) assert.equal(tickOf(k), simBook(sim.polymarketBook(tokenIds[k]!)!).tick, `token ${k} on the new grid`);
          },
        );
      };

      framesDue = shards.length;
      await rig.until(settled, 'initial book dumps');
      sim.setRandomFaults(faults);
      let steps = 0;
      let requests = 0;
      while (rig.venueStats().framesSent < dataFrames) {
        sim.advance('polymarket', 1);
        await step(`step ${++steps}`);
        if (steps % 25 === 0) await (requests++ % 2 === 0 ? crossedBook() : tickChange((requests >> 1) % markets.length));
      }
      sim.setRandomFaults(null);

      // Faults off: bursts the worker applies while this thread keeps reading, then the books must agree.
      for (let burst = 0; burst < 10; burst++) {
        sim.advance('polymarket', 100);
        await step(`burst ${burst}`, true);
      }
      const reader = new BookReader(rig.feed.books!);
      tokenIds.forEach((id, k) => assert.deepEqual(readBook(reader, k), simBook(sim.polymarketBook(id)!), `token ${k} equals the simulator's book`));

      const f = sim.stats().faults.polymarket;
      const c = readCounters(rig.feed.counters);
      const byReason = Object.fromEntries(Object.entries(ResyncReason).map(([name, r]) => [name, resyncs(r)]));
      const ctx = `worker ${JSON.stringify(c)}; resyncs by reason ${JSON.stringify(byReason)}; injected ${JSON.stringify(f)}`;
      t.diagnostic(ctx);
      for (const kind of ['drop', 'stall', 'malformed', 'truncated', 'duplicate', 'crossed_book', 'tick_size_change'] as const) {
        assert.ok(f[kind] >= 2, `the seed exercises ${kind} (${ctx})`);
      }
      assert.ok(c.frames >= dataFrames, ctx);
      // malformed / truncated: one extra corrupt frame each, all delivered (lockstep): one parse error each.
      assert.equal(c.parseErrors, f.malformed + f.truncated, ctx);
      // stall: silent data and PONGs until the watchdog replaces the shard's connection.
      assert.equal(c.stalls, f.stall, ctx);
      // drop and stall end a connection each, and nothing else does.
      assert.equal(c.reconnects, f.drop + f.stall, ctx);
      assert.equal(sim.stats().venues.polymarket!.totalConnections, shards.length + c.reconnects, ctx);
      // A resync each time: a lost connection resyncs the 4 tokens it carried.
      assert.equal(byReason['Down'], 4 * c.reconnects, ctx);
      // crossed_book: both books of the market, every time.
      assert.equal(c.crossed, 2 * f.crossed_book, ctx);
      assert.equal(byReason['Crossed'], c.crossed, ctx);
      // tick_size_change: YES and NO each time, plus the walk's own tick changes (which random faults may duplicate).
      assert.ok(byReason['TickSize']! >= 2 * f.tick_size_change, ctx);
      // duplicate: sizes are absolute, so a repeated frame rewrites the same book: nothing to count, nothing
      // drifts. No snapshot was ever newer than the stream either, so the venue's best bid/ask never disagreed.
      assert.equal(c.bookMismatches, 0, ctx);
      assert.equal(byReason['Mismatch'], 0, ctx);
      assert.equal(rig.resyncEvents, c.resyncs, 'one Resync event per resync');
      assert.equal(c.restErrors, 0, ctx);

      await rig.finish(t);
    } finally {
      await rig.abandon();
    }
  });
});
