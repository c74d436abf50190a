// One client connection as the simulator sees it, and the place every
// per-connection fault is applied: all outgoing frames pass through here.
import type { WebSocket } from './uws.js';
import { Prng } from '../../workers/prng.js';
import { DEFAULT_STALL_MS, type FaultKind, type FaultLedger, type RandomFaultConfig, type Venue } from './faults.js';

export interface FrameMeta {
  /** A Binance diff-depth frame: the only kind a `sequence_gap` may skip. */
  readonly depth?: boolean;
}

/** Faults that wait for the next data frame to take effect. */
type FrameFault = 'malformed' | 'truncated' | 'duplicate' | 'reorder' | 'sequence_gap';

function isFrameFault(k: FaultKind): k is FrameFault {
  return k === 'malformed' || k === 'truncated' || k === 'duplicate' || k === 'reorder' || k === 'sequence_gap';
}

/** Random stalls are short by default so a run with a high rate still makes progress. */
const RANDOM_STALL_MS = 1_000;

interface RandomState {
  readonly rng: Prng;
  readonly rate: number;
  readonly kinds: readonly FaultKind[];
  readonly stallMs: number;
}

/** Venue-specific faults that need venue state (Polymarket crossed book). */
export type VenueFaultHook = (conn: SimConnection<unknown>, kind: FaultKind) => boolean;

/**
 * A frame that is certainly not valid JSON but looks like venue output:
 * a trailing comma before the closing bracket.
 */
export function malformFrame(frame: string): string {
  const trimmed = frame.trimEnd();
  const last = trimmed.at(-1);
  const out = last === '}' || last === ']' ? `${trimmed.slice(0, -1)},${last}` : `${trimmed},}`;
  try {
    JSON.parse(out);
  } catch {
    return out;
  }
  return `${out}}`;
}

/** A strict prefix of a JSON object/array text is never valid JSON. */
export function truncateFrame(frame: string): string {
  return frame.slice(0, Math.max(1, Math.floor(frame.length / 2)));
}

export class SimConnection<S = unknown> {
  closed = false;
  /** Data frames offered to this connection (including ones a fault swallowed). */
  dataFrames = 0;
  framesSent = 0;
  private stalledUntil = 0;
  private readonly pending: FrameFault[] = [];
  private held: string | undefined;
  private random: RandomState | undefined;

  constructor(
    private readonly ws: WebSocket<unknown>,
    readonly venue: Venue,
    /** Ordinal within the venue, from 1; random faults are seeded by it. */
    readonly id: number,
    readonly state: S,
    private readonly ledger: FaultLedger,
    private readonly venueHook?: VenueFaultHook,
  ) {}

  /** Identifier in venue messages that carry one (RTDS `connection_id`). */
  get connectionId(): string {
    return `sim-${this.venue}-${this.id}`;
  }

  isStalled(now = performance.now()): boolean {
    return now < this.stalledUntil;
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  setRandom(cfg: RandomFaultConfig | null, kinds: readonly FaultKind[]): void {
    if (!cfg || cfg.rate === 0 || kinds.length === 0) {
      this.random = undefined;
      return;
    }
    this.random = {
      rng: Prng.derive(cfg.seed, 'faults', this.venue, this.id),
      rate: cfg.rate,
      kinds,
      stallMs: cfg.stallMs ?? RANDOM_STALL_MS,
    };
  }

  /** Replies, PONGs, heartbeats: not subject to frame faults, but silenced by a stall. */
  sendControl(text: string): void {
    if (this.closed || this.isStalled()) return;
    this.write(text);
  }

  /** Frames a fault itself generates (crossed book and its repair): no further faults apply. */
  sendInjected(text: string): void {
    if (this.closed || this.isStalled()) return;
    this.write(text);
  }

  sendData(text: string, meta: FrameMeta = {}): void {
    if (this.closed || this.isStalled()) return;
    this.dataFrames++;
    if (this.random && this.random.rng.chance(this.random.rate)) {
      const kind = this.random.rng.pick(this.random.kinds);
      if (kind === 'drop' || kind === 'stall') {
        this.inject(kind, this.random.stallMs);
        return;
      }
      if (isFrameFault(kind)) {
        this.pending.unshift(kind);
      } else if (this.venueHook?.(this as SimConnection<unknown>, kind)) {
        this.note(kind);
      }
    }
    // A held frame waits for this one to overtake it: skipping this one would
    // release the held frame in order, and the reorder would never happen.
    const idx = this.pending.findIndex(
      (k) => (k !== 'sequence_gap' || (meta.depth === true && this.held === undefined)) && (k !== 'reorder' || this.held === undefined),
    );
    const fault = idx >= 0 ? this.pending.splice(idx, 1)[0] : undefined;
    const release = this.held;
    switch (fault) {
      case 'malformed':
        this.write(malformFrame(text));
        this.write(text);
        this.note('malformed');
        break;
      case 'truncated':
        this.write(truncateFrame(text));
        this.write(text);
        this.note('truncated');
        break;
      case 'duplicate':
        this.write(text);
        this.write(text);
        this.note('duplicate');
        break;
      case 'sequence_gap':
        this.note('sequence_gap');
        break;
      case 'reorder':
        this.held = text;
        return;
      case undefined:
        this.write(text);
        break;
    }
    if (release !== undefined && !this.closed) {
      this.held = undefined;
      this.write(release);
      this.note('reorder');
    }
  }

  /**
   * Apply a per-connection fault now (drop, stall) or arm it for the next
   * data frame. Returns false if it cannot apply to this connection.
   */
  inject(kind: FaultKind, stallMs = DEFAULT_STALL_MS): boolean {
    if (this.closed) return false;
    switch (kind) {
      case 'drop':
        this.note('drop');
        this.close();
        return true;
      case 'stall':
        this.note('stall');
        this.stalledUntil = performance.now() + stallMs;
        return true;
      case 'malformed':
      case 'truncated':
      case 'duplicate':
      case 'reorder':
      case 'sequence_gap':
        this.pending.push(kind);
        return true;
      default:
        if (this.venueHook?.(this as SimConnection<unknown>, kind)) {
          this.note(kind);
          return true;
        }
        return false;
    }
  }

  /** Abrupt close without a close frame: the client sees 1006. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close();
  }

  /** Orderly close with a close frame (protocol-level disconnects). */
  end(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.end(code, reason);
  }

  /** Called from the socket's close handler. */
  markClosed(): void {
    this.closed = true;
  }

  note(kind: FaultKind): void {
    this.ledger.record({ venue: this.venue, kind, connection: this.id, frame: this.dataFrames, atMs: Date.now() });
  }

  private write(text: string): void {
    if (this.closed) return;
    this.framesSent++;
    this.ws.send(text, false, false);
  }
}
