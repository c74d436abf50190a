import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolyedgeError } from '../../errors.js';
import { native } from '../../native.js';
import {
  decodePacket,
  encodePacket,
  EXTENDED_LEN,
  F_ASK,
  F_BID,
  F_LEN,
  F_SEND_TS_NS,
  FIELD_COUNT,
  FORMAT_EXTENDED,
  FORMAT_LEGACY,
  FLAG_MAC,
  LEGACY_LEN,
  MAC_LEN,
} from './packet.js';

test('a legacy packet built by hand from its three fields decodes to them', () => {
  const raw = Buffer.alloc(LEGACY_LEN);
  raw.writeBigUInt64LE(1_732_180_000_123_456n, 0);
  raw.writeDoubleLE(97_123.5, 8);
  raw.writeDoubleLE(97_124.25, 16);
  const p = decodePacket(raw);
  assert.equal(p.format, 'legacy');
  assert.equal(Math.round(p.sendTsNs / 1000), 1_732_180_000_123_456);
  assert.equal(p.bid, 97_123.5);
  assert.equal(p.ask, 97_124.25);
});

test('our legacy encoder writes exactly the documented bytes', () => {
  const bytes = encodePacket(
    { stream: 0, seq: 0, exchangeTsNs: 0, recvTsNs: 0, sendTsNs: 1_732_180_000_123_456_000, bid: 61_800.2, ask: 61_800.3, bidSize: 0, askSize: 0 },
    'legacy',
  );
  assert.equal(bytes.length, 24);
  assert.equal(bytes.readBigUInt64LE(0), 1_732_180_000_123_456n);
  assert.equal(bytes.readDoubleLE(8), 61_800.2);
  assert.equal(bytes.readDoubleLE(16), 61_800.3);
});

test('extended frames round-trip every field and start with magic and version', () => {
  const sent = { stream: 7, seq: 123_456, exchangeTsNs: 1_723_161_256_299_000_000, recvTsNs: 1_723_161_256_300_000_000, sendTsNs: 1_723_161_256_300_512_000, bid: 61_800.2, ask: 61_800.3, bidSize: 3.33, askSize: 0.057 };
  const bytes = encodePacket(sent, 'extended');
  assert.equal(bytes.length, EXTENDED_LEN);
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PEDG');
  assert.equal(bytes[4], 1);
  assert.equal(bytes.readUInt16LE(6), 7);
  assert.equal(bytes.readBigUInt64LE(8), 123_456n);
  assert.equal(bytes.readDoubleLE(40), 61_800.2);
  assert.deepEqual(decodePacket(bytes), { format: 'extended', ...sent });
});

test('short, garbage and wrong-length packets decode to errors, never a crash', () => {
  const expect = (buf: Uint8Array, code: string) =>
    assert.throws(() => decodePacket(buf), (e: unknown) => e instanceof PolyedgeError && e.code === code);
  expect(Buffer.alloc(0), 'PE_PACKET_TOO_SHORT');
  expect(Buffer.alloc(23), 'PE_PACKET_TOO_SHORT');
  expect(Buffer.alloc(30, 1), 'PE_PACKET_BAD_MAGIC');
  const good = encodePacket({ stream: 1, seq: 1, exchangeTsNs: 1, recvTsNs: 1, sendTsNs: 1, bid: 1, ask: 2, bidSize: 1, askSize: 1 }, 'extended');
  expect(good.subarray(0, 40), 'PE_PACKET_TOO_SHORT');
  expect(Buffer.concat([good, Buffer.alloc(1)]), 'PE_PACKET_BAD_LENGTH');
  const badVersion = Buffer.from(good);
  badVersion[4] = 9;
  expect(badVersion, 'PE_PACKET_BAD_VERSION');
  const nan = Buffer.from(good);
  nan.writeDoubleLE(Number.NaN, 40);
  expect(nan, 'PE_PACKET_BAD_VALUE');
  const reserved = Buffer.from(good);
  reserved[5] = 0x02;
  expect(reserved, 'PE_PACKET_BAD_FLAGS');
  // The MAC flag promises 16 more bytes: 72 with the flag is short, 88 without it too long.
  const flagged = Buffer.from(good);
  flagged[5] = FLAG_MAC;
  expect(flagged, 'PE_PACKET_TOO_SHORT');
  expect(Buffer.concat([good, Buffer.alloc(MAC_LEN)]), 'PE_PACKET_BAD_LENGTH');
  assert.equal(decodePacket(Buffer.concat([flagged, Buffer.alloc(MAC_LEN)])).bid, 1, 'the codec reads a sealed frame; verifying it is the receiver\'s job');

  // Seeded random bytes of every length: the codec must answer, not crash.
  let seed = 0x2545f491;
  const fields = new Float64Array(FIELD_COUNT);
  let decoded = 0;
  for (let i = 0; i < 20_000; i++) {
    const len = i % 100;
    const buf = Buffer.alloc(len);
    for (let j = 0; j < len; j++) {
      seed = (seed * 1_103_515_245 + 12_345) >>> 0;
      buf[j] = seed >>> 24;
    }
    if (len >= 4 && i % 5 === 0) buf.write('PEDG', 0, 'latin1');
    const r = native.decodePacket(buf, fields);
    assert.ok(r === FORMAT_LEGACY || r === FORMAT_EXTENDED || (r < 0 && r >= -8), `unexpected result ${r}`);
    if (r > 0) decoded++;
  }
  // Random 24-byte packets with finite non-negative doubles do decode as legacy: that is the format.
  assert.ok(decoded < 20_000);
});

test('the scratch API encodes and decodes through buffers bound once', () => {
  const fields = new Float64Array(FIELD_COUNT);
  const buf = Buffer.alloc(128);
  native.bindPacketScratch(fields, buf);
  fields[F_SEND_TS_NS] = 1_732_180_000_000_000_000;
  fields[F_BID] = 0.52;
  fields[F_ASK] = 0.53;
  assert.equal(native.encodeScratchLegacy(), LEGACY_LEN);
  assert.equal(fields[F_LEN], LEGACY_LEN);
  fields[F_BID] = 0;
  assert.equal(native.decodeScratch(), FORMAT_LEGACY);
  assert.equal(fields[F_BID], 0.52);
  fields[F_LEN] = 1000;
  assert.equal(native.decodeScratch(), -4);
  assert.throws(() => native.bindPacketScratch(new Float64Array(3), buf), /fields/);
});
