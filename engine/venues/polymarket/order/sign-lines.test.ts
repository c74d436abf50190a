import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../../native.js';
import { HARDHAT_KEY, VECTORS } from './fixtures/vectors.js';
import { signLines } from './sign-lines.js';

const signer = native.OrderSigner.fromHex(HARDHAT_KEY);

async function* linesOf(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

test('signLines: one output line per non-blank input, in order; a bad line an error line and a message, the run goes on', async () => {
  const [a, b] = [VECTORS[0]!, VECTORS[2]!];
  const out: string[] = [];
  const err: string[] = [];
  const r = await signLines(linesOf([JSON.stringify(a.input), '', '{not json', '  ', JSON.stringify({ ...b.input, side: 'HOLD' }), JSON.stringify(b.input)]), signer, 137, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  });
  assert.deepEqual(r, { lines: 6, rejected: 2 });
  assert.equal(out.length, 4);
  assert.equal(out[0], `{"hash":"${a.hash}","signature":"${a.signature}"}\n`);
  assert.equal(out[3], `{"hash":"${b.hash}","signature":"${b.signature}"}\n`);
  const bad = out.slice(1, 3).map((l) => JSON.parse(l) as { line: number; error: string; field: string | null });
  assert.deepEqual(
    bad.map((e) => e.line),
    [3, 5],
  );
  assert.equal(bad[0]!.error, 'PE_INPUT_JSON');
  assert.match(bad[1]!.error, /^PE_/);
  assert.equal(bad[1]!.field, 'side');
  assert.equal(err.length, 2);
  assert.match(err[0]!, /^line 3: PE_INPUT_JSON /);
  assert.match(err[1]!, /^line 5: PE_\w+ /);
});
