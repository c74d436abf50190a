// Replay of Polymarket recordings written by the real RecordingWriter: the
// format before token slots existed, and a file that begins after slots have
// changed hands, with slot ops (good, refused and unreadable) among the frames.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { COUNTER } from '../../workers/counters.js';
import { encodeSlotOp, RecordingWriter, slotOpsSource } from '../../workers/recording/recording.js';
import { PolyedgeError } from '../errors.js';
import { replayRecordingFile } from './replay.js';

const A = '1001';
const B = '1002';
const C = '1003';
const SPEC = { feed: 'polymarket', wsUrl: 'ws://127.0.0.1:1/ws/market', restUrl: 'http://127.0.0.1:1', maxAssetsPerConnection: 4 };

const book = (token: string, bid: string, ask: string): Buffer =>
  Buffer.from(
    `{"event_type":"book","asset_id":"${token}","market":"0x01","timestamp":"5","bids":[{"price":"${bid}","size":"10"}],"asks":[{"price":"${ask}","size":"10"}],"tick_size":"0.01"}`,
  );

/** Runs `body` on one recording file of `records` ([source, payload]) under `meta`, in a fresh directory removed afterwards. */
async function withRecording(sources: string[], meta: unknown, records: Array<[number, Uint8Array]>, body: (file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-replay-'));
  try {
    const w = new RecordingWriter(dir, 'polymarket', sources, { maxBytes: 1 << 30, maxMs: 1e12 }, Date.now, () => meta);
    records.forEach(([source, payload], i) => w.append(source, 1e9 + i, Date.now(), payload));
    w.close();
    await body(w.files[0]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Replays `file` fast: the tops it showed as [symbol, bid, ask], and the result. */
const tops = async (file: string): Promise<{ lines: Array<[string, string, string]>; r: Awaited<ReturnType<typeof replayRecordingFile>> }> => {
  const lines: Array<[string, string, string]> = [];
  const r = await replayRecordingFile(file, { pace: 'fast', onTop: (t) => lines.push([t.symbol, t.bid, t.ask]) });
  return { lines, r };
};

test('a recording from before token slots (no slots in its spec, no slot source) replays one book per token', async () => {
  await withRecording(['polymarket', 'polymarket:rest:0', 'polymarket:rest:1'], { ...SPEC, tokenIds: [A, B] }, [
    [0, book(A, '0.4', '0.6')],
    [0, book(B, '0.3', '0.7')],
  ], async (file) => {
    const { lines, r } = await tops(file);
    assert.deepEqual(lines, [
      [A, '0.40', '0.60'],
      [B, '0.30', '0.70'],
    ]);
    assert.deepEqual([r.frames, r.slotOps, r.slotErrors], [2, 0, 0]);
  });
});

test('a file that began after slots changed hands starts from its meta.assigned and applies its slot ops in order', async () => {
  const slots = slotOpsSource('polymarket');
  const sources = ['polymarket', 'polymarket:rest:0', 'polymarket:rest:1', 'polymarket:rest:2', slots];
  const op = 4;
  await withRecording(sources, { ...SPEC, tokenIds: [A, B], slots: 3, assigned: [null, B, C] }, [
    [0, book(C, '0.2', '0.3')],
    [0, book(A, '0.4', '0.6')], // slot 0 is vacant in this file: A is nobody's
    [op, encodeSlotOp({ op: 'assign', slot: 1, tokenId: A })], // refused: slot 1 holds B
    [op, encodeSlotOp({ op: 'release', slot: 1 })],
    [op, encodeSlotOp({ op: 'assign', slot: 0, tokenId: A })],
    [op, Buffer.from('{"op":"assign"')], // unreadable
    [0, book(A, '0.45', '0.55')],
    [0, book(B, '0.1', '0.9')], // released: unknown again
  ], async (file) => {
    const { lines, r } = await tops(file);
    assert.deepEqual(lines, [
      [C, '0.20', '0.30'],
      [A, '0.45', '0.55'],
    ]);
    assert.deepEqual([r.frames, r.slotOps, r.slotErrors], [4, 2, 2]);
    assert.equal(r.counters[COUNTER.unknownEvents], 2);
  });
});

test('a meta.assigned that does not list every slot is refused with a usage error', async () => {
  await withRecording(['polymarket', slotOpsSource('polymarket')], { ...SPEC, tokenIds: [], slots: 3, assigned: [A] }, [[0, book(A, '0.4', '0.6')]], async (file) => {
    await assert.rejects(replayRecordingFile(file, { pace: 'fast' }), (err: unknown) => err instanceof PolyedgeError && /meta\.assigned/.test(err.message));
  });
});
