// Loaders for the recorded captures in shared/data beside the repository (see each folder's
// PROVENANCE.md), validated on load, and timelines that replay them with
// their original spacing.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { Timeline } from './pacer.js';
import type { BinanceEvent, DepthSnapshot, PriceLevel } from './binance-types.js';
import { RTDS_TOPICS, type RtdsMessage } from './rtds-types.js';
import { isPlainObject } from '../../workers/guards.js';

/** `shared/data` beside the repository, or $POLYEDGE_SHARED_DATA (this file runs as dist/engine/sim/recorded.js). */
export const DEFAULT_DATA_DIR = process.env.POLYEDGE_SHARED_DATA ?? fileURLToPath(new URL('../../../../shared/data', import.meta.url));

export function defaultBinanceCapturePath(dataDir = DEFAULT_DATA_DIR): string {
  return join(dataDir, 'hftbacktest', 'binance_usdm_btcusdt_20240808.gz');
}

/** The RTDS captures as the repository bundles them, gzipped, for the offline session (engine/sim/data, MIT notice there). */
export const BUNDLED_RTDS_PATHS = ['rtds_crypto_prices_binance_2025-10-29.jsonl.gz', 'rtds_crypto_prices_chainlink_2025-10-29.jsonl.gz'].map((f) =>
  fileURLToPath(new URL(`../../../engine/sim/data/${f}`, import.meta.url)),
);

/** The RTDS captures: in `dataDir` when given, else the bundled copies (the same bytes, gzipped). */
export function defaultRtdsPaths(dataDir?: string): string[] {
  if (dataDir === undefined) return BUNDLED_RTDS_PATHS;
  return [
    join(dataDir, 'crypto_pred_mrkt_arb', 'rtds_crypto_prices_binance_2025-10-29.jsonl'),
    join(dataDir, 'crypto_pred_mrkt_arb', 'rtds_crypto_prices_chainlink_2025-10-29.jsonl'),
  ];
}

class CaptureError extends Error {
  constructor(path: string, line: number, reason: string) {
    super(`${path}:${line}: ${reason}`);
    this.name = 'CaptureError';
  }
}


function isLevels(v: unknown): v is PriceLevel[] {
  return Array.isArray(v) && v.every((l) => Array.isArray(l) && l.length === 2 && typeof l[0] === 'string' && typeof l[1] === 'string');
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

// ───────────────────────────── Binance (hftbacktest) ─────────────────────────────

type CapturedKind = BinanceEvent['kind'];

interface CapturedEvent {
  /** Local receive time, ms (fractional). */
  readonly atMs: number;
  readonly kind: CapturedKind;
  /** The `data` JSON text exactly as received. */
  readonly raw: string;
  readonly line: number;
}

export interface BinanceCapture {
  readonly path: string;
  readonly symbol: string;
  readonly events: readonly CapturedEvent[];
  /** The REST snapshot fetched during the capture. */
  readonly snapshot: DepthSnapshot;
  /** Lines with a stream the simulator does not replay. */
  readonly skipped: number;
}

const STREAM_KINDS: ReadonlyArray<[suffix: string, kind: CapturedKind]> = [
  ['@depth', 'depth'],
  ['@bookTicker', 'bookTicker'],
  ['@trade', 'trade'],
];

function validateCapturedData(kind: CapturedKind, data: Record<string, unknown>): string | undefined {
  switch (kind) {
    case 'depth':
      if (data['e'] !== 'depthUpdate') return `expected e=depthUpdate, got ${String(data['e'])}`;
      if (!num(data['U']) || !num(data['u']) || !num(data['pu']) || !num(data['E'])) return 'depthUpdate needs numeric U, u, pu, E';
      if (!isLevels(data['b']) || !isLevels(data['a'])) return 'depthUpdate b/a must be [price, qty] string pairs';
      return undefined;
    case 'bookTicker':
      if (data['e'] !== 'bookTicker' || typeof data['b'] !== 'string' || typeof data['a'] !== 'string') return 'malformed bookTicker';
      return undefined;
    case 'trade':
      if (data['e'] !== 'trade' || !num(data['t']) || typeof data['p'] !== 'string' || typeof data['q'] !== 'string' || typeof data['m'] !== 'boolean') {
        return 'malformed trade';
      }
      return undefined;
  }
}

function parseNsToMs(ns: string): number {
  // Nanosecond stamps exceed 2^53: split instead of Number(ns).
  return Number(ns.slice(0, -6)) + Number(ns.slice(-6)) / 1e6;
}

const captureCache = new Map<string, BinanceCapture>();

/** Parses and validates an hftbacktest capture (`<local_ns> <frame json>` lines, gzip). Cached per path. */
export function loadBinanceCapture(path: string): BinanceCapture {
  const cached = captureCache.get(path);
  if (cached) return cached;
  let text: string;
  try {
    text = gunzipSync(readFileSync(path)).toString('utf8');
  } catch (err) {
    throw new Error(`cannot read Binance capture ${path}: ${(err as Error).message}`);
  }
  const events: CapturedEvent[] = [];
  let snapshot: DepthSnapshot | undefined;
  let symbol: string | undefined;
  let skipped = 0;
  let lineNo = 0;
  for (const rawLine of text.split('\n')) {
    lineNo++;
    const line = rawLine.trimEnd();
    if (line === '') continue;
    const sp = line.indexOf(' ');
    const ns = line.slice(0, sp);
    if (sp <= 0 || !/^\d{7,}$/.test(ns)) throw new CaptureError(path, lineNo, 'expected "<local_ns> <json>"');
    const json = line.slice(sp + 1);
    let frame: unknown;
    try {
      frame = JSON.parse(json);
    } catch (err) {
      throw new CaptureError(path, lineNo, `invalid JSON: ${(err as Error).message}`);
    }
    if (!isPlainObject(frame)) throw new CaptureError(path, lineNo, 'frame is not a JSON object');
    const stream = frame['stream'];
    if (stream === undefined) {
      if (!num(frame['lastUpdateId']) || !isLevels(frame['bids']) || !isLevels(frame['asks'])) {
        throw new CaptureError(path, lineNo, 'line without "stream" must be a REST depth snapshot');
      }
      if (snapshot) throw new CaptureError(path, lineNo, 'more than one REST snapshot');
      snapshot = {
        lastUpdateId: frame['lastUpdateId'],
        E: num(frame['E']) ? frame['E'] : 0,
        T: num(frame['T']) ? frame['T'] : 0,
        bids: frame['bids'],
        asks: frame['asks'],
      };
      continue;
    }
    const data = frame['data'];
    if (typeof stream !== 'string' || !isPlainObject(data)) throw new CaptureError(path, lineNo, 'envelope needs "stream" and "data"');
    const at = stream.indexOf('@');
    const streamType = at >= 0 ? stream.slice(at) : '';
    const kind = STREAM_KINDS.find(([suffix]) => streamType === suffix || streamType.startsWith(`${suffix}@`))?.[1];
    if (!kind || /^@depth\d/.test(streamType)) {
      skipped++;
      continue;
    }
    const bad = validateCapturedData(kind, data);
    if (bad) throw new CaptureError(path, lineNo, bad);
    symbol ??= String(data['s']);
    // Keep the exact bytes of `data` so replayed frames match the capture.
    const dataAt = json.indexOf('"data":');
    const raw = json.startsWith('{"stream":') && json.endsWith('}') && dataAt > 0 ? json.slice(dataAt + 7, -1) : JSON.stringify(data);
    events.push({ atMs: parseNsToMs(ns), kind, raw, line: lineNo });
  }
  if (!snapshot) throw new Error(`${path}: no REST depth snapshot line found`);
  if (!symbol) throw new Error(`${path}: no replayable events`);
  const capture: BinanceCapture = { path, symbol, events, snapshot, skipped };
  captureCache.set(path, capture);
  return capture;
}

/** Replays a capture with the original inter-arrival times. */
export class CaptureTimeline implements Timeline<BinanceEvent> {
  private index = 0;

  constructor(private readonly capture: BinanceCapture) {}

  peekGapMs(): number | undefined {
    const next = this.capture.events[this.index];
    if (!next) return undefined;
    const prev = this.capture.events[this.index - 1];
    return prev ? Math.max(0, next.atMs - prev.atMs) : 0;
  }

  take(): BinanceEvent {
    const ev = this.capture.events[this.index++];
    if (!ev) throw new RangeError('capture exhausted');
    // Validated on load; parsing lazily keeps the cached capture small.
    const data: unknown = JSON.parse(ev.raw);
    return { kind: ev.kind, data, raw: ev.raw } as BinanceEvent;
  }
}

// ───────────────────────────── RTDS (jsonl) ─────────────────────────────

function validateRtdsLine(v: unknown): string | RtdsMessage {
  if (!isPlainObject(v)) return 'line is not a JSON object';
  const topic = v['topic'];
  if (typeof topic !== 'string' || !(RTDS_TOPICS as readonly string[]).includes(topic)) {
    return `topic must be one of ${RTDS_TOPICS.join(', ')}`;
  }
  if (typeof v['type'] !== 'string') return 'type must be a string';
  if (!num(v['timestamp'])) return 'timestamp must be a number (ms)';
  const p = v['payload'];
  if (!isPlainObject(p)) return 'payload must be an object';
  if (typeof p['symbol'] !== 'string' || p['symbol'] === '') return 'payload.symbol must be a non-empty string';
  if (!num(p['timestamp'])) return 'payload.timestamp must be a number (ms)';
  if (!num(p['value'])) return 'payload.value must be a number';
  const fav = p['full_accuracy_value'];
  if (fav !== undefined && typeof fav !== 'string') return 'payload.full_accuracy_value must be a string';
  return {
    topic,
    type: v['type'],
    timestamp: v['timestamp'],
    payload: {
      symbol: p['symbol'],
      timestamp: p['timestamp'],
      value: p['value'],
      ...(fav !== undefined ? { full_accuracy_value: fav } : {}),
    },
  };
}

const rtdsCache = new Map<string, readonly RtdsMessage[]>();

/** Loads RTDS jsonl recordings and merges them in send-time order. Cached per path list. */
export function loadRtdsRecording(paths: readonly string[]): readonly RtdsMessage[] {
  const key = paths.join('\n');
  const cached = rtdsCache.get(key);
  if (cached) return cached;
  const all: RtdsMessage[] = [];
  for (const path of paths) {
    let text: string;
    try {
      // The session bundled with the repository ships the captures gzipped.
      const raw = readFileSync(path);
      text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    } catch (err) {
      throw new Error(`cannot read RTDS recording ${path}: ${(err as Error).message}`);
    }
    let lineNo = 0;
    for (const line of text.split('\n')) {
      lineNo++;
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        throw new CaptureError(path, lineNo, `invalid JSON: ${(err as Error).message}`);
      }
      const msg = validateRtdsLine(parsed);
      if (typeof msg === 'string') throw new CaptureError(path, lineNo, msg);
      all.push(msg);
    }
  }
  if (all.length === 0) throw new Error(`no RTDS messages in ${paths.join(', ')}`);
  // Array#sort is stable: equal timestamps keep file order.
  all.sort((a, b) => a.timestamp - b.timestamp);
  rtdsCache.set(key, all);
  return all;
}

export class RecordedRtdsTimeline implements Timeline<RtdsMessage> {
  private index = 0;

  constructor(private readonly messages: readonly RtdsMessage[]) {}

  peekGapMs(): number | undefined {
    const next = this.messages[this.index];
    if (!next) return undefined;
    const prev = this.messages[this.index - 1];
    return prev ? next.timestamp - prev.timestamp : 0;
  }

  take(): RtdsMessage {
    const msg = this.messages[this.index++];
    if (!msg) throw new RangeError('RTDS recording exhausted');
    return msg;
  }
}
