// Seeded fuzzing of all four parsers on real frames: truncation, byte
// mutation, insertion/deletion, splicing and array wrapping. Each case must
// not throw, must return a known status, and must agree exactly (status and
// every delivered number) with the JSON.parse reference decoder, so "OK"
// can only ever mean a frame JSON.parse also accepts, decoded the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceParser } from '../venues/binance/parse.js';
import { DeribitParser } from '../venues/deribit/parse.js';
import { Status } from './json.js';
import { PolymarketParser } from '../venues/polymarket/parse.js';
import { RtdsParser } from '../venues/rtds/parse.js';
import { RTDS_FILES, binanceFile, captureMissing, deribitFile, hftbacktestFrames, polyFile, polyTokenIds, polyWsFiles, prng, rtdsFrames } from './testing/data.js';
import { PAIR, priceChangeFrames } from './testing/gen.js';
import { BinanceRecorder, DeribitRecorder, PolyRecorder, RtdsRecorder, firstDifference, type Events } from './testing/recorders.js';
import { refBinance, refDeribit, refPolymarket, refRtds, type RefResult } from './testing/reference.js';

const STATUSES = new Set<number>(Object.values(Status));
// Bytes that change JSON structure or number/enum meaning, to reach deeper than random noise.
const INTERESTING = Buffer.from('{}[]",:0123456789.-+eE tfnul\\\n\x00\x1f\x7f\xff\xc3A');

function mutate(rnd: () => number, corpus: Buffer[]): Buffer {
  const pick = (): Buffer => corpus[Math.floor(rnd() * corpus.length)]!;
  const src = pick();
  const op = Math.floor(rnd() * 7);
  const at = (b: Buffer): number => Math.floor(rnd() * (b.length + 1));
  const byte = (): number => (rnd() < 0.7 ? INTERESTING[Math.floor(rnd() * INTERESTING.length)]! : Math.floor(rnd() * 256));
  switch (op) {
    case 0: // truncate
      return src.subarray(0, at(src));
    case 1: {
      // overwrite 1..4 bytes
      const b = Buffer.from(src);
      const n = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < n && b.length > 0; k++) b[Math.floor(rnd() * b.length)] = byte();
      return b;
    }
    case 2: {
      // insert a byte
      const i = at(src);
      return Buffer.concat([src.subarray(0, i), Buffer.from([byte()]), src.subarray(i)]);
    }
    case 3: {
      // delete a short run
      const i = at(src);
      return Buffer.concat([src.subarray(0, i), src.subarray(Math.min(src.length, i + 1 + Math.floor(rnd() * 6)))]);
    }
    case 4: {
      // splice two frames at random points
      const other = pick();
      return Buffer.concat([src.subarray(0, at(src)), other.subarray(at(other))]);
    }
    case 5: {
      // duplicate a slice (duplicate keys, repeated levels)
      const i = at(src);
      const j = Math.min(src.length, i + Math.floor(rnd() * 120));
      return Buffer.concat([src.subarray(0, j), src.subarray(i, j), src.subarray(j)]);
    }
    default:
      // wrap several frames in an array
      return Buffer.from(`[${src.toString('latin1')},${pick().toString('latin1')}]`, 'latin1');
  }
}

function fuzz(
  name: string,
  seed: number,
  cases: number,
  corpus: Buffer[],
  run: (f: Buffer) => { status: number; events: Events },
  ref: (f: Buffer) => RefResult,
): Map<number, number> {
  const rnd = prng(seed);
  const seen = new Map<number, number>();
  for (let k = 0; k < cases; k++) {
    const f = mutate(rnd, corpus);
    let got: { status: number; events: Events };
    try {
      got = run(f);
    } catch (err) {
      assert.fail(`${name} threw on case ${k} (seed ${seed}): ${String(err)} :: ${f.toString('latin1').slice(0, 200)}`);
    }
    assert.ok(STATUSES.has(got.status), `${name}: unknown status ${got.status}`);
    const want = ref(f);
    if (got.status !== want.status || firstDifference(got.events, want.events) !== -1) {
      const d = firstDifference(got.events, want.events);
      assert.fail(
        `${name} case ${k} (seed ${seed}): status ${got.status} vs ref ${want.status}, event #${d} ${String(got.events[d])} vs ${String(want.events[d])} :: ${JSON.stringify(f.toString('latin1'))}`,
      );
    }
    seen.set(got.status, (seen.get(got.status) ?? 0) + 1);
  }
  if (process.env.FUZZ_VERBOSE) console.log(name, Object.fromEntries(seen));
  return seen;
}

function assertCoverage(seen: Map<number, number>, cases: number): void {
  // The mutations must reach both accepted frames and every kind of rejection, not just syntax errors.
  assert.ok((seen.get(Status.OK) ?? 0) > cases * 0.05, `OK ${seen.get(Status.OK)}`);
  assert.ok((seen.get(Status.MALFORMED) ?? 0) > cases * 0.2, `MALFORMED ${seen.get(Status.MALFORMED)}`);
  assert.ok((seen.get(Status.BAD_FIELD) ?? 0) > 0, `BAD_FIELD ${seen.get(Status.BAD_FIELD)}`);
}

test('fuzz Polymarket: never throws, always agrees with the reference', () => {
  const rec = new PolyRecorder();
  const p = new PolymarketParser(rec);
  const tokens = new Map<string, number>();
  for (const id of [...polyTokenIds(), ...PAIR]) tokens.set(id, p.registerToken(id));
  const corpus = [
    ...polyWsFiles().map(polyFile),
    ...priceChangeFrames(200, 3).map((g) => Buffer.from(g.frame)),
    Buffer.from(`{"asset_id":"${PAIR[0]}","changes":[{"price":"0.514","side":"SELL","size":"21574.08"}],"event_type":"price_change","timestamp":"1723967931411"}`),
    Buffer.from('PONG'),
  ];
  const cases = 8000;
  const seen = fuzz(
    'polymarket',
    0x9017,
    cases,
    corpus,
    (f) => {
      rec.out = [];
      return { status: p.parse(f), events: rec.out };
    },
    (f) => refPolymarket(f, tokens),
  );
  assertCoverage(seen, cases);
});

test('fuzz Binance: never throws, always agrees with the reference', { skip: captureMissing('binance_usdm_btcusdt_20240808.gz') }, () => {
  const all = hftbacktestFrames('binance_usdm_btcusdt_20240808.gz');
  const rnd = prng(77);
  const corpus: Buffer[] = [binanceFile('futures_forceOrder_docs_example.json')];
  // Skip the 42 KB REST snapshot here: it is covered by the differential test, and it would dominate the run time.
  for (let k = 0; k < 3000; k++) {
    const f = all[Math.floor(rnd() * all.length)]!;
    if (f.length < 20000) corpus.push(f);
  }
  corpus.push(
    Buffer.from('{"e":"aggTrade","E":1723161256322,"s":"BTCUSDT","a":2247000001,"p":"61800.30","q":"0.006","f":5266583935,"l":5266583936,"T":1723161256322,"m":true}'),
    Buffer.from('{"result":null,"id":1}'),
  );
  const rec = new BinanceRecorder();
  const p = new BinanceParser(rec);
  rec.parser = p;
  p.snapshotSymbol = p.registerSymbol('BTCUSDT', 1);
  const opts = { symbols: new Map([['BTCUSDT', { index: 0, exp: 1 }]]), snapshotSymbol: 'BTCUSDT' };
  const cases = 8000;
  const seen = fuzz(
    'binance',
    0xb1a,
    cases,
    corpus,
    (f) => {
      rec.out = [];
      return { status: p.parse(f), events: rec.out };
    },
    (f) => refBinance(f, opts),
  );
  assertCoverage(seen, cases);
});

test('fuzz RTDS: never throws, always agrees with the reference', () => {
  const rec = new RtdsRecorder();
  const p = new RtdsParser(rec);
  rec.parser = p;
  const map = new Map<string, number>();
  for (const s of ['btcusdt', 'ethusdt', 'solusdt', 'xrpusdt', 'btc/usd', 'eth/usd', 'sol/usd', 'xrp/usd']) map.set(s, p.registerSymbol(s));
  const corpus = [
    ...RTDS_FILES.flatMap((f) => rtdsFrames(f).slice(0, 300)),
    polyFile('rtds_crypto_prices_update.json'),
    polyFile('rtds_crypto_prices_subscribe.json'),
  ];
  const cases = 5000;
  const seen = fuzz(
    'rtds',
    0x2d75,
    cases,
    corpus,
    (f) => {
      rec.out = [];
      return { status: p.parse(f), events: rec.out };
    },
    (f) => refRtds(f, map),
  );
  assertCoverage(seen, cases);
});

test('fuzz Deribit: never throws, always agrees with the reference', () => {
  const rec = new DeribitRecorder();
  const p = new DeribitParser(rec);
  const map = new Map([['deribit_volatility_index.btc_usd', p.registerIndex('btc_usd')]]);
  const dvol = deribitFile('ws_volatility_index.json');
  const corpus = [
    dvol,
    Buffer.from(JSON.stringify(JSON.parse(dvol.toString()))),
    Buffer.from(dvol.toString().replace('129.36', '57.1').replace('1619777946007', '1761765904000')),
    deribitFile('ws_ticker.json'),
    Buffer.from('{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}'),
    Buffer.from('{"jsonrpc":"2.0","id":42,"result":["deribit_volatility_index.btc_usd"],"usIn":1,"usOut":2,"usDiff":1,"testnet":false}'),
    Buffer.from('{"jsonrpc":"2.0","id":7,"error":{"code":11050,"message":"bad_request"}}'),
  ];
  const cases = 4000;
  const seen = fuzz(
    'deribit',
    0xde41,
    cases,
    corpus,
    (f) => {
      rec.out = [];
      return { status: p.parse(f), events: rec.out };
    },
    (f) => refDeribit(f, map),
  );
  assertCoverage(seen, cases);
});
