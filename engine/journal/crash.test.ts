import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { Prng } from '../../workers/prng.js';
import { notionalMicros, Side, type Fill, type Order } from '../trading/types.js';
import { CrashScript, T0, type Action } from './crash-writer.fixture.js';
import { Journal } from './journal.js';
import type { JournalRecord, Merge } from './records.js';
import { restore } from './ledger.js';
import { SumPortfolio } from './sum-portfolio.fixture.js';

const WRITER = fileURLToPath(new URL('./crash-writer.fixture.js', import.meta.url));

interface Run {
  /** Script steps the child acknowledged as journaled. */
  acked: number[];
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/** Runs the writer and kills it with SIGKILL once it has acknowledged `killAfter` appends. */
function runUntilKilled(path: string, seed: number, killAfter: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, path, String(seed), '1000000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let partial = '';
    let stderr = '';
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) acked.push(Number(l));
      if (acked.length >= killAfter && child.exitCode === null) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ acked, signal, code, stderr }));
  });
}

/** A seeded prefix of a valid frame: a record cut short mid-write. */
function tornFrame(seq: number, rng: Prng): Buffer {
  const payload = new Packr({ useRecords: false }).pack({ type: 'cancel', seq, tsMs: T0, orderId: 'o1', reason: 'torn' });
  const frame = Buffer.alloc(8 + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, 8);
  return frame.subarray(0, rng.range(1, frame.length - 1));
}

/** What a correct engine holds after the script's first `n` steps, computed from the script's own bookkeeping. */
function expected(seed: number, n: number): { actions: Action[]; live: Order[]; fills: Fill[]; merges: Merge[]; positions: [number, number][]; cash: number; fees: number } {
  const script = new CrashScript(seed);
  const actions: Action[] = [];
  for (let i = 0; i < n; i++) actions.push(script.next());
  const pos = new Map<number, number>();
  let cash = 0;
  let fees = 0;
  for (const f of script.fills) {
    const sign = f.side === Side.Buy ? 1 : -1;
    pos.set(f.token, (pos.get(f.token) ?? 0) + sign * f.size);
    cash -= sign * notionalMicros(f.price, f.size) + f.fee;
    fees += f.fee;
  }
  for (const m of script.merges) {
    for (const t of m.tokens) pos.set(t, (pos.get(t) ?? 0) - m.size);
    cash += m.size;
  }
  const positions = [...pos].filter(([, v]) => v !== 0).sort((a, b) => a[0] - b[0]);
  return { actions, live: script.live, fills: script.fills, merges: script.merges, positions, cash, fees };
}

/** Every record of the journal and of its compaction archives, by the script step that wrote it. */
function allRecords(dir: string, path: string): Map<number, JournalRecord> {
  const byStep = new Map<number, JournalRecord>();
  const archives = readdirSync(dir).filter((f) => /^j\.\d+$/.test(f)).sort();
  for (const file of [...archives.map((f) => join(dir, f)), path]) {
    const r = Journal.replay(file);
    assert.deepEqual(r.corruption, [], `${file} has corruption`);
    for (const rec of r.records) if (rec.type !== 'session') byStep.set(rec.tsMs - T0, rec);
  }
  return byStep;
}

function verify(dir: string, path: string, seed: number, acked: ReadonlySet<number>): number {
  const byStep = allRecords(dir, path);
  const steps = Math.max(...byStep.keys()) + 1;
  const want = expected(seed, steps);

  // Nothing acknowledged is missing, and every record is the event the script produced at that step.
  for (const i of acked) assert.ok(byStep.has(i), `acknowledged step ${i} is not in the journal`);
  for (const a of want.actions) {
    const rec = byStep.get(a.index);
    assert.ok(rec, `step ${a.index} missing although step ${steps - 1} is present`);
    if (a.kind === 'record') {
      const { seq: _seq, ...body } = rec;
      assert.deepEqual(body, a.input, `step ${a.index}`);
    } else assert.equal(rec.type, 'position', `step ${a.index}`);
  }

  // A restart rebuilds exactly what the engine held: positions, cash (PnL), fees, live orders, applied ids.
  const replay = Journal.replay(path);
  const portfolio = new SumPortfolio();
  const { state } = restore(replay.records, portfolio);
  assert.deepEqual(portfolio.nonZero(), want.positions);
  assert.equal(portfolio.cash, want.cash);
  assert.equal(portfolio.fees, want.fees);
  assert.deepEqual([...state.fillIds].sort(), want.fills.map((f) => f.fillId).sort());
  assert.deepEqual([...state.mergeIds].sort(), want.merges.map((m) => m.mergeId).sort());
  const byId = (a: Order, b: Order) => a.id.localeCompare(b.id);
  assert.deepEqual([...state.openOrders.values()].sort(byId), [...want.live].sort(byId));
  return steps;
}

test('kill -9 at seeded moments: every acknowledged record survives, restore equals the engine before the kill, appends resume', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-journal-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'j');
  const seed = 0x5eed;
  const rng = new Prng(20_240_611);
  const acked = new Set<number>();
  let steps = 0;
  let tornBefore = false;
  for (let round = 0; round < 3; round++) {
    const run = await runUntilKilled(path, seed, rng.range(150, 900));
    assert.equal(run.signal, 'SIGKILL', `writer ended on its own (code ${run.code}): ${run.stderr}`);
    if (tornBefore) assert.match(run.stderr, /dropped a torn tail/);
    for (const i of run.acked) acked.add(i);
    const before = steps;
    const torn = Journal.replay(path).tornTailBytes;
    steps = verify(dir, path, seed, acked);
    t.diagnostic(`round ${round}: ${run.acked.length} appends acknowledged, journal ends at step ${steps - 1} (last ack ${run.acked.at(-1)}), torn tail ${torn} bytes`);
    // Each run resumes where the last left off and gets somewhere.
    assert.ok(steps > before, `round ${round} wrote nothing`);
    assert.ok(run.acked.length === 0 || run.acked[0] === before, `round ${round} resumed at ${run.acked[0]}, expected ${before}`);
    // A kill -9 cannot split one write(2), so tear the next record by hand, as a crash inside the write or a
    // power loss would: the next run must drop it and carry on.
    tornBefore = round === 0;
    if (tornBefore) appendFileSync(path, tornFrame(Journal.replay(path).lastSeq + 1, rng));
  }
  assert.ok(readdirSync(dir).some((f) => /^j\.\d+$/.test(f)), 'no compaction happened; the run was too short to test it');

  // After the last kill, this process opens the journal, restores and appends: the new fill counts once,
  // its re-delivery not at all, and a fresh restore sees both the old state and the new fill.
  const want = expected(seed, steps);
  const { journal, replay } = Journal.open(path, { fsync: 'always' });
  const portfolio = new SumPortfolio();
  const { state } = restore(replay.records, portfolio);
  const fill: Fill = { orderId: 'manual', strategy: 'crash', token: 3, side: Side.Buy, price: 4200, size: 70_000, fee: 11, liquidity: 'taker', tsMs: T0 + steps, fillId: 'after-restart' };
  for (const input of [{ type: 'fill', tsMs: T0 + steps, fill } as const, { type: 'fill', tsMs: T0 + steps + 1, fill } as const]) {
    journal.append(input);
    state.apply(input);
  }
  journal.close();
  const again = new SumPortfolio();
  const restored = restore(Journal.replay(path).records, again);
  assert.deepEqual(again.nonZero(), portfolio.nonZero());
  assert.equal(again.cash, want.cash - notionalMicros(4200, 70_000) - 11);
  assert.ok(restored.state.anomalies.duplicateFills >= 1);
  assert.equal(restored.state.fillIds.has('after-restart'), true);
  assert.equal(restored.lastSeq, replay.lastSeq + 2);
});
