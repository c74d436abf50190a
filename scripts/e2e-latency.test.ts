// The latency suite as a user runs it: a child process, a short run, the table and the JSON file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runNode } from './run-node.fixture.js';
import { PolyedgeError } from '../engine/errors.js';
import { parseE2eArgs, type E2eReport } from './e2e-latency.js';

const SCRIPT = fileURLToPath(new URL('./e2e-latency.js', import.meta.url));

test('arguments: defaults and usage errors', () => {
  assert.deepEqual(parseE2eArgs([]), { ticks: 2000, rate: 200, speed: 4, wait: 'async', warmupMs: 2000, jsonPath: 'e2e-latency.json' });
  assert.equal(parseE2eArgs(['--ticks', '50', '--wait', 'spin']).wait, 'spin');
  for (const argv of [['--ticks', '0'], ['--ticks', '1.5'], ['--wait', 'sleep'], ['--rate', 'x'], ['--nope', '1']]) {
    assert.throws(() => parseE2eArgs(argv), (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_USAGE', argv.join(' '));
  }
});

test('a short run: every relay tick arrives and reaches decisions; the table and the JSON agree', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-e2e-test-'));
  const json = join(dir, 'out.json');
  try {
    const { code, stdout, stderr } = await runNode([SCRIPT, '--ticks', '300', '--rate', '300', '--warmup', '500', '--json', json]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(readFileSync(json, 'utf8')) as E2eReport;
    assert.deepEqual(report.relay, { sent: 300, received: 300, lost: 0, garbage: 0 });
    const byName = new Map(report.rows.map((r) => [r.name, r]));
    const relay = byName.get('tick → decision, relay (relay receive → decision)');
    assert.ok(relay && relay.count >= 300, `relay ticks reached decisions: ${JSON.stringify(report.rows)}`);
    assert.ok(relay.p50Us > 0 && relay.p99Us >= relay.p50Us);
    assert.equal(byName.get('relay send → receive (wall clocks, loopback)')?.count, 300);
    const all = byName.get('tick → decision (all sources)')!;
    assert.ok(all.count >= relay.count);
    assert.ok(report.layout.some((l) => /relay receiver on 127\.0\.0\.1:\d+/.test(l)));
    for (const r of report.rows) assert.match(stdout, new RegExp(`^${r.name.replace(/[()→.]/g, '.')}\\s+${r.count}\\s`, 'm'), `table row ${r.name}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
