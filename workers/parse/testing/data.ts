// Locates and loads the recorded venue data the parser tests run on.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DEFAULT_DATA_DIR } from '../../../engine/sim/recorded.js';
import { Prng } from '../../prng.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'polyedge') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('polyedge repo root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/**
 * The full recorded captures: `shared/data` beside the repository (as CI
 * lays it out), or $POLYEDGE_SHARED_DATA. Only the multi-megabyte Binance
 * captures are read from there; tests on them skip, naming the file, where
 * they are absent.
 */
export const SHARED_DATA = DEFAULT_DATA_DIR;

/** Small slices committed beside this file (each folder keeps its PROVENANCE.md), so most tests run in any clone. */
const TEST_DATA = join(repoRoot(), 'workers', 'parse', 'testing', 'data');

/** The RTDS captures ship gzipped with the bundled session (engine/sim/data, MIT notice there). */
const BUNDLED_DATA = join(repoRoot(), 'engine', 'sim', 'data');

export const POLY_WS = join(TEST_DATA, 'nautilus_trader', 'polymarket', 'ws');

export function polyFile(name: string): Buffer {
  return readFileSync(join(POLY_WS, name));
}

export function polyRestFile(name: string): Buffer {
  return readFileSync(join(TEST_DATA, 'nautilus_trader', 'polymarket', 'rest', name));
}

export function polyWsFiles(): string[] {
  return readdirSync(POLY_WS)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** Every token id that appears in the recorded Polymarket messages, in file order. */
export function polyTokenIds(): string[] {
  const ids = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string' && /^\d{60,}$/.test(v)) ids.add(v);
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'asset_id' || k === 'winning_asset_id') add(x);
        walk(x);
      }
    }
  };
  for (const f of polyWsFiles()) walk(JSON.parse(polyFile(f).toString('utf8')));
  return [...ids];
}

export function hftbacktestPath(file: string): string {
  return join(SHARED_DATA, 'hftbacktest', file);
}

/** For `test(name, { skip: captureMissing(file) }, ...)`: false, or why the test cannot run here. */
export function captureMissing(file: string): string | false {
  return existsSync(hftbacktestPath(file)) ? false : `${hftbacktestPath(file)} is not here (set POLYEDGE_SHARED_DATA to the shared data folder)`;
}

/** Splits gzip'd `<local_ns> <frame>` lines into frame views (no copies). */
export function hftbacktestFrames(file: string): Buffer[] {
  const raw = gunzipSync(readFileSync(hftbacktestPath(file)));
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < raw.length) {
    let nl = raw.indexOf(10, pos);
    if (nl < 0) nl = raw.length;
    const sp = raw.indexOf(32, pos);
    if (sp > pos && sp < nl) out.push(raw.subarray(sp + 1, nl));
    pos = nl + 1;
  }
  return out;
}

export const RTDS_FILES = ['rtds_crypto_prices_binance_2025-10-29.jsonl', 'rtds_crypto_prices_chainlink_2025-10-29.jsonl'];

/** One frame per JSONL line. */
export function rtdsFrames(file: string): Buffer[] {
  const raw = gunzipSync(readFileSync(join(BUNDLED_DATA, `${file}.gz`)));
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < raw.length) {
    let nl = raw.indexOf(10, pos);
    if (nl < 0) nl = raw.length;
    if (nl > pos) out.push(raw.subarray(pos, nl));
    pos = nl + 1;
  }
  return out;
}

export function deribitFile(name: string): Buffer {
  return readFileSync(join(TEST_DATA, 'nautilus_trader', 'deribit', name));
}

export function binanceFile(name: string): Buffer {
  return readFileSync(join(TEST_DATA, 'nautilus_trader', 'binance', name));
}

/** Uniform [0, 1) stream of workers/prng.ts for a seed, so fuzz failures reproduce. */
export function prng(seed: number): () => number {
  const r = new Prng(seed);
  return () => r.next();
}
