// The journal: a write-ahead log of every order, ack, fill, cancel and
// position change, from which a restarted engine rebuilds its state.
//
//   file    = header, then records back to back
//   header  = "PEJOURNL" | u32 version | u32 crc32(first 12 bytes)       16 bytes, little-endian
//   record  = u32 payload length | u32 crc32(payload) | payload           little-endian
//   payload = one msgpack map (records.ts)
//
// Appends are synchronous positioned writes on the caller's thread. When
// append() returns, the record is in the kernel's page cache, so a kill -9 a
// moment later cannot lose anything the engine went on to act upon (an async
// write would leave a window where the order is sent but its record is still
// queued in our process). Power loss is the fsync policy's business:
//   always    fdatasync after every record, on the caller's thread: nothing acknowledged is lost; each record pays a disk flush
//   interval  fdatasync on the libuv pool every fsyncIntervalMs when something was written: loses at most that window
//   never     the OS writes back when it likes
//
// The checksum is node's zlib.crc32 (IEEE CRC-32, native): it is there to
// catch torn and damaged records, which any 32-bit CRC does equally well.
//
// A record that fails its length or checksum check ends the readable
// journal unless a whole valid record follows it somewhere later. Nothing
// after it → a torn tail (the last write was cut short): dropped with a
// warning, and truncated away before appending resumes. A valid record after
// it → corruption in the middle: reported region by region, and opening for
// append refuses unless told otherwise, because positions rebuilt across a
// hole would be wrong.

import { accessSync, closeSync, constants, fdatasync, fdatasyncSync, fsyncSync, ftruncateSync, linkSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { boolean, number, object, oneOf, string, type Infer } from '../config/schema.js';
import { isSystemError, PolyedgeError } from '../errors.js';
import { parseRecord, type JournalInput, type JournalRecord, type PositionInput } from './records.js';

export const JOURNAL_VERSION = 1;
const MAGIC = Buffer.from('PEJOURNL', 'latin1');
export const HEADER_BYTES = 16;
const FRAME_HEAD = 8;
/** A payload is at least a one-byte msgpack value; a zero length is never a record (zero-filled blocks look like one). */
const MIN_PAYLOAD = 1;
/** Far above any record (a position snapshot with 100k fill ids is ~3 MB); a longer length field is damage. */
const MAX_PAYLOAD = 64 << 20;

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface JournalOptions {
  fsync: FsyncPolicy;
  /** For fsync 'interval'. Default 100. */
  fsyncIntervalMs?: number;
  /** Records after which `snapshotDue` turns true. Default 1000. */
  snapshotEvery?: number;
  /** checkpoint() starts a new file holding only the snapshot (the old one is kept as an archive). Default true. */
  compact?: boolean;
  /** Open for append even when the journal has corruption in the middle. Default false. */
  allowCorruption?: boolean;
}

/** The [journal] table of the engine config; maps one to one onto JournalOptions. */
export const journalConfig = object({
  path: string({ default: 'polyedge.journal', description: 'journal file; archives from compaction sit beside it' }),
  fsync: oneOf(['always', 'interval', 'never'] as const, { default: 'interval' }),
  fsync_interval_ms: number({ integer: true, min: 1, max: 60_000, default: 100 }),
  snapshot_every: number({ integer: true, min: 1, max: 10_000_000, default: 1000, description: 'records between snapshots; at most 10,000,000 (a restart replays at most this many)' }),
  compact: boolean({ default: true }),
  allow_corruption: boolean({ default: false }),
});
export type JournalConfig = Infer<typeof journalConfig>;

export type CorruptionKind = 'length' | 'checksum' | 'malformed' | 'sequence';

/** A damaged stretch of the journal that is not a torn tail. */
export interface CorruptRegion {
  kind: CorruptionKind;
  /** File offset and length of the bytes skipped (0 bytes for a sequence break between two valid records). */
  offset: number;
  bytes: number;
  /** Seq of the last good record before the region and of the first after it (0: none after); a difference above 1 counts lost records. */
  afterSeq: number;
  nextSeq: number;
  detail: string;
}

export interface ReplayResult {
  records: JournalRecord[];
  /** Seq of the last readable record; 0 for an empty journal. */
  lastSeq: number;
  /** File offset just past the last readable record: where appends resume. 0 when even the header is torn. */
  validEnd: number;
  /** Bytes after validEnd that did not form a record, with no valid record after them. */
  tornTailBytes: number;
  warning: string | undefined;
  corruption: CorruptRegion[];
}

export interface JournalStats {
  records: number;
  bytes: number;
  fsyncs: number;
  fsyncErrors: number;
}

/**
 * The file is not a journal this build can read (PE_JOURNAL_FOREIGN), or its
 * header is damaged (PE_JOURNAL_CORRUPT). Either way it is left untouched:
 * writing a fresh journal over it could destroy someone's data or hide the
 * positions a damaged journal still holds.
 */
export class JournalFormatError extends PolyedgeError {
  constructor(readonly path: string, reason: string, code: 'PE_JOURNAL_FOREIGN' | 'PE_JOURNAL_CORRUPT' = 'PE_JOURNAL_FOREIGN') {
    super(code, `${path}: ${reason}; refusing to use it (left untouched): name another journal with --journal or [journal] path`, 'journal');
    this.name = 'JournalFormatError';
  }
}

/** The journal has damage in the middle; `replay` says where. */
export class JournalCorruptError extends PolyedgeError {
  constructor(readonly path: string, readonly replay: ReplayResult) {
    const where = replay.corruption.map((c) => `${c.kind} at byte ${c.offset} (+${c.bytes}) between seq ${c.afterSeq} and ${c.nextSeq}: ${c.detail}`);
    super('PE_JOURNAL_CORRUPT', `${path}: corruption in the middle of the journal, refusing to append after it: ${where.join('; ')}`, 'journal');
    this.name = 'JournalCorruptError';
  }
}

/** The path cannot hold a journal: empty, a directory, a missing folder, no permission. */
export function journalOpenError(path: string, reason: string): PolyedgeError {
  return new PolyedgeError('PE_JOURNAL_OPEN', `journal ${JSON.stringify(path)}: ${reason}`, 'journal');
}

/** `statSync`, or undefined when nothing is at `path` (ENOENT only). */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if (isSystemError(err) && err.code === 'ENOENT') return undefined;
    throw err;
  }
}

/** What an fs call's failure means for a journal at `path`, in words. */
function openFailure(path: string, err: unknown): PolyedgeError {
  if (err instanceof PolyedgeError) return err;
  if (!isSystemError(err)) return journalOpenError(path, err instanceof Error ? err.message : String(err));
  const why: Record<string, string> = {
    EISDIR: 'is a directory',
    ENOENT: `its folder ${dirname(path)} does not exist`,
    ENOTDIR: 'a part of the path is not a directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
  };
  return journalOpenError(path, `${why[err.code] ?? 'cannot be opened'} (${err.code})`);
}

function headerBytes(): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt32LE(JOURNAL_VERSION, 8);
  h.writeUInt32LE(crc32(h.subarray(0, 12)), 12);
  return h;
}

/** Throws unless `head`, a file's first bytes (at most HEADER_BYTES), starts this build's journal or a torn copy of its header. */
function checkHeader(path: string, head: Buffer): void {
  if (head.length < HEADER_BYTES) {
    if (!headerBytes().subarray(0, head.length).equals(head)) throw new JournalFormatError(path, 'not a polyedge journal (no PEJOURNL header)');
    return;
  }
  if (!head.subarray(0, 8).equals(MAGIC)) throw new JournalFormatError(path, 'not a polyedge journal (no PEJOURNL header)');
  if (head.readUInt32LE(12) !== crc32(head.subarray(0, 12))) throw new JournalFormatError(path, 'journal header is damaged', 'PE_JOURNAL_CORRUPT');
  const version = head.readUInt32LE(8);
  if (version !== JOURNAL_VERSION) throw new JournalFormatError(path, `journal version ${version}, this build reads ${JOURNAL_VERSION}`);
}

type Frame = { ok: true; end: number; record: JournalRecord } | { ok: false; kind: CorruptionKind; detail: string; end: number };

/** The record starting at `off`; on failure `end` is where it provably ends (a whole, checksummed frame) or -1. */
function frameAt(buf: Buffer, off: number, unpackr: Unpackr): Frame {
  if (off + FRAME_HEAD > buf.length) return { ok: false, kind: 'length', detail: 'record header cut short', end: -1 };
  const n = buf.readUInt32LE(off);
  if (n < MIN_PAYLOAD || n > MAX_PAYLOAD) return { ok: false, kind: 'length', detail: `implausible payload length ${n}`, end: -1 };
  const end = off + FRAME_HEAD + n;
  if (end > buf.length) return { ok: false, kind: 'length', detail: `payload of ${n} bytes cut short`, end: -1 };
  const payload = buf.subarray(off + FRAME_HEAD, end);
  if (crc32(payload) !== buf.readUInt32LE(off + 4)) return { ok: false, kind: 'checksum', detail: 'checksum mismatch', end: -1 };
  let value: unknown;
  try {
    value = unpackr.unpack(payload);
  } catch (err) {
    return { ok: false, kind: 'malformed', detail: `undecodable payload: ${(err as Error).message}`, end };
  }
  const record = parseRecord(value);
  if (typeof record === 'string') return { ok: false, kind: 'malformed', detail: record, end };
  return { ok: true, end, record };
}

/** First offset after `from` where a whole valid record starts, or -1. */
function resync(buf: Buffer, from: number, unpackr: Unpackr): number {
  for (let p = from; p + FRAME_HEAD + MIN_PAYLOAD <= buf.length; p++) {
    // Cheap length test first: random or zeroed bytes almost never pass it.
    const n = buf.readUInt32LE(p);
    if (n < MIN_PAYLOAD || n > MAX_PAYLOAD || p + FRAME_HEAD + n > buf.length) continue;
    if (frameAt(buf, p, unpackr).ok) return p;
  }
  return -1;
}

function fsyncDir(path: string): void {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class Journal {
  private readonly packr = new Packr({ useRecords: false });
  private frame = Buffer.alloc(4096);
  private fd: number;
  /** File length: every write goes exactly here. */
  private size: number;
  private seq: number;
  private sinceSnapshot: number;
  private dirty = false;
  private syncingFd = -1;
  private closeWhenSynced = -1;
  private broken: unknown = undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly fsync: FsyncPolicy;
  private readonly snapshotEvery: number;
  private readonly compact: boolean;
  readonly stats: JournalStats = { records: 0, bytes: 0, fsyncs: 0, fsyncErrors: 0 };

  private constructor(
    readonly path: string,
    fd: number,
    size: number,
    replay: ReplayResult,
    options: JournalOptions,
  ) {
    this.fd = fd;
    this.size = size;
    this.seq = replay.lastSeq;
    let last = replay.records.length - 1;
    while (last >= 0 && replay.records[last]!.type !== 'position') last--;
    this.sinceSnapshot = replay.records.length - 1 - last;
    this.fsync = options.fsync;
    this.snapshotEvery = options.snapshotEvery ?? 1000;
    this.compact = options.compact ?? true;
    if (options.fsync === 'interval') {
      this.timer = setInterval(() => this.syncInBackground(), options.fsyncIntervalMs ?? 100);
      this.timer.unref();
    }
  }

  /**
   * Checks, reading no more than the header, that `path` holds this build's
   * journal or is free for a new one in an existing, writable folder; returns
   * whether the file exists. Throws PE_JOURNAL_OPEN, PE_JOURNAL_FOREIGN or
   * PE_JOURNAL_CORRUPT naming the path, so a caller can refuse before it
   * starts anything else.
   */
  static check(path: string): boolean {
    if (path === '') throw journalOpenError(path, 'the path is empty');
    try {
      // Not `throwIfNoEntry: false`: Node 22+ also answers undefined when a part of
      // the path is a file (ENOTDIR), where Node 20 throws; this says the same on both.
      const st = statOrUndefined(path);
      if (st === undefined) {
        const dir = dirname(path);
        if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw journalOpenError(path, `its folder ${dir} does not exist`);
        accessSync(dir, constants.W_OK);
        return false;
      }
      if (st.isDirectory()) throw journalOpenError(path, 'is a directory');
      if (!st.isFile()) throw journalOpenError(path, 'is not a regular file');
      const fd = openSync(path, 'r+');
      const head = Buffer.alloc(HEADER_BYTES);
      try {
        checkHeader(path, head.subarray(0, readSync(fd, head, 0, HEADER_BYTES, 0)));
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (err) {
      throw openFailure(path, err);
    }
  }

  /**
   * Opens (creating if absent) a journal for append. The existing content is
   * replayed first and returned, so the caller restores from it without a
   * second read; a torn tail is truncated away before the first append.
   */
  static open(path: string, options: JournalOptions): { journal: Journal; replay: ReplayResult } {
    if (!Journal.check(path)) {
      let fd: number;
      try {
        fd = openSync(path, 'wx');
      } catch (err) {
        throw openFailure(path, err);
      }
      writeSync(fd, headerBytes());
      fdatasyncSync(fd);
      fsyncDir(path);
      const replay: ReplayResult = { records: [], lastSeq: 0, validEnd: HEADER_BYTES, tornTailBytes: 0, warning: undefined, corruption: [] };
      return { journal: new Journal(path, fd, HEADER_BYTES, replay, options), replay };
    }
    const replay = Journal.replay(path);
    if (replay.corruption.length > 0 && !options.allowCorruption) throw new JournalCorruptError(path, replay);
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (err) {
      throw openFailure(path, err);
    }
    try {
      let size = replay.validEnd;
      if (size < HEADER_BYTES) {
        ftruncateSync(fd, 0);
        writeSync(fd, headerBytes(), 0, HEADER_BYTES, 0);
        size = HEADER_BYTES;
        fdatasyncSync(fd);
      } else if (replay.tornTailBytes > 0) {
        ftruncateSync(fd, size);
        fdatasyncSync(fd);
      }
      return { journal: new Journal(path, fd, size, replay, options), replay };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Reads a whole journal. Throws only when the file is not a journal or cannot be read; damage is reported in the result. */
  static replay(path: string): ReplayResult {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (err) {
      throw openFailure(path, err);
    }
    checkHeader(path, buf.subarray(0, HEADER_BYTES));
    if (buf.length < HEADER_BYTES) {
      // The process died while creating the file.
      const warning = buf.length > 0 ? `${path}: dropped a torn header of ${buf.length} bytes` : undefined;
      return { records: [], lastSeq: 0, validEnd: 0, tornTailBytes: buf.length, warning, corruption: [] };
    }

    const unpackr = new Unpackr({ useRecords: false });
    const records: JournalRecord[] = [];
    const corruption: CorruptRegion[] = [];
    let lastSeq = 0;
    let off = HEADER_BYTES;
    let afterDamage = false;
    while (off < buf.length) {
      const f = frameAt(buf, off, unpackr);
      if (f.ok) {
        const seq = f.record.seq;
        if (afterDamage) {
          for (let i = corruption.length - 1; i >= 0 && corruption[i]!.nextSeq === 0; i--) corruption[i]!.nextSeq = seq;
          afterDamage = false;
        } else if (lastSeq > 0 && seq !== lastSeq + 1) {
          corruption.push({ kind: 'sequence', offset: off, bytes: 0, afterSeq: lastSeq, nextSeq: seq, detail: `expected seq ${lastSeq + 1}, found ${seq}` });
        }
        records.push(f.record);
        lastSeq = seq;
        off = f.end;
        continue;
      }
      // A whole, checksummed record we cannot read is never a torn write, even at the very end.
      const next = f.end >= 0 ? f.end : resync(buf, off + 1, unpackr);
      if (next < 0) {
        const tornTailBytes = buf.length - off;
        const warning = `${path}: dropped a torn tail of ${tornTailBytes} bytes at offset ${off} after seq ${lastSeq} (${f.detail})`;
        return { records, lastSeq, validEnd: off, tornTailBytes, warning, corruption };
      }
      corruption.push({ kind: f.kind, offset: off, bytes: next - off, afterSeq: lastSeq, nextSeq: 0, detail: f.detail });
      afterDamage = true;
      off = next;
    }
    return { records, lastSeq, validEnd: off, tornTailBytes: 0, warning: undefined, corruption };
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** True once `snapshotEvery` records were appended since the last position snapshot. */
  get snapshotDue(): boolean {
    return this.sinceSnapshot >= this.snapshotEvery;
  }

  /**
   * Appends one record and returns its seq. When this returns the record
   * survives a kill -9 (and, under fsync 'always', a power loss). Throws when
   * the write fails (nothing was appended) or, under 'always', when the flush
   * fails (the record is written but may not survive a power loss).
   */
  append(input: JournalInput): number {
    this.ensureWritable();
    const seq = this.seq + 1;
    this.size += this.writeFrame(this.fd, this.size, { ...input, seq });
    this.committed(seq, input.type === 'position');
    if (this.fsync === 'always') this.syncNow(this.fd);
    else this.dirty = true;
    return seq;
  }

  /**
   * Writes a position snapshot. With compaction it becomes the first record
   * of a fresh file (atomically renamed over the journal) and the old file is
   * kept beside it as `<path>.<last seq it holds>`, whose path is returned;
   * restore then reads only what came after the snapshot.
   */
  checkpoint(snapshot: PositionInput): string | undefined {
    if (!this.compact) {
      this.append(snapshot);
      return undefined;
    }
    this.ensureWritable();
    const seq = this.seq + 1;
    const tmp = `${this.path}.compact`;
    const fd = openSync(tmp, 'w');
    let size: number;
    try {
      writeSync(fd, headerBytes(), 0, HEADER_BYTES, 0);
      size = HEADER_BYTES + this.writeFrame(fd, HEADER_BYTES, { ...snapshot, seq });
      fdatasyncSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    // The old file becomes the archive: flush it, then swap names. A crash
    // between link and rename leaves the old file under both names, which
    // is still a whole journal.
    this.syncNow(this.fd);
    const archive = `${this.path}.${String(this.seq).padStart(12, '0')}`;
    rmSync(archive, { force: true });
    linkSync(this.path, archive);
    renameSync(tmp, this.path);
    // From the rename on, appends must go to the new file whatever happens next.
    this.retire(this.fd);
    this.fd = fd;
    this.size = size;
    this.dirty = false;
    this.committed(seq, true);
    fsyncDir(this.path);
    return archive;
  }

  /** Flushes to disk and closes. Further appends throw. */
  close(): void {
    if (this.fd < 0) return;
    if (this.timer) clearInterval(this.timer);
    const fd = this.fd;
    this.fd = -1;
    try {
      this.syncNow(fd);
    } finally {
      this.retire(fd);
    }
  }

  private committed(seq: number, snapshot: boolean): void {
    this.seq = seq;
    this.stats.records++;
    this.sinceSnapshot = snapshot ? 0 : this.sinceSnapshot + 1;
  }

  private ensureWritable(): void {
    if (this.fd < 0) throw new Error(`${this.path}: journal is closed`);
    if (this.broken !== undefined) throw new Error(`${this.path}: journal unusable after a failed write could not be undone: ${String(this.broken)}`);
  }

  /** Frames and writes `record` at `at`; returns the bytes written. */
  private writeFrame(fd: number, at: number, record: JournalRecord): number {
    const payload = this.packr.pack(record);
    const total = FRAME_HEAD + payload.length;
    if (this.frame.length < total) this.frame = Buffer.alloc(Math.max(total, this.frame.length * 2));
    this.frame.writeUInt32LE(payload.length, 0);
    this.frame.writeUInt32LE(crc32(payload), 4);
    payload.copy(this.frame, FRAME_HEAD);
    let done = 0;
    try {
      while (done < total) done += writeSync(fd, this.frame, done, total - done, at + done);
    } catch (err) {
      // A half-written record must not stay in front of the next one, or it
      // would read as corruption in the middle instead of nothing at all.
      if (done > 0) {
        try {
          ftruncateSync(fd, at);
        } catch (truncErr) {
          this.broken = truncErr;
        }
      }
      throw err;
    }
    this.stats.bytes += total;
    return total;
  }

  private syncNow(fd: number): void {
    try {
      fdatasyncSync(fd);
      this.stats.fsyncs++;
    } catch (err) {
      this.stats.fsyncErrors++;
      throw err;
    }
  }

  private syncInBackground(): void {
    if (!this.dirty || this.syncingFd >= 0 || this.fd < 0) return;
    const fd = this.fd;
    this.dirty = false;
    this.syncingFd = fd;
    fdatasync(fd, (err) => {
      if (err) {
        this.stats.fsyncErrors++;
        this.dirty = true;
      } else this.stats.fsyncs++;
      this.syncingFd = -1;
      if (this.closeWhenSynced === fd) {
        this.closeWhenSynced = -1;
        closeSync(fd);
      }
    });
  }

  /** Closes an fd, after the background fdatasync on it (if any) finishes, so that call never sees a closed or reused fd. */
  private retire(fd: number): void {
    if (this.syncingFd === fd) this.closeWhenSynced = fd;
    else closeSync(fd);
  }
}
