// The dry-run venue: unit behaviour against real journals, and a whole
// `polyedge run --mode dry-run` session on the bundled offline data whose
// journaled bodies are checked with an EIP-712 implementation independent of
// the native signer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyTypedData } from 'ethers';
import { Journal } from '../../../journal/journal.js';
import { JournalLedger } from '../../../journal/ledger.js';
import type { JournalInput, JournalRecord, VenueRequestRecord, VenueResponseRecord } from '../../../journal/records.js';
import { native } from '../../../native.js';
import { exchangeAddress } from '../order/exchanges.js';
import { ETHERS_ORDER_V2_TYPES, HARDHAT_ADDRESS, HARDHAT_KEY } from '../order/fixtures/vectors.js';
import { binaryMarket, tokensOf } from '../../../strategy/context.fixture.js';
import { notionalMicros, PRICE_SCALE, Side, UNIT, type ExecutionListener, type MarketDescriptor, type Order, type OrderType } from '../../../trading/types.js';
import { DryRunVenue } from './dry-run.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'polyedge-dry-run-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

const T0 = 1_761_766_000_000;
const signing = { order_version: 2 as const, signature_type: 0 as const, funder: '', chain_id: 137 };

function harness(version: 2 | 3 = 2) {
  const markets = [binaryMarket(0, { tickSize: 100, minSize: 5 * UNIT })];
  const tokens = tokensOf(markets);
  const records: JournalInput[] = [];
  const reports: string[] = [];
  const listener: ExecutionListener = {
    onAck: (o) => reports.push(`ack ${o.id} ${o.status}`),
    onReject: (o, r) => reports.push(`reject ${o.id} ${r}`),
    onFill: (f) => reports.push(`fill ${f.orderId}`),
    onCancel: (o) => reports.push(`cancel ${o.id} ${o.status}`),
    onExpire: (o) => reports.push(`expire ${o.id} ${o.status}`),
  };
  const venue = new DryRunVenue({ signer: native.OrderSigner.fromHex(HARDHAT_KEY), owner: 'owner-key', signing: { ...signing, order_version: version }, markets, tokens, listener, record: (r) => records.push(r) });
  return { venue, records, reports, markets };
}

let nextId = 0;
function order(over: Partial<Order> = {}): Order {
  return { id: `o${++nextId}`, strategy: 'maker', token: 0, side: Side.Buy, price: 4_500, size: 10 * UNIT, filled: 0, type: 'GTC', postOnly: true, expiresMs: NaN, reason: 'test', status: 'pending', createdMs: T0, ackMs: NaN, ...over };
}

const requests = (rs: readonly JournalInput[]) => rs.filter((r): r is Omit<VenueRequestRecord, 'seq'> => r.type === 'venue_request');
const responses = (rs: readonly JournalInput[]) => rs.filter((r): r is Omit<VenueResponseRecord, 'seq'> => r.type === 'venue_response');

/** The signer the body's signature recovers to, for the exchange of `version` (EIP-712 by ethers, not the native signer). */
function recover(body: { order: Record<string, unknown> & { side: string; signature: string } }, version: 2 | 3, negRisk: boolean): string {
  const domain = { name: 'Polymarket CTF Exchange', version: String(version), chainId: 137, verifyingContract: exchangeAddress(version, 137, negRisk) };
  return verifyTypedData(domain, ETHERS_ORDER_V2_TYPES, { ...body.order, side: body.order.side === 'BUY' ? 0 : 1 }, body.order.signature);
}

test('a GTC order is journaled as its signed POST body, acked live from advance(), never filled; its cancel journals the DELETE body', () => {
  const { venue, records, reports } = harness();
  const o = order();
  venue.submit(o, T0);
  assert.deepEqual(reports, [], 'reports come from advance(), not from inside submit()');
  assert.equal(venue.nextDueMs(), T0);
  venue.advance(T0);
  assert.deepEqual(reports, [`ack ${o.id} open`]);
  const [post] = requests(records);
  assert.equal(post!.method, 'POST');
  assert.equal(post!.path, '/order');
  const body = JSON.parse(post!.body);
  assert.equal(JSON.stringify(body), post!.body, 'the body is canonical JSON text, byte for byte what would be sent');
  assert.deepEqual({ ...body.order, signature: undefined, salt: undefined }, {
    maker: HARDHAT_ADDRESS, signer: HARDHAT_ADDRESS, tokenId: '1000', makerAmount: '4500000', takerAmount: '10000000', side: 'BUY', signatureType: 0,
    timestamp: String(T0), expiration: '0', metadata: `0x${'0'.repeat(64)}`, builder: `0x${'0'.repeat(64)}`, signature: undefined, salt: undefined,
  });
  assert.deepEqual([body.owner, body.orderType, body.postOnly, body.deferExec], ['owner-key', 'GTC', true, false]);
  assert.equal(recover(body, 2, false), HARDHAT_ADDRESS);
  assert.deepEqual(responses(records).map((r) => [r.method, r.status, r.orderID, r.success]), [['POST', 'live', post!.venueOrderId, true]]);
  assert.doesNotMatch(JSON.stringify(records), /POLY_|secret|passphrase/i, 'no secret and no auth header is journaled');

  assert.equal(venue.cancel(o.id, T0 + 5), true);
  assert.equal(venue.cancel(o.id, T0 + 6), false, 'a second cancel of the same order is refused');
  venue.advance(T0 + 6);
  assert.deepEqual(reports.slice(1), [`cancel ${o.id} cancelled`]);
  const del = requests(records)[1]!;
  assert.deepEqual([del.method, del.path, del.body], ['DELETE', '/order', JSON.stringify({ orderID: post!.venueOrderId })]);
  assert.equal(venue.nextDueMs(), Infinity);
});

test('FOK/FAK follow the market-order amount rules and are cancelled unfilled; GTD carries the 60 s threshold and expires; V3 signs for the V3 exchange', () => {
  const { venue, records, reports } = harness(3);
  const fak = order({ type: 'FAK', postOnly: false, price: 5_600, size: 178_570_000 });
  const sell = order({ type: 'FOK', postOnly: false, side: Side.Sell, price: 5_000, size: 100 * UNIT });
  const expiresMs = T0 + 120_500;
  const gtd = order({ type: 'GTD', expiresMs });
  for (const o of [fak, sell, gtd]) venue.submit(o, T0);
  venue.advance(T0);
  assert.deepEqual(reports, [`ack ${fak.id} open`, `cancel ${fak.id} cancelled`, `ack ${sell.id} open`, `cancel ${sell.id} cancelled`, `ack ${gtd.id} open`]);
  const bodies = requests(records).map((r) => JSON.parse(r.body));
  // A market BUY spends the notional in dollars, floored to cents (protocols §7.5): $100.00 at 0.56.
  assert.equal(notionalMicros(fak.price, fak.size), 99_999_200);
  assert.deepEqual([bodies[0].order.makerAmount, bodies[0].order.takerAmount, bodies[0].orderType], ['99990000', '178553500', 'FAK']);
  assert.deepEqual([bodies[1].order.makerAmount, bodies[1].order.takerAmount, bodies[1].order.side], ['100000000', '50000000', 'SELL']);
  assert.equal(bodies[2].order.expiration, String(Math.ceil(expiresMs / 1000) + 60));
  for (const b of bodies) assert.equal(recover(b, 3, false), HARDHAT_ADDRESS);
  assert.deepEqual(responses(records).map((r) => r.status), ['unmatched', 'unmatched', 'live']);
  assert.equal(venue.nextDueMs(), (Math.ceil(expiresMs / 1000)) * 1000);
  venue.advance(venue.nextDueMs() - 1);
  assert.equal(reports.length, 5);
  venue.advance(venue.nextDueMs());
  assert.deepEqual(reports.slice(5), [`expire ${gtd.id} expired`]);
});

test('orders the venue would refuse are rejected without a request; resetToken ends the token\'s orders at once', () => {
  const { venue, records, reports } = harness();
  const offTick = order({ price: 4_550 });
  const small = order({ size: 4 * UNIT });
  const late = order({ type: 'GTD', expiresMs: T0 });
  const stranger = order({ token: 7 });
  const twice = order();
  for (const o of [offTick, small, late, stranger, twice]) venue.submit(o, T0);
  venue.submit({ ...twice, status: 'pending' }, T0);
  const other = order({ token: 1 });
  venue.submit(other, T0);
  venue.resetToken(0);
  assert.deepEqual(reports, [
    `reject ${offTick.id} invalid_order`,
    `reject ${small.id} invalid_order`,
    `reject ${late.id} expired`,
    `reject ${stranger.id} unknown_token`,
    `ack ${twice.id} open`,
    `reject ${twice.id} duplicate_id`,
    `ack ${other.id} open`,
    `cancel ${twice.id} cancelled`,
  ]);
  assert.equal(requests(records).length, 2, 'only the two valid orders were posted; a closed market needs no DELETE');
  assert.equal(venue.openCount, 1);
});

test('the ledger tracks venue requests without an answer, through a snapshot, and restore reads the new kinds', () => {
  const path = join(cwd, 'inflight.journal');
  const { journal } = Journal.open(path, { fsync: 'never' });
  const req = (orderId: string, method: 'POST' | 'DELETE'): JournalInput => ({ type: 'venue_request', tsMs: T0, v: 1, orderId, method, path: '/order', body: '{}', venueOrderId: '' });
  const res = (orderId: string, method: 'POST' | 'DELETE'): JournalInput => ({
    type: 'venue_response', tsMs: T0 + 1, v: 1, orderId, method, httpStatus: 200, success: true, errorMsg: '', orderID: '0xab', status: method === 'POST' ? 'live' : '', makingAmount: '0', takingAmount: '',
  });
  const ledger = new JournalLedger({ applyFill: () => true, restore: () => {} });
  for (const r of [req('a', 'POST'), res('a', 'POST'), req('b', 'POST'), req('a', 'DELETE')]) {
    journal.append(r);
    ledger.apply(r);
  }
  assert.deepEqual([...ledger.inFlight.keys()], ['POST b', 'DELETE a']);
  journal.checkpoint(ledger.snapshot(null, T0 + 2));
  journal.append(res('b', 'POST'));
  journal.close();
  const replay = Journal.replay(path);
  assert.deepEqual(replay.corruption, []);
  const again = new JournalLedger({ applyFill: () => true, restore: () => {} });
  for (const r of replay.records) again.apply(r);
  assert.deepEqual([...again.inFlight.keys()], ['DELETE a']);
});

// ---- a whole session ------------------------------------------------------

interface Exit {
  code: number | null;
  stderr: string;
}

function run(args: string[], env: Record<string, string>): Promise<Exit> {
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

test('polyedge run --mode dry-run on the bundled session journals signed, parseable bodies within the [live] limits and never fills', async (t) => {
  const config = join(cwd, 'dry.toml');
  // One file for the whole session (no compaction), and [live] caps tight enough to bind.
  writeFileSync(config, '[cpu]\npin = false\n[journal]\nsnapshot_every = 10000000\ncompact = false\n[live]\nmax_order_notional = 20\nmax_open_orders = 3\nmax_daily_notional = 100000\n');
  const journalPath = join(cwd, 'dry.journal');
  const r = await run(['run', '--mode', 'dry-run', '--duration', '8', '--speed', '10', '--config', config, '--journal', journalPath, '--port', '0'], { POLY_PRIVATE_KEY: HARDHAT_KEY });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /dry-run: orders signed with POLY_PRIVATE_KEY \(0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\)/);
  assert.match(r.stderr, /stopped\. orders [1-9]\d*, fills 0,/);
  assert.doesNotMatch(r.stderr, /ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80/, 'the key never appears');

  const { records, corruption } = Journal.replay(journalPath);
  assert.deepEqual(corruption, []);
  assert.equal(records.filter((x) => x.type === 'fill').length, 0, 'nothing ever fills');
  const slots = new Map<number, MarketDescriptor>();
  const orders = new Map<string, Order>();
  const open = new Set<string>();
  let maxOpen = 0;
  let posts = 0;
  let deletes = 0;
  let lastRequest: VenueRequestRecord | undefined;
  for (const rec of records as JournalRecord[]) {
    if (rec.type === 'market') slots.set(rec.slot, rec.market);
    else if (rec.type === 'order') orders.set(rec.order.id, rec.order);
    else if (rec.type === 'ack') {
      const o = orders.get(rec.orderId)!;
      if (o.type === 'GTC' || o.type === 'GTD') open.add(rec.orderId);
      maxOpen = Math.max(maxOpen, open.size);
    } else if (rec.type === 'cancel' || rec.type === 'expire' || rec.type === 'reject') open.delete(rec.orderId);
    else if (rec.type === 'venue_request') {
      lastRequest = rec;
      const o = orders.get(rec.orderId);
      assert.ok(o, `request for an order journaled before it (${rec.orderId})`);
      const body = JSON.parse(rec.body);
      if (rec.method === 'DELETE') {
        deletes++;
        assert.deepEqual(body, { orderID: rec.venueOrderId });
        continue;
      }
      posts++;
      const market = slots.get(o.token >> 1)!;
      assert.equal(body.order.tokenId, market.tokenIds[o.token & 1]);
      assert.equal(body.order.side, o.side === Side.Buy ? 'BUY' : 'SELL');
      assert.equal(body.orderType, o.type as OrderType);
      assert.equal(body.postOnly, o.postOnly);
      assert.equal(body.owner, '00000000-0000-0000-0000-000000000000');
      assert.ok(notionalMicros(o.price, o.size) <= 20 * UNIT, `order ${o.id} within max_order_notional`);
      if (o.type === 'GTC' || o.type === 'GTD') {
        // Limit amounts are exact: the shares and price × shares of the order.
        const [usd, shares] = o.side === Side.Buy ? [body.order.makerAmount, body.order.takerAmount] : [body.order.takerAmount, body.order.makerAmount];
        assert.deepEqual([Number(shares), Number(usd)], [o.size, (o.price * o.size) / PRICE_SCALE]);
      }
      // Every tenth: verifyTypedData is slow, and the signer is the same for all.
      if (posts % 10 === 1) assert.equal(recover(body, 2, market.negRisk), HARDHAT_ADDRESS);
    } else if (rec.type === 'venue_response') {
      assert.equal(rec.orderId, lastRequest?.orderId, 'each answer follows its request');
      assert.equal(rec.method, lastRequest?.method);
      assert.equal(rec.orderID, lastRequest?.venueOrderId);
      assert.ok(rec.success);
    }
  }
  t.diagnostic(`${posts} POST, ${deletes} DELETE, at most ${maxOpen} resting at once`);
  assert.ok(posts > 10, `posted ${posts}`);
  assert.ok(deletes > 0, `cancelled ${deletes}`);
  assert.ok(maxOpen <= 3, `at most max_open_orders resting at once, saw ${maxOpen}`);
  assert.equal(open.size, 0, 'stop cancels every resting order');
});
