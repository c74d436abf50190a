// `polyedge run --mode`: every piece live needs, missing, stops start-up as a
// supervisor sees it (a real process, one `error: CODE` line naming the
// field, flag or variable, the catalog's exit code), and with every piece
// present live still stops, in one place, because this build has no live
// venue. The kill deadline only bounds a hang.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS, type ErrorCode } from '../errors.js';
import { HARDHAT_KEY } from '../venues/polymarket/order/fixtures/vectors.js';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
const KILL_AFTER_MS = 10_000;
const cwd = mkdtempSync(join(tmpdir(), 'polyedge-modes-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // A clean environment: nothing from the developer's shell or a .env leaks in.
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stderr });
    });
  });
}

function config(name: string, text: string, top = ''): string {
  const path = join(cwd, name);
  writeFileSync(path, `${top}[cpu]\npin = false\n${text}`);
  return path;
}

const LIMITS = { max_order_notional: '25', max_open_orders: '10', max_daily_notional: '500' };
const limits = (drop?: keyof typeof LIMITS) =>
  `[live]\n${Object.entries(LIMITS)
    .filter(([k]) => k !== drop)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n')}\n`;
const KEY = { POLY_PRIVATE_KEY: HARDHAT_KEY };
const CREDS = { POLY_API_KEY: '00000000-0000-0000-0000-000000000001', POLY_API_SECRET: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', POLY_API_PASSPHRASE: 'pass' };
const FULL = config('live.toml', limits());

async function refused(args: string[], env: Record<string, string>, code: ErrorCode, message: RegExp, field?: string): Promise<void> {
  const journal = join(cwd, `${Math.random().toString(36).slice(2)}.journal`);
  const r = await run(['run', '--duration', '30', '--port', '0', '--journal', journal, ...args], env);
  assert.equal(r.signal, null, `still running after ${KILL_AFTER_MS} ms; stderr:\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, new RegExp(`^error: ${code} `), r.stderr);
  // A config file's problems follow its error line, one a line.
  assert.match(r.stderr, message);
  if (field !== undefined) assert.ok(lines[0]!.includes(field), `names ${field}: ${lines[0]}`);
  assert.equal(r.code, ERRORS[code].exit, r.stderr);
  assert.equal(existsSync(journal), false, 'refused before the journal was opened');
}

for (const key of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
  test(`live without [live] ${key} stops start-up naming it`, async () => {
    await refused(['--mode', 'live', '--confirm-live', '--config', config(`no-${key}.toml`, limits(key))], { ...KEY, ...CREDS }, 'PE_CONFIG_INVALID', /must be set \(> 0\) for mode = "live"/, `live.${key}`);
  });
}

test('live with no [live] table at all names its first limit', async () => {
  await refused(['--mode', 'live', '--confirm-live', '--config', config('bare.toml', '')], { ...KEY, ...CREDS }, 'PE_CONFIG_INVALID', /live\.max_order_notional/);
});

test('live without POLY_PRIVATE_KEY stops start-up naming it', async () => {
  await refused(['--mode', 'live', '--confirm-live', '--config', FULL], CREDS, 'PE_ENV_MISSING', /POLY_PRIVATE_KEY/);
});

test('live with an unusable key says so without echoing it', async () => {
  const bad = '0x1234';
  const r = await run(['run', '--mode', 'live', '--confirm-live', '--config', FULL, '--port', '0'], { POLY_PRIVATE_KEY: bad, ...CREDS });
  assert.equal(r.code, ERRORS.PE_KEY_INVALID.exit, r.stderr);
  assert.match(r.stderr, /^error: PE_KEY_INVALID .*POLY_PRIVATE_KEY/m);
  assert.doesNotMatch(r.stderr, /0x1234/);
});

test('live without the L2 credentials stops start-up naming them', async () => {
  await refused(['--mode', 'live', '--confirm-live', '--config', FULL], KEY, 'PE_ENV_MISSING', /POLY_API_KEY: live needs the L2 credentials/);
  const { POLY_API_PASSPHRASE: _, ...partial } = CREDS;
  await refused(['--mode', 'live', '--confirm-live', '--config', FULL], { ...KEY, ...partial }, 'PE_ENV_MISSING', /POLY_API_PASSPHRASE/);
});

test('live without --confirm-live stops start-up naming the flag, whether --mode or the config asks for live', async () => {
  await refused(['--mode', 'live', '--config', FULL], { ...KEY, ...CREDS }, 'PE_CONFIG_INVALID', /--confirm-live/, 'confirm-live');
  await refused(['--config', config('mode-live.toml', limits(), 'mode = "live"\n')], { ...KEY, ...CREDS }, 'PE_CONFIG_INVALID', /--confirm-live/, 'confirm-live');
});

test('live with every piece present but no CLOB to reach stops at start, before any order (the live session itself: clob/live-session.test.ts)', async () => {
  // Every venue on loopback port 9 (discard), where nothing listens: refused at once, and no test traffic leaves the host.
  const venues = ['clob_url = "http://127.0.0.1:9"', 'gamma_url = "http://127.0.0.1:9"', 'binance_rest_url = "http://127.0.0.1:9"']
    .concat(['market_ws_url', 'user_ws_url', 'rtds_url', 'binance_ws_url', 'deribit_ws_url'].map((k) => `${k} = "ws://127.0.0.1:9"`))
    .join('\n');
  const unreachable = config('live-unreachable.toml', `${limits()}[venue]\n${venues}\n`);
  await refused(['--mode', 'live', '--confirm-live', '--feeds', 'live', '--config', unreachable], { ...KEY, ...CREDS }, 'PE_CLOB_UNREACHABLE', /GET \/time/);
});

test('dry-run needs the signing key; a mode that does not exist is a usage error', async () => {
  await refused(['--mode', 'dry-run', '--config', FULL], CREDS, 'PE_ENV_MISSING', /POLY_PRIVATE_KEY/);
  await refused(['--mode', 'yolo', '--config', FULL], {}, 'PE_USAGE', /--mode must be paper, dry-run or live, got "yolo"/);
  await refused(['--config', config('bad-mode.toml', '', 'mode = "yolo"\n')], {}, 'PE_CONFIG_INVALID', /mode: must be one of "paper", "dry-run", "live"/);
});

test('[live] values are validated by range and against each other', async () => {
  await refused(['--config', config('neg.toml', '[live]\nmax_open_orders = -1\n')], {}, 'PE_CONFIG_INVALID', /live\.max_open_orders: must be >= 0/);
  await refused(['--config', config('frac.toml', '[live]\nmax_open_orders = 2.5\n')], {}, 'PE_CONFIG_INVALID', /live\.max_open_orders: must be an integer/);
  await refused(['--config', config('order-over-day.toml', '[live]\nmax_order_notional = 50\nmax_daily_notional = 10\n')], {}, 'PE_CONFIG_INVALID', /live\.max_order_notional: must be <= max_daily_notional/);
  await refused(['--config', config('heartbeat.toml', '[live]\nheartbeat_interval_ms = 5000\nheartbeat_fail_after_ms = 5000\n')], {}, 'PE_CONFIG_INVALID', /live\.heartbeat_fail_after_ms: must be > heartbeat_interval_ms/);
});
