// The sender allow-list: the address rules, the native receive thread's
// filter on real loopback sockets (Linux routes all of 127.0.0.0/8 through
// lo, so a socket bound to 127.0.0.2 is a second host as far as the
// receiver can tell), and the refusals of `polyedge run` / `relay recv`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../../native.js';
import { EventViews } from '../../../workers/shared-memory/event-layout.js';
import { Prng } from '../../../workers/prng.js';
import { Ring } from '../../../workers/shared-memory/ring.js';
import { allowProblem, IP_LITERAL, isLoopbackAddress } from './allow.js';
import { F_ASK, F_BID, F_SEQ } from './packet.js';
import { runCli, until } from './relay-cli.fixture.js';
import { PacketSender } from './sender.js';
import { newRelayPrice, readRelayPrice, RELAY_STAT_SLOTS, RelaySource, RelayStat } from './source.js';

test('IP_LITERAL accepts exactly the address literals Node accepts, zone ids excepted', () => {
  for (const ok of ['10.0.0.1', '0.0.0.0', '255.255.255.255', '::', '::1', 'fe80::1', '2001:db8::8a2e:370:7334', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '::ffff:127.0.0.2', 'FE80::A', '1::', '1:2:3:4:5:6:7::']) {
    assert.ok(IP_LITERAL.test(ok), ok);
  }
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.4 ', 'localhost', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'fe80::1%eth0', '[::1]', '::ffff:1.2.3']) {
    assert.ok(!IP_LITERAL.test(bad), bad);
  }
  // Random strings over the literals' alphabet, biased towards near-misses.
  const rnd = new Prng(20_240_611);
  const alphabet = '0123456789abcdefABCDEF:.';
  const groups = ['0', '1', 'ff', 'ffff', '12345', '127', '255', '256', '01', '', 'g'];
  for (let i = 0; i < 50_000; i++) {
    let s = '';
    if (rnd.int(2) === 0) {
      for (let n = 1 + rnd.int(20); n > 0; n--) s += alphabet[rnd.int(alphabet.length)];
    } else {
      for (let n = 1 + rnd.int(10); n > 0; n--) s += groups[rnd.int(groups.length)]! + (rnd.int(3) === 0 ? '.' : ':');
      s = s.slice(0, s.length - rnd.int(2));
    }
    assert.equal(IP_LITERAL.test(s), isIP(s) !== 0, JSON.stringify(s));
  }
});

test('loopback is 127.0.0.0/8 and ::1 in any spelling; the rule needs a list anywhere else', () => {
  for (const h of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.2']) assert.ok(isLoopbackAddress(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.2', '::ffff:10.0.0.2', 'localhost', '128.0.0.1']) assert.ok(!isLoopbackAddress(h), h);
  assert.equal(allowProblem('127.0.0.1', []), undefined);
  assert.equal(allowProblem('0.0.0.0', ['10.0.0.1']), undefined);
  assert.match(allowProblem('0.0.0.0', []) ?? '', /^is empty, and the receiver binds 0\.0\.0\.0, which is not a loopback address/);
  assert.match(allowProblem('127.0.0.1', ['10.0.0.1', 'nope']) ?? '', /^entry 1, "nope", is not an IPv4 or IPv6 address/);
});

/** Sends `n` extended frames with seq from `firstSeq` from a socket bound to `from`. */
function sendFrom(from: string, target: string, firstSeq: number, n: number): void {
  const sender = new PacketSender(target, 'extended', from);
  for (let seq = firstSeq; seq < firstSeq + n; seq++) {
    sender.fields[F_SEQ] = seq;
    sender.fields[F_BID] = 97_000 + seq;
    sender.fields[F_ASK] = 97_000.5 + seq;
    assert.equal(sender.send(), 72);
  }
  sender.close();
}

async function receivedSeqs(source: RelaySource, want: { packets: number; foreign: number }): Promise<number[]> {
  await until(() => source.stats[RelayStat.packets] === want.packets && source.stats[RelayStat.foreign] === want.foreign, `${want.packets} packets and ${want.foreign} foreign`);
  const consumer = source.ring.consumer({ wait: 'spin' });
  const views = new EventViews(source.ring.sab, source.ring.dataByteOffset, source.ring.capacity);
  const n = consumer.available();
  const seqs = Array.from({ length: n }, (_, i) => readRelayPrice(views, consumer.slot(i), newRelayPrice()).seq);
  consumer.release(n);
  return seqs;
}

test('a receiver with an allow-list drops other senders before decoding and counts them as foreign', async () => {
  // The bound address matters only for the rule; the list decides who gets in.
  const source = RelaySource.start({ bind: '127.0.0.1:0', allow: ['127.0.0.2'] });
  sendFrom('127.0.0.1:0', source.address, 1, 30);
  sendFrom('127.0.0.2:0', source.address, 101, 20);
  sendFrom('127.0.0.3:0', source.address, 201, 5);
  const seqs = await receivedSeqs(source, { packets: 20, foreign: 35 });
  assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => 101 + i), 'only the allowed sender is published');
  const c = source.counters();
  assert.deepEqual([c.foreign, c.garbage, c.late, c.lost], [35, 0, 0, 0], 'foreign datagrams never reach the decoder or the sequence check');
  assert.equal(c.bytes, 55 * 72, 'every datagram is still counted in bytes');
  source.stop();
});

test('an empty allow-list on loopback accepts every sender', async () => {
  const source = RelaySource.start({ bind: '127.0.0.1:0', allow: [] });
  sendFrom('127.0.0.1:0', source.address, 1, 3);
  sendFrom('127.0.0.2:0', source.address, 4, 3);
  assert.deepEqual(await receivedSeqs(source, { packets: 6, foreign: 0 }), [1, 2, 3, 4, 5, 6]);
  source.stop();
});

test('IPv4-mapped sources match IPv4 entries, and the reverse', async () => {
  // An IPv6 socket bound to a v4-mapped address sees IPv4 senders as ::ffff:a.b.c.d.
  for (const allow of [['127.0.0.2'], ['::ffff:127.0.0.2']]) {
    for (const bind of ['[::ffff:127.0.0.1]:0', '127.0.0.1:0']) {
      const source = RelaySource.start({ bind, allow });
      const target = `127.0.0.1:${source.address.slice(source.address.lastIndexOf(':') + 1)}`;
      sendFrom('127.0.0.1:0', target, 1, 4);
      sendFrom('127.0.0.2:0', target, 5, 2);
      assert.deepEqual(await receivedSeqs(source, { packets: 2, foreign: 4 }), [5, 6], `${bind} allow ${allow[0]}`);
      source.stop();
    }
  }
});

test('IPv6 entries match IPv6 senders', async () => {
  for (const [allow, packets, foreign] of [[['::1'], 3, 0], [['::2', '127.0.0.1'], 0, 3]] as const) {
    const source = RelaySource.start({ bind: '[::1]:0', allow });
    sendFrom('[::1]:0', source.address, 1, 3);
    assert.equal((await receivedSeqs(source, { packets, foreign })).length, packets, `allow ${allow.join(',')}`);
    source.stop();
  }
});

test('a non-loopback bind without an allow-list, or a bad address, is refused by RelaySource and by the native receiver', () => {
  assert.throws(() => RelaySource.start({ bind: '0.0.0.0:0' }), /RelaySource: allow is empty, and the receiver binds 0\.0\.0\.0, which is not a loopback address/);
  assert.throws(() => RelaySource.start({ bind: '[::]:0', allow: [] }), /allow is empty/);
  assert.throws(() => RelaySource.start({ bind: '127.0.0.1:0', allow: ['127.0.0.2', '10.0.0.300'] }), /allow entry 1, "10\.0\.0\.300", is not an IPv4 or IPv6 address/);
  // The addon checks its own options too (a caller that skips RelaySource).
  const ring = Ring.create({ capacity: 4, fullPolicy: 'drop' });
  const stats = new Float64Array(new SharedArrayBuffer(RELAY_STAT_SLOTS * 8));
  const invalidArg = (re: RegExp) => (e: unknown) => e instanceof Error && (e as Error & { code?: string }).code === 'InvalidArg' && re.test(e.message);
  assert.throws(() => new native.RelayReceiver({ bind: '0.0.0.0:0' }, new Uint8Array(ring.sab), stats), invalidArg(/^allow: empty, and bind 0\.0\.0\.0:0 is not a loopback address/));
  assert.throws(() => new native.RelayReceiver({ bind: '127.0.0.1:0', allow: ['nope'] }, new Uint8Array(ring.sab), stats), invalidArg(/^allow\[0\]: "nope" is not an IPv4 or IPv6 address/));
  // Refused before attaching: the ring is still free for a receiver that passes.
  const ok = new native.RelayReceiver({ bind: '127.0.0.1:0', allow: ['::ffff:127.0.0.2'] }, new Uint8Array(ring.sab), stats);
  ok.stop();
});

test('polyedge run and relay recv refuse a non-loopback relay without senders, naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-allow-'));
  const cfg = join(dir, 'relay.toml');
  writeFileSync(cfg, '[relay]\nenabled = true\nbind = "0.0.0.0:9870"\n');
  const cases: Array<{ args: string[]; exit: number; re: RegExp }> = [
    { args: ['run', '--relay', '0.0.0.0:0'], exit: 78, re: /PE_CONFIG_INVALID relay\.allow: is empty, and the receiver binds 0\.0\.0\.0.*--relay-allow/ },
    { args: ['run', '--config', cfg], exit: 78, re: /PE_CONFIG_INVALID relay\.allow: is empty/ },
    { args: ['run', '--relay', '0.0.0.0:0', '--relay-allow', '10.0.0.1,10.0.0'], exit: 2, re: /PE_USAGE --relay-allow: entry 1, "10\.0\.0", is not an IPv4 or IPv6 address/ },
    { args: ['relay', 'recv', '--bind', '0.0.0.0:0'], exit: 2, re: /PE_USAGE --allow is empty, and the receiver binds 0\.0\.0\.0/ },
    { args: ['relay', 'recv', '--bind', '127.0.0.1:0', '--allow', 'x'], exit: 2, re: /PE_USAGE --allow entry 0, "x"/ },
  ];
  for (const c of cases) {
    const run = runCli(c.args);
    assert.equal(await run.exited, c.exit, `${c.args.join(' ')}: ${run.stderr.join('\n')}`);
    assert.match(run.stderr.join('\n'), c.re, c.args.join(' '));
  }
});
