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
