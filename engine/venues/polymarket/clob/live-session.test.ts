// Live trading end to end: `polyedge run --mode live --confirm-live` on the
// bundled offline session, whose simulator serves the CLOB trading API and
// verifies every order's signature and every request's HMAC as the venue
// does. Orders are posted, replaced (cancel + post) and cancelled, fills come
// from the simulator's matching, Ctrl-C sends DELETE /cancel-all and the
// engine confirms by listing that nothing is left open.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Journal } from '../../../journal/journal.js';
import type { JournalRecord } from '../../../journal/records.js';
import { HARDHAT_KEY } from '../order/fixtures/vectors.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'polyedge-live-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

const CREDS = { POLY_API_KEY: '7c0f4b52-6f3e-4d0e-9a51-2b8e1d6c3a90', POLY_API_SECRET: 'bGl2ZS1zZXNzaW9uLXRlc3Qtc2VjcmV0LWJ5dGVz', POLY_API_PASSPHRASE: 'live-session-passphrase' };

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

/** Runs the engine until its status line shows fills, then sends SIGINT (Ctrl-C); the deadline only bounds a hang. */
function runUntilFills(args: string[], env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', POLYEDGE_SHARED_DATA: process.env.POLYEDGE_SHARED_DATA ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let interrupted = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      // The status line counts orders and fills; a few of each, then Ctrl-C.
      const m = /orders (\d+).*?fills (\d+)/.exec(d);
      if (!interrupted && m && Number(m[1]) >= 20 && Number(m[2]) >= 3) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 150_000);
    const interruptAnyway = setTimeout(() => {
      interrupted = true;
      child.kill('SIGINT');
    }, 90_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(kill);
      clearTimeout(interruptAnyway);
      resolve({ code, signal, stderr, stdout });
    });
  });
}

test('run --mode live --confirm-live against the simulator CLOB: posts, replaces, cancels, fills, and cancel-all on Ctrl-C leaves nothing open', async () => {
  const config = join(cwd, 'live.toml');
  writeFileSync(config, '[cpu]\npin = false\n[engine]\nstatus_interval_ms = 500\n[journal]\nsnapshot_every = 10000000\ncompact = false\n[live]\nmax_order_notional = 50\nmax_open_orders = 20\nmax_daily_notional = 100000\n');
  const journalPath = join(cwd, 'live.journal');
  const r = await runUntilFills(['run', '--mode', 'live', '--confirm-live', '--speed', '10', '--config', config, '--journal', journalPath, '--port', '0'], { POLY_PRIVATE_KEY: HARDHAT_KEY, ...CREDS });
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /live: CLOB http:\/\/127\.0\.0\.1:\d+, order version 2, signer 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266; nothing open at start/);
  const stopped = /live: stopped: (\d+) orders posted, (\d+) cancels, (\d+) cancel-alls, (\d+) rejected, (\d+) failed requests; 0 orders open on the CLOB after DELETE \/cancel-all/.exec(r.stderr);
  assert.ok(stopped, `the venue confirmed nothing open at stop:\n${r.stderr.slice(-2000)}`);
  assert.ok(Number(stopped[3]) >= 1, 'Ctrl-C sent DELETE /cancel-all');
  assert.equal(Number(stopped[5]), 0, 'no request failed');

  const { records, corruption } = Journal.replay(journalPath);
  assert.deepEqual(corruption, []);
  const recs = records as JournalRecord[];
  const requests = recs.flatMap((x) => (x.type === 'venue_request' ? [x] : []));
  const posts = requests.filter((x) => x.method === 'POST');
  const deletes = requests.filter((x) => x.method === 'DELETE');
  const answers = recs.flatMap((x) => (x.type === 'venue_response' ? [x] : []));
  const fills = recs.flatMap((x) => (x.type === 'fill' ? [x] : []));
  assert.ok(posts.length >= 20, `orders posted: ${posts.length}`);
  assert.ok(deletes.length >= 1, 'quotes were replaced or cancelled');
  assert.ok(answers.some((a) => a.method === 'POST' && a.success && a.status === 'live'), 'orders rested on the CLOB');
  assert.ok(fills.length >= 3, `fills: ${fills.length}`);
  for (const f of fills) assert.match(f.fill.fillId, /^clob:/, 'every fill came from the CLOB trades');
  assert.equal(new Set(fills.map((f) => f.fill.fillId)).size, fills.length, 'no fill counted twice');
  // Every posted order got an answer, and every answer names the order it answers.
  const asked = new Set(posts.map((p) => p.orderId));
  for (const a of answers.filter((x) => x.method === 'POST')) assert.ok(asked.has(a.orderId));
  for (const id of asked) assert.ok(answers.some((a) => a.method === 'POST' && a.orderId === id), `order ${id} has an answer`);

  // No secret in anything the run wrote.
  const written = [r.stderr, r.stdout, ...readdirSync(cwd).filter((f) => f.startsWith('live.journal')).map((f) => readFileSync(join(cwd, f)).toString('latin1'))].join('\n');
  for (const secret of [CREDS.POLY_API_SECRET, CREDS.POLY_API_PASSPHRASE, HARDHAT_KEY.slice(2)]) assert.ok(!written.includes(secret), 'a secret was written');
});
