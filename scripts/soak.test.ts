// The soak as a user runs it, for a few seconds: the report's fields are there and sane (no performance bar).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runNode } from './run-node.fixture.js';
import { PolyedgeError } from '../engine/errors.js';
import { parseSoakArgs, slope, type SoakReport } from './soak.js';

const SCRIPT = fileURLToPath(new URL('./soak.js', import.meta.url));

test('arguments: defaults and usage errors', () => {
  const d = parseSoakArgs([]);
  assert.deepEqual(
    { minutes: d.minutes, faultRate: d.faultRate, rate: d.rate, warmupMinutes: d.warmupMinutes, jsonPath: d.jsonPath },
    { minutes: 5, faultRate: 0.02, rate: 20, warmupMinutes: 1, jsonPath: 'soak.json' },
  );
  assert.equal(parseSoakArgs(['--minutes', '30']).warmupMinutes, 2);
  for (const argv of [['--minutes', '0'], ['--minutes', 'x'], ['--fault-rate', '2'], ['--sample-ms', '1.5'], ['--warmup-minutes', '9'], ['--nope', '1']]) {
    assert.throws(() => parseSoakArgs(argv), (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_USAGE', argv.join(' '));
  }
});

test('slope is the least-squares fit', () => {
  assert.equal(slope([0, 1, 2, 3], [10, 12, 14, 16]), 2);
  assert.ok(Math.abs(slope([0, 1, 2], [1, 0, 1])) < 1e-12);
  assert.ok(Number.isNaN(slope([1], [1])));
});

test('a short soak reports memory, lag, faults and requests', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-soak-test-'));
  const json = join(dir, 'soak.json');
  try {
    const args = [SCRIPT, '--minutes', '0.2', '--sample-ms', '500', '--warmup-minutes', '0', '--fault-rate', '0.2', '--json', json, '--engine-log', join(dir, 'engine.log')];
    const { code, stdout, stderr } = await runNode(args);
    assert.equal(code, 0, `${stderr}\n${stdout}`);
    const r = JSON.parse(readFileSync(json, 'utf8')) as SoakReport;
    assert.ok(r.samples >= 10 && r.series.length === r.samples, `samples ${r.samples}`);
    for (const s of [r.start, r.end]) {
      assert.ok(s.rssMb > s.heapUsedMb && s.heapUsedMb > 0 && s.heapUsedMb <= s.heapTotalMb, JSON.stringify(s));
      assert.ok(s.externalMb > 0 && s.arrayBuffersMb >= 0, JSON.stringify(s));
    }
    assert.ok(r.end.tMin >= 0.19 && r.end.tMin < 1, `ran ${r.end.tMin} min`);
    for (const v of Object.values(r.slopeMbPerMin)) assert.ok(Number.isFinite(v), JSON.stringify(r.slopeMbPerMin));
    const lag = r.eventLoopLag;
    assert.ok(lag.windows >= 1 && lag.maxS >= lag.p99S && lag.p99S >= 0 && lag.maxS >= lag.p99WorstS && lag.p99WorstS >= lag.p99MedianS, JSON.stringify(lag));
    assert.ok(r.gc.minor > 0, JSON.stringify(r.gc));
    assert.ok(r.faults.injected > 0 && Object.keys(r.faults.byVenue).length > 0, JSON.stringify(r.faults));
    assert.deepEqual(Object.keys(r.reconnects).sort(), ['deribit', 'polymarket', 'rtds']);
    assert.ok(r.requests.served > 50 && r.requests.failed === 0 && r.requests.sent === r.requests.served, JSON.stringify(r.requests));
    assert.match(stdout, /^RSS\s+\S+ -> \S+ MB, slope \S+ MB\/min$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
