// Test plumbing for the data hub: a hub over real Polymarket books with one
// ring source this thread produces into, as a feed worker would, and the
// books' one writer.
import { createPolymarketBooks, PolymarketBookWriter } from '../../workers/book/polymarket-book.js';
import { EventViews, newEventRecord, type EventRecord } from '../../workers/event-layout.js';
import { Ring } from '../../workers/ring.js';
import { MarketDataHub } from './hub.js';

export interface PolymarketHubRig {
  writer: PolymarketBookWriter;
  hub: MarketDataHub;
  /** The hub's source id of the ring. */
  source: number;
  /** Publishes `n` events in one batch, each filled in by `fill` (one record, reused). */
  publish(n: number, fill: (e: EventRecord, i: number) => void): void;
}

export function polymarketHub(books: number, ringCapacity: number): PolymarketHubRig {
  const set = createPolymarketBooks(books);
  const hub = new MarketDataHub({ polymarketBooks: set });
  const ring = Ring.create({ capacity: ringCapacity, fullPolicy: 'drop' });
  const source = hub.addSource({ name: 'polymarket', ring });
  const producer = ring.producer();
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const e = newEventRecord();
  return {
    writer: new PolymarketBookWriter(set),
    hub,
    source,
    publish(n, fill) {
      producer.claim(n);
      for (let i = 0; i < n; i++) {
        fill(e, i);
        views.write(producer.slot(i), e);
      }
      producer.publish();
    },
  };
}
