// The CLOB commands as an operator runs them: a real process, stdout, stderr
// and the exit code. These need no venue; the ones that trade run against
// the simulator (order-sim.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { HARDHAT_KEY } from '../venues/polymarket/order/fixtures/vectors.js';
import { CREDS, PASSPHRASE, runCli, SECRET } from './clob.fixture.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('order, trades, balance and keys answer --help; order lists its subcommands', async () => {
  for (const args of [['order', '--help'], ['order', 'post', '--help'], ['order', 'cancel', '--help'], ['order', 'cancel-all', '--help'], ['order', 'list', '--help'], ['trades', '--help'], ['balance', '--help'], ['keys', '--help'], ['keys', 'derive', '--help'], ['keys', 'create', '--help']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /usage: polyedge/, args.join(' '));
  }
  const order = await runCli(['order', '--help']);
  for (const sub of ['build', 'post', 'cancel', 'cancel-all', 'list']) assert.match(order.stdout, new RegExp(`\\n  ${sub} `));
  const top = await runCli(['--help']);
  for (const c of ['trades', 'balance', 'keys']) assert.match(top.stdout, new RegExp(`\\n  ${c} `));
});

test('usage and environment errors exit with their catalog codes before any request', async () => {
  const noId = await runCli(['order', 'cancel'], CREDS);
  assert.equal(noId.code, 2);
  assert.match(noId.stderr, /^error: PE_USAGE --id is required/);
  const unknown = await runCli(['keys', 'rotate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /PE_USAGE unknown subcommand "keys rotate"/);
  const noKey = await runCli(['order', 'list']);
  assert.equal(noKey.code, 78);
  assert.match(noKey.stderr, /^error: PE_ENV_MISSING POLY_PRIVATE_KEY/);
  const noCreds = await runCli(['order', 'list'], { POLY_PRIVATE_KEY: HARDHAT_KEY });
  assert.equal(noCreds.code, 78);
  assert.match(noCreds.stderr, /^error: PE_ENV_MISSING POLY_API_KEY/);
  const badUrl = await runCli(['balance', '--clob-url', 'ftp://127.0.0.1:1'], CREDS);
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /PE_USAGE clob_url: must be http\(s\)/);
  const badTimeout = await runCli(['order', 'list', '--timeout-ms', '0'], CREDS);
  assert.equal(badTimeout.code, 2);
  assert.match(badTimeout.stderr, /PE_USAGE --timeout-ms must be an integer in \[1, 600000\]/);
});

test('an unreachable CLOB is PE_CLOB_UNREACHABLE (exit 69), and no secret reaches the output', async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  for (const args of [['order', 'list'], ['order', 'cancel-all'], ['balance'], ['trades'], ['keys', 'derive']]) {
    const r = await runCli([...args, '--clob-url', url], CREDS);
    assert.equal(r.code, 69, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: PE_CLOB_UNREACHABLE GET \/time: ECONNREFUSED/, args.join(' '));
    for (const secret of [SECRET, PASSPHRASE, HARDHAT_KEY.slice(2)]) assert.ok(!(r.stdout + r.stderr).includes(secret), `${args.join(' ')} printed a secret`);
  }
});
