// Where a feed core sends its events. The worker publishes them into its
// SPSC ring; replay and tests may keep them in memory or drop them. One
// indirection per event buys one core for all three.

import { EventViews, type EventRecord } from './shared-memory/event-layout.js';
import type { Ring, RingProducer } from './shared-memory/ring.js';

export interface EventSink {
  emit(e: EventRecord): void;
}

export const discardEvents: EventSink = { emit() {} };

/** Publishes each event into a ring (the ring's full policy applies). */
export class RingEventSink implements EventSink {
  private readonly views: EventViews;

  constructor(ring: Ring, private readonly producer: RingProducer) {
    this.views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  }

  emit(e: EventRecord): void {
    if (this.producer.claim(1) === 1) {
      this.views.write(this.producer.slot(0), e);
      this.producer.publish(1);
    }
  }
}
