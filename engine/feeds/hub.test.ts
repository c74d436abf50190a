import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind } from '../../workers/shared-memory/event-layout.js';
import { TopOfBook } from '../../workers/shared-memory/book-reader.js';
import { polymarketHub, type PolymarketHubRig } from './hub.fixture.js';

function publish(rig: PolymarketHubRig, seqs: number[]): void {
  rig.publish(seqs.length, (e, i) => {
    e.kind = EventKind.LevelUpdate;
    e.seq = seqs[i]!;
  });
}

test('an event whose handling meets a busy book is skipped and counted; a fault consumes the events up to it and propagates', () => {
  const rig = polymarketHub(2, 16);
  const { writer, hub, source } = rig;
  const top = new TopOfBook();

  publish(rig, [0, 1, 2, 3, 4]);
  // The writer never leaves its batch on book 1: a descheduled or dead feed worker, as the reader sees it.
  writer.begin(1);
  const seen: number[] = [];
  const drained = hub.drain((e) => {
    seen.push(e.seq);
    if (e.seq === 2) hub.polymarket!.top(1, top);
  });
  assert.equal(drained, 5);
  assert.deepEqual(seen, [0, 1, 2, 3, 4], 'the events after the busy read are handled');
  assert.equal(hub.busyBookEvents(source), 1);
  writer.end(1);
  assert.equal(hub.polymarket!.top(1, top).bidTick, -1, 'readable again once the batch ends');

  publish(rig, [5, 6, 7]);
  assert.throws(
    () =>
      hub.drain((e) => {
        if (e.seq === 6) throw new TypeError('strategy bug');
      }),
    /strategy bug/,
  );
  const rest: number[] = [];
  hub.drain((e) => rest.push(e.seq));
  assert.deepEqual(rest, [7], 'events up to the faulting one are consumed, never handled twice');
  assert.equal(hub.events(source), 8);
});
