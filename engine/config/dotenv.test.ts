import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PolyedgeError } from '../errors.js';
import { loadDotEnv } from './load.js';

const LOAD = fileURLToPath(new URL('./load.js', import.meta.url));
const NATIVE = fileURLToPath(new URL('../native.js', import.meta.url));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'polyedge-dotenv-'));
}

test('.env follows Node\'s parser: quotes, escapes, export, comments, multi-line values; the environment wins', () => {
  const dir = tempDir();
  try {
    const file = join(dir, '.env');
    writeFileSync(
      file,
      [
        '# a comment',
        'PE_DOTENV_PLAIN=plain # trailing comment',
        'export PE_DOTENV_EXPORTED="two words"',
        "PE_DOTENV_SINGLE='no\\nescape'",
        'PE_DOTENV_DOUBLE="line1\\nline2"',
        'PE_DOTENV_MULTI="first',
        'second"',
        'PE_DOTENV_EMPTY=',
        'PE_DOTENV_SET=from-file',
        'PE_DOTENV_SET_EMPTY=from-file',
        '',
      ].join('\n'),
    );
    process.env.PE_DOTENV_SET = 'from-env';
    process.env.PE_DOTENV_SET_EMPTY = '';
    const set = loadDotEnv(file);
    assert.deepEqual(set.sort(), ['PE_DOTENV_DOUBLE', 'PE_DOTENV_EMPTY', 'PE_DOTENV_EXPORTED', 'PE_DOTENV_MULTI', 'PE_DOTENV_PLAIN', 'PE_DOTENV_SINGLE']);
    assert.equal(process.env.PE_DOTENV_PLAIN, 'plain');
    assert.equal(process.env.PE_DOTENV_EXPORTED, 'two words');
    assert.equal(process.env.PE_DOTENV_SINGLE, 'no\\nescape');
    assert.equal(process.env.PE_DOTENV_DOUBLE, 'line1\nline2');
    assert.equal(process.env.PE_DOTENV_MULTI, 'first\nsecond');
    assert.equal(process.env.PE_DOTENV_EMPTY, '');
    assert.equal(process.env.PE_DOTENV_SET, 'from-env');
    assert.equal(process.env.PE_DOTENV_SET_EMPTY, '', 'a variable set to empty is still set');
    assert.deepEqual(loadDotEnv(join(dir, 'absent.env')), []);
    assert.throws(() => loadDotEnv(dir), (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_CONFIG_READ' && e.message.includes(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A fresh process loads a .env holding a random key, builds the signer from
 * the environment, then writes a heap snapshot; `readInJs` also reads the
 * variable from JS, as a control that the snapshot would show the key.
 */
function keyInHeap(readInJs: boolean): { address: string; inHeap: boolean } {
  const dir = tempDir();
  try {
    const hex = randomBytes(32).toString('hex');
    writeFileSync(join(dir, '.env'), `POLY_PRIVATE_KEY="0x${hex}"\n`);
    const src = `
      import { writeHeapSnapshot } from 'node:v8';
      import { loadDotEnv } from ${JSON.stringify(LOAD)};
      import { native } from ${JSON.stringify(NATIVE)};
      loadDotEnv('.env');
      ${readInJs ? 'globalThis.leak = process.env.POLY_PRIVATE_KEY;' : ''}
      const signer = native.OrderSigner.fromEnv('POLY_PRIVATE_KEY');
      writeHeapSnapshot('heap.heapsnapshot');
      process.stdout.write(signer.address);
    `;
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const heap = readFileSync(join(dir, 'heap.heapsnapshot'), 'utf8');
    return { address: r.stdout, inHeap: heap.includes(hex) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('POLY_PRIVATE_KEY from .env reaches the native signer without becoming a JS string', () => {
  const control = keyInHeap(true);
  assert.ok(control.inHeap, 'control: a key read from process.env is visible in the heap snapshot');
  const r = keyInHeap(false);
  assert.match(r.address, /^0x[0-9a-fA-F]{40}$/, 'the signer was built from the key in .env');
  assert.equal(r.inHeap, false, 'the key must not be in the JS heap');
});
