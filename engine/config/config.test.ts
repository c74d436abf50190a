import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      'mode: must be one of "paper", "live", got "yolo"',
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
