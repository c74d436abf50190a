// The native receive thread end to end on loopback: real sockets, the real
// ring and its normal RingConsumer, packets from the real native sender.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { EventKind, EventViews, Flag, U8_SOURCE } from '../../../workers/shared-memory/event-layout.js';
import { Prng } from '../../../workers/prng.js';
import { native } from '../../native.js';
import { encodePacket, F_ASK, F_ASK_SIZE, F_BID, F_BID_SIZE, F_EXCHANGE_TS_NS, F_SEQ, F_STREAM } from './packet.js';
import { until } from './relay-cli.fixture.js';
import { PacketSender } from './sender.js';
import { newRelayPrice, readRelayPrice, RelaySource, RelayStat, sendMicros, type RelayPrice } from './source.js';

async function sendGarbage(address: string, datagrams: Uint8Array[]): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const sock = createSocket('udp4');
  for (const d of datagrams) await new Promise<void>((resolve, reject) => sock.send(d, port, host, (err) => (err ? reject(err) : resolve())));
  sock.close();
}

/** Drains everything published so far into fresh RelayPrice objects (test-side, allocation is fine). */
function drainAll(consumer: ReturnType<RelaySource['ring']['consumer']>, views: EventViews): RelayPrice[] {
  const out: RelayPrice[] = [];
  const n = consumer.available();
  for (let i = 0; i < n; i++) {
    const slot = consumer.slot(i);
    assert.equal(views.kind(slot), EventKind.ExternalPrice);
    out.push(readRelayPrice(views, slot, newRelayPrice()));
  }
  consumer.release(n);
  return out;
}

test('extended frames arrive intact and in order as ExternalPrice records', async () => {
  const source = RelaySource.start({ bind: '127.0.0.1:0', source: 9, capacity: 1024 });
  const sender = new PacketSender(source.address, 'extended');
  const consumer = source.ring.consumer({ wait: 'spin' });
  const views = new EventViews(source.ring.sab, source.ring.dataByteOffset, source.ring.capacity);
  const rnd = new Prng(77);
  const sent: Array<{ seq: number; bid: number; ask: number; stamp: DataView; exchMs: number }> = [];
  const f = sender.fields;
  const N = 500;
  // Venue stamps within the receiver's clock window (the gates refuse others).
  const t0 = Date.now() - N;
  for (let seq = 1; seq <= N; seq++) {
    const bid = 60_000 + rnd.int(1_000_000) / 10;
    const exchMs = t0 + seq;
    f[F_STREAM] = 3;
    f[F_SEQ] = seq;
    f[F_EXCHANGE_TS_NS] = exchMs * 1e6;
    f[F_BID] = bid;
    f[F_ASK] = bid + 0.1;
    f[F_BID_SIZE] = rnd.int(1000) / 1000;
    f[F_ASK_SIZE] = rnd.int(1000) / 1000;
    assert.equal(sender.send(), 72);
    sent.push({ seq, bid, ask: bid + 0.1, stamp: new DataView(sender.packet.slice(32, 40).buffer), exchMs });
    // Keep at most a ring's worth in flight; the consumer is this thread.
    if (seq % 256 === 0) await until(() => source.stats[RelayStat.packets]! >= seq, 'packets');
  }
  await until(() => source.stats[RelayStat.packets]! >= N, 'all packets');
  const got = drainAll(consumer, views);
  assert.equal(got.length, N);
  got.forEach((p, i) => {
    const s = sent[i]!;
    assert.equal(p.seq, s.seq);
    assert.equal(p.stream, 3);
    assert.equal(Object.is(p.bid, s.bid) && Object.is(p.ask, s.ask), true, `prices of seq ${s.seq}`);
    const stampNs = s.stamp.getBigUint64(0, true);
    assert.equal(BigInt(p.sendSec) * 1_000_000_000n + BigInt(p.sendNsInSec), stampNs, 'send stamp, exact');
    assert.equal(sendMicros(p), Number(stampNs / 1000n));
    assert.ok(Math.abs(p.exchTsMs - s.exchMs) < 1e-3, `exchange ms ${p.exchTsMs} vs ${s.exchMs}`);
    assert.ok(Number.isInteger(p.latencyNs) && p.recvNs > 0);
  });
  const slot = (consumer.sequence - 1) & source.ring.mask;
  assert.equal(views.u8[slot * 64 + U8_SOURCE], 9, 'source id');
  assert.equal(views.u8[slot * 64 + 49], Flag.LastInMessage);
  const c = source.counters();
  assert.deepEqual([c.packets, c.garbage, c.lost, c.late, c.lastSeq, c.legacy], [N, 0, 0, 0, N, 0]);
  source.stop();
  assert.equal(consumer.done, true);
  assert.equal(source.running, false);
  source.stop();
  sender.close();
});

test('legacy packets carry no sequence and keep ts_micros exactly', async () => {
  const source = RelaySource.start({ bind: '127.0.0.1:0' });
  const sender = new PacketSender(source.address, 'legacy');
  const consumer = source.ring.consumer({ wait: 'spin' });
  const views = new EventViews(source.ring.sab, source.ring.dataByteOffset, source.ring.capacity);
  const raw = Buffer.alloc(24);
  const tsMicros = BigInt(Date.now()) * 1000n + 456n;
  raw.writeBigUInt64LE(tsMicros, 0);
  raw.writeDoubleLE(97_123.5, 8);
  raw.writeDoubleLE(97_124.25, 16);
  sender.sendRaw(raw);
  await until(() => source.stats[RelayStat.packets] === 1, 'the packet');
  const [p] = drainAll(consumer, views);
  assert.ok(p);
  assert.equal(sendMicros(p), Number(tsMicros));
  assert.deepEqual([p.bid, p.ask, p.stream], [97_123.5, 97_124.25, 0]);
  assert.ok(Number.isNaN(p.seq) && Number.isNaN(p.exchTsMs));
  assert.equal(source.stats[RelayStat.legacy], 1);
  source.stop();
  sender.close();
});

test('garbage is counted and dropped, never published', async () => {
  const source = RelaySource.start({ bind: '127.0.0.1:0' });
  const consumer = source.ring.consumer({ wait: 'spin' });
  const views = new EventViews(source.ring.sab, source.ring.dataByteOffset, source.ring.capacity);
  const good = encodePacket({ stream: 0, seq: 1, exchangeTsNs: 0, recvTsNs: 0, sendTsNs: Date.now() * 1e6, bid: 97_000, ask: 97_000.5, bidSize: 0, askSize: 0 }, 'extended');
  const badVersion = Buffer.from(good);
  badVersion[4] = 2;
  const nanBid = Buffer.from(good);
  nanBid.writeDoubleLE(Number.NaN, 40);
  const negativeLegacy = Buffer.alloc(24);
  negativeLegacy.writeDoubleLE(-1, 8);
  const rnd = new Prng(5);
  const badFlags = Buffer.from(good);
  badFlags[5] = 0x80;
  const junk = [Buffer.alloc(0), Buffer.from('hello'), Buffer.alloc(23), Buffer.alloc(30, 0x41), good.subarray(0, 50), Buffer.concat([good, Buffer.alloc(1)]), Buffer.alloc(300, 7), badVersion, badFlags];
  for (let i = 0; i < 40; i++) junk.push(Buffer.from(Array.from({ length: 25 + rnd.int(100) }, () => rnd.int(256))).fill(0x58, 0, 1));
  // Well-formed but impossible values are refused by the value gate, not counted as garbage.
  await sendGarbage(source.address, [...junk, nanBid, negativeLegacy, good]);
  await until(() => source.stats[RelayStat.packets] === 1 && source.stats[RelayStat.garbage] === junk.length && source.stats[RelayStat.value] === 2, 'garbage counted');
  const got = drainAll(consumer, views);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.seq, 1);
  assert.equal(source.stats[RelayStat.recvErrors], 0);
  source.stop();
});

test('sequence gaps count as loss; late and duplicate frames are dropped; a restart is followed', async () => {
  const source = RelaySource.start({ bind: '127.0.0.1:0' });
  const consumer = source.ring.consumer({ wait: 'spin' });
  const views = new EventViews(source.ring.sab, source.ring.dataByteOffset, source.ring.capacity);
  const now = Date.now() * 1e6;
  const frame = (stream: number, seq: number) => encodePacket({ stream, seq, exchangeTsNs: 0, recvTsNs: 0, sendTsNs: now, bid: 97_000 + (seq % 100), ask: 97_000.5 + (seq % 100), bidSize: 0, askSize: 0 }, 'extended');
  // stream 0: 1 2 5 (2 lost) 4 (late) 5 (duplicate) 6, then 1 000 000 (999 993 lost) and 1 (restart).
  // stream 1 keeps its own numbering: 10 then 11.
  const plan: Array<[number, number]> = [[0, 1], [0, 2], [0, 5], [0, 4], [0, 5], [1, 10], [0, 6], [1, 11], [0, 1_000_000], [0, 1]];
  await sendGarbage(source.address, plan.map(([s, q]) => frame(s, q)));
  await until(() => source.stats[RelayStat.batches]! > 0 && source.stats[RelayStat.packets]! + source.stats[RelayStat.late]! === plan.length, 'all frames');
  const got = drainAll(consumer, views).map((p) => [p.stream, p.seq]);
  assert.deepEqual(got, [[0, 1], [0, 2], [0, 5], [1, 10], [0, 6], [1, 11], [0, 1_000_000], [0, 1]]);
  const c = source.counters();
  assert.equal(c.lost, 2 + 999_993);
  assert.equal(c.late, 2);
  assert.equal(c.restarts, 1);
  assert.equal(c.lastSeq, 1);
  source.stop();
});

test('a full ring: drop counts what does not fit, block holds it until the consumer catches up', async () => {
  for (const fullPolicy of ['drop', 'block'] as const) {
    const source = RelaySource.start({ bind: '127.0.0.1:0', capacity: 4, fullPolicy });
    const sender = new PacketSender(source.address, 'extended');
    const consumer = source.ring.consumer({ wait: 'spin' });
    const views = new EventViews(source.ring.sab, source.ring.dataByteOffset, source.ring.capacity);
    for (let seq = 1; seq <= 20; seq++) {
      sender.fields[F_SEQ] = seq;
      sender.fields[F_BID] = 97_000 + seq;
      sender.fields[F_ASK] = 97_000.5 + seq;
      sender.send();
    }
    const seqs: number[] = [];
    if (fullPolicy === 'drop') {
      await until(() => source.stats[RelayStat.packets] === 20, 'all received');
      seqs.push(...drainAll(consumer, views).map((p) => p.seq));
      assert.deepEqual(seqs, [1, 2, 3, 4]);
      assert.equal(source.stats[RelayStat.ringDrops], 16);
      assert.equal(source.ring.stats().dropped, 16);
    } else {
      await until(() => {
        seqs.push(...drainAll(consumer, views).map((p) => p.seq));
        return seqs.length === 20;
      }, 'all drained');
      assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(source.stats[RelayStat.ringDrops], 0);
    }
    source.stop();
    sender.close();
  }
});

test('an async consumer on the main thread is woken through the event loop', async () => {
  const source = RelaySource.start({ bind: '127.0.0.1:0' });
  const sender = new PacketSender(source.address, 'extended');
  const consumer = source.ring.consumer({ wait: 'async' });
  let received = 0;
  for (let seq = 1; seq <= 20; seq++) {
    // Park first (nothing is in flight), then send from a timer so the wake has someone to wake.
    const arrived = consumer.waitForDataAsync(30_000);
    setTimeout(() => {
      sender.fields[F_SEQ] = seq;
      sender.fields[F_BID] = 97_000;
      sender.fields[F_ASK] = 97_000.5;
      sender.send();
    }, 1);
    const n = await arrived;
    assert.ok(n >= 1, 'woken with data, not by the guard timeout');
    received += n;
    consumer.release(n);
  }
  assert.equal(received, 20);
  assert.ok(source.stats[RelayStat.wakes]! >= 1, 'wake-ups went through the threadsafe function');
  // A parked consumer also sees the end of the stream.
  const end = consumer.waitForDataAsync(30_000);
  source.stop();
  assert.equal(await end, 0);
  assert.equal(consumer.done, true);
  sender.close();
});

test('bad options and a taken port are reported, not crashed on', () => {
  assert.throws(() => RelaySource.start({ bind: 'localhost' }), /bind: expected HOST:PORT/);
  assert.throws(() => RelaySource.start({ bind: '127.0.0.1:0', cpu: 4096 }), /cpu must be/);
  assert.throws(() => RelaySource.start({ bind: '127.0.0.1:0', capacity: 3 }), /power of two/);
  assert.throws(() => RelaySource.start({ bind: '127.0.0.1:0', cpu: 1000 }), /not a CPU of this machine/);
  const a = RelaySource.start({ bind: '127.0.0.1:0' });
  assert.throws(() => RelaySource.start({ bind: a.address }), /Address already in use|EADDRINUSE/i);
  a.stop();
});

const KEY_VAR = 'POLYEDGE_TEST_RELAY_KEY';
const OTHER_KEY_VAR = 'POLYEDGE_TEST_RELAY_OTHER_KEY';
process.env[KEY_VAR] = '3a'.repeat(32);
process.env[OTHER_KEY_VAR] = '3b'.repeat(32);

test('each gate refuses with its own reason; sealed frames pass only with the right key, and every datagram is counted once', async () => {
  const source = RelaySource.start({ bind: '127.0.0.1:0', macKeyEnv: KEY_VAR, maxSpreadBps: 10, maxSkewMs: 500 });
  const consumer = source.ring.consumer({ wait: 'spin' });
  const views = new EventViews(source.ring.sab, source.ring.dataByteOffset, source.ring.capacity);
  const sealed = new PacketSender(source.address, 'extended', undefined, KEY_VAR);
  const f = sealed.fields;
  f[F_SEQ] = 1;
  f[F_BID] = 97_000;
  f[F_ASK] = 97_000.5;
  assert.equal(sealed.send(), 88, 'a sealed frame is 72 bytes and its 16-byte MAC');
  const good = Buffer.from(sealed.packet.subarray(0, 88));
  const sentNs = sealed.lastSendNs;
  const flipped = Buffer.from(good);
  flipped.writeUInt8(flipped.readUInt8(45) ^ 0x01, 45); // one bit of the bid: the price moves by a hair, the MAC no longer fits
  const foreignKey = new PacketSender(source.address, 'extended', undefined, OTHER_KEY_VAR);
  foreignKey.fields.set(f);
  foreignKey.fields[F_SEQ] = 2;
  foreignKey.send();
  const plain = (seq: number, over: { bid?: number; ask?: number; sendTsNs?: number; exchangeTsNs?: number }) =>
    encodePacket({ stream: 0, seq, exchangeTsNs: 0, recvTsNs: 0, sendTsNs: Number(native.wallNs()), bid: 97_000, ask: 97_000.5, bidSize: 1, askSize: 1, ...over }, 'extended');
  // Stamps from the same clock as the sender's, so "after the sealed frame" holds to the nanosecond.
  await sendGarbage(source.address, [
    flipped,
    plain(3, { bid: 0 }), // value
    plain(3, { bid: 97_001 }), // crossed
    plain(3, { bid: 96_800, ask: 97_000 }), // spread: ~21 bps > 10
    plain(3, { sendTsNs: Date.now() * 1e6 + 5e9 }), // skew: 5 s ahead
    plain(3, { sendTsNs: Date.now() * 1e6 - 5e9, exchangeTsNs: 1_000_000 }), // skew: 5 s behind (the 1970 venue stamp is passed on, not judged)
    plain(3, {}), // accepted, unsealed (the MAC is optional here)
    plain(4, { sendTsNs: sentNs - 1e6 }), // backwards: older than seq 3's stamp
    plain(3, {}), // late: seq 3 again
  ]);
  const want = { packets: 2, mac: 2, value: 1, crossed: 1, spread: 1, skew: 2, backwards: 1, late: 1, garbage: 0 };
  await until(() => (Object.keys(want) as (keyof typeof want)[]).every((k) => source.stats[RelayStat[k]] === want[k]), `counters ${JSON.stringify(want)}`);
  assert.deepEqual(drainAll(consumer, views).map((p) => [p.seq, p.bid]), [[1, 97_000], [3, 97_000]]);
  source.stop();
  sealed.close();
  foreignKey.close();
});

test('requireMac: legacy packets and unsealed frames are refused as mac; sealed ones pass', async () => {
  assert.throws(() => RelaySource.start({ bind: '127.0.0.1:0', requireMac: true }), /requireMac needs macKeyEnv/);
  assert.throws(() => RelaySource.start({ bind: '127.0.0.1:0', macKeyEnv: 'POLYEDGE_TEST_SURELY_UNSET' }), /POLYEDGE_TEST_SURELY_UNSET: environment variable is not set/);
  assert.throws(() => new PacketSender('127.0.0.1:9', 'legacy', undefined, KEY_VAR), /needs the extended format/);
  const source = RelaySource.start({ bind: '127.0.0.1:0', macKeyEnv: KEY_VAR, requireMac: true });
  const legacy = new PacketSender(source.address, 'legacy');
  const plain = new PacketSender(source.address, 'extended');
  const sealed = new PacketSender(source.address, 'extended', undefined, KEY_VAR);
  for (const s of [legacy, plain, sealed]) {
    s.fields[F_SEQ] = 1;
    s.fields[F_BID] = 97_000;
    s.fields[F_ASK] = 97_000.5;
    assert.ok(s.send() > 0);
  }
  await until(() => source.stats[RelayStat.mac] === 2 && source.stats[RelayStat.packets] === 1, 'two refused, one accepted');
  assert.equal(source.stats[RelayStat.legacy], 0);
  source.stop();
  for (const s of [legacy, plain, sealed]) s.close();
});

test('every single-bit flip of a sealed frame, sent over UDP, is refused even though the MAC is optional', async () => {
  const source = RelaySource.start({ bind: '127.0.0.1:0', macKeyEnv: KEY_VAR });
  const sealed = new PacketSender(source.address, 'extended', undefined, KEY_VAR);
  sealed.fields[F_SEQ] = 1;
  sealed.fields[F_BID] = 97_000;
  sealed.fields[F_ASK] = 97_000.5;
  // Encode without delivering: a closed socket still stamps, encodes and seals into `packet`.
  sealed.close();
  sealed.send();
  const good = Buffer.from(sealed.packet.subarray(0, 88));
  const flips: Buffer[] = [];
  for (let bit = 0; bit < good.length * 8; bit++) {
    const b = Buffer.from(good);
    b.writeUInt8(b.readUInt8(bit >> 3) ^ (1 << (bit & 7)), bit >> 3);
    flips.push(b);
  }
  await sendGarbage(source.address, [...flips, good]);
  await until(() => source.stats[RelayStat.packets] === 1 && source.stats[RelayStat.mac]! + source.stats[RelayStat.garbage]! === flips.length, 'every flip refused');
  assert.ok(source.stats[RelayStat.mac]! > 600, 'most flips fail the MAC; the rest break the header');
  source.stop();
});
