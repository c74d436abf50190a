import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSimArgs } from './cli.js';
import { parseScenarioFile, ScenarioFileError } from './scenario-file.js';
import { WsProbe, getJson } from './testkit.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

function startCli(args: string[]): ChildProcessWithoutNullStreams {
  const src = `import { simCommand } from ${JSON.stringify(CLI)}; process.exitCode = await simCommand(process.argv.slice(1));`;
  return spawn(process.execPath, ['--input-type=module', '-e', src, '--', ...args]);
}

function finish(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`polyedge sim did not exit in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('--help exits 0 with usage; bad arguments exit 2 with the reason', async () => {
  const help = await finish(startCli(['--help']), 5000);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: polyedge sim/);
  const bad = await finish(startCli(['--venues', 'polymarket,kraken']), 5000);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--venues: expected a comma-separated subset/);
  const unknown = await finish(startCli(['--colour', 'red']), 5000);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--colour'/);
});

test('runs until SIGINT, prints the URLs it serves, then closes cleanly', async () => {
  const child = startCli(['--venues', 'polymarket,deribit', '--seed', '3', '--speed', '5', '--faults', '0.001']);
  const done = finish(child, 10_000);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 5000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const wsUrl = /deribit\s+ws\s+(\S+)/.exec(out)?.[1];
  const restBase = /rest\s+(http:\/\/127\.0\.0\.1:\d+)\/book/.exec(out)?.[1];
  const yes = /YES=(\d+)/.exec(out)?.[1];
  assert.ok(wsUrl && restBase && yes, out);
  assert.match(out, /faults=0\.001/);
  const book = await getJson(`${restBase}/book?token_id=${yes}`);
  assert.equal(book.status, 200);
  const p = await WsProbe.open(wsUrl);
  p.send({ jsonrpc: '2.0', id: 1, method: 'public/test' });
  await p.waitFor((f) => f.length > 0, 'public/test reply');
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /SIGINT, stopped/);
  assert.equal((await p.waitForClose()).code, 1006);
});

test('argument parsing: defaults, max speed, port base, faults use the seed', () => {
  assert.deepEqual(parseSimArgs([]), { help: false, options: {} });
  const r = parseSimArgs(['--venues', 'binance,rtds', '--source', 'recorded', '--seed', '9', '--speed', 'max', '--port-base', '9100', '--faults', '0.02', '--markets', '4']);
  assert.ok(!r.help);
  assert.deepEqual(r.options, {
    venues: ['binance', 'rtds'],
    source: 'recorded',
    seed: 9,
    speed: Infinity,
    portBase: 9100,
    faults: { rate: 0.02, seed: 9 },
    polymarket: { markets: 4 },
  });
  for (const bad of [['--speed', '0'], ['--seed', '1.5'], ['--port-base', '70000'], ['--faults', '2'], ['--source', 'live'], ['--markets', '0'], ['extra']]) {
    assert.throws(() => parseSimArgs(bad), Error, bad.join(' '));
  }
});

test('scenario file: full example parses; typos and bad values are rejected with the key', () => {
  const opts = parseScenarioFile(`
seed = 7
source = "scenario"
speed = 2
venues = ["polymarket", "binance"]
[polymarket]
step_ms = 100
levels = 4
trade_probability = 0.1
[[polymarket.market]]
yes_token_id = "111"
no_token_id = "222"
start_price = 0.5
path = [0.5, 0.6, 0.97]
[binance]
start_price = 50000
routing = "lenient"
[faults]
rate = 0.01
kinds = ["duplicate", "drop"]
`);
  assert.deepEqual(opts, {
    seed: 7,
    source: 'scenario',
    speed: 2,
    venues: ['polymarket', 'binance'],
    polymarket: { markets: [{ yesTokenId: '111', noTokenId: '222', startPrice: 0.5, path: [0.5, 0.6, 0.97] }], stepMs: 100, levels: 4, tradeProbability: 0.1 },
    binance: { startPrice: 50000, routing: 'lenient' },
    faults: { rate: 0.01, seed: 7, kinds: ['duplicate', 'drop'] },
  });
  const bad: Array<[string, RegExp]> = [
    ['seed = "x"', /seed: expected an integer/],
    ['sped = 2', /top level: unknown key\(s\) sped/],
    ['[polymarket]\nlevel = 3', /polymarket: unknown key\(s\) level/],
    ['[polymarket]\nmarkets = 2\n[[polymarket.market]]\nstart_price = 0.5', /either markets = N or/],
    ['[[polymarket.market]]\npath = [0.5, 1.2]', /polymarket\.market\[0\]\.path/],
    ['[[polymarket.market]]\nyes_token_id = "0xabc"', /yes_token_id: expected a decimal token id/],
    ['[binance]\nrouting = "loose"', /binance\.routing/],
    ['[faults]\nseed = 1', /faults\.rate is required/],
    ['[faults]\nrate = 0.1\nkinds = ["tick_size_change"]', /cannot be drawn randomly/],
    ['seed = ', /not valid TOML/],
  ];
  for (const [text, reason] of bad) assert.throws(() => parseScenarioFile(text), (e: unknown) => e instanceof ScenarioFileError && reason.test(e.message), text);
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-sim-'));
  try {
    const file = join(dir, 's.toml');
    writeFileSync(file, 'seed = 4\n[deribit]\nbase_volatility = 55\n');
    const r = parseSimArgs(['--scenario', file, '--seed', '5']);
    assert.ok(!r.help);
    assert.deepEqual(r.options, { seed: 5, deribit: { baseVolatility: 55 } });
    writeFileSync(file, 'colour = 1\n');
    assert.throws(() => parseSimArgs(['--scenario', file]), /unknown key\(s\) colour/);
    assert.throws(() => parseSimArgs(['--scenario', join(dir, 'missing.toml')]), /cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
