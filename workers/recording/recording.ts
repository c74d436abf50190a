// Recording format: every raw frame a feed received, with its receive
// stamps, so a replay can push the same bytes through the same parse and
// book code.
//
//   file   = header record, then frame records, all msgpack, back to back
//   header = { format: "polyedge-recording", version: 1, sources: string[], startedWallMs, meta? }
//   frame  = [sourceIndex, recvMonoNs, recvWallMs, payload bytes]
//
// The feed worker's sources: 0 = the WebSocket frames, 1 + k = REST
// snapshot bodies of key k (Polymarket slot, Binance symbol), and for
// Polymarket a last source "polymarket:slots" whose payloads are the slot
// assignments, in order with everything else, recorded as they were asked
// for, before they took effect (a refused one too: replay refuses it alike):
//
//   {"op":"assign","slot":3,"tokenId":"<decimal id>"}   {"op":"release","slot":3}
//
// meta is the feed's FeedSpec; once slots have changed hands, the meta of
// each new file adds `assigned`: per slot, the token id it held (or null)
// when the file began. Files without that source replay as before it existed.
//
// msgpack is self-delimiting, so a file cut short by a crash loses only its
// last, partial record: the reader stops there and reports it.

import { closeSync, openSync, readSync, writeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import { isPlainObject } from '../guards.js';

export const RECORDING_FORMAT = 'polyedge-recording';
export const RECORDING_VERSION = 1;

/** A slot assignment as recorded (see the header comment). */
export type SlotOp = { op: 'assign'; slot: number; tokenId: string } | { op: 'release'; slot: number };

/** Name of the source that carries a feed's slot assignments. */
export function slotOpsSource(feed: string): string {
  return `${feed}:slots`;
}

export function encodeSlotOp(op: SlotOp): Uint8Array {
  return Buffer.from(JSON.stringify(op), 'utf8');
}

/** The recorded op, or a message saying why the payload is not one. */
export function decodeSlotOp(payload: Uint8Array): SlotOp | string {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return 'slot op is not JSON';
  }
  if (!isPlainObject(v)) return 'slot op is not an object';
  const { op, slot, tokenId } = v;
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0) return `slot op: slot must be a non-negative integer, got ${JSON.stringify(slot)}`;
  if (op === 'release') return { op, slot };
  if (op !== 'assign') return `slot op: op must be "assign" or "release", got ${JSON.stringify(op)}`;
  if (typeof tokenId !== 'string') return `slot op: tokenId must be a string, got ${JSON.stringify(tokenId)}`;
  return { op, slot, tokenId };
}

export interface RecordingHeader {
  format: typeof RECORDING_FORMAT;
  version: number;
  sources: string[];
  startedWallMs: number;
  /** What the recorder knew about its feed (token ids, symbols), for replay. */
  meta?: unknown;
}

export interface RecordedFrame {
  source: number;
  recvMonoNs: number;
  recvWallMs: number;
  payload: Uint8Array;
}

export interface RotationPolicy {
  /** Start a new file past this many bytes. */
  maxBytes: number;
  /** Start a new file after this long. */
  maxMs: number;
}

/**
 * Appends frames to size- or time-rotated files in `dir`. Writes are
 * buffered and flushed in batches (each `flush` is one write syscall).
 */
export class RecordingWriter {
  private readonly packr = new Packr({ useRecords: false });
  private fd = -1;
  private fileBytes = 0;
  private fileStartedMs = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  readonly files: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly sources: string[],
    private readonly rotation: RotationPolicy,
    private readonly now: () => number = Date.now,
    /** The header's meta, asked for at the start of each file. */
    private readonly meta?: () => unknown,
  ) {}

  append(source: number, recvMonoNs: number, recvWallMs: number, payload: Uint8Array): void {
    if (this.fd < 0 || this.fileBytes >= this.rotation.maxBytes || this.now() - this.fileStartedMs >= this.rotation.maxMs) this.rotate();
    const rec = this.packr.pack([source, recvMonoNs, recvWallMs, payload]);
    this.pending.push(Buffer.from(rec));
    this.pendingBytes += rec.length;
    this.fileBytes += rec.length;
    if (this.pendingBytes >= 1 << 16) this.flush();
  }

  flush(): void {
    if (this.fd < 0 || this.pending.length === 0) return;
    writeSync(this.fd, Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }

  close(): void {
    this.flush();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private rotate(): void {
    this.close();
    const startedWallMs = this.now();
    const name = `${this.prefix}-${new Date(startedWallMs).toISOString().replace(/[:.]/g, '-')}-${this.files.length}.pedrec`;
    const path = join(this.dir, name);
    this.fd = openSync(path, 'wx');
    this.files.push(path);
    const header: RecordingHeader = { format: RECORDING_FORMAT, version: RECORDING_VERSION, sources: this.sources, startedWallMs, meta: this.meta?.() };
    const bytes = this.packr.pack(header);
    writeSync(this.fd, bytes);
    this.fileBytes = bytes.length;
    this.fileStartedMs = startedWallMs;
  }
}

export interface ReadResult {
  header: RecordingHeader;
  frames: number;
  /** Bytes at the end that did not form a whole record (a torn tail). */
  tornBytes: number;
}

function isHeader(v: unknown): v is RecordingHeader {
  if (!isPlainObject(v)) return false;
  const h = v;
  return h.format === RECORDING_FORMAT && typeof h.version === 'number' && Array.isArray(h.sources) && typeof h.startedWallMs === 'number';
}

/**
 * Streams a recording file frame by frame in chunks; `onFrame` may not keep
 * the payload past its call (it is a view into a reused buffer).
 */
export function readRecording(path: string, onFrame: (frame: RecordedFrame) => void, onHeader?: (header: RecordingHeader) => void): ReadResult {
  const unpackr = new Unpackr({ useRecords: false });
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(1 << 20);
    let carry: Buffer = Buffer.alloc(0);
    let header: RecordingHeader | undefined;
    let frames = 0;
    let offset = 0;
    const frame: RecordedFrame = { source: 0, recvMonoNs: 0, recvWallMs: 0, payload: new Uint8Array(0) };
    while (offset < size) {
      const n = readSync(fd, chunk, 0, chunk.length, offset);
      if (n <= 0) break;
      offset += n;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let consumed = 0;
      try {
        unpackr.unpackMultiple(buf, (value: unknown, _start?: number, end?: number) => {
          if (end !== undefined) consumed = end;
          if (!header) {
            if (!isHeader(value)) throw new Error(`${path}: not a polyedge recording`);
            header = value;
            onHeader?.(value);
            return;
          }
          if (!Array.isArray(value) || value.length !== 4) return;
          const [source, mono, wall, payload] = value as [number, number, number, Uint8Array];
          frame.source = source;
          frame.recvMonoNs = mono;
          frame.recvWallMs = wall;
          frame.payload = payload;
          frames++;
          onFrame(frame);
        });
      } catch (err) {
        const e = err as { incomplete?: boolean; lastPosition?: number };
        if (!e.incomplete) throw err;
        consumed = e.lastPosition ?? consumed;
      }
      carry = Buffer.from(buf.subarray(consumed));
    }
    if (!header) throw new Error(`${path}: empty or not a polyedge recording`);
    return { header, frames, tornBytes: carry.length };
  } finally {
    closeSync(fd);
  }
}
