// The Polymarket feed worker with token slots assigned and released at
// runtime: a real worker (real sockets, shared-memory books) against the
// venue simulator on loopback, drained by the main-thread hub, and the
// recording of that rolling session replayed through the same core. Where a
// test needs REST to fail, a loopback server it controls stands in front of
// the simulator's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BookFlag } from '../../workers/shared-memory/book-layout.js';
import { BookReader, TopOfBook } from '../../workers/shared-memory/book-reader.js';
import { COUNTER, readCounters } from '../../workers/counters.js';
import { EventKind, ResyncReason } from '../../workers/shared-memory/event-layout.js';
import { EventBooks, readBook, simBook } from '../../workers/venues/polymarket/feed.fixture.js';
import { HOLD, RestStub } from '../../workers/snapshots.fixture.js';
import type { PmMarketInfo } from '../sim/polymarket.js';
import type { VenueSimulator } from '../sim/simulator.js';
import { withSim } from '../sim/testkit.js';
import { createFeedRing, startFeed, type FeedHandle } from './spawn.js';
import { MarketDataHub } from './hub.js';
import { replayRecordingFile } from './replay.js';

const FEED_CPU = availableParallelism() > 1 ? 1 : 0;
// PINGs every 100 ms make the settled() barrier quick.
const TUNING = { stallMs: 3_000, pingIntervalMs: 100, backoffBaseMs: 20, backoffMaxMs: 200 };
const SLOTS = 6;
const MAX_PER_CONNECTION = 4;

/** A started Polymarket worker, its hub, and what came back from it. */
interface Rig {
  sim: VenueSimulator;
  hub: MarketDataHub;
  feed: FeedHandle;
  reader: BookReader;
  errors: string[];
  /** Resync events per slot, as reasons, in order. */
  resyncs: number[][];
}

/** REST goes to the simulator unless `restUrl` says otherwise. */
function startRig(sim: VenueSimulator, tokenIds: string[], opts: { record?: { dir: string }; restUrl?: string } = {}): Rig {
  const pm = sim.urls.polymarket!;
  const { record, restUrl = pm.restUrl } = opts;
  const hub = new MarketDataHub();
  const ring = createFeedRing(1 << 16);
  const source = hub.addSource({ name: 'polymarket', ring });
  const errors: string[] = [];
  const feed = startFeed({
    spec: { feed: 'polymarket', wsUrl: pm.wsUrl, restUrl, tokenIds, slots: SLOTS, maxAssetsPerConnection: MAX_PER_CONNECTION },
    source,
    ring,
    cpu: FEED_CPU,
    tuning: TUNING,
    record: record && { dir: record.dir, maxBytes: 64 << 20, maxMs: 3_600_000 },
    onError: (m) => errors.push(m),
  });
  return { sim, hub, feed, reader: new BookReader(feed.books!), errors, resyncs: Array.from({ length: SLOTS }, () => []) };
}

/** Everything the worker has published so far (Resync events noted per slot). */
function drain(rig: Rig): Rig {
  while (
    rig.hub.drain((e) => {
      if (e.kind === EventKind.Resync) rig.resyncs[e.token]!.push(e.aux0);
    }) > 0
  );
  return rig;
}

/** Drains the hub until `done` holds; fails (instead of hanging) after a generous deadline. */
async function until(rig: Rig, done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    drain(rig);
    if (done()) return;
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}; counters ${JSON.stringify(readCounters(rig.feed.counters))}, sim ${JSON.stringify(rig.sim.stats().venues.polymarket)}, errors ${JSON.stringify(rig.errors)}`);
    }
    await rig.hub.waitForData(20);
  }
}

const gated = (rig: Rig, slot: number): boolean => (rig.reader.top(slot, new TopOfBook()).flags & BookFlag.Resyncing) !== 0;
const sameAsSim = (rig: Rig, slot: number, tokenId: string): boolean =>
  !gated(rig, slot) && JSON.stringify(readBook(rig.reader, slot)) === JSON.stringify(simBook(rig.sim.polymarketBook(tokenId)!));

/** Waits until each (slot, token) book is live and equals the simulator's GET /book, then asserts it. */
async function live(rig: Rig, slots: ReadonlyArray<readonly [number, string]>, what: string): Promise<void> {
  await until(rig, () => slots.every(([s, id]) => sameAsSim(rig, s, id)), what);
  for (const [s, id] of slots) assert.deepEqual(readBook(rig.reader, s), simBook(rig.sim.polymarketBook(id)!), `${what}: slot ${s}`);
}

function vacant(rig: Rig, slot: number, what: string): void {
  assert.ok(gated(rig, slot), `${what}: slot ${slot} gated`);
  const b = readBook(rig.reader, slot);
  assert.deepEqual([b.bids, b.asks], [[], []], `${what}: slot ${slot} empty`);
}

/**
 * Waits until the worker has handled every frame the simulator has written
 * so far: first its frame and PONG counts reach the simulator's (valid only
 * while no connection has closed with frames in flight), then one more PONG
 * arrives, which the worker's one thread handles after all of those.
 */
async function settled(rig: Rig, what: string): Promise<void> {
  const c = rig.feed.counters;
  await until(rig, () => c[COUNTER.frames]! + c[COUNTER.pongs]! >= rig.sim.stats().venues.polymarket!.framesSent, `${what}: every frame counted`);
  const pongs = c[COUNTER.pongs]!;
  await until(rig, () => c[COUNTER.pongs]! > pongs, `${what}: a later PONG`);
}

const pmStats = (rig: Rig): { connections: number; totalConnections: number; invalidMessages: number } => rig.sim.stats().venues.polymarket!;

test('polymarket worker: token slots assigned and released at runtime over the live connections, and the recording replays to the same books', async () => {
  await withSim({ venues: ['polymarket'], source: 'scenario', speed: 'manual', seed: 5, polymarket: { markets: 4, levels: 5 } }, async (sim) => {
    const m: PmMarketInfo[] = sim.polymarketMarkets();
    const recDir = mkdtempSync(join(tmpdir(), 'polyedge-slots-'));
    const rig = startRig(sim, [m[0]!.yesTokenId, m[0]!.noTokenId], { record: { dir: recDir } });
    const { feed } = rig;
    let files: string[] = [];
    try {
      await feed.ready;
      await live(rig, [[0, m[0]!.yesTokenId], [1, m[0]!.noTokenId]], 'initial tokens');
      for (let s = 2; s < SLOTS; s++) vacant(rig, s, 'never assigned');
      assert.deepEqual([pmStats(rig).connections, pmStats(rig).totalConnections], [1, 1]);

      // Market 1 into slots 2 and 3: shard 0, already open, subscribes over the same socket.
      feed.assign(2, m[1]!.yesTokenId);
      feed.assign(3, m[1]!.noTokenId);
      await live(rig, [[2, m[1]!.yesTokenId], [3, m[1]!.noTokenId]], 'market 1 assigned');
      // Market 2 into slots 4 and 5: shard 1 opens its connection.
      feed.assign(4, m[2]!.yesTokenId);
      feed.assign(5, m[2]!.noTokenId);
      await live(rig, [[4, m[2]!.yesTokenId], [5, m[2]!.noTokenId]], 'market 2 assigned');
      assert.deepEqual([pmStats(rig).connections, pmStats(rig).totalConnections], [2, 2], 'no reconnect: one new connection, for the new shard');
      assert.deepEqual(drain(rig).resyncs.slice(2), [[ResyncReason.Assigned], [ResyncReason.Assigned], [ResyncReason.Assigned], [ResyncReason.Assigned]]);

      // Everything moves; every assigned book follows.
      sim.advance('polymarket', 30);
      const all = (): Array<[number, string]> => [
        [0, m[0]!.yesTokenId],
        [1, m[0]!.noTokenId],
        [2, m[1]!.yesTokenId],
        [3, m[1]!.noTokenId],
        [4, m[2]!.yesTokenId],
        [5, m[2]!.noTokenId],
      ];
      await live(rig, all(), 'after 30 steps');

      // A refused assign (slot taken) is reported and changes nothing.
      feed.assign(1, m[3]!.yesTokenId);
      await until(rig, () => rig.errors.length === 1, 'the refusal');
      assert.match(rig.errors[0]!, /assign refused: .*slot 1 already holds token/);
      assert.throws(() => feed.assign(SLOTS, m[3]!.yesTokenId), RangeError);
      assert.throws(() => feed.release(-1), RangeError);
      assert.throws(() => feed.assign(0, 'not-an-id'), RangeError);

      // Market 1 out: its books are gated and empty.
      feed.release(2);
      feed.release(3);
      await until(rig, () => gated(rig, 2) && gated(rig, 3), 'released books gated');
      vacant(rig, 2, 'released');
      vacant(rig, 3, 'released');
      // Slot 2 again, for another market's token. Its dump comes on the same
      // socket after the simulator has taken both unsubscribes.
      feed.assign(2, m[3]!.noTokenId);
      await live(rig, [[2, m[3]!.noTokenId]], 're-assigned slot 2');
      vacant(rig, 3, 'still vacant');
      assert.deepEqual(drain(rig).resyncs[2], [ResyncReason.Assigned, ResyncReason.Released, ResyncReason.Assigned]);

      // The simulator no longer sends market 1 (its connection state is not
      // observable from outside, what reaches the worker is): no frame about
      // the released tokens arrives while that market moves.
      const unknown = feed.counters[COUNTER.unknownEvents]!;
      const framesBefore = feed.counters[COUNTER.frames]!;
      const m1Before = JSON.stringify(sim.polymarketBook(m[1]!.yesTokenId));
      sim.advance('polymarket', 40);
      await settled(rig, 'after 40 more steps');
      assert.notEqual(JSON.stringify(sim.polymarketBook(m[1]!.yesTokenId)), m1Before, 'market 1 did move in the simulator');
      assert.ok(feed.counters[COUNTER.frames]! > framesBefore);
      assert.equal(feed.counters[COUNTER.unknownEvents], unknown, 'no frame for the released tokens reached the worker: they were unsubscribed');
      vacant(rig, 3, 'released, after the market moved');
      await live(rig, [[0, m[0]!.yesTokenId], [1, m[0]!.noTokenId], [2, m[3]!.noTokenId], [4, m[2]!.yesTokenId], [5, m[2]!.noTokenId]], 'after 40 more steps');
      assert.equal(pmStats(rig).totalConnections, 2, 'all of it over the same sockets');

      // Shard 1's last slot released: its connection goes away.
      feed.release(4);
      feed.release(5);
      await until(rig, () => pmStats(rig).connections === 1, "shard 1's connection closed");
      vacant(rig, 4, 'released');
      vacant(rig, 5, 'released');
      sim.advance('polymarket', 10);
      await live(rig, [[0, m[0]!.yesTokenId], [1, m[0]!.noTokenId], [2, m[3]!.noTokenId]], 'shard 0 carries on');

      assert.equal(pmStats(rig).invalidMessages, 0, 'the simulator accepted every operation');
      assert.deepEqual(rig.errors.length, 1);
      assert.equal(rig.hub.dropped(0), 0);
      assert.equal(feed.counters[COUNTER.reconnects], 0);
      assert.equal(feed.counters[COUNTER.parseErrors], 0);
    } finally {
      files = await feed.stop();
    }
    try {
      // The books the worker left, against the books the recording's events rebuild.
      const liveBooks = Array.from({ length: SLOTS }, (_, s) => readBook(rig.reader, s));
      assert.equal(files.length, 1);
      const rebuilt = new EventBooks(SLOTS);
      const r = await replayRecordingFile(files[0]!, { pace: 'fast', events: rebuilt });
      assert.equal(r.slotOps, 9, '5 assigns and 4 releases');
      assert.equal(r.slotErrors, 1, 'the refused assign, refused again');
      assert.equal(r.counters[COUNTER.frames], feed.counters[COUNTER.frames]);
      assert.equal(r.counters[COUNTER.unknownEvents], feed.counters[COUNTER.unknownEvents]);
      for (let s = 0; s < SLOTS; s++) {
        const b = rebuilt.book(s);
        assert.deepEqual([b.bids, b.asks], [liveBooks[s]!.bids, liveBooks[s]!.asks], `slot ${s}: the replay rebuilds the live book`);
      }
      assert.ok(liveBooks[0]!.bids.length > 0 && liveBooks[4]!.bids.length === 0);
    } finally {
      rmSync(recDir, { recursive: true, force: true });
    }
  });
});

test('polymarket worker with no initial tokens: no connection until the first assign; a drop resubscribes to exactly the assigned tokens', async () => {
  await withSim({ venues: ['polymarket'], source: 'scenario', speed: 'manual', seed: 9, polymarket: { markets: 3, levels: 4 } }, async (sim) => {
    const m = sim.polymarketMarkets();
    const rig = startRig(sim, []);
    const { feed } = rig;
    try {
      await feed.ready;
      for (let s = 0; s < SLOTS; s++) vacant(rig, s, 'before any assign');
      feed.assign(0, m[0]!.yesTokenId);
      await live(rig, [[0, m[0]!.yesTokenId]], 'first assign');
      assert.equal(pmStats(rig).totalConnections, 1, 'the first connection was opened by the first assign');

      feed.assign(1, m[0]!.noTokenId);
      feed.assign(2, m[1]!.yesTokenId);
      feed.assign(4, m[2]!.noTokenId);
      await live(rig, [[1, m[0]!.noTokenId], [2, m[1]!.yesTokenId], [4, m[2]!.noTokenId]], 'runtime assigns');
      feed.release(1);
      sim.advance('polymarket', 20);
      const assigned: Array<[number, string]> = [
        [0, m[0]!.yesTokenId],
        [2, m[1]!.yesTokenId],
        [4, m[2]!.noTokenId],
      ];
      await live(rig, assigned, 'after 20 steps');
      vacant(rig, 1, 'released');
      await settled(rig, 'before the drop');
      const unknown = feed.counters[COUNTER.unknownEvents]!;
      const resyncsBefore = rig.resyncs.map((r) => r.length);

      assert.equal(sim.injectFault('polymarket', 'drop'), 2);
      await until(rig, () => feed.counters[COUNTER.reconnects]! >= 2, 'both shards noticed the drop');
      await live(rig, assigned, 'rebuilt after the drop');
      await until(rig, () => pmStats(rig).connections === 2, 'both shards back');
      // The resubscription dump is one frame: had it named the released token, that book would have counted unknown.
      assert.equal(feed.counters[COUNTER.unknownEvents], unknown, 'the resubscription carried no released token');
      const downs = drain(rig).resyncs.map((r, s) => r.slice(resyncsBefore[s]).filter((x) => x === ResyncReason.Down).length);
      assert.deepEqual(downs, [1, 0, 1, 0, 1, 0], 'the drop resynced the assigned slots only');
      for (const s of [1, 3, 5]) vacant(rig, s, 'after the drop');

      sim.advance('polymarket', 20);
      await live(rig, assigned, 'after the drop and 20 more steps');
      assert.equal(pmStats(rig).invalidMessages, 0);
      assert.deepEqual(rig.errors, []);
      assert.equal(rig.hub.dropped(0), 0);
    } finally {
      await feed.stop();
    }
  });
});

test("polymarket worker: releasing a slot whose snapshot is failing cancels it; no request for the old token follows, and the next occupant's is made afresh", async () => {
  await withSim({ venues: ['polymarket'], source: 'scenario', speed: 'manual', seed: 11, polymarket: { markets: 3, levels: 4 } }, async (sim) => {
    const m = sim.polymarketMarkets();
    const old = m[0]!.yesTokenId;
    const next = m[1]!.yesTokenId;
    const other = m[2]!.yesTokenId;
    const bookOf = (id: string): string => `/book?token_id=${id}`;
    const simRest = sim.urls.polymarket!.restUrl;
    const rest = await RestStub.start();
    // The old token's snapshot fails twice, then hangs: the release finds it
    // retrying, an attempt in flight. The next occupant's first attempt
    // fails; everything else gets the simulator's own answer.
    rest.reply = async (url, n) => {
      if (url === bookOf(old)) return n <= 2 ? { status: 500, body: 'down' } : HOLD;
      if (url === bookOf(next) && n === 1) return { status: 500, body: 'down' };
      const res = await fetch(`${simRest}${url}`);
      return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
    };
    const recDir = mkdtempSync(join(tmpdir(), 'polyedge-slots-'));
    // Slot 1 keeps shard 0's connection open through the release.
    const rig = startRig(sim, [old, other], { record: { dir: recDir }, restUrl: rest.url });
    const { feed } = rig;
    let files: string[] = [];
    try {
      await feed.ready;
      await live(rig, [[0, old], [1, other]], 'initial tokens');
      assert.equal(rest.count(bookOf(old)), 0, 'built from the dump, not REST');

      // A crossed book needs REST; the old token's keeps failing.
      assert.equal(sim.injectFault('polymarket', 'crossed_book', { assetId: old }), 1);
      await until(rig, () => rest.holding(bookOf(old)) === 1, "the old token's snapshot failing, retried, in flight");
      assert.equal(rest.count(bookOf(old)), 3);
      feed.release(0);
      await until(rig, () => rest.abandoned(bookOf(old)) === 1, 'the attempt in flight aborted by the release');
      vacant(rig, 0, 'released');

      // The next occupant comes live from its dump; a crossed book then asks
      // for its snapshot at once (the old request ended with the release),
      // which fails once and is retried for the new token.
      feed.assign(0, next);
      await live(rig, [[0, next]], 'next occupant');
      assert.equal(sim.injectFault('polymarket', 'crossed_book', { assetId: next }), 1);
      await until(rig, () => rest.count(bookOf(next)) === 2 && sameAsSim(rig, 0, next), 'the next occupant rebuilt from REST');
      await live(rig, [[0, next], [1, other]], 'after the crossed books');

      assert.equal(rest.count(bookOf(old)), 3, 'not one request for the released token after its release');
      assert.equal(rest.count(bookOf(other)), 0);
      assert.equal(feed.counters[COUNTER.restErrors], 3, 'the three failures served; the cancelled attempt is no error');
      assert.equal(feed.counters[COUNTER.restSnapshots], 1);
      assert.equal(feed.counters[COUNTER.staleDrops], 0, 'nothing about the old token reached the core');
      assert.deepEqual(rig.errors, []);
    } finally {
      files = await feed.stop();
      await rest.close();
    }
    try {
      const liveBooks = Array.from({ length: SLOTS }, (_, s) => readBook(rig.reader, s));
      const rebuilt = new EventBooks(SLOTS);
      const r = await replayRecordingFile(files[0]!, { pace: 'fast', events: rebuilt });
      assert.deepEqual([r.slotOps, r.slotErrors, r.snapshots], [2, 0, 1], 'a release, an assign, and the one snapshot delivered');
      assert.equal(r.counters[COUNTER.restSnapshots], 1);
      assert.equal(r.counters[COUNTER.staleDrops], 0);
      for (let s = 0; s < SLOTS; s++) {
        const b = rebuilt.book(s);
        assert.deepEqual([b.bids, b.asks], [liveBooks[s]!.bids, liveBooks[s]!.asks], `slot ${s}: the replay rebuilds the live book`);
      }
    } finally {
      rmSync(recDir, { recursive: true, force: true });
    }
  });
});
