import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolyedgeError } from '../errors.js';
import { parseConfigText } from './load.js';

/** The PE_CONFIG_READ a TOML text is refused with. */
function syntaxError(text: string): PolyedgeError {
  try {
    parseConfigText(text, 'my.toml');
  } catch (err) {
    assert.ok(err instanceof PolyedgeError && err.code === 'PE_CONFIG_READ', String(err));
    return err;
  }
  assert.fail('accepted');
}

test('a TOML syntax error names the line and the key, with its table', () => {
  const cases: [string, string, string | undefined][] = [
    ['mode = = 1', 'line 1, key mode: invalid value', 'mode'],
    ['[control]\nhost = 127.0.0.1\n', 'line 2, key control.host: illegal character in numeric literal', 'control.host'],
    ['mode = "paper"\n\n[risk]\n# limits\nmax_position = \n', 'line 5, key risk.max_position: invalid value', 'risk.max_position'],
    ['[risk]\nmax_position = 5\nmax_position = 6\n', 'line 3, key risk.max_position: trying to redefine', 'risk.max_position'],
    ['[relay]\nbind = "0.0.0.0:9000', 'line 2, key relay.bind: unfinished string', 'relay.bind'],
    ['[feeds]\nstall_ms = 1\n[risk\nx = 1\n', 'line 3, key risk: illegal character in key', 'risk'],
    ['[markets]\n"series" . x = tru\n', 'line 2, key markets.series.x: invalid value', 'markets.series.x'],
  ];
  for (const [text, where, field] of cases) {
    const e = syntaxError(text);
    assert.ok(e.message.startsWith(`my.toml: not valid TOML at ${where}`), `${JSON.stringify(text)}: ${e.message}`);
    assert.equal(e.field, field, text);
    assert.equal(e.exitCode, 78);
  }
});

test('a syntax error on a line that writes no key names the line alone', () => {
  const e = syntaxError('[markets]\nseries = ["a",\n  b]\n');
  assert.match(e.message, /^my\.toml: not valid TOML at line 3: /);
  assert.equal(e.field, undefined);
});
