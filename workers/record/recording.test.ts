import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecording, RecordingWriter } from './recording.js';

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
