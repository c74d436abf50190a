import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind, EventViews, newEventRecord } from '../../workers/event-layout.js';
import { createPolymarketBooks, PolymarketBookWriter } from '../../workers/book/polymarket-book.js';
import { TopOfBook } from '../../workers/book/reader.js';
import { Ring } from '../../workers/ring.js';
import { MarketDataHub } from './hub.js';

function publish(ring: Ring, views: EventViews, producer: ReturnType<Ring['producer']>, seqs: number[]): void {
  const e = newEventRecord();
  producer.claim(seqs.length);
  seqs.forEach((seq, i) => {
    e.kind = EventKind.LevelUpdate;
    e.seq = seq;
    views.write(producer.slot(i), e);
  });
  producer.publish();
}

test('an event whose handling meets a busy book is skipped and counted; a fault consumes the events up to it and propagates', () => {
  const books = createPolymarketBooks(2);
  const writer = new PolymarketBookWriter(books);
  const hub = new MarketDataHub({ polymarketBooks: books });
  const ring = Ring.create({ capacity: 16, fullPolicy: 'drop' });
  const source = hub.addSource({ name: 'polymarket', ring });
  const producer = ring.producer();
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const top = new TopOfBook();

  publish(ring, views, producer, [0, 1, 2, 3, 4]);
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

  publish(ring, views, producer, [5, 6, 7]);
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
