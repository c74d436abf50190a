// The engine's pass against a book whose writer holds a batch open past the
// reader's budget (a feed worker descheduled or dead mid-batch): the work that
// read the book is deferred, counted and retried, and the engine goes on.
// The test is the books' one writer, as the feed worker is in a session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { polymarketHub } from '../feeds/hub.fixture.js';
import { updownMarket } from '../trading/markets.fixture.js';
import { EventKind } from '../../workers/shared-memory/event-layout.js';
import { Side } from '../../workers/shared-memory/book-layout.js';
import { native } from '../native.js';
import { SlotPhase } from '../markets/slots.js';
import { Engine } from './engine.js';

test('a book held inside a write batch defers the pass work that reads it; the engine goes on and catches up once the batch ends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-busy-'));
  try {
    const rig = polymarketHub(2, 64);
    const { writer, hub, source: polySource } = rig;
    const levelUpdate = (token: number): void =>
      rig.publish(1, (e) => {
        e.kind = EventKind.LevelUpdate;
        e.source = polySource;
        e.token = token;
        e.recvNs = Number(native.nowNs());
        e.exchTsMs = Date.now();
      });
    const logs: string[] = [];
    const engine = new Engine({ cfg: loadConfig(), slots: 1, hub, polySource, references: [], volatilities: [], journalPath: join(dir, 'j'), log: (l) => logs.push(l) });
    const now = Date.now();
    const start = Math.floor(now / 300_000) * 300_000;
    assert.equal(
      engine.addMarket(updownMarket(`${start / 1000}`, { conditionId: `0x${'ab'.repeat(32)}`, tokenIds: ['101', '202'], startMs: start })),
      true,
    );
    assert.equal(engine.slots.phase[0], SlotPhase.Active);

    writer.begin(0);
    writer.setLevel(0, Side.Bid, 4_900, 100);
    writer.setLevel(0, Side.Ask, 5_100, 100);
    writer.end(0);
    levelUpdate(0);
    engine.pass();
    assert.equal(engine.marks[0], 5_000);

    // The writer opens a batch and does not close it; a new level lands inside it.
    writer.begin(0);
    writer.setLevel(0, Side.Bid, 4_950, 100);
    levelUpdate(0);
    assert.doesNotThrow(() => engine.pass());
    assert.ok(engine.counts.busyBookDeferrals >= 1, 'the deferral is counted');
    assert.equal(engine.marks[0], 5_000, 'no half-written book was read');

    // The batch ends: the next pass, with no new event, redoes the deferred work.
    writer.end(0);
    const deferred = engine.counts.busyBookDeferrals;
    assert.equal(engine.pass(), 0);
    assert.equal(engine.marks[0], 5_025);
    assert.equal(engine.counts.busyBookDeferrals, deferred, 'nothing deferred once the book is readable');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
