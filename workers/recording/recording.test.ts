import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSlotOp, encodeSlotOp, readRecording, RecordingWriter, slotOpsSource, type SlotOp } from './recording.js';

test('frames round-trip in order through rotated files, payload bytes intact', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pedrec-'));
  let clock = 1_763_700_000_000;
  const w = new RecordingWriter(dir, 'test', ['polymarket', 'binance'], { maxBytes: 4096, maxMs: 60_000 }, () => clock);
  const sent: Array<[number, number, string]> = [];
  for (let i = 0; i < 500; i++) {
    const text = `{"i":${i},"pad":"${'x'.repeat(i % 37)}"}`;
    sent.push([i % 2, 1e12 + i * 1000, text]);
    w.append(i % 2, 1e12 + i * 1000, clock, Buffer.from(text));
    if (i === 250) clock += 61_000; // forces a time rotation too
  }
  w.close();
  assert.ok(w.files.length > 3, `rotated into ${w.files.length} files`);
  const got: Array<[number, number, string]> = [];
  for (const f of w.files) {
    const r = readRecording(f, (fr) => got.push([fr.source, fr.recvMonoNs, Buffer.from(fr.payload).toString()]));
    assert.deepEqual(r.header.sources, ['polymarket', 'binance']);
    assert.equal(r.tornBytes, 0);
  }
  assert.deepEqual(got, sent);
});

test('a torn tail loses only the last partial record and is reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pedrec-'));
  const w = new RecordingWriter(dir, 'torn', ['x'], { maxBytes: 1 << 30, maxMs: 1e12 });
  for (let i = 0; i < 100; i++) w.append(0, i, i, Buffer.from(`frame-${i}`));
  w.close();
  const file = w.files[0]!;
  truncateSync(file, statSync(file).size - 3);
  const frames: string[] = [];
  const r = readRecording(file, (f) => frames.push(Buffer.from(f.payload).toString()));
  assert.equal(frames.length, 99);
  assert.equal(frames[98], 'frame-98');
  assert.ok(r.tornBytes > 0);
  assert.ok(readFileSync(file).length > 0);
});

test('the header meta is asked for at the start of each file, so a later file describes the state it began in', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pedrec-'));
  let clock = 1_763_700_000_000;
  let generation = 0;
  const w = new RecordingWriter(dir, 'meta', ['x'], { maxBytes: 1 << 30, maxMs: 1_000 }, () => clock, () => ({ generation }));
  w.append(0, 1, clock, Buffer.from('a'));
  generation = 1;
  w.append(0, 2, clock, Buffer.from('b'));
  clock += 2_000;
  w.append(0, 3, clock, Buffer.from('c'));
  w.close();
  assert.equal(w.files.length, 2);
  assert.deepEqual(
    w.files.map((f) => readRecording(f, () => {}).header.meta),
    [{ generation: 0 }, { generation: 1 }],
  );
});

test('slot ops round-trip; anything else is named as not one', () => {
  const ops: SlotOp[] = [
    { op: 'assign', slot: 3, tokenId: '123456' },
    { op: 'release', slot: 0 },
  ];
  for (const op of ops) assert.deepEqual(decodeSlotOp(encodeSlotOp(op)), op);
  assert.equal(slotOpsSource('polymarket'), 'polymarket:slots');
  const bad = ['', '[]', 'null', '{"op":"assign","slot":1}', '{"op":"move","slot":1}', '{"op":"release","slot":-1}', '{"op":"release","slot":1.5}', '{"op":"release"}'];
  for (const text of bad) assert.equal(typeof decodeSlotOp(Buffer.from(text)), 'string', text);
});
