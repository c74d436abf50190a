// The running decision loop meeting a fault: a plug-in strategy whose decide
// throws, and a journal that can no longer write. The engine halts (kill
// switch latched), cancels every order, keeps draining and answering, counts
// the fault and logs it once; only the operator's two resumes let it trade
// again. Real books, rings, paper venue and journal; the test is the books'
// one writer and the feeds' producer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { loadConfig } from '../config/load.js';
import { number, object, type Infer } from '../config/schema.js';
import { bookEvents, polymarketHub, quoteBooks, type PolymarketHubRig } from '../feeds/hub.fixture.js';
import { Journal } from '../journal/journal.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { EngineState, type StateChange } from '../risk/state.js';
import { createStrategy, registerStrategy, reloadParams } from '../strategy/registry.js';
import type { Strategy, StrategyContext } from '../strategy/types.js';
import type { DesiredOrder } from '../trading/types.js';
import { updownMarket } from '../trading/markets.fixture.js';
import { EventKind, EventViews, newEventRecord, type EventRecord } from '../../workers/shared-memory/event-layout.js';
import { Ring } from '../../workers/shared-memory/ring.js';
import { native } from '../native.js';
import { engineCommands as commands } from './control.js';
import { Engine } from './engine.js';
import type { ReferenceInput } from '../references/references.js';
import { FaultSite } from './faults.js';
import { registerEngineMetrics } from './metrics.js';
import { sample, until } from './session.fixture.js';

const faultyParamsSchema = object({
  throw_from_call: number({ integer: true, min: 0, default: 0, description: 'decide throws on this call (1-based) and every later one; 0: never' }),
});
type FaultyParams = Infer<typeof faultyParamsSchema>;

/** The maker's quotes with a bug that, once armed, throws from every decide, as an out-of-range index in a strategy's own table would. */
class FaultyMaker implements Strategy<FaultyParams> {
  readonly name = 'faulty_maker';
  calls = 0;
  private readonly maker = createStrategy('maker');
  private p: Readonly<FaultyParams>;

  constructor(params: FaultyParams) {
    this.p = Object.freeze({ ...params });
  }

  params(): Readonly<FaultyParams> {
    return this.p;
  }

  setParams(params: FaultyParams): void {
    this.p = Object.freeze({ ...params });
  }

  decide(ctx: StrategyContext, market: number, out: DesiredOrder[]): void {
    this.calls++;
    if (this.p.throw_from_call > 0 && this.calls >= this.p.throw_from_call) throw new RangeError('quote table index out of range');
    this.maker.decide(ctx, market, out);
  }
}

registerStrategy({ name: 'faulty_maker', paramsSchema: faultyParamsSchema, create: (p) => new FaultyMaker(p) });

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** The default config running `strategies`. The config schema still lists only the built-ins (engine/config/config.ts), so a plug-in's name goes in past its type. */
function running(strategies: string[]): Config {
  const base = loadConfig();
  return { ...base, engine: { ...base.engine, strategies } } as Config;
}



interface Rig {
  dir: string;
  /** The loop's waits on the rings do not hold the process open (a session's servers do): this timer does, until done(). */
  keepAlive: NodeJS.Timeout;
  rig: PolymarketHubRig;
  engine: Engine;
  logs: string[];
  changes: StateChange[];
  startMs: number;
}

/** An engine on one market slot, quoting books, started. `references` may add sources to the hub first; `adjust` changes the config. */
function startEngine(strategies: string[], references: (rig: PolymarketHubRig) => ReferenceInput[] = () => [], adjust: (cfg: Config) => Config = (cfg) => cfg): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-fault-'));
  const rig = polymarketHub(2, 1024);
  const logs: string[] = [];
  const engine = new Engine({ cfg: adjust(running(strategies)), slots: 1, hub: rig.hub, polySource: rig.source, references: references(rig), volatilities: [], journalPath: join(dir, 'j'), log: (l) => logs.push(l) });
  const changes: StateChange[] = [];
  engine.state.onChange((c) => changes.push(c));
  // A window under way with minutes left, so quoting is not stopped by exit.cancel_before_end_ms.
  const startMs = Date.now() - 60_000;
  assert.equal(engine.addMarket(updownMarket('fault', { conditionId: `0x${'cd'.repeat(32)}`, tokenIds: ['101', '202'], startMs })), true);
  quoteBooks(rig);
  engine.start();
  return { dir, keepAlive: setInterval(() => {}, 1_000), rig, engine, logs, changes, startMs };
}

const openOrders = (engine: Engine) => engine.liveOrders().filter((o) => o.status === 'open');

test('a strategy that throws halts the engine, which cancels, keeps draining, logs once, and trades again only after two resumes', async () => {
  const { dir, keepAlive, rig, engine, logs, changes } = startEngine(['faulty_maker']);
  try {
    const faulty = engine.strategies[0]!;
    assert.ok(faulty instanceof FaultyMaker);
    const quotes = await until('the plug-in quotes both sides, acknowledged', () => (openOrders(engine).length === 2 ? openOrders(engine) : undefined));

    // Armed: the next decision throws.
    assert.deepEqual(reloadParams(faulty, { throw_from_call: faulty.calls + 1 }), { ok: true, params: { throw_from_call: faulty.calls + 1 } });
    const sentBefore = engine.counts.ordersSent;
    const armedAtMs = engine.nowMs();
    bookEvents(rig, 1);
    await until('HALTED', () => (engine.state.state === EngineState.Halted ? true : undefined));
    const site = 'decide(market 0, strategy faulty_maker)';
    assert.equal(engine.state.killSwitchLatched, true);
    assert.deepEqual(
      changes.map((c) => [c.to, c.reason]),
      [[EngineState.Halted, `kill switch: fault in ${site}: quote table index out of range`]],
    );
    assert.equal(engine.faults.counts[FaultSite.Decide], 1);
    const report = engine.faultReport();
    assert.equal(report.faults, 1);
    assert.deepEqual({ ...report.lastFault, atMs: 0 }, { where: 'decide', site, message: 'quote table index out of range', atMs: 0 });
    assert.ok(report.lastFault!.atMs >= armedAtMs && report.lastFault!.atMs <= engine.nowMs(), 'stamped on the engine clock');

    await until('every open order cancelled', () => (engine.liveOrders().length === 0 ? true : undefined));
    const cancels = new Map<string, string>();
    for (const r of Journal.replay(join(dir, 'j')).records) if (r.type === 'cancel') cancels.set(r.orderId, r.reason);
    for (const o of quotes) assert.equal(cancels.get(o.id), 'fault', `${o.id}: the cancel is journaled, with its reason, as the venue confirms it`);

    // Still draining: each new event reaches the faulty decide again, which is counted, not logged again, and does not re-trip the switch.
    const events = engine.counts.events;
    bookEvents(rig, 4);
    await until('the events after the fault drained and decided', () => (engine.counts.events >= events + 4 && engine.faults.counts[FaultSite.Decide]! >= 2 ? true : undefined));
    const faultLogs = logs.filter((l) => l.startsWith('fault in '));
    assert.equal(faultLogs.length, 1, faultLogs.join('\n---\n'));
    assert.match(faultLogs[0]!, /^fault in decide\(market 0, strategy faulty_maker\): RangeError: quote table index out of range\n\s+at /, 'with its stack');
    assert.equal(changes.length, 1);
    assert.equal(engine.counts.ordersSent, sentBefore, 'nothing sent while HALTED');

    const registry = new MetricsRegistry();
    registerEngineMetrics(registry, engine, rig.hub, () => []);
    const text = registry.renderPrometheus();
    assert.equal(sample(text, 'polyedge_engine_faults_total', { where: 'decide' }), engine.faults.counts[FaultSite.Decide]);
    for (const where of ['drain', 'mark', 'executor', 'checkpoint', 'loop']) assert.equal(sample(text, 'polyedge_engine_faults_total', { where }), 0, where);

    // The operator fixes the cause, then resumes twice: the first only unlatches into PAUSED, where nothing is sent.
    assert.equal(reloadParams(faulty, { throw_from_call: 0 }).ok, true);
    const faults = engine.faults.counts[FaultSite.Decide];
    assert.deepEqual(commands(engine).resume(), { state: 'PAUSED', killSwitchLatched: false });
    const calls = faulty.calls;
    engine.touchAll();
    await until('a decision while PAUSED', () => (faulty.calls > calls ? true : undefined));
    assert.equal(engine.counts.ordersSent, sentBefore, 'PAUSED sends nothing');
    assert.deepEqual(commands(engine).resume(), { state: 'RUNNING', killSwitchLatched: false });
    engine.touchAll();
    await until('quoting again', () => (openOrders(engine).length === 2 ? true : undefined));
    assert.equal(engine.faults.counts[FaultSite.Decide], faults, 'no fault since the fix');
    assert.equal(engine.state.state, EngineState.Running);
    await engine.stop();
    assert.deepEqual(unhandled, []);
  } finally {
    clearInterval(keepAlive);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each cancel journals why the engine sent it: allocator switch off, requote, flatten, shutdown', async () => {
  // Uncompacted: the records of every cancel stay in the journal after the final snapshot.
  const { dir, keepAlive, engine } = startEngine(['maker'], () => [], (cfg) => ({ ...cfg, journal: { ...cfg.journal, compact: false } }));
  try {
    const quoting = (what: string) => until(what, () => (openOrders(engine).length === 2 ? openOrders(engine) : undefined));
    const noneLive = (what: string) => until(what, () => (engine.liveOrders().length === 0 ? true : undefined));
    const offQuotes = await quoting('the maker quotes both sides');
    engine.allocator = { ...engine.allocator, maker: { enabled: false } };
    engine.touchAll();
    await noneLive('the switched-off maker cancelled');
    engine.allocator = { ...engine.allocator, maker: { enabled: true } };
    engine.touchAll();
    const requoted = await quoting('quoting again');
    const maker = engine.strategies[0]!;
    assert.equal(reloadParams(maker, { ...(maker.params() as object), half_spread: 0.05, min_requote_ticks: 1 }).ok, true);
    engine.touchAll();
    const flattenQuotes = await until('quoting at the wider spread', () => {
      const now = openOrders(engine);
      return now.length === 2 && now.every((o) => !requoted.some((q) => q.id === o.id)) ? now : undefined;
    });
    assert.equal(commands(engine).flatten().cancelled, 2);
    await noneLive('flattened');
    assert.deepEqual(commands(engine).resume(), { state: 'RUNNING', killSwitchLatched: false });
    engine.touchAll();
    const stopQuotes = await quoting('quoting after the flatten');
    await engine.stop();

    const reasons = new Map<string, string>();
    for (const r of Journal.replay(join(dir, 'j')).records) if (r.type === 'cancel') reasons.set(r.orderId, r.reason);
    for (const o of offQuotes) assert.equal(reasons.get(o.id), 'allocator_off', o.id);
    for (const o of requoted) assert.equal(reasons.get(o.id), 'requote', o.id);
    for (const o of flattenQuotes) assert.equal(reasons.get(o.id), 'flatten', o.id);
    for (const o of stopQuotes) assert.equal(reasons.get(o.id), 'shutdown', o.id);
    assert.equal(reasons.size, 8, 'one cancel per order, none another reason');
    assert.deepEqual(unhandled, []);
  } finally {
    clearInterval(keepAlive);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A reference-price ring on the hub, produced by the test as the RTDS feed worker would. */
function priceSource(rig: PolymarketHubRig): { source: number; publish(exchTsMs: number, price: number): void } {
  const ring = Ring.create({ capacity: 64, fullPolicy: 'drop' });
  const source = rig.hub.addSource({ name: 'rtds', ring });
  const producer = ring.producer();
  const views = new EventViews(ring.sab, ring.dataByteOffset, ring.capacity);
  const e: EventRecord = newEventRecord();
  return {
    source,
    publish(exchTsMs, price) {
      producer.claim(1);
      e.kind = EventKind.ExternalPrice;
      e.source = source;
      e.token = 0;
      e.recvNs = Number(native.nowNs());
      e.exchTsMs = exchTsMs;
      e.aux0 = e.aux1 = price;
      views.write(producer.slot(0), e);
      producer.publish();
    },
  };
}

test('a journal that cannot write faults in the event handler: HALTED, the cancels still reach the venue, the drain goes on', async () => {
  let prices: ReturnType<typeof priceSource> | undefined;
  const { dir, keepAlive, engine, logs, changes, startMs } = startEngine(['maker'], (rig) => {
    prices = priceSource(rig);
    return [{ source: prices.source, token: 0, name: 'rtds-chainlink', underlying: 'btc' }];
  });
  try {
    const quotes = await until('the maker quotes both sides, acknowledged', () => (openOrders(engine).length === 2 ? openOrders(engine) : undefined));
    // What a failed write that could not be undone leaves (Journal.ensureWritable): every append throws from now on.
    engine.journal.close();
    // The price at the window's start, then one after it: the opening price is final and journaled (a window record) from the event handler.
    prices!.publish(startMs - 1_000, 110_000);
    prices!.publish(Date.now(), 110_050);
    await until('HALTED', () => (engine.state.state === EngineState.Halted ? true : undefined));
    const site = 'event handler (source rtds, ExternalPrice event)';
    assert.equal(engine.state.killSwitchLatched, true);
    assert.match(changes[0]!.reason, /^kill switch: fault in event handler \(source rtds, ExternalPrice event\): .*journal is closed$/);
    assert.equal(engine.faults.counts[FaultSite.Drain], 1);

    // The cancels need no record to be sent: the venue takes every order off its book.
    await until('no order resting at the venue', () => (quotes.every((o) => Number.isNaN(engine.orders.venue.queueAhead(o.id))) ? true : undefined));
    // Their confirmations cannot be journaled: the orders stay open in the journal and in /state/orders (the conservative side).
    await until('the confirmations met the journal', () => (engine.faults.counts[FaultSite.Executor]! >= 1 ? true : undefined));
    assert.deepEqual(engine.liveOrders().map((o) => o.id).sort(), quotes.map((o) => o.id).sort());

    // Every later price after the start tries to journal the opening price again: drained, counted, logged once.
    const events = engine.counts.events;
    prices!.publish(Date.now(), 110_060);
    prices!.publish(Date.now(), 110_070);
    await until('the later prices drained', () => (engine.counts.events >= events + 2 && engine.faults.counts[FaultSite.Drain]! >= 3 ? true : undefined));
    assert.equal(logs.filter((l) => l.startsWith(`fault in ${site}:`)).length, 1);
    assert.equal(logs.filter((l) => l.startsWith('fault in executor.advance:')).length, 1);
    assert.equal(changes.length, 1, 'the latched switch is not tripped again');
    // Stopping cannot write the final snapshot, and says so.
    await assert.rejects(engine.stop(), /journal is closed/);
    assert.deepEqual(unhandled, []);
  } finally {
    clearInterval(keepAlive);
    rmSync(dir, { recursive: true, force: true });
  }
});
