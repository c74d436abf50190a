import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtdsParser, RtdsTopic } from './parse.js';
import { Status } from '../../parse/json.js';
import { RTDS_FILES, polyFile, rtdsFrames } from '../../parse/testing/data.js';
import { RtdsRecorder, firstDifference } from '../../parse/testing/recorders.js';
import { refRtds } from '../../parse/testing/reference.js';

const SYMBOLS = ['btcusdt', 'ethusdt', 'solusdt', 'xrpusdt', 'btc/usd', 'eth/usd', 'sol/usd', 'xrp/usd'];
const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

function setup(): { p: RtdsParser; rec: RtdsRecorder; map: Map<string, number> } {
  const rec = new RtdsRecorder();
  const p = new RtdsParser(rec);
  rec.parser = p;
  const map = new Map<string, number>();
  // Binance and Chainlink names of one asset share an index.
  SYMBOLS.forEach((s, i) => map.set(s, p.registerSymbol(s, i % 4)));
  return { p, rec, map };
}

test('both recorded RTDS files parse with zero errors; per-symbol counts match PROVENANCE', () => {
  const expected: Record<string, number[]> = {
    [RTDS_FILES[0]!]: [1312, 1312, 1311, 1312],
    [RTDS_FILES[1]!]: [1302, 1302, 1302, 1303],
  };
  for (const file of RTDS_FILES) {
    const { p, rec } = setup();
    const frames = rtdsFrames(file);
    for (const f of frames) assert.equal(p.parse(f), Status.OK);
    const per = [0, 0, 0, 0];
    for (let i = 0; i < rec.out.length; i += 7) per[rec.out[i + 2] as number]!++;
    assert.deepEqual(per, expected[file], file);
    assert.equal(p.counters.prices, file.includes('chainlink') ? 5209 : 5247);
  }
});

test('first update of each file, with the venue text of full_accuracy_value', () => {
  const { p, rec } = setup();
  assert.equal(p.parse(rtdsFrames(RTDS_FILES[0]!)[0]!), Status.OK);
  assert.deepEqual(rec.out, ['price', RtdsTopic.BINANCE, 3, 2.6145, 1761765906000, 1761765906179, '2.61450000']);
  rec.out = [];
  assert.equal(p.parse(rtdsFrames(RTDS_FILES[1]!)[0]!), Status.OK);
  assert.deepEqual(rec.out, ['price', RtdsTopic.CHAINLINK, 3, 2.616504, 1761765904000, 1761765904916, '2616504000000000000']);
});

test('update and subscribe (history) samples; arrays, PONG, empty frames', () => {
  const { p, rec } = setup();
  assert.equal(p.parse(polyFile('rtds_crypto_prices_update.json')), Status.OK);
  assert.deepEqual(rec.out, ['price', RtdsTopic.BINANCE, 0, 61035.86, 1780730269000, 1780730269142, '61035.86000000']);
  rec.out = [];
  assert.equal(p.parse(polyFile('rtds_crypto_prices_subscribe.json')), Status.OK);
  assert.deepEqual(rec.out, [
    ...['hist', 0, 0, 61164.12, 1780726209000],
    ...['hist', 0, 0, 61161.07, 1780726210000],
    ...['hist', 0, 0, 61150.89, 1780726211000],
  ]);
  rec.out = [];
  const lines = rtdsFrames(RTDS_FILES[1]!).slice(0, 3).map((b) => b.toString());
  assert.equal(p.parse(buf(`[${lines.join(',')}]`)), Status.OK);
  assert.equal(rec.out.length, 21);
  assert.equal(p.parse(buf('PONG')), Status.PONG);
  assert.equal(p.parse(buf('pong')), Status.PONG);
  assert.equal(p.parse(buf('')), Status.EMPTY);
  assert.equal(p.parse(buf('  \n')), Status.EMPTY);
  assert.equal(p.parse(buf('{"topic":"activity","type":"trades","timestamp":1,"payload":{}}')), Status.UNKNOWN_EVENT);
  assert.equal(p.parse(buf(lines[0]!.replace('xrp/usd', 'doge/usd'))), Status.UNKNOWN_ID);
  assert.equal(p.parse(buf(lines[0]!.replace('"value": 2.616504', '"value": "2.616504"'))), Status.BAD_FIELD);
  assert.equal(p.parse(buf(lines[0]!.slice(0, 50))), Status.MALFORMED);
});

test('differential: scanner equals the JSON.parse reference on every RTDS line', () => {
  const { p, rec, map } = setup();
  const frames = [...RTDS_FILES.flatMap((f) => rtdsFrames(f)), polyFile('rtds_crypto_prices_update.json'), polyFile('rtds_crypto_prices_subscribe.json')];
  for (const f of frames) {
    rec.out = [];
    const status = p.parse(f);
    const ref = refRtds(f, map);
    assert.equal(status, ref.status);
    assert.equal(firstDifference(rec.out, ref.events), -1, f.toString().slice(0, 80));
  }
});
