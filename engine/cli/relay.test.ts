// `polyedge relay` as a user runs it: real processes on loopback, the
// sender fed by its in-process venue simulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { CLI, exitsByItself, runCli, stoppedSummary, until } from '../feeds/relay/relay-cli.fixture.js';
import { VenueSimulator } from '../sim/simulator.js';

function runSync(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('relay help and usage errors', () => {
  assert.equal(runSync(['relay']).code, 2);
  for (const sub of ['send', 'recv']) {
    const h = runSync(['relay', sub, '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, new RegExp(`usage: polyedge relay ${sub}`));
  }
  const bad: Array<[string[], RegExp]> = [
    [['relay', 'send'], /--target HOST:PORT is required/],
    [['relay', 'send', '--target', '127.0.0.1'], /--target: expected HOST:PORT/],
    [['relay', 'send', '--target', '127.0.0.1:9', '--frame', 'fancy'], /--frame must be legacy or extended/],
    [['relay', 'send', '--target', '127.0.0.1:9', '--source', 'kraken'], /--source must be binance or sim/],
    [['relay', 'send', '--target', '127.0.0.1:9', '--url', 'http://x'], /--url must be a ws/],
    [['relay', 'send', '--target', '127.0.0.1:9', '--count', '0'], /--count must be at least 1/],
    [['relay', 'send', '--target', '127.0.0.1:9', '--agg-trade'], /--agg-trade needs --frame extended: legacy frames carry no stream id/],
    [['relay', 'send', '--target', '127.0.0.1:9', '--frame', 'legacy', '--agg-trade', '--source', 'sim'], /--agg-trade needs --frame extended/],
    [['relay', 'send', '--target', '127.0.0.1:9', '--frame', 'extended', '--agg-trade', '--stream', '65535'], /--stream must be in 0\.\.65534 with --agg-trade/],
    [['relay', 'recv'], /--bind HOST:PORT is required/],
    [['relay', 'recv', '--bind', 'somewhere:9000'], /not a numeric IP address/],
    [['relay', 'recv', '--bind', '127.0.0.1:9000', '--duration=-1'], /--duration must be a positive number/],
    [['relay', 'recv', '--bind', '127.0.0.1:9000', '--cpu', '4000'], /cpu/],
    [['relay', 'send', '--target', '127.0.0.1:9', '--mac'], /--mac needs --frame extended: a legacy packet has no room for a MAC/],
    [['relay', 'send', '--target', '127.0.0.1:9', '--frame', 'extended', '--mac', '--mac-key-env', 'POLYEDGE_TEST_SURELY_UNSET'], /--mac: macKeyEnv: POLYEDGE_TEST_SURELY_UNSET: environment variable is not set/],
    [['relay', 'recv', '--bind', '127.0.0.1:0', '--require-mac', '--mac-key-env', 'POLYEDGE_TEST_SURELY_UNSET'], /POLYEDGE_TEST_SURELY_UNSET: environment variable is not set/],
    [['relay', 'recv', '--bind', '127.0.0.1:0', '--max-spread-bps=-3'], /--max-spread-bps must be a number in \[0, 10000\]/],
    [['relay', 'recv', '--bind', '127.0.0.1:0', '--max-skew-ms', '0'], /--max-skew-ms must be a number in \[1, 60000\]/],
    [['relay', 'frobnicate'], /unknown subcommand "relay frobnicate"/],
  ];
  for (const [args, re] of bad) {
    const r = runSync(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^error: PE_USAGE /, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('legacy packets from the simulator arrive on loopback as sent, in order; both ends stop by themselves', async () => {
  const N = 150;
  const recv = runCli(['relay', 'recv', '--bind', '127.0.0.1:0', '--json', '--count', String(N)]);
  try {
    const listening = await recv.stderrLine(/listening on /);
    const address = /listening on (\S+)/.exec(listening)![1]!;
    const send = runCli(['relay', 'send', '--source', 'sim', '--sim-speed', '4', '--target', address, '--count', String(N), '--json']);
    try {
      assert.equal(await exitsByItself(send, 'relay send'), 0, send.stderr.join('\n'));
    } finally {
      send.kill();
    }
    assert.equal(await exitsByItself(recv, 'relay recv'), 0, recv.stderr.join('\n'));
    const sent = send.stdout.map((l) => JSON.parse(l) as { ts_micros: number; bid: number; ask: number; bytes: number });
    const got = recv.stdout.map((l) => JSON.parse(l) as Record<string, number>);
    assert.equal(sent.length, N);
    assert.equal(got.length, N);
    got.forEach((g, i) => {
      assert.deepEqual(Object.keys(g), ['ts_micros', 'bid', 'ask', 'latency_us'], 'legacy lines carry no seq');
      assert.deepEqual([g.ts_micros, g.bid, g.ask], [sent[i]!.ts_micros, sent[i]!.bid, sent[i]!.ask], `packet ${i}`);
      assert.equal(sent[i]!.bytes, 24);
    });
    const s = stoppedSummary(recv);
    assert.deepEqual([s.packets, s.garbage, s.legacy, s.last_seq], [N, 0, N, null]);
    assert.deepEqual(stoppedSummary(send).sent, N);
  } finally {
    recv.kill();
  }
});

test('extended packets with --agg-trade: quotes on stream 0, trades on stream 1, each numbered gap-free; the receiver counts no loss', async () => {
  const N = 400;
  const recv = runCli(['relay', 'recv', '--bind', '127.0.0.1:0', '--json', '--count', String(N)]);
  try {
    const listening = await recv.stderrLine(/listening on /);
    const address = /listening on (\S+)/.exec(listening)![1]!;
    // Three times the recorded pace: the trade leg connects a moment after the quote leg, and N packets still span
    // seconds, not milliseconds, so both streams carry packets.
    const send = runCli(['relay', 'send', '--source', 'sim', '--sim-speed', '3', '--frame', 'extended', '--agg-trade', '--target', address, '--count', String(N), '--json']);
    try {
      assert.equal(await exitsByItself(send, 'relay send'), 0, send.stderr.join('\n'));
    } finally {
      send.kill();
    }
    assert.equal(await exitsByItself(recv, 'relay recv'), 0, recv.stderr.join('\n'));
    const log = send.stderr.join('\n');
    assert.match(log, /connected to ws:\/\/127\.0\.0\.1:\d+\/public\/stream\?streams=btcusdt@bookTicker/);
    assert.match(log, /connected to ws:\/\/127\.0\.0\.1:\d+\/market\/stream\?streams=btcusdt@aggTrade/);
    type Line = { stream: number; seq: number; ts_micros: number; bid: number; ask: number; bid_qty: number; ask_qty: number; bytes: number };
    const sent = send.stdout.map((l) => JSON.parse(l) as Line);
    const got = recv.stdout.map((l) => JSON.parse(l) as Record<string, number>);
    assert.equal(sent.length, N);
    assert.equal(got.length, N);
    const byStream = [0, 1].map((s) => sent.filter((l) => l.stream === s));
    assert.equal(byStream[0]!.length + byStream[1]!.length, N, 'only streams 0 and 1');
    assert.ok(byStream[0]!.length > 0 && byStream[1]!.length > 0, `both streams carry packets (${byStream[0]!.length} quotes, ${byStream[1]!.length} trades)`);
    for (const lines of byStream) assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 1), 'each stream numbers its packets 1, 2, 3...');
    for (const t of byStream[1]!) assert.ok(t.bid === t.ask && t.bid_qty === t.ask_qty && t.bid > 0 && t.bid_qty > 0, 'a trade is one price and one quantity');
    got.forEach((g, i) => {
      assert.deepEqual([g.ts_micros, g.bid, g.ask, g.seq], [sent[i]!.ts_micros, sent[i]!.bid, sent[i]!.ask, sent[i]!.seq], `packet ${i}`);
      assert.equal(sent[i]!.bytes, 72);
    });
    const r = stoppedSummary(recv);
    assert.deepEqual([r.packets, r.garbage, r.lost, r.late, r.restarts], [N, 0, 0, 0, 0], 'loss is counted per stream');
    const s = stoppedSummary(send);
    assert.equal(s.sent, N);
    assert.deepEqual(s.streams, {
      0: { events: 'bookTicker', sent: byStream[0]!.length, last_seq: byStream[0]!.length },
      1: { events: 'aggTrade', sent: byStream[1]!.length, last_seq: byStream[1]!.length },
    });
  } finally {
    recv.kill();
  }
});

test('recv --duration stops by itself with nothing received and prints its status', async () => {
  const recv = runCli(['relay', 'recv', '--bind', '127.0.0.1:0', '--duration', '0.3']);
  try {
    assert.equal(await exitsByItself(recv, 'relay recv'), 0);
    assert.match(recv.stdout.join('\n'), /relay recv: 0 packets .*one-way p50 - .*CLOCK_REALTIME/);
    const s = stoppedSummary(recv);
    assert.equal(s.packets, 0);
  } finally {
    recv.kill();
  }
});

test('send --url follows any Binance-compatible server (a simulator run by the test)', async () => {
  const sim = new VenueSimulator({ venues: ['binance'], source: 'scenario', seed: 3, speed: 20, binance: { symbol: 'ETHUSDT' } });
  const urls = await sim.start();
  const rx = createSocket('udp4');
  const datagrams: Buffer[] = [];
  rx.on('message', (m) => datagrams.push(m));
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const send = runCli(['relay', 'send', '--url', urls.binance!.wsBaseUrl, '--symbol', 'ETHUSDT', '--target', `127.0.0.1:${rx.address().port}`, '--count', '40']);
  try {
    assert.equal(await exitsByItself(send, 'relay send'), 0, send.stderr.join('\n'));
    assert.match(send.stderr.join('\n'), /connected to ws:\/\/127\.0\.0\.1:\d+\/public\/stream\?streams=ethusdt@bookTicker/);
    await until(() => datagrams.length === 40, () => `40 datagrams (got ${datagrams.length})`);
    assert.ok(datagrams.every((d) => d.length === 24 && d.readDoubleLE(8) > 0 && d.readDoubleLE(16) >= d.readDoubleLE(8)));
    assert.equal(stoppedSummary(send).sent, 40);
  } finally {
    send.kill();
    rx.close();
    await sim.stop();
  }
});
