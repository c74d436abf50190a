// `polyedge record` as a user runs it, against the in-process simulator: the
// files it lists are the ones it wrote, its counters agree with what
// `polyedge replay` reads back from them, and it stops by itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultBinanceCapturePath } from '../sim/recorded.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../../../configs/default.toml', import.meta.url));
const CAPTURE = defaultBinanceCapturePath();

function run(args: string[], cwd: string) {
  // A generous guard: a recorder that never stops fails the test instead of hanging it.
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('record --sim writes the files it lists, counts what replay reads back, and stops after --duration', { skip: existsSync(CAPTURE) ? false : `no capture at ${CAPTURE}` }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-record-'));
  try {
    const out = join(dir, 'out');
    const r = run(['record', '--sim', '--feeds', 'binance', '--duration', '1', '--out', out, '--config', CONFIG], dir);
    assert.equal(r.code, 0, r.stderr);
    // Where uWebSockets.js cannot load (Node > 20), the simulator says once that it serves with ws: not the recorder's output.
    const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('venue simulator: '));
    assert.match(lines[0]!, /^binance: worker thread \d+ pinned to core (none|\d+) \(affinity [\d,]*\)$/);
    assert.ok(lines.includes(`recording to ${out} for 1 s`), r.stderr);
    const m = /^binance: (\d+) frames \d+\.\d MB (\d+) snapshots 0 bad$/.exec(lines.at(-1)!);
    assert.ok(m, `final status line: ${lines.at(-1)}`);
    const frames = Number(m[1]);
    assert.ok(frames > 0, 'the simulator sent frames within a second');

    const files = r.stdout.trimEnd().split('\n');
    assert.equal(files.length, 1, r.stdout);
    assert.ok(files[0]!.startsWith(join(out, 'binance-')) && files[0]!.endsWith('.pedrec') && existsSync(files[0]!), files[0]);

    const back = run(['replay', '--input', files[0]!], dir);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stderr, `replayed binance: ${frames} frames, ${m[2]} snapshots, 0 gaps, 0 resyncs, 0 parse errors\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
