import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PolyedgeError } from '../errors.js';
import { DEFAULTS, parseStormArgs, parseTickToDecisionP99, type StormSummary } from '../../scripts/control-storm.js';
import { fixtureEngine } from './handlers.fixture.js';
import { startControlServer } from './server.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/control-storm.js', import.meta.url));
const TOKEN = 'storm-token-0123456789';

test('tick_to_decision p99 is read from Prometheus text, whatever the label order', () => {
  const text = [
    '# HELP polyedge_tick_to_decision_seconds x',
    '# TYPE polyedge_tick_to_decision_seconds summary',
    'polyedge_tick_to_decision_seconds{quantile="0.5"} 0.00002',
    'polyedge_tick_to_decision_seconds{engine="a",quantile="0.99"} 0.00012',
    'polyedge_tick_to_decision_seconds{quantile="0.99",engine="b"} 3.5e-4 1700000000000',
    'polyedge_tick_to_decision_seconds_sum{quantile="0.99"} 99',
    'polyedge_tick_to_decision_seconds_count 10',
  ].join('\n');
  assert.equal(parseTickToDecisionP99(text), 3.5e-4);
  assert.equal(parseTickToDecisionP99('polyedge_tick_to_decision_seconds{quantile="0.99"} NaN\n'), undefined);
  assert.equal(parseTickToDecisionP99('polyedge_other{quantile="0.99"} 1\n'), undefined);
  assert.equal(parseTickToDecisionP99(''), undefined);
});

test('arguments: defaults, the token from the environment, usage errors', () => {
  const o = parseStormArgs(['--url', 'http://127.0.0.1:7420'], { POLYEDGE_CONTROL_TOKEN: 'env-token' });
  assert.deepEqual(o, { url: 'http://127.0.0.1:7420', token: 'env-token', ...DEFAULTS });
  assert.equal(parseStormArgs(['--url', 'http://h:1', '--token', 'flag'], { POLYEDGE_CONTROL_TOKEN: 'env' }).token, 'flag');
  assert.equal(parseStormArgs(['--url', 'http://h:1', '--reload', 'edge_model', '--duration', '2.5'], {}).durationS, 2.5);
  for (const argv of [[], ['--url', 'ftp://x'], ['--url', 'http://h:1', '--clients', '1.5'], ['--url', 'http://h:1', '--reload', 'nope'], ['--url', 'http://h:1', '--bogus', '1']]) {
    assert.throws(() => parseStormArgs(argv, {}), (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_USAGE', argv.join(' '));
  }
});

function runScript(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a 3 s storm against a real control server: every request answered, nothing changed, p99 ratio reported', async () => {
  const engine = fixtureEngine();
  // The first /metrics read is the script's baseline; later ones show a 20 % rise.
  let metricsReads = 0;
  const metrics = engine.handlers.metrics;
  engine.handlers.metrics = () => {
    engine.tickToDecisionP99 = metricsReads++ === 0 ? 0.0001 : 0.00012;
    return metrics();
  };
  const server = await startControlServer({ host: '127.0.0.1', port: 0, token: TOKEN, handlers: engine.handlers });
  const before = structuredClone(engine.params);
  try {
    const { code, stdout, stderr } = await runScript(['--url', server.url, '--duration', '3', '--reload', 'risk'], { POLYEDGE_CONTROL_TOKEN: TOKEN });
    assert.equal(code, 0, stderr + stdout);
    const s = JSON.parse(stdout) as StormSummary;
    // Slots are fixed by rate and duration: 8 clients x 2.5/s x 3 s.
    assert.equal(s.requests, 60);
    assert.deepEqual(s.statuses, { '200': 60 });
    assert.equal(s.posts, 6, 'every tenth slot is a reload');
    assert.equal(engine.calls.filter((c) => c === 'reload:risk').length, s.posts);
    assert.deepEqual(engine.params, before, 'reloads resend the values in force');
    assert.ok(s.clientLatencyMs.p50 > 0 && s.clientLatencyMs.p99 >= s.clientLatencyMs.p50);
    assert.equal(s.tickToDecisionP99.beforeS, 0.0001);
    assert.equal(s.tickToDecisionP99.afterS, 0.00012);
    assert.ok(Math.abs(s.tickToDecisionP99.ratio! - 1.2) < 1e-9);
    assert.equal(s.tickToDecisionP99.withinBar, true);
    assert.equal(s.ok, true);
    const counted = server.requestCounts().reduce((n, c) => n + c.count, 0);
    assert.equal(counted, 60 + 3, 'the storm plus the baseline read, the params read and the final read');
  } finally {
    await server.close();
  }
});

test('a storm without the token fails loudly instead of reporting success', async () => {
  const engine = fixtureEngine();
  const server = await startControlServer({ host: '127.0.0.1', port: 0, token: TOKEN, handlers: engine.handlers });
  try {
    const { code, stdout } = await runScript(['--url', server.url, '--duration', '0.5', '--token', 'wrong'], { POLYEDGE_CONTROL_TOKEN: '' });
    assert.equal(code, 1);
    const s = JSON.parse(stdout) as StormSummary;
    assert.ok((s.statuses['401'] ?? 0) > 0, JSON.stringify(s.statuses));
    assert.equal(s.ok, false);
    assert.deepEqual(engine.calls, []);
  } finally {
    await server.close();
  }
});
