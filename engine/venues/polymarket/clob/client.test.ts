// The client's pure parts: batch splitting, cursor paging, the version
// mismatch test, the status → error mapping and the retry delays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolyedgeError } from '../../../errors.js';
import { backoffDelayMs } from '../../../../workers/backoff.js';
import { Prng } from '../../../../workers/prng.js';
import { chunks, collectPages, isVersionMismatch, MAX_BATCH_ORDERS } from './client.js';
import { END_CURSOR, FIRST_CURSOR, type Page } from './responses.js';
import { statusError } from './transport.js';

test('batches split at 15, in order, with nothing lost or repeated', () => {
  assert.equal(MAX_BATCH_ORDERS, 15);
  const items = Array.from({ length: 47 }, (_, i) => i);
  const parts = chunks(items, MAX_BATCH_ORDERS);
  assert.deepEqual(parts.map((p) => p.length), [15, 15, 15, 2]);
  assert.deepEqual(parts.flat(), items);
  assert.deepEqual(chunks([], 15), []);
  assert.deepEqual(chunks([1, 2, 3], 15), [[1, 2, 3]]);
  assert.deepEqual(chunks(Array.from({ length: 15 }, (_, i) => i), 15).length, 1);
  assert.throws(() => chunks([1], 0), RangeError);
});

test('paging walks from MA== to LTE= and keeps every item in order', async () => {
  const pages: Record<string, Page<number>> = {
    [FIRST_CURSOR]: { data: [1, 2], next_cursor: 'Mg==' },
    'Mg==': { data: [], next_cursor: 'NA==' },
    'NA==': { data: [3], next_cursor: END_CURSOR },
  };
  const asked: string[] = [];
  const all = await collectPages('GET /data/orders', async (c) => {
    asked.push(c);
    return pages[c]!;
  });
  assert.deepEqual(all, [1, 2, 3]);
  assert.deepEqual(asked, [FIRST_CURSOR, 'Mg==', 'NA==']);
  assert.deepEqual(await collectPages('x', async () => ({ data: [9], next_cursor: '' })), [9], 'an empty cursor ends the listing');
});

test('a cursor that repeats or never ends is a CLOB fault, not a short list', async () => {
  await assert.rejects(
    collectPages('GET /data/trades', async (c) => ({ data: [1], next_cursor: c === FIRST_CURSOR ? 'A' : 'A' })),
    (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_CLOB_RESPONSE' && /repeats "A"/.test(e.message),
  );
  let n = 0;
  await assert.rejects(
    collectPages('GET /data/trades', async () => ({ data: [], next_cursor: `c${n++}` }), 5),
    (e: unknown) => e instanceof PolyedgeError && e.code === 'PE_CLOB_RESPONSE' && /within 5 pages/.test(e.message),
  );
  assert.equal(n, 5);
});

test('version mismatch is recognised inside the CLOB message', () => {
  assert.ok(isVersionMismatch('order_version_mismatch'));
  assert.ok(isVersionMismatch('invalid order: order_version_mismatch (expected 3)'));
  assert.ok(!isVersionMismatch('not enough balance / allowance'));
});

test('HTTP statuses map to typed errors with stable codes and the venue message', () => {
  const cases: Array<[number, string, string, boolean]> = [
    [400, 'bad_request', 'PE_CLOB_REQUEST', false],
    [401, 'auth', 'PE_CLOB_AUTH', false],
    [404, 'not_found', 'PE_CLOB_NOT_FOUND', false],
    [425, 'not_ready', 'PE_CLOB_NOT_READY', false],
    [429, 'rate_limited', 'PE_CLOB_RATE_LIMIT', false],
    [500, 'server', 'PE_CLOB_SERVER', true],
    [503, 'server', 'PE_CLOB_SERVER', true],
    [302, 'http', 'PE_CLOB_HTTP', false],
  ];
  for (const [status, kind, code, maybe] of cases) {
    const e = statusError('POST /order', { status, text: '{"error":"the reason"}' });
    assert.equal(e.kind, kind, String(status));
    assert.equal(e.code, code, String(status));
    assert.equal(e.status, status);
    assert.equal(e.maybeDelivered, maybe, String(status));
    assert.equal(e.venueMessage, 'the reason');
    assert.equal(e.format(), `${code} POST /order → ${status}: the reason`);
  }
  assert.equal(statusError('GET /time', { status: 429, text: '', retryAfter: '2' }).retryAfterMs, 2000);
  assert.equal(statusError('GET /time', { status: 429, text: '', retryAfter: '99999' }).retryAfterMs, 30_000, 'capped');
  assert.equal(statusError('GET /time', { status: 429, text: '', retryAfter: 'soon' }).retryAfterMs, 0);
  assert.equal(statusError('GET /time', { status: 502, text: '' }).venueMessage, 'HTTP 502');
});

test('retry delays stay within the doubling cap and repeat under one seed', () => {
  const b = { baseMs: 100, maxMs: 3_000 };
  const rng = new Prng(7);
  const first: number[] = [];
  for (let attempt = 0; attempt < 12; attempt++) {
    const cap = Math.min(b.maxMs, b.baseMs * 2 ** attempt);
    for (let k = 0; k < 50; k++) {
      const d = backoffDelayMs(attempt, b, () => rng.next());
      assert.ok(Number.isInteger(d) && d >= 0 && d < cap, `attempt ${attempt}: ${d} outside [0, ${cap})`);
      if (k === 0) first.push(d);
    }
  }
  const again = new Prng(7);
  const replay: number[] = [];
  for (let attempt = 0; attempt < 12; attempt++) {
    for (let k = 0; k < 50; k++) {
      const d = backoffDelayMs(attempt, b, () => again.next());
      if (k === 0) replay.push(d);
    }
  }
  assert.deepEqual(replay, first);
});
