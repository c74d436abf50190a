import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from '../config/schema.js';
import { Side } from '../trading/types.js';
import { flattenOrders, RiskGate, riskParamsSchema, RiskReason } from './gates.js';
import { ENGINE_STATE_NAMES, EngineState, EngineStateMachine, type StateChange } from './state.js';
import { pusd, shares, TestView } from './view.fixture.js';

const { Running, Paused, ReduceOnly, Halted } = EngineState;

function recorded(m: EngineStateMachine): string[] {
  const log: string[] = [];
  m.onChange((c: StateChange) => log.push(`${ENGINE_STATE_NAMES[c.from]}->${ENGINE_STATE_NAMES[c.to]} ${c.reason} @${c.atMs}`));
  return log;
}

test('allowed transitions; leaving HALTED goes through PAUSED', () => {
  const allowed: Record<string, string[]> = {
    RUNNING: ['PAUSED', 'REDUCE_ONLY', 'HALTED'],
    PAUSED: ['RUNNING', 'REDUCE_ONLY', 'HALTED'],
    REDUCE_ONLY: ['RUNNING', 'PAUSED', 'HALTED'],
    HALTED: ['PAUSED'],
  };
  for (const from of [Running, Paused, ReduceOnly, Halted]) {
    for (const to of [Running, Paused, ReduceOnly, Halted]) {
      const m = new EngineStateMachine(from);
      const ok = m.transition(to, 'test', 0);
      const want = from === to || allowed[ENGINE_STATE_NAMES[from]]!.includes(ENGINE_STATE_NAMES[to]);
      assert.equal(ok, want, `${ENGINE_STATE_NAMES[from]} -> ${ENGINE_STATE_NAMES[to]}`);
      assert.equal(m.state, ok ? to : from);
    }
  }
});

test('listeners hear real changes with reason and time, and can unsubscribe', () => {
  const m = new EngineStateMachine();
  const log = recorded(m);
  const other: EngineState[] = [];
  const off = m.onChange((c) => other.push(c.to));
  m.transition(Paused, 'operator', 10);
  m.transition(Paused, 'again', 11);
  m.transition(Halted, 'HALTED cannot go straight back', 12);
  assert.equal(m.transition(Running, 'nope', 13), false);
  off();
  m.transition(Paused, 'resume step 1', 14);
  m.transition(Running, 'resume step 2', 15);
  assert.deepEqual(log, [
    'RUNNING->PAUSED operator @10',
    'PAUSED->HALTED HALTED cannot go straight back @12',
    'HALTED->PAUSED resume step 1 @14',
    'PAUSED->RUNNING resume step 2 @15',
  ]);
  assert.deepEqual(other, [Paused, Halted]);
  assert.equal(m.name, 'RUNNING');
});

test('the daily loss limit trips the kill switch, which latches until an explicit reset', () => {
  const m = new EngineStateMachine(ReduceOnly);
  const log = recorded(m);
  const limit = pusd(100);
  assert.equal(m.checkDailyLoss(-pusd(99.99), limit, 1), false);
  assert.equal(m.state, ReduceOnly);
  assert.equal(m.checkDailyLoss(-pusd(100), limit, 2), true);
  assert.equal(m.state, Halted);
  assert.equal(m.killSwitchLatched, true);
  assert.deepEqual(log, ['REDUCE_ONLY->HALTED kill switch: daily loss -100 pUSD breached the limit of 100 pUSD @2']);

  // PnL recovering does not unlatch; nothing leaves HALTED.
  assert.equal(m.checkDailyLoss(pusd(50), limit, 3), true);
  for (const to of [Running, Paused, ReduceOnly]) assert.equal(m.transition(to, 'operator', 4), false);
  assert.equal(m.state, Halted);
  assert.equal(log.length, 1, 'a latched switch is not re-tripped on every check');

  assert.equal(m.resetKillSwitch(), true);
  assert.equal(m.resetKillSwitch(), false);
  assert.equal(m.state, Halted, 'a reset alone does not resume trading');
  assert.equal(m.transition(Running, 'operator', 5), false);
  assert.equal(m.transition(Paused, 'operator', 6), true);
  assert.equal(m.transition(Running, 'operator', 7), true);
});

test('a kill switch tripped while HALTED latches and is still heard', () => {
  const m = new EngineStateMachine(Halted);
  const log = recorded(m);
  m.tripKillSwitch('operator pressed the button', 9);
  assert.deepEqual(log, ['HALTED->HALTED kill switch: operator pressed the button @9']);
  assert.equal(m.transition(Paused, 'operator', 10), false);
});

test('the gates and the state machine together: a loss past the limit halts, only flatten can trade', () => {
  const r = validate(riskParamsSchema, { daily_loss_limit: 50 });
  assert.ok(r.ok);
  const gate = new RiskGate(r.value);
  const m = new EngineStateMachine();
  const v = new TestView();
  v.positions[0] = shares(10);
  const sell = { token: 0, side: Side.Sell, price: 4900, size: shares(10), type: 'FAK', postOnly: false, expiresMs: NaN, reason: 'exit' } as const;
  v.pnl = -pusd(60);
  assert.equal(gate.check(sell, v), RiskReason.DailyLoss, 'blocked before the engine even notices');
  m.checkDailyLoss(v.dailyPnl(), gate.dailyLossLimitMicros, v.nowMs);
  v.engineState = m.state;
  assert.equal(gate.check(sell, v), RiskReason.Halted);
  assert.deepEqual(flattenOrders(v, v.positions).orders, [{ ...sell, reason: 'flatten' }]);
});
