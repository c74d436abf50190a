// The CLI as a user runs it: a real process, stdin in, stdout/stderr/exit code out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureMissing, hftbacktestPath } from '../../workers/parse/testing/data.js';
import { HARDHAT_KEY, VECTORS } from '../venues/polymarket/order/fixtures/vectors.js';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
// A clean environment: nothing from the developer's shell or a .env leaks in.
const cwd = mkdtempSync(join(tmpdir(), 'polyedge-cli-'));

function run(args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    input: opts.input ?? '',
    env: { PATH: process.env.PATH ?? '', ...opts.env },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('version and top-level help', () => {
  const v = run(['version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^polyedge \d+\.\d+\.\d+ \(node v\d+/);
  const h = run(['--help']);
  assert.equal(h.code, 0);
  for (const c of ['version', 'sign', 'order', 'sim', 'replay']) assert.match(h.stdout, new RegExp(`\\n  ${c} `));
});

test('every subcommand answers --help', () => {
  for (const args of [['version', '--help'], ['sign', '--help'], ['order', 'build', '--help'], ['order', '--help'], ['replay', '--help'], ['sim', '--help']]) {
    const r = run(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /usage: polyedge/i, args.join(' '));
  }
});

test('unknown commands and flags are usage errors (exit 2)', () => {
  const a = run(['frobnicate']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /^error: PE_USAGE unknown command "frobnicate"/);
  const b = run(['sign', '--nope']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /PE_USAGE .*--nope/);
});

test('sign reproduces every vector, in order, through stdin', () => {
  const input = `${VECTORS.map((v) => JSON.stringify(v.input)).join('\n')}\n`;
  const r = run(['sign'], { input, env: { POLY_PRIVATE_KEY: HARDHAT_KEY } });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { hash: string; signature: string });
  assert.equal(lines.length, VECTORS.length);
  VECTORS.forEach((v, i) => {
    assert.equal(lines[i]!.signature, v.signature, v.name);
    if (v.hash) assert.equal(lines[i]!.hash, v.hash, v.name);
    assert.deepEqual(Object.keys(lines[i]!), ['hash', 'signature']);
  });
});

test('sign: a bad line names its number and field, the run continues, exit code 2', () => {
  const good = JSON.stringify(VECTORS[2]!.input);
  const badField = JSON.stringify({ ...VECTORS[2]!.input, makerAmount: '-5' });
  const input = [good, '{not json', '', badField, good].join('\n');
  const r = run(['sign'], { input, env: { POLY_PRIVATE_KEY: HARDHAT_KEY } });
  assert.equal(r.code, 2);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(out.length, 4, 'one output per non-blank input line');
  assert.equal(out[0]!.signature, VECTORS[2]!.signature);
  assert.equal(out[1]!.line, 2);
  assert.equal(out[1]!.error, 'PE_INPUT_JSON');
  assert.equal(out[2]!.line, 4);
  assert.equal(out[2]!.field, 'makerAmount');
  assert.equal(out[3]!.signature, VECTORS[2]!.signature);
  assert.match(r.stderr, /line 2: PE_INPUT_JSON/);
  assert.match(r.stderr, /line 4: PE_ORDER_FIELD makerAmount: must be a decimal integer/);
});

test('sign refuses to start without a usable key and never prints the key', () => {
  const none = run(['sign'], { input: '{}' });
  assert.equal(none.code, 78);
  assert.match(none.stderr, /PE_ENV_MISSING POLY_PRIVATE_KEY/);
  const secretish = `0x${'ab'.repeat(31)}`;
  const bad = run(['sign'], { input: '{}', env: { POLY_PRIVATE_KEY: secretish } });
  assert.equal(bad.code, 78);
  assert.match(bad.stderr, /PE_KEY_INVALID POLY_PRIVATE_KEY/);
  assert.ok(!bad.stderr.includes('abababab'));
});

test('order build prints a signed POST /order body; bad prices exit 65 with their code', () => {
  const env = { POLY_PRIVATE_KEY: HARDHAT_KEY, POLY_API_KEY: 'owner-uuid', POLY_API_SECRET: 'AAAA', POLY_API_PASSPHRASE: 'p' };
  const ok = run(['order', 'build', '--token', '1234', '--price', '0.56', '--size', '21.04', '--side', 'buy', '--tick', '0.01', '--salt', '7', '--timestamp', '1713398400000'], { env });
  assert.equal(ok.code, 0, ok.stderr);
  const body = JSON.parse(ok.stdout) as { order: Record<string, unknown>; owner: string; orderType: string };
  assert.equal(body.order.makerAmount, '11782400');
  assert.equal(body.order.takerAmount, '21040000');
  assert.equal(body.order.salt, 7);
  assert.equal(body.owner, 'owner-uuid');
  assert.equal(body.orderType, 'GTC');
  assert.match(String(body.order.signature), /^0x[0-9a-f]{130}$/);

  const offTick = run(['order', 'build', '--token', '1234', '--price', '0.565', '--size', '10', '--side', 'BUY', '--tick', '0.01'], { env });
  assert.equal(offTick.code, 65);
  assert.match(offTick.stderr, /PE_ORDER_PRICE_TICK price: 0.565 is not a multiple of the tick 0.01/);
  const range = run(['order', 'build', '--token', '1234', '--price', '0.999', '--size', '10', '--side', 'BUY', '--tick', '0.01'], { env });
  assert.equal(range.code, 65);
  assert.match(range.stderr, /PE_ORDER_PRICE_RANGE price/);
  const small = run(['order', 'build', '--token', '1234', '--price', '0.5', '--size', '1', '--side', 'BUY', '--tick', '0.01'], { env });
  assert.equal(small.code, 65);
  assert.match(small.stderr, /PE_ORDER_SIZE_MIN size: 1 is below the market minimum of 5/);
  const missing = run(['order', 'build', '--price', '0.5', '--size', '10', '--side', 'BUY', '--tick', '0.01'], { env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--token is required/);
});

test('a bad config file stops the command with the field named (exit 78)', () => {
  const file = join(cwd, 'bad.toml');
  writeFileSync(file, '[risk]\nmax_position = -1\n');
  const r = run(['sign', '--config', file], { env: { POLY_PRIVATE_KEY: HARDHAT_KEY } });
  assert.equal(r.code, 78);
  assert.match(r.stderr, /PE_CONFIG_INVALID .*bad\.toml: 1 problem\(s\)\n\s+risk\.max_position: must be > 0/);
});

const USDM = 'binance_usdm_btcusdt_20240808.gz';
const CAPTURE = hftbacktestPath(USDM);

test('replay --print-top rebuilds the USD-M book from the capture: one JSON line per top change, venue decimals', { skip: captureMissing(USDM) }, () => {
  const r = run(['replay', '--input', CAPTURE, '--print-top']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /replayed 93953 frames \(1 snapshot\): 0 gaps, 0 resyncs, 0 parse errors/);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length > 1000);
  let prevU = 0;
  for (const line of lines) {
    const top = JSON.parse(line) as { venue: string; symbol: string; u: number; ts: number; bid: string; bidSize: string; ask: string; askSize: string };
    assert.deepEqual(Object.keys(top), ['venue', 'symbol', 'u', 'ts', 'bid', 'bidSize', 'ask', 'askSize']);
    assert.match(top.bid, /^\d+\.\d{2}$/);
    assert.match(top.bidSize, /^\d+\.\d{3}$/);
    assert.ok(Number(top.bid) < Number(top.ask), line);
    assert.ok(top.u > prevU, 'update ids only grow');
    prevU = top.u;
  }
  const bad = run(['replay', '--input', join(cwd, 'missing.gz')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /PE_USAGE --input: .* does not exist/);
});
