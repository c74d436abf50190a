// The engine's journal: opened and replayed at start (positions, open orders
// and market slots exactly as journaled before a crash or stop), then every
// record appended and applied to the ledger, and checkpoints when due.

import type { Portfolio } from '../portfolio/positions.js';
import type { Fill, Resolution, Settlement } from '../trading/types.js';
import { Journal, type JournalConfig } from './journal.js';
import type { JournalInput, Merge } from './records.js';
import { restore, type JournalLedger } from './ledger.js';

export interface RestoredFrom {
  records: number;
  tornTailBytes: number;
  openOrders: number;
  warning: string | undefined;
}

export class JournalWriter {
  /** Journal records (stats.records) before which a failed checkpoint is not tried again. */
  private retryAt = 0;

  private constructor(
    readonly journal: Journal,
    /** The state the records add up to (orders, slots, settlements, audits). */
    readonly ledger: JournalLedger,
    readonly restoredFrom: RestoredFrom,
    private readonly portfolio: Portfolio,
    private readonly snapshotEvery: number,
  ) {}

  /** Opens the journal at `path` and replays it into `portfolio` and a ledger. */
  static open(path: string, cfg: JournalConfig, auditTimeoutMs: number, portfolio: Portfolio, log: (line: string) => void): JournalWriter {
    const opened = Journal.open(path, {
      fsync: cfg.fsync,
      fsyncIntervalMs: cfg.fsync_interval_ms,
      snapshotEvery: cfg.snapshot_every,
      compact: cfg.compact,
      allowCorruption: cfg.allow_corruption,
    });
    const applier = {
      applyFill: (f: Fill) => portfolio.applyFill(f),
      applyMerge: (m: Merge) => portfolio.merge(m.strategy ?? '', m.market, m.size, m.mergeId),
      restore: (s: unknown) => portfolio.restore(s),
      settle: (x: Settlement) => portfolio.settle(x),
      correct: (x: Resolution, current: boolean) => portfolio.correct(x, current),
      retireMarket: (m: number) => {
        portfolio.retireMarket(m);
      },
    };
    const restored = restore(opened.replay.records, applier, { auditTimeoutMs });
    const ledger = restored.state;
    if (ledger.expiredAudits > 0) {
      log(`journal: ${ledger.expiredAudits} settlements past their audit deadline (markets.audit_timeout_ms) are no longer checked against the venue`);
    }
    if (opened.replay.warning) log(`journal: ${opened.replay.warning}`);
    const from = { records: opened.replay.records.length, tornTailBytes: opened.replay.tornTailBytes, openOrders: ledger.openOrders.size, warning: opened.replay.warning };
    return new JournalWriter(opened.journal, ledger, from, portfolio, cfg.snapshot_every);
  }

  /**
   * Appends a record, then applies it to state: the live path and the
   * restore path are the same code.
   *
   * A journal that cannot write (disk full, EIO) throws here, and that is a
   * fault like any other: HALT and cancel. Deliberately so: Journal.append
   * throws with nothing appended (a half-written frame is truncated away; if
   * even that fails the journal refuses every later append) and state is
   * applied only after the append returned, so memory never runs ahead of the
   * journal; every order is journaled before it is sent, so a dead journal
   * also stops every new order by itself. A cancel needs no record to be
   * sent (only the venue's confirmation is journaled), so cancelling still
   * works and is the one step that shrinks exposure; the confirmations that
   * cannot be written leave those orders open in the journal and in
   * /state/orders (a restart treats them as open, as after any crash), and
   * a fill reported meanwhile is lost to the books of account, which is why
   * only an operator resumes. Dying instead, as before, left orders resting
   * with nobody watching.
   */
  record(rec: JournalInput): void {
    this.journal.append(rec);
    this.ledger.apply(rec);
  }

  /** Writes a snapshot of the ledger and the portfolio at engine time `nowMs`. */
  checkpoint(nowMs: number): void {
    this.journal.checkpoint(this.ledger.snapshot(this.portfolio.snapshot(), nowMs));
  }

  /** A checkpoint when one is due; throws its failure, after which the next try waits snapshot_every more records. */
  checkpointIfDue(nowMs: number): void {
    if (!this.journal.snapshotDue || this.journal.stats.records < this.retryAt) return;
    try {
      this.checkpoint(nowMs);
    } catch (err) {
      // snapshotDue stays true after a failure: trying on every pass would rewrite a whole snapshot per event into a failing disk.
      this.retryAt = this.journal.stats.records + this.snapshotEvery;
      throw err;
    }
  }
}
