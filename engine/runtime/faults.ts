// Faults in the decision loop. A fault (an error other than BookBusyError)
// in a unit of the pass is counted by site, kept for /health, logged once
// per site and message, and trips the kill switch (HALTED, latched), which
// cancels every order; the loop goes on. A BookBusyError only defers the
// unit's work to the next pass.

import { BookBusyError } from '../../workers/shared-memory/book-reader.js';
import { EventKind } from '../../workers/shared-memory/event-layout.js';
import type { EngineFault, FaultReport } from '../control/view.js';
import type { EngineStateMachine } from '../risk/state.js';

/** The unit of the loop a fault was caught in. */
export const FaultSite = { Drain: 0, Mark: 1, Executor: 2, Decide: 3, Checkpoint: 4, Loop: 5 } as const;
export type FaultSite = (typeof FaultSite)[keyof typeof FaultSite];
/** FaultSite → the `where` label of polyedge_engine_faults_total. */
export const FAULT_SITE_NAMES = ['drain', 'mark', 'executor', 'decide', 'checkpoint', 'loop'] as const;

/** Distinct (site, message) pairs logged with their stack; later new ones are only counted, so messages that embed varying values cannot log per event. */
const MAX_LOGGED_FAULTS = 64;
/** A plugin may throw anything: the kill-switch reason, the log and /health carry at most this much of its message. */
const MAX_FAULT_MESSAGE = 500;

/** EventKind's name of `kind`, for a fault's site (the fault path only: it searches the table). */
export function eventKindName(kind: number): string {
  for (const [name, k] of Object.entries(EventKind)) if (k === kind) return name;
  return `kind ${kind}`;
}

export interface FaultsOptions {
  state: EngineStateMachine;
  nowMs: () => number;
  log: (line: string) => void;
  /** Cancels every order, journaling `why`; never throws. */
  cancelAll: (why: string) => void;
  counts: { busyBookDeferrals: number };
}

export class Faults {
  /** Faults caught per FaultSite. */
  readonly counts = new Float64Array(FAULT_SITE_NAMES.length);
  private last: EngineFault | undefined;
  private readonly logged = new Set<string>();

  constructor(private readonly o: FaultsOptions) {}

  /** Counts a BookBusyError (its work is retried next pass) and answers true; false for anything else, which is a fault. */
  deferBusy(err: unknown): boolean {
    if (!(err instanceof BookBusyError)) return false;
    this.o.counts.busyBookDeferrals++;
    return true;
  }

  /**
   * An engine fault in `site`: counted, kept for /health, and, unless the
   * kill switch is already latched, the switch trips (HALTED) and every
   * order is cancelled, as on the daily loss limit. Logged with its stack
   * the first time a (site, message) pair is seen. Never throws: the loop's
   * last line of defence calls it.
   */
  fault(where: FaultSite, site: string, err: unknown): void {
    this.counts[where]!++;
    let message: string;
    let stack: string | undefined;
    try {
      message = String(err instanceof Error ? err.message : err);
      stack = err instanceof Error ? err.stack : undefined;
    } catch {
      message = 'an error that cannot be printed';
    }
    if (message.length > MAX_FAULT_MESSAGE) message = `${message.slice(0, MAX_FAULT_MESSAGE)}…`;
    const atMs = this.o.nowMs();
    this.last = { where: FAULT_SITE_NAMES[where], site, message, atMs };
    const trip = !this.o.state.killSwitchLatched;
    if (trip) {
      try {
        this.o.state.tripKillSwitch(`fault in ${site}: ${message}`, atMs);
      } catch {
        // A state listener threw: tripKillSwitch latches and enters HALTED before it notifies, so the halt stands.
      }
    }
    const key = `${site}\n${message}`;
    let logStack = false;
    if (!this.logged.has(key) && this.logged.size < MAX_LOGGED_FAULTS) {
      this.logged.add(key);
      logStack = true;
    }
    try {
      if (logStack) this.o.log(`fault in ${site}: ${stack ?? message}${this.logged.size === MAX_LOGGED_FAULTS ? ` (${MAX_LOGGED_FAULTS} distinct faults logged; further ones are only counted)` : ''}`);
      if (trip) this.o.log(`kill switch: fault in ${site}; HALTED, cancelling every order; POST /control/resume twice (HALTED → PAUSED → RUNNING) to trade again`);
    } catch {
      // A log sink that throws must not stop the loop; the fault is counted and in /health.
    }
    // Each cancel is guarded (OrderManager.cancelAll): a fault in one re-enters here, finds the switch latched and only counts and logs.
    if (trip) this.o.cancelAll('fault');
  }

  /** fault() in the executor site, for the domain's units that must not name the loop's sites (execution/restart.ts). */
  executorFault(site: string, err: unknown): void {
    this.fault(FaultSite.Executor, site, err);
  }

  /** Faults since start and the last one, for /health. */
  report(): FaultReport {
    let faults = 0;
    for (let i = 0; i < this.counts.length; i++) faults += this.counts[i]!;
    return { faults, lastFault: this.last === undefined ? null : { ...this.last } };
  }
}
