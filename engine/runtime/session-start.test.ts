// A failed start undoes itself: run in a child process that never calls
// process.exit, the session's own teardown must leave nothing (thread, timer,
// socket) that keeps the process alive. The kill deadline only bounds a hang.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KILL_AFTER_MS = 20_000;
const dir = mkdtempSync(join(tmpdir(), 'polyedge-session-start-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'unpinned.toml');
writeFileSync(config, '[cpu]\npin = false\n');

const CHILD = `
import { createServer } from 'node:net';
import { loadConfig } from ${JSON.stringify(new URL('../config/load.js', import.meta.url).href)};
import { startSession } from ${JSON.stringify(new URL('./session.js', import.meta.url).href)};
import { bundledVenues } from ${JSON.stringify(new URL('../sim/offline.js', import.meta.url).href)};
const [config, journalPath, portInUse] = process.argv.slice(2);
const holder = createServer();
await new Promise((r) => holder.listen(0, '127.0.0.1', r));
const opts = { cfg: loadConfig(config), offline: bundledVenues(), speed: 1, seed: 1, journalPath, log: () => {} };
try {
  const session = await startSession({ ...opts, controlPort: portInUse === 'yes' ? holder.address().port : 0 });
  await session.stop();
  console.log(JSON.stringify({ stopped: true }));
} catch (err) {
  console.log(JSON.stringify({ code: err.code, message: err.message }));
}
holder.close();
`;

// A file rather than --eval: worker threads inherit the parent's exec flags, and --input-type breaks them.
const script = join(dir, 'start.mjs');
writeFileSync(script, CHILD);

function child(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), KILL_AFTER_MS);
    p.once('error', reject);
    p.once('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

test('a start that fails after the simulator, the feed workers and the journal started leaves nothing running', async (t) => {
  const r = await child([config, join(dir, 'a.journal'), 'yes']);
  assert.equal(r.signal, null, `the process did not end by itself: ${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { code: string; message: string };
  assert.equal(out.code, 'PE_IO', out.message);
  assert.match(out.message, /already in use/);
  t.diagnostic(`process ended ${r.ms} ms after spawn`);
});

test('stop() after a good start leaves nothing running either', async (t) => {
  const r = await child([config, join(dir, 'b.journal'), 'no']);
  assert.equal(r.signal, null, `the process did not end by itself: ${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { stopped: true });
  t.diagnostic(`process ended ${r.ms} ms after spawn`);
});
