// The whole engine as `npm start` runs it: a child process on the bundled
// offline session, driven and inspected through its control plane.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG_PATH } from '../config/load.js';
import { until as untilWithin } from './session.fixture.js';

const until = <T>(what: string, f: () => T | undefined | Promise<T | undefined>): Promise<T> => untilWithin(what, f, 30_000, 200);

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const TOKEN = 'test-token-123';

interface Running {
  child: ChildProcess;
  url: string;
  stdout: string[];
}

async function startEngine(journal: string, extra: string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [MAIN, 'run', '--journal', journal, '--port', '0', '--speed', '4', ...extra], {
    env: { ...process.env, POLYEDGE_CONTROL_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  child.stdout!.on('data', (d: Buffer) => stdout.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`engine did not start: ${err}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /control plane on (http:\/\/[\d.]+:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`engine exited ${code}: ${err}`)));
  });
  return { child, url, stdout };
}

const get = async (r: Running, path: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(r.url + path);
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
};
const post = async (r: Running, path: string, body: unknown, token: string | null = TOKEN): Promise<{ status: number; body: any }> => {
  const res = await fetch(r.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};

const stopped = (child: ChildProcess): Promise<number | null> => new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));

test('paper session: trades, every endpoint answers, auth and validation, pause, reload, kill -9 and restore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-session-'));
  const journal = join(dir, 'session.journal');
  let r = await startEngine(journal);
  try {
    const fills = await until('orders and fills', async () => {
      const s = (await get(r, '/report/shadow/live')).body;
      return s.counts.ordersSent > 0 && s.counts.fills > 0 ? s.counts.fills : undefined;
    });
    assert.ok(fills > 0);
    for (const path of ['/health', '/metrics', '/state/positions', '/state/markets', '/state/pnl', '/state/orders', '/report/shadow/live', '/report/shadow/final', '/report/pnl/by_engine', '/report/toxicity/live', '/report/toxicity/final', '/openapi.json']) {
      assert.equal((await get(r, path)).status, 200, path);
    }
    const metrics = (await get(r, '/metrics')).body as string;
    assert.match(metrics, /polyedge_tick_to_decision_seconds\{quantile="0.99"\} [0-9.e-]+/);
    const health = (await get(r, '/health')).body;
    assert.equal(health.faults, 0, 'a clean session has no engine fault');
    assert.equal(health.lastFault, null);
    assert.match(metrics, /polyedge_engine_faults_total\{where="decide"\} 0/);

    assert.equal((await post(r, '/control/pause', {}, null)).status, 401);
    assert.equal((await post(r, '/control/pause', {}, 'wrong')).status, 401);
    const bad = await post(r, '/control/reload/strategy/maker', { half_spread: 'wide' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.fields[0].path, 'half_spread');

    // Reload: the maker's quotes move to the new half spread on the next events.
    const before = (await get(r, '/control/reload/strategy/maker')).body;
    const quotesBefore = new Set(((await get(r, '/state/orders')).body.orders as Array<{ id: string; strategy: string }>).filter((o) => o.strategy === 'maker').map((o) => o.id));
    const wide = { ...before, half_spread: 0.05, min_requote_ticks: 1 };
    assert.equal((await post(r, '/control/reload/strategy/maker', wide)).body.half_spread, 0.05, 'a reload answers the values in force');
    await until('maker quotes at the new spread', async () => {
      // Every maker quote live before the reload was replaced by one at the new spread.
      const orders = (await get(r, '/state/orders')).body.orders as Array<{ id: string; strategy: string }>;
      const maker = orders.filter((o) => o.strategy === 'maker');
      return maker.length > 0 && maker.every((o) => !quotesBefore.has(o.id)) ? true : undefined;
    });

    // Pause: no order is sent after the pause answered.
    assert.equal((await post(r, '/control/pause', {})).body.state, 'PAUSED');
    const sent = (await get(r, '/report/shadow/live')).body.counts.ordersSent;
    const events = (await get(r, '/health')).body.events;
    await until('events flowing while paused', async () => ((await get(r, '/health')).body.events > events + 20 ? true : undefined));
    assert.equal((await get(r, '/report/shadow/live')).body.counts.ordersSent, sent, 'no new orders while paused');
    assert.equal((await post(r, '/control/resume', {})).body.state, 'RUNNING');

    // Freeze the book of account (no strategy may trade, resting quotes are cancelled), read it, then kill -9.
    await post(r, '/control/reload/allocator', { maker: { enabled: false }, complete_set: { enabled: false }, directional: { enabled: false } });
    await until('no live orders', async () => ((await get(r, '/state/orders')).body.orders.length === 0 ? true : undefined));
    const pnl = (await get(r, '/state/pnl')).body;
    const positions = (await get(r, '/state/positions')).body.positions as Array<{ strategy: string; token: number; position: number; cost: number; realised: number; fees: number }>;
    assert.ok(positions.length > 0, 'something was traded');
    r.child.kill('SIGKILL');
    await stopped(r.child);

    // Restarted with no strategy running: one that trades before a reload could switch it off would move the book of account under the comparison.
    const idle = join(dir, 'idle.toml');
    const defaults = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
    const idleText = defaults.replace(/^strategies = .*$/m, 'strategies = []');
    assert.notEqual(idleText, defaults, 'the default config names its strategies');
    writeFileSync(idle, idleText);
    r = await startEngine(journal, ['--config', idle]);
    const after = (await get(r, '/state/positions')).body.positions as typeof positions;
    const key = (p: (typeof positions)[number]) => `${p.strategy}:${p.token}`;
    const pick = (p: (typeof positions)[number]) => ({ position: p.position, cost: p.cost, realised: p.realised, fees: p.fees });
    assert.deepEqual(new Map(after.map((p) => [key(p), pick(p)])), new Map(positions.map((p) => [key(p), pick(p)])));
    const pnlAfter = (await get(r, '/state/pnl')).body;
    assert.equal(pnlAfter.realised, pnl.realised);
    assert.equal(pnlAfter.fees, pnl.fees);
  } finally {
    r.child.kill('SIGINT');
    await stopped(r.child);
    rmSync(dir, { recursive: true, force: true });
  }
});
