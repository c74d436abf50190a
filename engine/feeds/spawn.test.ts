// Real feed workers (pinned threads, real sockets) against the venue
// simulator on loopback, drained by the main-thread hub.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Side } from '../../workers/shared-memory/book-layout.js';
import { BookReader, TopOfBook } from '../../workers/shared-memory/book-reader.js';
import { BookFlag } from '../../workers/shared-memory/book-layout.js';
import { COUNTER, readCounters } from '../../workers/counters.js';
import { EventKind } from '../../workers/shared-memory/event-layout.js';
import type { FaultKind } from '../sim/faults.js';
import { withSim } from '../sim/testkit.js';
import { createFeedRing, startFeed } from './spawn.js';
import { MarketDataHub } from './hub.js';
import { replayRecordingFile, type TopLine } from './replay.js';

const FEED_CPU = availableParallelism() > 1 ? 1 : 0;
const TUNING = { stallMs: 3_000, pingIntervalMs: 500, backoffBaseMs: 20, backoffMaxMs: 200 };

/** Drains the hub until `done` holds; fails (instead of hanging) after a generous deadline. */
async function drainUntil(hub: MarketDataHub, done: () => boolean, what: string, onEvent?: Parameters<MarketDataHub['drain']>[0]): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    hub.drain(onEvent);
    if (done()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await hub.waitForData(20);
  }
}

test('binance worker: pinned, synced by snapshot + diffs, and back in sync after every fault kind', async () => {
  await withSim({ venues: ['binance'], source: 'scenario', speed: 'manual', seed: 11 }, async (sim, urls) => {
    const bn = urls.binance!;
    const recDir = mkdtempSync(join(tmpdir(), 'polyedge-rec-'));
    const hub = new MarketDataHub();
    const ring = createFeedRing(1 << 14);
    const source = hub.addSource({ name: 'binance', ring });
    const feed = startFeed({
      spec: { feed: 'binance', wsBaseUrl: bn.wsBaseUrl, restUrl: bn.restUrl, symbols: [{ symbol: 'BTCUSDT', tickExp: 1 }], depthStream: '@depth@0ms', trades: false, liquidations: false, bookTicker: false },
      source,
      ring,
      cpu: FEED_CPU,
      tuning: TUNING,
      record: { dir: recDir, maxBytes: 64 << 20, maxMs: 3_600_000 },
    });
    let finalTop: TopOfBook | undefined;
    try {
      const ready = await feed.ready;
      assert.equal(ready.cpu, FEED_CPU);
      assert.deepEqual(ready.affinity, [FEED_CPU]);
      // What an operator sees: the kernel's view of the worker thread.
      const taskset = execFileSync('taskset', ['-cp', String(ready.tid)], { encoding: 'utf8' });
      assert.match(taskset, new RegExp(`current affinity list: ${FEED_CPU}\\s*$`));

      const reader = new BookReader(feed.books!);
      const top = new TopOfBook();
      let lastU = 0;
      let lastAdvance = Date.now();
      const tick = (): void => {
        sim.advance('binance', 1);
        lastAdvance = Date.now();
      };
      const onEvent = (e: { kind: number; seq: number }): void => {
        if (e.kind === EventKind.BestBidAsk) lastU = e.seq;
      };
      const inSync = async (what: string): Promise<void> => {
        await drainUntil(
          hub,
          () => {
            // Keep the stream alive (the worker's stall detector watches for silence) without moving past the check.
            if (Date.now() - lastAdvance > 300) tick();
            const snap = sim.binanceDepth(5);
            reader.top(0, top);
            return lastU === snap.lastUpdateId && (top.flags & BookFlag.Resyncing) === 0;
          },
          what,
          onEvent,
        );
        const snap = sim.binanceDepth(5);
        reader.top(0, top);
        assert.equal((top.bidTick / 10).toFixed(2), snap.bids[0]![0], `${what}: best bid`);
        assert.equal((top.askTick / 10).toFixed(2), snap.asks[0]![0], `${what}: best ask`);
        assert.equal(top.bidSize, Number(snap.bids[0]![1]));
        assert.equal(reader.sizeAt(0, Side.Ask, top.askTick), Number(snap.asks[0]![1]));
      };
      // The worker connects, buffers, fetches the snapshot and bridges.
      await drainUntil(hub, () => feed.counters[COUNTER.restSnapshots]! >= 1 || (sim.advance('binance', 5), false), 'first snapshot');
      sim.advance('binance', 300);
      await inSync('initial sync');

      // Lossless faults add a bad frame; the others lose or disorder diffs and need a resync.
      const cases: Array<{ fault: FaultKind; counter: keyof typeof COUNTER; lossless: boolean }> = [
        { fault: 'sequence_gap', counter: 'gaps', lossless: false },
        { fault: 'duplicate', counter: 'gaps', lossless: false },
        { fault: 'reorder', counter: 'gaps', lossless: false },
        { fault: 'malformed', counter: 'parseErrors', lossless: true },
        { fault: 'truncated', counter: 'parseErrors', lossless: true },
        { fault: 'drop', counter: 'reconnects', lossless: false },
        { fault: 'stall', counter: 'stalls', lossless: false },
      ];
      for (const { fault, counter, lossless } of cases) {
        const before = feed.counters[COUNTER[counter]]!;
        const resyncsBefore = feed.counters[COUNTER.resyncs]!;
        // On a loaded machine the stall detector may have recycled the socket meanwhile: wait until one is up.
        await drainUntil(hub, () => sim.stats().venues.binance!.connections === 1 || (tick(), false), 'connected');
        const injected = sim.injectFault('binance', fault, fault === 'stall' ? { durationMs: 8_000 } : {});
        assert.equal(injected, 1, `${fault} injected on our one connection; counters ${JSON.stringify(readCounters(feed.counters))} sim ${JSON.stringify(sim.stats().venues.binance)}`);
        await drainUntil(hub, () => feed.counters[COUNTER[counter]]! > before || (sim.advance('binance', 3), false), `${fault} counted as ${counter}`);
        if (lossless) {
          // An extra bad frame hides nothing: it is counted and dropped, and the book never leaves sync.
          sim.advance('binance', 200);
          await inSync(`after ${fault}`);
          assert.equal(feed.counters[COUNTER.resyncs], resyncsBefore, `${fault}: no resync needed`);
          continue;
        }
        await drainUntil(hub, () => feed.counters[COUNTER.resyncs]! > resyncsBefore || (sim.advance('binance', 3), false), `${fault} → resync`);
        sim.advance('binance', 200);
        await inSync(`after ${fault}`);
      }
      assert.equal(hub.dropped(source), 0);
      assert.ok(hub.latency(source).receiveToDrain.count > 0);
      finalTop = reader.top(0, new TopOfBook());
    } finally {
      const files = await feed.stop();
      if (finalTop) {
        // The recording replays through the same core to the same book, faults and resyncs included.
        assert.equal(files.length, 1);
        let last: TopLine | undefined;
        const r = await replayRecordingFile(files[0]!, { pace: 'fast', onTop: (t) => (last = t) });
        assert.equal(r.counters[COUNTER.frames], feed.counters[COUNTER.frames]);
        assert.equal(r.snapshots, feed.counters[COUNTER.restSnapshots]);
        assert.equal(last?.bid, (finalTop.bidTick / 10).toFixed(2));
        assert.equal(last?.ask, (finalTop.askTick / 10).toFixed(2));
        assert.equal(Number(last?.bidSize), finalTop.bidSize);
      }
      rmSync(recDir, { recursive: true, force: true });
    }
  });
});

test('rtds and deribit workers publish external prices and DVOL; deribit heartbeats are answered', async () => {
  await withSim({ venues: ['rtds', 'deribit'], source: 'recorded', speed: 50, deribit: { heartbeatUnitMs: 20 } }, async (_sim, urls) => {
    const hub = new MarketDataHub();
    const rtdsRing = createFeedRing(1 << 12);
    const dvolRing = createFeedRing(1 << 10);
    const rtdsSource = hub.addSource({ name: 'rtds', ring: rtdsRing });
    const dvolSource = hub.addSource({ name: 'deribit', ring: dvolRing });
    const rtds = startFeed({
      spec: { feed: 'rtds', wsUrl: urls.rtds!.wsUrl, symbols: [{ topic: 'binance', symbol: 'btcusdt' }, { topic: 'chainlink', symbol: 'btc/usd' }], priceStallMs: 5_000 },
      source: rtdsSource,
      ring: rtdsRing,
      cpu: FEED_CPU,
      tuning: TUNING,
    });
    const dvol = startFeed({ spec: { feed: 'deribit', wsUrl: urls.deribit!.wsUrl, indices: ['btc_usd'] }, source: dvolSource, ring: dvolRing, cpu: FEED_CPU, tuning: { ...TUNING, stallMs: 10_000 } });
    try {
      await Promise.all([rtds.ready, dvol.ready]);
      await drainUntil(
        hub,
        () => (hub.price(rtdsSource, 0)?.updates ?? 0) > 20 && (hub.price(rtdsSource, 1)?.updates ?? 0) > 2 && (hub.volatility(dvolSource, 0)?.updates ?? 0) > 2,
        'binance and chainlink prices and DVOL',
      );
      const btc = hub.price(rtdsSource, 0)!;
      const link = hub.price(rtdsSource, 1)!;
      // The 2025-10-29 capture: BTC traded around 110-114 k.
      assert.ok(btc.mid > 100_000 && btc.mid < 120_000, `binance btc ${btc.mid}`);
      assert.ok(Math.abs(link.mid - btc.mid) / btc.mid < 0.01, 'chainlink within 1 % of binance');
      const vol = hub.volatility(dvolSource, 0)!;
      assert.ok(vol.bid > 0.05 && vol.bid < 5, `DVOL as a fraction: ${vol.bid}`);
      assert.equal(rtds.counters[COUNTER.parseErrors], 0);
      // Heartbeats every 10 "seconds" of 20 ms: several test_requests went by; the connection stayed up.
      await drainUntil(hub, () => dvol.counters[COUNTER.frames]! > 20, 'deribit heartbeats');
      assert.equal(dvol.counters[COUNTER.reconnects], 0, 'no test_request went unanswered');
      assert.ok(hub.latency(rtdsSource).exchangeToReceive.count > 0);
    } finally {
      await Promise.all([rtds.stop(), dvol.stop()]);
    }
  });
});
