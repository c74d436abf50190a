import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PolyedgeError } from '../errors.js';
import { apiSecretsFromEnv, loadConfig, loadDotEnv, parseConfigText } from './load.js';

test('the shipped default config loads and matches the schema defaults', () => {
  const fromFile = loadConfig();
  const fromNothing = parseConfigText('', 'empty');
  assert.deepEqual(fromFile, fromNothing);
  assert.equal(fromFile.mode, 'paper');
  assert.equal(fromFile.control.host, '127.0.0.1');
  assert.ok(Object.isFrozen(fromFile.risk));
});

test('every violation is reported by its dotted path, unknown keys included', () => {
  const text = `
mode = "yolo"
[risk]
max_position = 0
max_order_notional = "lots"
bogus = 1
[control]
port = 70000
[cpu]
main = 1.5
[markets]
tokens = ["123", "abc"]
[nonsense]
x = 1
`;
  try {
    parseConfigText(text, 'bad.toml');
    assert.fail('expected a config error');
  } catch (err) {
    assert.ok(err instanceof PolyedgeError);
    assert.equal(err.code, 'PE_CONFIG_INVALID');
    assert.equal(err.exitCode, 78);
    for (const line of [
      'mode: must be one of "paper", "dry-run", "live", got "yolo"',
      'risk.max_position: must be > 0',
      'risk.max_order_notional: must be a number, got "lots"',
      'risk.bogus: unknown key',
      'control.port: must be <= 65535',
      'cpu.main: must be an integer',
      'markets.tokens[1]: must be a decimal token id',
      'nonsense: unknown key',
    ]) {
      assert.ok(err.message.includes(line), `missing "${line}" in:\n${err.message}`);
    }
  }
});

test('TOML syntax errors and missing files are read errors', () => {
  assert.throws(() => parseConfigText('mode = = 1', 'x.toml'), (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_CONFIG_READ' && /x\.toml: not valid TOML/.test(e.message));
  assert.throws(() => loadConfig('/nonexistent/polyedge.toml'), (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_CONFIG_READ' && /ENOENT/.test(e.message));
});

test('.env fills only unset variables; API credentials come as a complete set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-env-'));
  const file = join(dir, '.env');
  writeFileSync(file, '# comment\nPOLYEDGE_TEST_A=one\nexport POLYEDGE_TEST_B="two words"\nPOLYEDGE_TEST_C=kept # trailing\n');
  process.env.POLYEDGE_TEST_C = 'from-env';
  const set = loadDotEnv(file);
  assert.deepEqual(set.sort(), ['POLYEDGE_TEST_A', 'POLYEDGE_TEST_B']);
  assert.equal(process.env.POLYEDGE_TEST_B, 'two words');
  assert.equal(process.env.POLYEDGE_TEST_C, 'from-env');
  assert.equal(apiSecretsFromEnv({}), undefined);
  assert.throws(() => apiSecretsFromEnv({ POLY_API_KEY: 'k' }), (e: unknown) => e instanceof PolyedgeError && e.field === 'POLY_API_SECRET');
  assert.deepEqual(apiSecretsFromEnv({ POLY_API_KEY: 'k', POLY_API_SECRET: 's', POLY_API_PASSPHRASE: 'p' }), { apiKey: 'k', secret: 's', passphrase: 'p' });
});

test('[relay] allow: sender IP literals, empty by default, each bad entry reported by its index', () => {
  assert.deepEqual(parseConfigText('', 'empty').relay.allow, []);
  const ok = parseConfigText('[relay]\nbind = "0.0.0.0:9870"\nallow = ["10.0.0.1", "::ffff:10.0.0.2", "fe80::1"]\n', 'ok.toml');
  assert.deepEqual(ok.relay.allow, ['10.0.0.1', '::ffff:10.0.0.2', 'fe80::1']);
  try {
    parseConfigText('[relay]\nallow = ["10.0.0.256", "relay.example", "fe80::1%eth0", "10.0.0.1", 7]\n', 'bad.toml');
    assert.fail('expected a config error');
  } catch (err) {
    assert.ok(err instanceof PolyedgeError && err.code === 'PE_CONFIG_INVALID', String(err));
    assert.equal(err.field, 'relay.allow[0]');
    for (const line of [
      'relay.allow[0]: must be an IPv4 or IPv6 address such as 10.0.0.1',
      'relay.allow[1]: must be an IPv4 or IPv6 address',
      'relay.allow[2]: must be an IPv4 or IPv6 address',
      'relay.allow[4]: must be a string, got 7',
    ]) {
      assert.ok(err.message.includes(line), `missing "${line}" in:\n${err.message}`);
    }
    assert.ok(!err.message.includes('relay.allow[3]'));
  }
});

/** Values that switched a limit off or made it absurd, each with the key the refusal must name. */
export const ABSURD_TOML: readonly [toml: string, field: string, message: RegExp][] = [
  ['[risk]\nmax_position = 1e303', 'risk.max_position', /must be <= 1000000/],
  ['[risk]\nmax_order_notional = 1e303', 'risk.max_order_notional', /must be <= 10000000/],
  ['[risk]\ndaily_loss_limit = 1e-7', 'risk.daily_loss_limit', /must be >= 0.01/],
  ['[risk]\ndaily_loss_limit = 100.0000001', 'risk.daily_loss_limit', /at most 6 decimal places/],
  ['[risk]\nmax_position = 1000\nmax_market_position = 1', 'risk.max_position', /must be <= max_market_position/],
  ['[risk]\nmin_size = 1e9', 'risk.min_size', /must be <= 1000000/],
  ['[risk]\nmin_size = 600', 'risk.min_size', /must be <= max_position/],
  ['[risk]\nstale_book_ms = 1e308', 'risk.stale_book_ms', /must be <= 3600000/],
  ['[risk]\nmax_orders_per_second = 1e9', 'risk.max_orders_per_second', /must be <= 1000/],
  ['[engine]\nstatus_interval_ms = 1e11', 'engine.status_interval_ms', /must be <= 3600000/],
  ['[engine]\nmetrics_window_ms = 1e11', 'engine.metrics_window_ms', /must be <= 3600000/],
  ['[feeds]\nstall_ms = 1e308', 'feeds.stall_ms', /must be <= 600000/],
  ['[feeds]\nping_interval_ms = 20000', 'feeds.ping_interval_ms', /must be < stall_ms/],
  ['[feeds]\nbackoff_base_ms = 20000', 'feeds.backoff_base_ms', /must be <= backoff_max_ms/],
  ['[markets]\naudit_timeout_ms = 1e12', 'markets.audit_timeout_ms', /must be <= 604800000/],
  ['[orders]\nmin_size = 5.001', 'orders.min_size', /at most 2 decimal places/],
  ['[strategy.maker]\nsize = 1e7', 'strategy.maker.size', /must be <= 1000000/],
  ['[strategy.maker]\nhalf_spread = 0.00001', 'strategy.maker.half_spread', /at most 4 decimal places/],
  ['[strategy.complete_set]\nmax_size = 1e303', 'strategy.complete_set.max_size', /must be <= 1000000/],
  ['[strategy.directional]\nbankroll = 1e303', 'strategy.directional.bankroll', /must be <= 10000000/],
  ['[fusion]\nstale_ms = 1e308', 'fusion.stale_ms', /must be <= 600000/],
  ['[toxicity]\nhalfLifeMs = 1e308', 'toxicity.halfLifeMs', /must be <= 604800000/],
  ['[journal]\nsnapshot_every = 1e300', 'journal.snapshot_every', /must be <= 10000000/],
];

test('absurd values are refused naming their key, each on its own (PE_CONFIG_INVALID, exit 78)', () => {
  for (const [toml, field, message] of ABSURD_TOML) {
    assert.throws(
      () => parseConfigText(toml, 'bad.toml'),
      (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_CONFIG_INVALID' && e.exitCode === 78 && e.field === field && message.test(e.message) && e.message.includes(`${field}: `),
      `${JSON.stringify(toml)} should be refused at ${field}`,
    );
  }
  // The edges themselves are sane and accepted.
  const edge = parseConfigText('[risk]\nmax_position = 1000000\nmax_market_position = 2000000\ndaily_loss_limit = 0.01\n[engine]\nstatus_interval_ms = 3600000\n[feeds]\nstall_ms = 600000', 'edge.toml');
  assert.equal(edge.risk.max_position, 1_000_000);
  assert.equal(edge.engine.status_interval_ms, 3_600_000);
});

test('polyedge run refuses an absurd config before starting anything: exit 78 naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-bad-config-'));
  const file = join(dir, 'bad.toml');
  writeFileSync(file, '[risk]\nmax_position = 1000\nmax_market_position = 1\n[engine]\nstatus_interval_ms = 1e11\n');
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const r = spawnSync(process.execPath, [cli, 'run', '--config', file, '--journal', join(dir, 'j'), '--port', '0', '--duration', '1'], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 78, r.stderr);
  assert.match(r.stderr, /PE_CONFIG_INVALID/);
  assert.match(r.stderr, /risk\.max_position: must be <= max_market_position/);
  assert.match(r.stderr, /engine\.status_interval_ms: must be <= 3600000/);
  assert.doesNotMatch(r.stdout + r.stderr, /control plane on|feed worker/, 'nothing started');
});
