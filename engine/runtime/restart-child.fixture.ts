// The restart test's engine, as a child process:
//
//   node restart-child.fixture.js <journal> <orders>
//
// runs the bundled session on the venue simulator until it has filled
// something and at least <orders> orders rest on the paper venue with none
// in flight, prints what the
// engine holds then (live orders, positions, realised PnL and fees) as one
// JSON line, and blocks its main thread: the decision loop stops, so the
// journal stays exactly as printed until the parent kills it with SIGKILL.

import { pathToFileURL } from 'node:url';
import { parseConfigText } from '../config/load.js';
import type { Config } from '../config/config.js';
import type { Order } from '../trading/types.js';
import { startSession, type Session } from './session.js';
import { bundledVenues } from '../sim/offline.js';

/**
 * The maker alone, keeping every quote it has (no requote for price or age),
 * so the orders the restart puts back are the ones the strategy wants: a
 * replacement would hide whether the restart kept them.
 */
export function restartConfig(): Config {
  return parseConfigText(
    [
      '[cpu]',
      'pin = false',
      '[markets]',
      'slots = 2',
      'lookahead_windows = 1',
      'discovery_poll_ms = 1000',
      '[engine]',
      'strategies = ["maker"]',
      '[strategy.maker]',
      // Quotes a little away from the touch: the restarted simulator replays the capture from its start, so
      // the book the orders come back to is not quite the one they left, and one that moved through a
      // quote would refuse it as post-only crossing, as it would a fresh order.
      'half_spread = 0.03',
      'min_requote_ticks = 1000',
      'max_quote_age_ms = 3600000',
      'toxicity_pull = 1',
      'toxicity_widen = 0',
      '[journal]',
      'compact = false',
    ].join('\n'),
    'restart-child.fixture',
  );
}

/**
 * The bundled session at 5x: slow enough that the restarted simulator, which
 * replays the capture from its start, is seconds (not minutes) of market
 * away from where the killed run stopped.
 */
export function startRestartSession(journalPath: string, logs: string[]): Promise<Session> {
  return startSession({ cfg: restartConfig(), offline: bundledVenues(), speed: 5, seed: 7, journalPath, controlPort: 0, log: (l) => logs.push(l) });
}

export interface BeforeKill {
  orders: Order[];
  positions: Array<{ strategy: string; token: number; position: number; cost: number; realised: number; fees: number }>;
  realised: number;
  fees: number;
}

async function main(args: string[]): Promise<void> {
  const [path, want] = [args[0], Number(args[1])];
  if (path === undefined || !(want > 0)) throw new Error('usage: restart-child.fixture.js <journal> <orders>');
  const logs: string[] = [];
  const s = await startRestartSession(path, logs);
  const e = s.engine;
  setInterval(() => {
    const live = e.liveOrders();
    // Every live order acknowledged and resting on the venue: nothing the journal does not hold is in flight.
    // Some fills first, so the positions and money the restart must keep are not all zero.
    if (e.counts.fills === 0 || live.length < want || !live.every((o) => o.status === 'open' && Number.isFinite(e.orders.venue.queueAhead(o.id)))) return;
    const pnl = e.portfolio.total(e.marks);
    const before: BeforeKill = {
      orders: live,
      positions: e.portfolio.entries().map((p) => ({ strategy: p.strategy, token: p.token, position: p.position, cost: p.cost, realised: p.realised, fees: p.fees })),
      realised: pnl.realised,
      fees: pnl.fees,
    };
    process.stdout.write(`${JSON.stringify(before)}\n`, () => {
      // The loop runs on this thread: blocked here, it journals nothing more.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });
  }, 20);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
    process.exit(1);
  });
}
