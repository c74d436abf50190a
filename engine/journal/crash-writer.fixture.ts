// The crash test's writer. As a module it is a seeded script of engine
// events (orders, acks, fills, venue re-deliveries of fills, cancels,
// expiries, merges, snapshots, compactions) together with what a correct
// engine holds after any prefix of it. As a child process
//
//   node crash-writer.fixture.js <journal> <seed> <maxEvents>
//
// it restores from the journal, resumes the script where the journal ends,
// journals each event with fsync 'always' and then prints its index, one
// line per acknowledged append, until it is killed.

import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Prng } from '../../workers/prng.js';
import { SIZE_LOT, type Fill, type Order, type Side } from '../trading/types.js';
import { Journal } from './journal.js';
import type { JournalInput, JournalRecord, Merge } from './records.js';
import { restore } from './ledger.js';
import { SumPortfolio } from './sum-portfolio.fixture.js';

/** Event i happens at T0 + i ms: a record's tsMs names the script step that wrote it. */
export const T0 = 1_750_000_000_000;

export type Action = { index: number; tsMs: number } & ({ kind: 'record'; input: JournalInput } | { kind: 'snapshot' } | { kind: 'checkpoint' });

export class CrashScript {
  private readonly rng: Prng;
  private index = 0;
  /** Pending and open orders, as the engine holds them after the events so far. */
  readonly live: Order[] = [];
  /** Distinct fills and merges so far (re-deliveries excluded). */
  readonly fills: Fill[] = [];
  readonly merges: Merge[] = [];

  constructor(seed: number) {
    this.rng = new Prng(seed);
  }

  next(): Action {
    const index = this.index++;
    const tsMs = T0 + index;
    const rng = this.rng;
    if (index > 0 && index % 250 === 0) return { index, tsMs, kind: 'checkpoint' };
    if (index > 0 && index % 90 === 0) return { index, tsMs, kind: 'snapshot' };
    const record = (input: JournalInput): Action => ({ index, tsMs, kind: 'record', input });
    const r = rng.next();
    if (this.live.length < 3 || r < 0.2) {
      const order: Order = {
        id: `o${index}`,
        strategy: 'crash',
        token: rng.int(4),
        side: rng.int(2) as Side,
        price: rng.range(1, 99) * 100,
        size: rng.range(1, 20) * SIZE_LOT,
        filled: 0,
        type: 'GTC',
        postOnly: false,
        expiresMs: Number.NaN,
        reason: 'crash_test',
        status: 'pending',
        createdMs: tsMs,
        ackMs: Number.NaN,
      };
      this.live.push(order);
      return record({ type: 'order', tsMs, order: { ...order } });
    }
    if (r < 0.25) {
      const pair = rng.int(2) * 2;
      const merge: Merge = { mergeId: `m${index}`, market: pair / 2, tokens: [pair, pair + 1], size: rng.range(1, 5) * SIZE_LOT };
      this.merges.push(merge);
      return record({ type: 'merge', tsMs, merge });
    }
    if (r < 0.32 && this.fills.length > 0) {
      // The venue delivers a fill again (a reconnect replays the user channel): journaled, never counted twice.
      return record({ type: 'fill', tsMs, fill: this.fills[rng.int(this.fills.length)]! });
    }
    const k = rng.int(this.live.length);
    const o = this.live[k]!;
    if (o.status === 'pending') {
      o.status = 'open';
      o.ackMs = tsMs;
      return record({ type: 'ack', tsMs, orderId: o.id, ackMs: tsMs, venueId: '' });
    }
    if (r < 0.8) {
      const size = rng.range(1, (o.size - o.filled) / SIZE_LOT) * SIZE_LOT;
      const fill: Fill = {
        orderId: o.id,
        strategy: o.strategy,
        token: o.token,
        side: o.side,
        price: o.price,
        size,
        fee: rng.int(3) === 0 ? rng.range(1, 5000) : 0,
        liquidity: 'taker',
        tsMs,
        fillId: `f${index}`,
      };
      this.fills.push(fill);
      o.filled += size;
      if (o.filled === o.size) this.live.splice(k, 1);
      return record({ type: 'fill', tsMs, fill });
    }
    this.live.splice(k, 1);
    return r < 0.93 ? record({ type: 'cancel', tsMs, orderId: o.id, reason: 'requote' }) : record({ type: 'expire', tsMs, orderId: o.id });
  }
}

/** The script step a journal resumes at: one past the last step any of its records came from. */
export function resumeIndex(records: readonly JournalRecord[]): number {
  let next = 0;
  for (const r of records) if (r.type !== 'session') next = Math.max(next, r.tsMs - T0 + 1);
  return next;
}

function main(args: string[]): void {
  const [path, seedText, maxText] = args;
  const seed = Number(seedText);
  const max = Number(maxText);
  if (!path || !Number.isSafeInteger(seed) || !Number.isSafeInteger(max)) throw new Error('usage: crash-writer.fixture.js <journal> <seed> <maxEvents>');
  const { journal, replay } = Journal.open(path, { fsync: 'always', compact: true });
  if (replay.warning !== undefined) process.stderr.write(`${replay.warning}\n`);
  const portfolio = new SumPortfolio();
  const { state } = restore(replay.records, portfolio);
  const script = new CrashScript(seed);
  const start = resumeIndex(replay.records);
  for (let i = 0; i < start; i++) script.next();
  journal.append({ type: 'session', tsMs: T0 + start, event: 'start', note: `resume at step ${start}` });
  const line = Buffer.alloc(32);
  for (let i = start; i < max; i++) {
    const a = script.next();
    if (a.kind === 'record') {
      // Write-ahead: the record is in the journal before the state moves.
      journal.append(a.input);
      state.apply(a.input);
    } else if (a.kind === 'snapshot') {
      journal.append(state.snapshot(portfolio.snapshot(), a.tsMs));
    } else {
      journal.checkpoint(state.snapshot(portfolio.snapshot(), a.tsMs));
    }
    const n = line.write(`${a.index}\n`, 'latin1');
    writeSync(1, line, 0, n);
  }
  journal.close();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
