// The operator's CLOB commands end to end: a real CLI process against the
// simulator's CLOB on loopback, checked by stdout, stderr and exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnv } from 'node:util';
import { best, HARDHAT_KEY, startClobSim } from '../sim/clob/testkit.js';
import { native } from '../native.js';
import { runCli } from './clob.fixture.js';

test('keys derive, then order post, list, cancel, cancel-all, trades and balance with their exit codes', async () => {
  const h = await startClobSim({}, 7, { tradeProbability: 0 });
  try {
    const url = h.url;
    const address = native.OrderSigner.fromHex(HARDHAT_KEY).address;
    const derived = await runCli(['keys', 'derive', '--clob-url', url], { POLY_PRIVATE_KEY: HARDHAT_KEY });
    assert.equal(derived.code, 0, derived.stderr);
    const env = parseEnv(derived.stdout);
    const expected = h.sim.polymarketClob().registerKey(address);
    assert.deepEqual([env.POLY_API_KEY, env.POLY_API_SECRET, env.POLY_API_PASSPHRASE], [expected.apiKey, expected.secret, expected.passphrase]);
    const created = await runCli(['keys', 'create', '--nonce', '5', '--clob-url', url], { POLY_PRIVATE_KEY: HARDHAT_KEY });
    assert.equal(created.code, 0, created.stderr);
    assert.notEqual(parseEnv(created.stdout).POLY_API_KEY, env.POLY_API_KEY, 'another nonce, another key');

    const creds: Record<string, string> = { POLY_PRIVATE_KEY: HARDHAT_KEY, ...(env as Record<string, string>) };
    const { bid, ask } = best(h, h.yes);
    const restPrice = (Number(bid.price) - 2 * Number(h.tick)).toFixed(2);
    const order = (price: string, size: string, ...extra: string[]) =>
      runCli(['order', 'post', '--token', h.yes, '--price', price, '--size', size, '--side', 'BUY', '--tick', h.tick, '--min-size', '1', '--clob-url', url, ...extra], creds);

    const posted = await order(restPrice, '10');
    assert.equal(posted.code, 0, posted.stderr);
    const answer = JSON.parse(posted.stdout) as { success: boolean; status: string; orderID: string };
    assert.deepEqual([answer.success, answer.status], [true, 'live']);

    const listed = await runCli(['order', 'list', '--clob-url', url], creds);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; price: string });
    assert.deepEqual(lines.map((o) => o.id), [answer.orderID]);

    // The CLOB refuses a post-only order that crosses: its reason, exit 65.
    const crossing = await order(ask.price, '5', '--post-only');
    assert.equal(crossing.code, 65);
    assert.match(crossing.stderr, /^error: PE_CLOB_REQUEST POST \/order → 400: invalid post-only order/);

    const canceled = await runCli(['order', 'cancel', '--id', answer.orderID, '--clob-url', url], creds);
    assert.equal(canceled.code, 0, canceled.stderr);
    assert.deepEqual(JSON.parse(canceled.stdout), { canceled: [answer.orderID], not_canceled: {} });
    const twice = await runCli(['order', 'cancel', '--id', answer.orderID, '--clob-url', url], creds);
    assert.equal(twice.code, 65);
    assert.match(twice.stderr, /^error: PE_CLOB_REJECTED not canceled: 0x[0-9a-f]{64} \(order already canceled\)/);

    for (const size of ['6', '7']) assert.equal((await order(restPrice, size)).code, 0);
    const all = await runCli(['order', 'cancel-all', '--clob-url', url], creds);
    assert.equal(all.code, 0, all.stderr);
    assert.equal((JSON.parse(all.stdout) as { canceled: string[] }).canceled.length, 2);

    const taken = await order(ask.price, '5', '--type', 'FAK', '--amount', '3');
    assert.equal(taken.code, 0, taken.stderr);
    const fill = JSON.parse(taken.stdout) as { status: string; orderID: string };
    assert.equal(fill.status, 'matched');
    const trades = await runCli(['trades', '--clob-url', url], creds);
    assert.equal(trades.code, 0, trades.stderr);
    assert.deepEqual(trades.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { taker_order_id: string }).taker_order_id), [fill.orderID]);

    const balance = await runCli(['balance', '--token', h.yes, '--update', '--clob-url', url], creds);
    assert.equal(balance.code, 0, balance.stderr);
    assert.ok(BigInt((JSON.parse(balance.stdout) as { balance: string }).balance) > 0n);

    const badSecret = await runCli(['order', 'list', '--clob-url', url], { ...creds, POLY_API_SECRET: Buffer.from('x'.repeat(32)).toString('base64') });
    assert.equal(badSecret.code, 77);
    assert.match(badSecret.stderr, /^error: PE_CLOB_AUTH GET \/data\/orders → 401: Unauthorized/);
    assert.ok(!badSecret.stderr.includes(creds.POLY_API_PASSPHRASE!) && !badSecret.stderr.includes(creds.POLY_API_SECRET!));
  } finally {
    await h.stop();
  }
});
