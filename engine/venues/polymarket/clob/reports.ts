// What a CLOB venue (dry-run or live) tells the engine, queued and handed
// over only from advance(): the order manager walks its own live lists while
// it submits and cancels, and a report landing under that walk would skip an
// order. Each report sets its order's status (and a fill its filled size)
// just before the listener hears it, as ExecutionListener's contract says.

import type { ExecutionListener, Fill, Order, RejectReason } from '../../../trading/types.js';

export const Report = { Ack: 0, Reject: 1, Cancel: 2, Expire: 3, Fill: 4 } as const;
export type Report = (typeof Report)[keyof typeof Report];

const STATUS_OF: readonly (Order['status'] | undefined)[] = ['open', 'rejected', 'cancelled', 'expired', undefined];

interface Pending {
  kind: Report;
  order: Order;
  /** Engine time it is due. */
  due: number;
  reason: RejectReason | undefined;
  fill: Fill | undefined;
}

export class VenueReports {
  private readonly queue: Pending[] = [];

  constructor(private readonly listener: ExecutionListener) {}

  push(kind: Report, order: Order, due: number, reason?: RejectReason, fill?: Fill): void {
    this.queue.push({ kind, order, due, reason, fill });
  }

  get size(): number {
    return this.queue.length;
  }

  /** When the first queued report is due; Infinity when none is queued. */
  nextDueMs(): number {
    return this.queue.length > 0 ? this.queue[0]!.due : Infinity;
  }

  /**
   * Delivers what was queued when called, one report at a time: if the
   * listener throws (the journal cannot write), the rest stay queued. A
   * report the listener causes waits for the next call.
   */
  deliver(): void {
    const l = this.listener;
    for (let n = this.queue.length; n > 0; n--) {
      const p = this.queue.shift()!;
      const o = p.order;
      const status = STATUS_OF[p.kind];
      if (status !== undefined) o.status = status;
      if (p.kind === Report.Ack) l.onAck(o);
      else if (p.kind === Report.Reject) l.onReject(o, p.reason ?? 'invalid_order');
      else if (p.kind === Report.Cancel) l.onCancel(o);
      else if (p.kind === Report.Expire) l.onExpire(o);
      else {
        o.filled += p.fill!.size;
        if (o.filled >= o.size) o.status = 'filled';
        l.onFill(p.fill!);
      }
    }
  }
}
