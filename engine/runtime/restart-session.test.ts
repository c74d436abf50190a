// A session killed with SIGKILL while its paper orders rest, restarted on
// the same journal: every resting order comes back resting on the paper
// venue (same id, price, remaining size) once its book is live, none is
// cancelled for staleness, and positions and PnL are those before the kill.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BookFlag, NO_TICK } from '../../workers/shared-memory/book-layout.js';
import { TopOfBook } from '../../workers/shared-memory/book-reader.js';
import { Journal } from '../journal/journal.js';
import { Side, type Order } from '../trading/types.js';
import { startRestartSession, type BeforeKill } from './restart-child.fixture.js';
import { until } from './session.fixture.js';

const CHILD = fileURLToPath(new URL('./restart-child.fixture.js', import.meta.url));
const WANT_ORDERS = 4;

/** Runs the child until it reports its resting orders, then kills it with SIGKILL. */
function runAndKill(journal: string): Promise<{ before: BeforeKill; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, journal, String(WANT_ORDERS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let before: BeforeKill | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0 && before === undefined) {
        before = JSON.parse(out.slice(0, nl)) as BeforeKill;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (before === undefined) reject(new Error(`the child never reported resting orders: ${err}`));
      else resolve({ before, signal });
    });
  });
}

const key = (p: { strategy: string; token: number }): string => `${p.strategy}:${p.token}`;

test('kill -9 with orders resting: a restart puts each back on the venue once its book is live, positions and PnL unchanged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-restart-'));
  const journal = join(dir, 'restart.journal');
  try {
    const { before, signal } = await runAndKill(journal);
    assert.equal(signal, 'SIGKILL');
    assert.ok(before.orders.length >= WANT_ORDERS);
    assert.ok(before.positions.some((p) => p.position !== 0), 'something is held at the kill');
    const recordsAtKill = Journal.replay(journal).records.length;

    const logs: string[] = [];
    const s = await startRestartSession(journal, logs);
    try {
      const e = s.engine;
      // Read before any venue report of this run can land (the paper venue answers after its latency).
      assert.equal(e.counts.fills, 0);
      assert.equal(e.restoredFrom.openOrders, before.orders.length, 'the journal holds every order that rested');
      const pick = (p: BeforeKill['positions'][number]) => ({ position: p.position, cost: p.cost, realised: p.realised, fees: p.fees });
      assert.deepEqual(new Map(e.portfolio.entries().map((p) => [key(p), pick(p)])), new Map(before.positions.map((p) => [key(p), pick(p)])));
      const pnl = e.portfolio.total(e.marks);
      assert.equal(pnl.realised, before.realised);
      assert.equal(pnl.fees, before.fees);

      // Each order resting again on the paper venue, as first seen there; or, post-only, refused by the venue
      // because the book it came back to crosses its price. The restarted simulator replays the capture from
      // its start, so the books are not the ones the orders left: the market moved while the engine was down.
      const seen = new Map<string, Order>();
      const crossedAt = new Map<string, number>();
      const top = new TopOfBook();
      const refused = (): Set<string> => new Set(Journal.replay(journal).records.slice(recordsAtKill).flatMap((r) => (r.type === 'reject' ? [r.orderId] : [])));
      const state = (): string => `outcome ${JSON.stringify(e.restart.outcome)}; at the kill ${JSON.stringify(before.orders)}; resting again ${[...seen.keys()].join(',')}; log ${logs.slice(-10).join(' | ')}`;
      await until(
        'every order that rested at the kill back on the venue',
        () => {
          for (const o of e.liveOrders()) if (!seen.has(o.id) && Number.isFinite(e.orders.venue.queueAhead(o.id))) seen.set(o.id, o);
          for (const o of before.orders) {
            if (seen.has(o.id)) continue;
            e.books.top(o.token, top);
            const opposite = o.side === Side.Buy ? top.askTick : top.bidTick;
            if (opposite !== NO_TICK && (o.side === Side.Buy ? opposite <= o.price : opposite >= o.price)) crossedAt.set(o.id, opposite);
          }
          const out = refused();
          return before.orders.every((o) => seen.has(o.id) || out.has(o.id)) ? true : undefined;
        },
        60_000,
        5,
      ).catch((err: unknown) => assert.fail(`${String(err)}: ${state()}`));
      const since = Journal.replay(journal).records.slice(recordsAtKill);
      const filledSince = (id: string): number => since.reduce((n, r) => n + (r.type === 'fill' && r.fill.orderId === id ? r.fill.size : 0), 0);
      for (const o of before.orders) {
        const restored = since.filter((r) => r.type === 'restored' && r.orderId === o.id);
        assert.equal(restored.length, 1, `${o.id}: one restored record`);
        const r = restored[0]!;
        assert.ok(r.type === 'restored' && r.remaining === o.size - o.filled, `${o.id}: restored with its remaining size`);
        assert.equal((r.bookFlags ?? -1) & (BookFlag.Stale | BookFlag.Resyncing | BookFlag.Crossed), 0, `${o.id}: put back on a live book`);
        assert.equal(since.filter((x) => x.type === 'cancel' && x.orderId === o.id).length, 0, `${o.id}: not cancelled`);
        const back = seen.get(o.id);
        if (back === undefined) {
          const reject = since.find((x) => x.type === 'reject' && x.orderId === o.id);
          assert.ok(reject?.type === 'reject' && reject.reason === 'post_only_cross' && o.postOnly, `${o.id}: refused only as post-only crossing (${JSON.stringify(reject)})`);
          assert.ok(crossedAt.has(o.id), `${o.id}: refused although its book was never seen crossing ${o.side === Side.Buy ? 'buy' : 'sell'} ${o.price}`);
          t.diagnostic(`${o.id} ${o.side === Side.Buy ? 'buy' : 'sell'} ${o.price}: the book came back through it (${crossedAt.get(o.id)}), refused post-only`);
          continue;
        }
        assert.deepEqual([back.token, back.side, back.price, back.size, back.type, back.postOnly], [o.token, o.side, o.price, o.size, o.type, o.postOnly], o.id);
        assert.ok(back.filled >= o.filled && back.filled <= o.filled + filledSince(o.id), `${o.id}: remaining ${back.size - back.filled} of ${o.size - o.filled} at the kill`);
      }
      assert.ok(seen.size >= before.orders.length / 2, `most orders rest again (${seen.size} of ${before.orders.length})`);
      assert.equal(e.restart.outcome.reinstated, before.orders.length);
      assert.equal(e.restart.outcome.cancelled, 0);
      assert.ok(logs.some((l) => l.startsWith(`restart: ${before.orders.length} open orders back on the paper venue, 0 cancelled`)), logs.join('\n'));
      assert.equal(e.faultReport().faults, 0);
      t.diagnostic(`${before.orders.length} orders restored, ${seen.size} resting again; ${since.filter((r) => r.type === 'fill').length} fills since the restart`);
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
