// What a dry run journals is what live trading would send: a whole
// `polyedge run --mode dry-run` session on the bundled offline data, with the
// L2 credentials set so each body's `owner` is a real API key, then every
// journaled request replayed byte for byte, with L2 HMAC headers over those
// exact bytes, to a venue simulator whose CLOB serves the same markets and
// knows that key pair. The simulator checks each order as the venue does
// (owner, signer, EIP-712 signature for the exchange, amounts on the tick,
// minimum size, expiration, flags), so an accepted body is one the venue
// would take.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Journal } from '../../../journal/journal.js';
import type { JournalRecord, VenueRequestRecord } from '../../../journal/records.js';
import { buildBundledMarkets, STEP_MS } from '../../../sim/bundled-updown.js';
import { CLOB_ERRORS } from '../../../sim/clob/errors.js';
import { VenueSimulator } from '../../../sim/simulator.js';
import { PRICE_SCALE, type Order } from '../../../trading/types.js';
import { l2Headers } from '../order/hmac.js';
import { HARDHAT_ADDRESS, HARDHAT_KEY } from '../order/fixtures/vectors.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'polyedge-dry-run-replay-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

const CREDS = { apiKey: '3f1d9c2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f', secret: 'ZHJ5LXJ1bi1yZXBsYXktdGVzdC1zZWNyZXQtYnl0ZXM=', passphrase: 'dry-run-replay-passphrase' };

/**
 * Refusals the venue gives for the state of the book when an order arrives,
 * not for the order. The replay's simulator follows the recorded day to each
 * request's second, but its book is not the one the dry run priced against:
 * the step may be one off (the engine's clock follows every feed), and the
 * replayed orders rest in it, which in the dry run they never did. So:
 * - post-only crossing: the order would take liquidity from that book (often
 *   one of our own replayed quotes), which post-only forbids;
 * - FOK not filled / FAK no match: a taker finds too little, or nothing, to
 *   match at its limit there.
 * Anything else (owner, signer, signature, size, expiration, payload,
 * duplicate, unknown market, auth) would be a fault of the body and fails;
 * a tick refusal passes only as a tick change in flight (TICK_LAG_STEPS).
 */
const MARKET_REFUSALS: ReadonlySet<string> = new Set([CLOB_ERRORS.postOnlyCrosses, CLOB_ERRORS.fokNotFilled, CLOB_ERRORS.fakNoMatch]);

/**
 * A tick change in flight: the venue moves a market's tick when its price
 * crosses 0.04 or 0.96, and an order priced on the old tick that reaches it
 * after the change is refused (the venue's own rule, live as well). The
 * replay's clock maps engine time to the simulator's steps only to within a
 * step or so (the engine's clock follows every feed, not just the book's), so
 * a tick refusal is accepted when the order's price is on the tick the
 * market had within this many steps before.
 */
const TICK_LAG_STEPS = 3;

/** Each token's tick, in 1e-4 price grid ticks, now. */
function tickOf(sim: VenueSimulator): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of sim.polymarketMarkets()) {
    const grid = Math.round(Number(m.tickSize) * PRICE_SCALE);
    out.set(m.yesTokenId, grid).set(m.noTokenId, grid);
  }
  return out;
}

function runDry(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', POLYEDGE_SHARED_DATA: process.env.POLYEDGE_SHARED_DATA ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // Liveness only: the session ends itself after --duration.
    const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stderr });
    });
  });
}

test('the POST /order bodies a dry run journals, replayed byte for byte with L2 headers, are accepted by the simulator CLOB', async (t) => {
  const config = join(cwd, 'dry.toml');
  writeFileSync(config, '[cpu]\npin = false\n[journal]\nsnapshot_every = 10000000\ncompact = false\n[live]\nmax_order_notional = 20\nmax_open_orders = 6\nmax_daily_notional = 100000\n');
  const journalPath = join(cwd, 'dry.journal');
  const r = await runDry(['run', '--mode', 'dry-run', '--duration', '8', '--speed', '10', '--config', config, '--journal', journalPath, '--port', '0'], {
    POLY_PRIVATE_KEY: HARDHAT_KEY,
    POLY_API_KEY: CREDS.apiKey,
    POLY_API_SECRET: CREDS.secret,
    POLY_API_PASSPHRASE: CREDS.passphrase,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /dry-run: orders signed with POLY_PRIVATE_KEY \(0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\) for owner POLY_API_KEY/);

  const { records, corruption } = Journal.replay(journalPath);
  assert.deepEqual(corruption, []);
  const requests = (records as JournalRecord[]).filter((x): x is VenueRequestRecord => x.type === 'venue_request');
  const posts = requests.filter((x) => x.method === 'POST');
  assert.ok(posts.length > 10, `posted ${posts.length}`);

  // The bundled session's markets, as its simulator serves them; standing at the capture's first second (clockStartMs,
  // never advanced), which every GTD of the session expires after: the dry run signs each one for at least a minute past
  // its own engine time, which is at or after that second.
  const bundle = buildBundledMarkets();
  const sim = new VenueSimulator({
    venues: ['polymarket'],
    speed: 'manual',
    seed: 1,
    polymarket: {
      markets: bundle.markets.map((m) => m.spec),
      stepMs: STEP_MS,
      clockStartMs: bundle.t0Ms,
      clob: { keys: [{ address: HARDHAT_ADDRESS, ...CREDS }] },
    },
  });
  const url = (await sim.start()).polymarket!.restUrl;
  try {
    const outcomes = new Map<string, number>();
    const placed = new Map<string, string>();
    let deletes = 0;
    let steps = 0;
    const ticks = [tickOf(sim)];
    const orders = new Map<string, Order>();
    for (const rec of records as JournalRecord[]) if (rec.type === 'order') orders.set(rec.order.id, rec.order);
    for (const req of requests) {
      // The simulator follows the recorded day to the request's moment: the books, ticks and clock the dry run signed against.
      const want = Math.floor((req.tsMs - bundle.t0Ms) / STEP_MS) + 1;
      while (steps < want && sim.advance('polymarket', 1) === 1) {
        steps++;
        ticks.push(tickOf(sim));
      }
      // The journaled text is the body: no parse and re-serialise between the journal and the wire.
      const headers = l2Headers(HARDHAT_ADDRESS, CREDS, req.method, req.path, req.body, Date.now() / 1000);
      const res = await fetch(url + req.path, { method: req.method, headers: { ...headers, 'content-type': 'application/json' }, body: req.body });
      const answer = (await res.json()) as Record<string, unknown>;
      if (req.method === 'DELETE') {
        deletes++;
        assert.equal(res.status, 200, `DELETE ${req.body}: ${JSON.stringify(answer)}`);
        const canceled = answer.canceled as string[];
        const notCanceled = answer.not_canceled as Record<string, string>;
        if (placed.get(req.venueOrderId) === 'live') {
          // Our own later taker may have matched it: the book is ours alone in the replay.
          assert.ok(canceled.includes(req.venueOrderId) || /matched/.test(notCanceled[req.venueOrderId] ?? ''), `cancel of a resting order: ${JSON.stringify(answer)}`);
        } else assert.ok(req.venueOrderId in notCanceled, `an order the simulator never rested is not cancelled: ${JSON.stringify(answer)}`);
        continue;
      }
      const what = `${req.orderId} ${req.body}`;
      if (res.status === 200) {
        assert.equal(answer.success, true, what);
        assert.equal(answer.orderID, req.venueOrderId, 'the simulator hashes the order to the id the dry run journaled');
        placed.set(req.venueOrderId, String(answer.status));
        outcomes.set(`accepted ${String(answer.status)}`, (outcomes.get(`accepted ${String(answer.status)}`) ?? 0) + 1);
      } else {
        assert.equal(res.status, 400, `${what}: ${JSON.stringify(answer)}`);
        const reason = String(answer.error);
        if (reason === CLOB_ERRORS.tickSize) {
          const o = orders.get(req.orderId)!;
          const token = (JSON.parse(req.body) as { order: { tokenId: string } }).order.tokenId;
          const recent = ticks.slice(-TICK_LAG_STEPS - 1).map((at) => at.get(token)!);
          assert.ok(recent.some((tick) => o.price % tick === 0) && o.price % recent[recent.length - 1]! !== 0, `tick refusal without a tick change in flight: ${what} ${JSON.stringify(recent)}`);
          outcomes.set(reason, (outcomes.get(reason) ?? 0) + 1);
          continue;
        }
        assert.ok(MARKET_REFUSALS.has(reason), `refused for a reason that is not the market's: ${reason}\n${what}`);
        outcomes.set(reason, (outcomes.get(reason) ?? 0) + 1);
      }
    }
    t.diagnostic(`${posts.length} POST /order, ${deletes} DELETE /order replayed: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    const accepted = [...outcomes].filter(([k]) => k.startsWith('accepted')).reduce((s, [, v]) => s + v, 0);
    // Most of the session's quotes rest away from the touch; a replay that refuses all of them would hide a format fault.
    assert.ok(accepted >= posts.length / 2, `accepted ${accepted} of ${posts.length}`);
  } finally {
    await sim.stop();
  }
});
