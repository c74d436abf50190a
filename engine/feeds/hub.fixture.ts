// Test plumbing for the data hub: a hub over real Polymarket books with one
// ring source this thread produces into, as a feed worker would, and the
// books' one writer.
import { Side } from '../../workers/shared-memory/book-layout.js';
import { createPolymarketBooks, PolymarketBookWriter } from '../../workers/venues/polymarket/book.js';
import { EventKind, EventViews, newEventRecord, type EventRecord } from '../../workers/shared-memory/event-layout.js';
import { Ring } from '../../workers/shared-memory/ring.js';
import { native } from '../native.js';
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

/** `n` level-update events, alternating the two books of slot 0, stamped now: what the feed worker publishes after a write. */
export function bookEvents(rig: PolymarketHubRig, n: number): void {
  rig.publish(n, (e, i) => {
    e.kind = EventKind.LevelUpdate;
    e.source = rig.source;
    e.token = i % 2;
    e.recvNs = Number(native.nowNs());
    e.exchTsMs = Date.now();
  });
}

/** Both books of slot 0 two-sided around 0.50 and fresh, and an event for each, as the Polymarket feed worker would publish. */
export function quoteBooks(rig: PolymarketHubRig): void {
  for (const book of [0, 1]) {
    rig.writer.begin(book);
    rig.writer.setLevel(book, Side.Bid, 4_800, 200);
    rig.writer.setLevel(book, Side.Ask, 5_200, 200);
    rig.writer.setTimes(book, Number(native.nowNs()), Date.now());
    rig.writer.end(book);
  }
  bookEvents(rig, 2);
}
