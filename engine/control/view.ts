// What the control plane sees of the engine, and what it may ask of it.
//
// EngineView answers snapshots (copies, or values computed at the call): a
// handler cannot reach into the engine's live arrays or maps, and the engine
// can change how it keeps its state without touching the control plane.
// EngineCommands is the narrow set of actions an operator has: pause,
// resume, flatten, and each reloadable parameter set. Both run between two
// passes of the loop (the control plane's requests run only there).

import type { MarketSlotView } from '../markets/slots.js';
import type { ToxicityReport } from '../portfolio/markouts.js';
import type { PositionEntry, PnlSummary } from '../portfolio/positions.js';
import type { Order } from '../trading/types.js';
import type { Tunable, TunableSlot } from '../tunables/tunable.js';

export type { MarketSlotView };

/** The last engine fault, as /health reports it. */
export interface EngineFault {
  where: string;
  /** The unit, e.g. `decide(market 2, strategy maker)`. */
  site: string;
  message: string;
  /** Engine clock, Unix ms. */
  atMs: number;
}

export interface FaultReport {
  faults: number;
  lastFault: EngineFault | null;
}


/** A (strategy, token) account with the token's venue id. */
export type PositionView = PositionEntry & { tokenId: string | undefined };

export interface EngineView {
  /** Engine time, Unix ms. */
  nowMs(): number;
  /** The state machine's state name (RUNNING, PAUSED, HALTED). */
  stateName(): string;
  killSwitchLatched(): boolean;
  /** Copies of the engine's counters. */
  counts(): Record<string, number>;
  /** Orders by `strategy:outcome`, copied. */
  ordersByOutcome(): Record<string, number>;
  faultReport(): FaultReport;
  pnl(): PnlSummary;
  dailyPnl(): number;
  pnlByStrategy(): Record<string, PnlSummary>;
  positions(): PositionView[];
  marketSlots(): MarketSlotView[];
  /** Orders the engine believes live (copies). */
  liveOrders(): Order[];
  toxicity(): ToxicityReport;
}

/** A tunable set as the running engine holds it: its declaration, bound to the engine. */
export type TunableInForce = Omit<Tunable<unknown, never>, 'bind'> & { readonly slot: TunableSlot<unknown> };

export interface EngineCommands {
  pause(): { state: string };
  resume(): { state: string; killSwitchLatched: boolean };
  flatten(): { cancelled: number; orders: number; blocked: Array<{ token: number; reason: string }> };
  /** Marks every active market dirty: quotes that depend on parameters change on the next pass, even in a quiet market. */
  requote(): void;
  /** Every tunable set (engine/tunables/registry.ts), each bound to this engine. */
  readonly tunables: readonly TunableInForce[];
}
