// The engine's trading state and its kill switch.
//
//   RUNNING      strategies trade; every order passes the risk gates
//   PAUSED       no new orders (an operator's hold)
//   REDUCE_ONLY  only orders that shrink a position
//   HALTED       nothing but flatten orders; entered by an operator or the
//                kill switch
//
// The kill switch (daily loss limit breached, or tripped by hand) forces
// HALTED from any state and latches: no transition leaves HALTED until an
// explicit reset, so a PnL that bounces back over the limit cannot resume
// trading on its own. Leaving HALTED goes through PAUSED, so trading only
// restarts on a second, deliberate step.

export const EngineState = { Running: 0, Paused: 1, ReduceOnly: 2, Halted: 3 } as const;
export type EngineState = (typeof EngineState)[keyof typeof EngineState];

/** Names as operators, metrics and the journal see them; index = state. */
export const ENGINE_STATE_NAMES = ['RUNNING', 'PAUSED', 'REDUCE_ONLY', 'HALTED'] as const;

const ALLOWED: readonly (readonly EngineState[])[] = [
  /* RUNNING */ [EngineState.Paused, EngineState.ReduceOnly, EngineState.Halted],
  /* PAUSED */ [EngineState.Running, EngineState.ReduceOnly, EngineState.Halted],
  /* REDUCE_ONLY */ [EngineState.Running, EngineState.Paused, EngineState.Halted],
  /* HALTED */ [EngineState.Paused],
];

export interface StateChange {
  from: EngineState;
  to: EngineState;
  reason: string;
  /** Engine clock, Unix ms. */
  atMs: number;
}

export type StateListener = (change: StateChange) => void;

export class EngineStateMachine {
  private current: EngineState;
  private latched = false;
  private readonly listeners: StateListener[] = [];

  constructor(initial: EngineState = EngineState.Running) {
    this.current = initial;
  }

  get state(): EngineState {
    return this.current;
  }

  get name(): (typeof ENGINE_STATE_NAMES)[number] {
    return ENGINE_STATE_NAMES[this.current];
  }

  /** The kill switch tripped and has not been reset. */
  get killSwitchLatched(): boolean {
    return this.latched;
  }

  canTransition(to: EngineState): boolean {
    if (to === this.current) return true;
    if (this.latched) return false;
    return ALLOWED[this.current]!.includes(to);
  }

  /** Moves to `to` if allowed; returns whether the engine is now in `to`. Listeners hear real changes only. */
  transition(to: EngineState, reason: string, atMs: number): boolean {
    if (!this.canTransition(to)) return false;
    this.change(to, reason, atMs);
    return true;
  }

  /** HALTED from any state, latched until resetKillSwitch. Listeners hear it even when the engine was already HALTED. */
  tripKillSwitch(reason: string, atMs: number): void {
    this.latched = true;
    this.change(EngineState.Halted, `kill switch: ${reason}`, atMs, true);
  }

  /** Unlatches the kill switch; the engine stays HALTED until an operator moves it. Returns whether it was latched. */
  resetKillSwitch(): boolean {
    const was = this.latched;
    this.latched = false;
    return was;
  }

  /**
   * Trips the kill switch when the day's PnL (micro-pUSD) is at or below
   * −limit (micro-pUSD). Returns whether the switch is latched afterwards.
   */
  checkDailyLoss(pnlMicros: number, limitMicros: number, atMs: number): boolean {
    if (!this.latched && pnlMicros <= -limitMicros) {
      this.tripKillSwitch(`daily loss ${pnlMicros / 1e6} pUSD breached the limit of ${limitMicros / 1e6} pUSD`, atMs);
    }
    return this.latched;
  }

  /** Registers a listener; returns its removal. Listeners run after the state has changed. */
  onChange(listener: StateListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private change(to: EngineState, reason: string, atMs: number, always = false): void {
    const from = this.current;
    if (from === to && !always) return;
    this.current = to;
    const change: StateChange = { from, to, reason, atMs };
    for (const listener of this.listeners.slice()) listener(change);
  }
}
