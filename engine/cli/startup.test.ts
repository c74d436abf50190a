// `polyedge run` refusing to start, as a supervisor sees it: a real process
// that must print one `error: CODE` line and exit with the catalog's code,
// instead of living on without serving. The kill deadline only bounds a hang;
// the measured exit times go to the test's diagnostics.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS, type ErrorCode } from '../errors.js';
import { Journal } from '../journal/journal.js';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
const KILL_AFTER_MS = 10_000;
// A clean environment: nothing from the developer's shell or a .env leaks in.
const cwd = mkdtempSync(join(tmpdir(), 'polyedge-startup-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** From spawn to exit. */
  ms: number;
  /** From the `error:` line reaching us to exit. */
  afterErrorMs: number | undefined;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let errorAt: number | undefined;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (errorAt === undefined && /^error: /m.test(stderr)) errorAt = Date.now();
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(kill);
      const now = Date.now();
      resolve({ code, signal, stderr, ms: now - t0, afterErrorMs: errorAt === undefined ? undefined : now - errorAt });
    });
  });
}

/** The process exited by itself with `code`'s exit status and one `error: CODE` line matching `message`. */
function assertRefused(t: { diagnostic(m: string): void }, r: Exit, code: ErrorCode, message: RegExp): void {
  assert.equal(r.signal, null, `still running after ${KILL_AFTER_MS} ms, killed; stderr:\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, new RegExp(`^error: ${code} `), r.stderr);
  assert.match(lines[0]!, message);
  assert.equal(r.code, ERRORS[code].exit, r.stderr);
  assert.doesNotMatch(r.stderr, /PE_INTERNAL/);
  t.diagnostic(`exited ${r.code} after ${r.ms} ms, ${r.afterErrorMs} ms after its error line`);
}

function file(name: string, content: string | Buffer): string {
  const path = join(cwd, name);
  writeFileSync(path, content);
  return path;
}

/** Deterministic bytes: the same "random" journal on every run. */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

// Unpinned: the tests share two cores with everything else.
const UNPINNED = file('unpinned.toml', '[cpu]\npin = false\n');
// Were any of these to start, it would run this long: only a refusal ends them sooner.
const LONG = ['--duration', '30'];

test('--port out of range is a usage error naming the flag', async (t) => {
  const r = await run(['run', ...LONG, '--config', UNPINNED, '--journal', join(cwd, 'a.journal'), '--port', '99999']);
  assertRefused(t, r, 'PE_USAGE', /--port must be an integer in \[0, 65535\], got "99999"/);
});

test('an empty --journal is a usage error', async (t) => {
  const r = await run(['run', ...LONG, '--config', UNPINNED, '--journal', '', '--port', '0']);
  assertRefused(t, r, 'PE_USAGE', /--journal must name a file/);
});

test('a directory as journal is refused as one', async (t) => {
  const r = await run(['run', ...LONG, '--config', UNPINNED, '--journal', '/', '--port', '0']);
  assertRefused(t, r, 'PE_JOURNAL_OPEN', /journal "\/": is a directory/);
});

test('a file that is not a journal is refused and left untouched', async (t) => {
  const text = 'positions.csv: token,size\n123,5\n';
  const path = file('notes.txt', text);
  const r = await run(['run', ...LONG, '--config', UNPINNED, '--journal', path, '--port', '0']);
  assertRefused(t, r, 'PE_JOURNAL_FOREIGN', /notes\.txt: not a polyedge journal/);
  assert.equal(readFileSync(path, 'utf8'), text);
});

test('a journal of random bytes is refused and left untouched', async (t) => {
  const bytes = noise(4096, 13);
  const path = file('random.journal', bytes);
  const r = await run(['run', ...LONG, '--config', UNPINNED, '--journal', path, '--port', '0']);
  assertRefused(t, r, 'PE_JOURNAL_FOREIGN', /random\.journal: not a polyedge journal/);
  assert.deepEqual(readFileSync(path), bytes);
});

test('a control port in use stops everything already started and exits; the journal stays whole', async (t) => {
  const holder: Server = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  t.after(() => holder.close());
  const port = (holder.address() as AddressInfo).port;
  const journal = join(cwd, 'in-use.journal');
  const r = await run(['run', ...LONG, '--config', UNPINNED, '--journal', journal, '--port', String(port)]);
  assertRefused(t, r, 'PE_IO', new RegExp(`control\\.port: 127\\.0\\.0\\.1:${port} is already in use`));
  // The failure came after the simulator, the feed workers and the journal had started.
  assert.match(r.stderr, /venue simulator on loopback/);
  assert.match(r.stderr, /journal .*in-use\.journal: 0 records replayed/);
  assert.equal(Journal.replay(journal).corruption.length, 0);
});

test('a non-loopback control host without POLYEDGE_CONTROL_TOKEN is refused before anything starts', async (t) => {
  const cfg = file('open.toml', '[cpu]\npin = false\n[control]\nhost = "0.0.0.0"\n');
  const r = await run(['run', ...LONG, '--config', cfg, '--journal', join(cwd, 'b.journal'), '--port', '0']);
  assertRefused(t, r, 'PE_ENV_MISSING', /POLYEDGE_CONTROL_TOKEN: must be set to bind the control plane on non-loopback host 0\.0\.0\.0/);
  assert.doesNotMatch(r.stderr, /venue simulator/);
});

test('an unresolvable control host is a config error naming the key', async (t) => {
  // .invalid never resolves (RFC 6761 §6.4).
  const cfg = file('nohost.toml', '[cpu]\npin = false\n[control]\nhost = "polyedge.invalid"\n');
  const r = await run(['run', ...LONG, '--config', cfg, '--journal', join(cwd, 'c.journal'), '--port', '0'], { POLYEDGE_CONTROL_TOKEN: 'a-token-for-this-test' });
  assertRefused(t, r, 'PE_CONFIG_INVALID', /control\.host: polyedge\.invalid cannot be resolved/);
  assert.doesNotMatch(r.stderr, /venue simulator/);
});

test('a TOML syntax error names the file, the line and the key', async (t) => {
  const cfg = file('syntax.toml', '# comment\n[cpu]\npin = false\n\n[control]\nport = 74x20\n');
  const r = await run(['run', ...LONG, '--config', cfg]);
  assertRefused(t, r, 'PE_CONFIG_READ', /syntax\.toml: not valid TOML at line 6, key control\.port: /);
});

test('negative numbers get a range error naming the flag', async (t) => {
  const journal = ['--config', UNPINNED, '--journal', join(cwd, 'd.journal')];
  for (const [flag, value, message] of [
    ['--port', '-1', /--port must be an integer in \[0, 65535\], got "-1"/],
    ['--seed', '-5', /--seed must be a non-negative integer, got "-5"/],
    ['--duration', '-3', /--duration must be an integer >= 1, got "-3"/],
    ['--speed', '-0.5', /--speed must be a positive number, got "-0.5"/],
  ] as const) {
    assertRefused(t, await run(['run', ...journal, flag, value]), 'PE_USAGE', message);
  }
});

test('--duration 0 is refused rather than read as "run forever"', async (t) => {
  const r = await run(['run', '--config', UNPINNED, '--journal', join(cwd, 'e.journal'), '--duration', '0']);
  assertRefused(t, r, 'PE_USAGE', /--duration must be an integer >= 1, got "0"/);
});

test('stray positional arguments are refused', async (t) => {
  for (const args of [['run', 'sim'], ['run', '--duration', '5', '--journal', join(cwd, 'f.journal'), 'extra'], ['version', 'now']]) {
    assertRefused(t, await run(args), 'PE_USAGE', /Unexpected argument '(sim|extra|now)'/);
  }
});
