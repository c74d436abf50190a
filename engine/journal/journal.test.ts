import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { validate } from '../config/schema.js';
import { PolyedgeError } from '../errors.js';
import { updownMarket } from '../trading/markets.fixture.js';
import { Side, type Fill, type Order, type Settlement } from '../trading/types.js';
import { HEADER_BYTES, Journal, JournalCorruptError, JournalFormatError, journalConfig } from './journal.js';
import { parseRecord, type JournalInput } from './records.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pe-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const order: Order = {
  id: 'o1',
  strategy: 'mm',
  token: 2,
  side: Side.Buy,
  price: 5500,
  size: 1_000_000,
  filled: 0,
  type: 'GTC',
  postOnly: true,
  expiresMs: Number.NaN,
  reason: 'quote_bid',
  status: 'pending',
  createdMs: 1_750_000_000_000,
  ackMs: Number.NaN,
};
const fill: Fill = { orderId: 'o1', strategy: 'mm', token: 2, side: Side.Buy, price: 5500, size: 250_000, fee: 0, liquidity: 'maker', tsMs: 1_750_000_000_020, fillId: 'f1' };

const descriptor = updownMarket('c0nd', { startMs: 1_750_000_200_000, feeRate: 0.072 });
const settlement: Settlement = { settleId: '0xc0nd', conditionId: '0xc0nd', market: 1, tokens: [2, 3], winner: 1, open: 104_250.5, close: 104_199.25, exact: false };

const EVERY_TYPE: JournalInput[] = [
  { type: 'session', tsMs: 1, event: 'start', note: 'paper' },
  { type: 'order', tsMs: 2, order },
  { type: 'ack', tsMs: 3, orderId: 'o1', ackMs: 3, venueId: '0xabc' },
  { type: 'fill', tsMs: 4, fill },
  { type: 'reject', tsMs: 5, orderId: 'o2', reason: 'post_only_cross' },
  { type: 'cancel', tsMs: 6, orderId: 'o1', reason: 'requote' },
  { type: 'expire', tsMs: 7, orderId: 'o3' },
  { type: 'merge', tsMs: 8, merge: { mergeId: 'm1', market: 1, tokens: [2, 3], size: 10_000 } },
  { type: 'position', tsMs: 9, positions: { anything: [1, 2] }, orders: [order], fillIds: ['f1'], mergeIds: ['m1'] },
  { type: 'market', tsMs: 10, slot: 1, market: descriptor },
  { type: 'settle', tsMs: 11, settlement },
  { type: 'settle', tsMs: 11, settlement: { ...settlement, settleId: '0xc0nd2', holdings: [{ strategy: 'maker', positions: [5_000_000, -10_000] }] } },
  { type: 'resolution', tsMs: 11, resolution: { resolutionId: '0xc0nd', conditionId: '0xc0nd', market: 1, tokens: [2, 3], winner: 0, engineWinner: 1, holdings: [{ strategy: 'maker', positions: [0, 5_000_000] }] } },
  {
    type: 'position',
    tsMs: 12,
    positions: null,
    orders: [],
    fillIds: [],
    mergeIds: [],
    slots: [{ slot: 1, market: { ...descriptor, startMs: Number.NaN } }],
    settlements: [settlement],
    settledConditions: ['0xc0nd'],
    settleIds: ['0xc0nd'],
    resolutionIds: ['0xc0nd'],
  },
];

/** Byte offsets of each record frame in a journal file. */
function frameOffsets(path: string): number[] {
  const buf = readFileSync(path);
  const offsets: number[] = [];
  for (let off = HEADER_BYTES; off < buf.length; off += 8 + buf.readUInt32LE(off)) offsets.push(off);
  return offsets;
}

function writeRecords(path: string, inputs: readonly JournalInput[]): void {
  const { journal } = Journal.open(path, { fsync: 'never' });
  for (const r of inputs) journal.append(r);
  journal.close();
}

/** A frame with a valid checksum around any msgpack value. */
function rawFrame(value: unknown): Buffer {
  const payload = new Packr({ useRecords: false }).pack(value);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

test('every record type round-trips with seq 1.. and NaN times intact; reopening continues the sequence', (t) => {
  const path = join(tempDir(t), 'j');
  writeRecords(path, EVERY_TYPE);
  assert.equal(readFileSync(path).subarray(0, 8).toString('latin1'), 'PEJOURNL');
  const r = Journal.replay(path);
  assert.deepEqual(r.records, EVERY_TYPE.map((rec, i) => ({ ...rec, seq: i + 1 })));
  assert.equal(r.lastSeq, EVERY_TYPE.length);
  assert.equal(r.tornTailBytes, 0);
  assert.equal(r.warning, undefined);
  assert.deepEqual(r.corruption, []);

  const { journal, replay } = Journal.open(path, { fsync: 'always' });
  assert.equal(replay.records.length, EVERY_TYPE.length);
  assert.equal(journal.append({ type: 'expire', tsMs: 10, orderId: 'o9' }), EVERY_TYPE.length + 1);
  assert.equal(journal.stats.fsyncs, 1);
  journal.close();
  assert.throws(() => journal.append({ type: 'expire', tsMs: 11, orderId: 'o9' }), /closed/);
  assert.equal(Journal.replay(path).lastSeq, EVERY_TYPE.length + 1);
});

test('a torn last record, cut at every byte, is dropped with a warning and truncated before the next append', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'j');
  writeRecords(path, EVERY_TYPE.slice(0, 4));
  const whole = readFileSync(path);
  const last = frameOffsets(path).at(-1)!;
  for (let cut = last + 1; cut < whole.length; cut++) {
    writeFileSync(path, whole.subarray(0, cut));
    const r = Journal.replay(path);
    assert.equal(r.records.length, 3, `cut at ${cut}`);
    assert.equal(r.tornTailBytes, cut - last);
    assert.equal(r.validEnd, last);
    assert.match(r.warning ?? '', /torn tail of \d+ bytes .* after seq 3/);
    assert.deepEqual(r.corruption, []);

    const { journal } = Journal.open(path, { fsync: 'never' });
    assert.equal(statSync(path).size, last, 'the torn tail is truncated on open');
    assert.equal(journal.append(EVERY_TYPE[3]!), 4);
    journal.close();
    assert.deepEqual(readFileSync(path), whole, `cut at ${cut}: re-appending rebuilds the same file`);
  }
});

test('a zero-filled tail (a power loss after the file grew) is a torn tail, not records', (t) => {
  const path = join(tempDir(t), 'j');
  writeRecords(path, EVERY_TYPE.slice(0, 2));
  appendFileSync(path, Buffer.alloc(8192));
  const r = Journal.replay(path);
  assert.equal(r.records.length, 2);
  assert.equal(r.tornTailBytes, 8192);
  assert.deepEqual(r.corruption, []);
});

test('damage in the middle is reported by region with the seqs around it, and open refuses to append after it', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'j');
  writeRecords(path, EVERY_TYPE.slice(0, 6));
  const pristine = readFileSync(path);
  const offsets = frameOffsets(path);
  const third = offsets[2]!;
  const thirdLen = offsets[3]! - third;

  // A flipped payload bit.
  const flipped = Buffer.from(pristine);
  flipped[third + 12]! ^= 0x10;
  writeFileSync(path, flipped);
  let r = Journal.replay(path);
  assert.deepEqual(r.records.map((x) => x.seq), [1, 2, 4, 5, 6]);
  assert.deepEqual(r.corruption, [{ kind: 'checksum', offset: third, bytes: thirdLen, afterSeq: 2, nextSeq: 4, detail: 'checksum mismatch' }]);
  assert.equal(r.tornTailBytes, 0);
  assert.throws(() => Journal.open(path, { fsync: 'never' }), (err: unknown) => err instanceof JournalCorruptError && /checksum at byte \d+ .* between seq 2 and 4/.test(err.message));

  // A damaged length field: the reader finds its footing at the next whole record.
  const badLength = Buffer.from(pristine);
  badLength.writeUInt32LE(0xfffffff0, third);
  writeFileSync(path, badLength);
  r = Journal.replay(path);
  assert.deepEqual(r.records.map((x) => x.seq), [1, 2, 4, 5, 6]);
  assert.equal(r.corruption.length, 1);
  assert.equal(r.corruption[0]!.kind, 'length');
  assert.equal(r.corruption[0]!.bytes, thirdLen);

  // Appending anyway is an explicit choice; the damage stays reported.
  const { journal } = Journal.open(path, { fsync: 'never', allowCorruption: true });
  assert.equal(journal.append(EVERY_TYPE[6]!), 7);
  journal.close();
  r = Journal.replay(path);
  assert.equal(r.corruption.length, 1);
  assert.equal(r.lastSeq, 7);
});

test('a checksummed record that is not a record, and a seq break, are corruption even at the end', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'j');
  writeRecords(path, EVERY_TYPE.slice(0, 2));
  const size = statSync(path).size;
  appendFileSync(path, rawFrame({ seq: 3, tsMs: 1, type: 'fill', fill: { ...fill, fee: 0.5 } }));
  let r = Journal.replay(path);
  assert.equal(r.records.length, 2);
  assert.equal(r.tornTailBytes, 0);
  assert.deepEqual(r.corruption.map((c) => [c.kind, c.offset, c.afterSeq, c.nextSeq, c.detail]), [['malformed', size, 2, 0, 'bad field fill.fee in a fill record']]);

  writeRecords(join(dir, 'k'), EVERY_TYPE.slice(0, 2));
  appendFileSync(join(dir, 'k'), rawFrame({ seq: 5, tsMs: 1, type: 'expire', orderId: 'x' }));
  r = Journal.replay(join(dir, 'k'));
  assert.deepEqual(r.records.map((x) => x.seq), [1, 2, 5]);
  assert.deepEqual(r.corruption.map((c) => [c.kind, c.afterSeq, c.nextSeq]), [['sequence', 2, 5]]);
});

test('foreign files and unknown versions are refused; a torn header is rewritten', (t) => {
  const dir = tempDir(t);
  const foreign = join(dir, 'foreign');
  writeFileSync(foreign, 'this is not a journal at all');
  assert.throws(() => Journal.replay(foreign), JournalFormatError);
  assert.throws(() => Journal.open(foreign, { fsync: 'never' }), JournalFormatError);
  assert.equal(readFileSync(foreign, 'utf8'), 'this is not a journal at all', 'a foreign file is never touched');

  const path = join(dir, 'j');
  writeRecords(path, []);
  const header = readFileSync(path);
  const v2 = Buffer.from(header);
  v2.writeUInt32LE(2, 8);
  v2.writeUInt32LE(crc32(v2.subarray(0, 12)), 12);
  writeFileSync(path, v2);
  assert.throws(() => Journal.replay(path), /journal version 2/);

  // The process died after writing 5 bytes of the header.
  writeFileSync(path, header.subarray(0, 5));
  const r = Journal.replay(path);
  assert.equal(r.records.length, 0);
  assert.match(r.warning ?? '', /torn header/);
  const { journal } = Journal.open(path, { fsync: 'never' });
  assert.equal(journal.append(EVERY_TYPE[0]!), 1);
  journal.close();
  assert.equal(Journal.replay(path).records.length, 1);
});

test('opening names the path and the cause: empty, a directory, a missing folder, a foreign file, a damaged header', (t) => {
  const dir = tempDir(t);
  const refused = (path: string, code: string, message: RegExp): void => {
    for (const f of [() => Journal.check(path), () => Journal.open(path, { fsync: 'never' })]) {
      assert.throws(f, (err: unknown) => err instanceof PolyedgeError && err.code === code && err.field === 'journal' && message.test(err.message), `${path}: ${code}`);
    }
  };
  refused('', 'PE_JOURNAL_OPEN', /journal "": the path is empty/);
  refused(dir, 'PE_JOURNAL_OPEN', /: is a directory/);
  refused(join(dir, 'no', 'such', 'j'), 'PE_JOURNAL_OPEN', /its folder .*no\/such does not exist/);
  const notes = join(dir, 'notes');
  writeFileSync(notes, 'x');
  refused(join(notes, 'j'), 'PE_JOURNAL_OPEN', /notes\/j": a part of the path is not a directory \(ENOTDIR\)/);

  // Random bytes, and a file too short for a header that is not the start of ours: never overwritten.
  const random = join(dir, 'random');
  const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 193 + 71) & 0xff));
  writeFileSync(random, bytes);
  refused(random, 'PE_JOURNAL_FOREIGN', /random: not a polyedge journal .*left untouched/);
  writeFileSync(notes, 'PEJ!');
  refused(notes, 'PE_JOURNAL_FOREIGN', /not a polyedge journal/);
  assert.deepEqual(readFileSync(random), bytes);
  assert.equal(readFileSync(notes, 'utf8'), 'PEJ!');

  const path = join(dir, 'j');
  writeRecords(path, []);
  const damaged = readFileSync(path);
  damaged[13]! ^= 0xff;
  writeFileSync(path, damaged);
  refused(path, 'PE_JOURNAL_CORRUPT', /journal header is damaged/);
  assert.deepEqual(readFileSync(path), damaged);
});

test('check passes a new path in an existing folder and an existing journal, and touches neither', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'j');
  assert.equal(Journal.check(path), false);
  assert.equal(existsSync(path), false);
  writeRecords(path, EVERY_TYPE.slice(0, 2));
  const before = readFileSync(path);
  assert.equal(Journal.check(path), true);
  assert.deepEqual(readFileSync(path), before);
  // A torn header (the process died creating the file) is still ours.
  writeFileSync(path, before.subarray(0, 5));
  assert.equal(Journal.check(path), true);
});

test('fsync policies: always syncs each record, interval syncs in the background, never only on close', async (t) => {
  const dir = tempDir(t);
  const counts: Record<string, number> = {};
  for (const fsync of ['always', 'never'] as const) {
    const { journal } = Journal.open(join(dir, fsync), { fsync });
    for (const r of EVERY_TYPE) journal.append(r);
    counts[fsync] = journal.stats.fsyncs;
    journal.close();
  }
  assert.deepEqual(counts, { always: EVERY_TYPE.length, never: 0 });

  const { journal } = Journal.open(join(dir, 'interval'), { fsync: 'interval', fsyncIntervalMs: 1 });
  journal.append(EVERY_TYPE[0]!);
  // Wait for the background flush; no bound on how long it may take.
  while (journal.stats.fsyncs === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  journal.append(EVERY_TYPE[1]!);
  journal.close();
  assert.equal(journal.stats.fsyncErrors, 0);
  assert.equal(Journal.replay(join(dir, 'interval')).lastSeq, 2);
});

test('checkpoint compacts: the new file starts at the snapshot, the old one is archived, seq goes on', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'j');
  const { journal } = Journal.open(path, { fsync: 'never', snapshotEvery: 3 });
  for (const r of EVERY_TYPE.slice(0, 3)) journal.append(r);
  assert.equal(journal.snapshotDue, true);
  const snapshot = EVERY_TYPE[8]! as Extract<JournalInput, { type: 'position' }>;
  const archive = journal.checkpoint(snapshot);
  assert.equal(archive, `${path}.000000000003`);
  assert.equal(journal.snapshotDue, false);
  assert.equal(journal.append(EVERY_TYPE[3]!), 5);
  journal.close();
  assert.equal(existsSync(`${path}.compact`), false);
  assert.deepEqual(Journal.replay(archive!).records.map((r) => r.seq), [1, 2, 3]);
  const r = Journal.replay(path);
  assert.deepEqual(r.records.map((x) => [x.seq, x.type]), [[4, 'position'], [5, 'fill']]);

  // Reopened, it knows how far it is from the last snapshot.
  const reopened = Journal.open(path, { fsync: 'never', snapshotEvery: 2, compact: false });
  assert.equal(reopened.journal.snapshotDue, false);
  reopened.journal.append(EVERY_TYPE[4]!);
  assert.equal(reopened.journal.snapshotDue, true);
  assert.equal(reopened.journal.checkpoint(snapshot), undefined, 'without compaction the snapshot is appended in place');
  reopened.journal.close();
  assert.throws(() => reopened.journal.checkpoint(snapshot), /closed/);
  assert.deepEqual(Journal.replay(path).records.map((x) => x.type), ['position', 'fill', 'reject', 'position']);
});

test('parseRecord names the offending field', () => {
  assert.equal(parseRecord({ seq: 1, tsMs: 1, type: 'fill', fill: { ...fill, side: 2 } }), 'bad field fill.side in a fill record');
  assert.equal(parseRecord({ seq: 1, tsMs: 1, type: 'position', positions: null, orders: [order, { ...order, price: '1' }], fillIds: [], mergeIds: [] }), 'bad field orders[1].price in a position record');
  assert.equal(parseRecord({ seq: 0, tsMs: 1, type: 'expire', orderId: 'x' }), 'bad field seq');
  assert.equal(parseRecord({ seq: 1, tsMs: 1, type: 'teleport' }), 'unknown type "teleport"');
  assert.equal(parseRecord([1, 2]), 'bad field (record)');
});

test('parseRecord checks market and settle records and the slot fields of a snapshot, tolerating extra fields', () => {
  const rec = (body: Record<string, unknown>) => ({ seq: 1, tsMs: 1, ...body });
  const market = (m: Record<string, unknown>, slot: unknown = 0) => rec({ type: 'market', slot, market: { ...descriptor, ...m } });
  const settle = (x: Record<string, unknown>) => rec({ type: 'settle', settlement: { ...settlement, ...x } });
  assert.deepEqual(parseRecord(market({ note: 'newer writer' })), market({ note: 'newer writer' }));
  assert.equal(parseRecord(market({}, -1)), 'bad field slot in a market record');
  assert.equal(parseRecord(market({}, 1.5)), 'bad field slot in a market record');
  assert.equal(parseRecord(market({ conditionId: '' })), 'bad field market.conditionId in a market record');
  assert.equal(parseRecord(market({ tokenIds: ['1'] })), 'bad field market.tokenIds in a market record');
  assert.equal(parseRecord(market({ outcomes: ['Up', 2] })), 'bad field market.outcomes[1] in a market record');
  assert.equal(parseRecord(market({ tickSize: 0 })), 'bad field market.tickSize in a market record');
  assert.equal(parseRecord(market({ negRisk: 'no' })), 'bad field market.negRisk in a market record');
  assert.equal(parseRecord(market({ endMs: undefined })), 'bad field market.endMs in a market record');
  assert.equal(parseRecord(rec({ type: 'market', slot: 0 })), 'bad field market in a market record');
  assert.deepEqual(parseRecord(settle({})), settle({}));
  assert.equal(parseRecord(settle({ winner: 2 })), 'bad field settlement.winner in a settle record');
  assert.equal(parseRecord(settle({ settleId: '' })), 'bad field settlement.settleId in a settle record');
  assert.equal(parseRecord(settle({ tokens: [2, -3] })), 'bad field settlement.tokens[1] in a settle record');
  assert.equal(parseRecord(settle({ exact: 1 })), 'bad field settlement.exact in a settle record');
  // Holdings: absent in journals written before them; when present, integer micro-shares per strategy.
  const held = { holdings: [{ strategy: 'maker', positions: [5_000_000, 0] }], engineWinner: 0 };
  assert.deepEqual(parseRecord(settle(held)), settle(held));
  assert.equal(parseRecord(settle({ holdings: [{ strategy: 'maker', positions: [1.5, 0] }] })), 'bad field settlement.holdings[0].positions[0] in a settle record');
  assert.equal(parseRecord(settle({ holdings: [{ positions: [1, 0] }] })), 'bad field settlement.holdings[0].strategy in a settle record');
  assert.equal(parseRecord(settle({ holdings: {} })), 'bad field settlement.holdings in a settle record');
  assert.equal(parseRecord(settle({ engineWinner: 2 })), 'bad field settlement.engineWinner in a settle record');
  const resolution = (x: Record<string, unknown>) =>
    rec({ type: 'resolution', resolution: { resolutionId: '0xc0nd', conditionId: '0xc0nd', market: 1, tokens: [2, 3], winner: 0, engineWinner: 1, holdings: [], ...x } });
  assert.deepEqual(parseRecord(resolution({})), resolution({}));
  assert.equal(parseRecord(resolution({ winner: '0' })), 'bad field resolution.winner in a resolution record');
  assert.equal(parseRecord(resolution({ engineWinner: undefined })), 'bad field resolution.engineWinner in a resolution record');
  assert.equal(parseRecord(resolution({ holdings: undefined })), 'bad field resolution.holdings in a resolution record');
  assert.equal(parseRecord(resolution({ resolutionId: '' })), 'bad field resolution.resolutionId in a resolution record');
  assert.equal(parseRecord(rec({ type: 'position', positions: null, orders: [], fillIds: [], mergeIds: [], resolutionIds: [3] })), 'bad field resolutionIds[0] in a position record');
  const position = (x: Record<string, unknown>) => rec({ type: 'position', positions: null, orders: [], fillIds: [], mergeIds: [], ...x });
  assert.deepEqual(parseRecord(position({})), position({}), 'a snapshot from before market slots');
  assert.equal(parseRecord(position({ slots: [{ slot: 0, market: { ...descriptor, slug: 7 } }] })), 'bad field slots[0].market.slug in a position record');
  assert.equal(parseRecord(position({ settlements: [{ ...settlement, market: 'x' }] })), 'bad field settlements[0].market in a position record');
  assert.equal(parseRecord(position({ settledConditions: [1] })), 'bad field settledConditions[0] in a position record');
  assert.equal(parseRecord(position({ settleIds: 'x' })), 'bad field settleIds in a position record');
});

test('the [journal] config table has safe defaults and rejects unknown policies', () => {
  const ok = validate(journalConfig, {});
  assert.deepEqual(ok, { ok: true, value: { path: 'polyedge.journal', fsync: 'interval', fsync_interval_ms: 100, snapshot_every: 1000, compact: true, allow_corruption: false } });
  const bad = validate(journalConfig, { fsync: 'sometimes' });
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.violations[0]!.path, 'fsync');
});
