// The dead-man switch end to end: `polyedge run --mode live --confirm-live`
// on the bundled session, whose simulator CLOB cancels every open order of a
// key whose heartbeats stop for its timeout. The engine is stopped (SIGSTOP)
// for longer than that with orders resting; on SIGCONT it must notice the gap,
// halt, find its orders gone by listing them and reading the trades, post
// nothing after the halt, and leave nothing open.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { EngineFault } from '../../../control/view.js';
import { Journal } from '../../../journal/journal.js';
import type { JournalRecord } from '../../../journal/records.js';
import { HARDHAT_KEY } from '../order/fixtures/vectors.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'polyedge-deadman-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

const CREDS = { POLY_API_KEY: '3b9a6c1e-0d4f-4a27-8e55-91c2d7f0b6a4', POLY_API_SECRET: 'ZGVhZG1hbi1zd2l0Y2gtdGVzdC1zZWNyZXQtYnl0ZXM=', POLY_API_PASSPHRASE: 'deadman-passphrase' };
const FAIL_AFTER_MS = 3_000;
const STOPPED_MS = 6_000;

interface Health {
  state: string;
  killSwitchLatched: boolean;
  faults: number;
  lastFault: EngineFault | null;
}

/** Resolves once `holds` is true of the text so far; the deadline only bounds a hang. */
async function until(text: () => string, holds: (t: string) => boolean, what: string, deadlineMs = 90_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!holds(text())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${text().slice(-3000)}`);
    await sleep(50);
  }
}

test('SIGSTOP past the heartbeat timeout: the simulator cancels the orders; on SIGCONT the engine halts, reconciles, posts nothing more and ends with nothing open', async () => {
  const config = join(cwd, 'live.toml');
  writeFileSync(
    config,
    '[cpu]\npin = false\n[engine]\nstatus_interval_ms = 200\n[journal]\nsnapshot_every = 10000000\ncompact = false\n' +
      `[live]\nmax_order_notional = 50\nmax_open_orders = 20\nmax_daily_notional = 100000\nheartbeat_interval_ms = 500\nheartbeat_fail_after_ms = ${FAIL_AFTER_MS}\n`,
  );
  const journalPath = join(cwd, 'live.journal');
  const child = spawn(process.execPath, [CLI, 'run', '--mode', 'live', '--confirm-live', '--speed', '10', '--config', config, '--journal', journalPath, '--port', '0'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', POLYEDGE_SHARED_DATA: process.env.POLYEDGE_SHARED_DATA ?? '', POLY_PRIVATE_KEY: HARDHAT_KEY, ...CREDS },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const hang = setTimeout(() => child.kill('SIGKILL'), 170_000);
  try {
    await until(() => stderr, (t) => /control plane on http:\/\/[\d.]+:\d+/.test(t), 'the control plane');
    const control = /control plane on (http:\/\/[\d.]+:\d+)/.exec(stderr)![1]!;
    // Quotes resting on the CLOB: the status line's live order count.
    await until(() => stdout, (t) => [...t.matchAll(/orders (\d+) fills \d+ live (\d+)/g)].some((m) => Number(m[1]) >= 10 && Number(m[2]) >= 2), 'resting orders');

    process.kill(child.pid!, 'SIGSTOP');
    await sleep(STOPPED_MS);
    process.kill(child.pid!, 'SIGCONT');

    let health: Health | undefined;
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      health = (await (await fetch(`${control}/health`)).json()) as Health;
      if (health.state === 'HALTED') break;
      await sleep(50);
    }
    assert.equal(health?.state, 'HALTED', `the engine halted:\n${stderr.slice(-3000)}`);
    assert.equal(health.killSwitchLatched, true);
    assert.match(health.lastFault?.site ?? '', /heartbeat/);
    assert.match(health.lastFault?.message ?? '', new RegExp(`no heartbeat reached the CLOB for \\d+ ms \\(heartbeat_fail_after_ms ${FAIL_AFTER_MS}\\)`));
    await until(() => stderr, (t) => t.includes('live: heartbeats lost:'), 'the reconciliation', 30_000);
    // Time for anything wrong to happen: a re-post would show in the journal.
    await sleep(1_500);
    child.kill('SIGINT');
    const r = await exited;
    assert.equal(r.signal, null, stderr);
    assert.equal(r.code, 0, stderr);

    const gap = /no heartbeat reached the CLOB for (\d+) ms/.exec(health.lastFault!.message)!;
    assert.ok(Number(gap[1]) >= STOPPED_MS - 500, `the gap seen covers the stop: ${gap[1]} ms`);
    assert.match(stderr, /kill switch: fault in venue: heartbeat \(failing persistently\); HALTED, cancelling every order/);
    // The simulator's switch fired while the engine was stopped: the listing no longer showed the resting orders.
    const reconciled = /live: heartbeats lost: (\d+) resting orders no longer open on the CLOB \(cancelled by the venue\), (\d+) still open/.exec(stderr);
    assert.ok(reconciled, stderr.slice(-3000));
    assert.ok(Number(reconciled[1]) >= 1, `orders found cancelled by the venue: ${reconciled[1]}`);
    assert.equal(Number(reconciled[2]), 0, 'nothing of ours was still open');
    assert.match(stderr, /live: stopped: \d+ orders posted, .*; 0 orders open on the CLOB after DELETE \/cancel-all/);

    const { records, corruption } = Journal.replay(journalPath);
    assert.deepEqual(corruption, []);
    const recs = records as JournalRecord[];
    const haltMs = health.lastFault!.atMs;
    const before = recs.filter((x) => x.type === 'venue_request' && x.method === 'POST' && x.tsMs <= haltMs).length;
    assert.ok(before >= 10, `orders posted before the halt: ${before}`);
    const late = recs.filter((x) => (x.type === 'order' || (x.type === 'venue_request' && x.method === 'POST')) && x.tsMs > haltMs);
    assert.deepEqual(late, [], 'nothing posted after the halt');
    // Every order that got on the book ended: cancelled (by the venue, found by listing) or filled.
    const acked = new Set(recs.flatMap((x) => (x.type === 'ack' ? [x.orderId] : [])));
    const ended = new Set(recs.flatMap((x) => (x.type === 'cancel' || x.type === 'reject' || x.type === 'expire' ? [x.orderId] : x.type === 'fill' ? [x.fill.orderId] : [])));
    for (const id of acked) assert.ok(ended.has(id), `order ${id} ended`);
    const fills = recs.flatMap((x) => (x.type === 'fill' ? [x.fill.fillId] : []));
    assert.equal(new Set(fills).size, fills.length, 'no fill counted twice');
  } finally {
    clearTimeout(hang);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  }
});
