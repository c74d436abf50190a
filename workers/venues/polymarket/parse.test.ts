import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASK, BID, MarketEventKind, NO_SIDE, PolymarketParser } from './parse.js';
import { Status } from '../../parse/json.js';
import { polyFile, polyTokenIds, polyWsFiles } from '../../parse/testing/data.js';
import { PAIR, priceChangeFrames } from '../../parse/testing/gen.js';
import { PolyRecorder, firstDifference } from '../../parse/testing/recorders.js';
import { refPolymarket } from '../../parse/testing/reference.js';

const BOOK_TOKEN = '48331043336612883890938759509493159234755048973500640148014422747788308965732';
const V2_TOKEN = '52114319501245915516055106046884209969926127482827954674443846427813813222426';
const TRADE_TOKEN = '21742633143463906290569050155826241533067272736897614950488156847949938836455';
const TICK_TOKEN = '115474063863764126958837769719736461272619491980773624567012766320777398670353';
const BBA_TOKEN = '85354956062430465315924116860125388538595433819574542752031640332592237464430';

function setup(): { p: PolymarketParser; rec: PolyRecorder; tokens: Map<string, number> } {
  const rec = new PolyRecorder();
  const p = new PolymarketParser(rec);
  const tokens = new Map<string, number>();
  for (const id of [...polyTokenIds(), ...PAIR]) tokens.set(id, p.registerToken(id));
  return { p, rec, tokens };
}

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

test('book: both sides, in wire order, exact ticks and sizes', () => {
  const { p, rec, tokens } = setup();
  const tok = tokens.get(BOOK_TOKEN)!;
  assert.equal(p.parse(polyFile('book.json')), Status.OK);
  const e = rec.out;
  assert.deepEqual(e.slice(0, 3), ['book', tok, 1728799418260]);
  const levels: number[][] = [];
  for (let i = 3; e[i] === 'level'; i += 5) levels.push(e.slice(i + 1, i + 5) as number[]);
  assert.equal(levels.length, 76 + 86);
  const bids = levels.filter((l) => l[1] === BID);
  const asks = levels.filter((l) => l[1] === ASK);
  assert.equal(bids.length, 76);
  assert.equal(asks.length, 86);
  assert.deepEqual(bids[0], [tok, BID, 10, 9000023.58]); // "0.001" / "9000023.58"
  assert.deepEqual(bids[75], [tok, BID, 5110, 1304.72]); // "0.511" / "1304.72"
  assert.deepEqual(asks[0], [tok, ASK, 9990, 10500100]); // "0.999" / "10500100"
  assert.deepEqual(asks[85], [tok, ASK, 5140, 20230.87]); // "0.514" / "20230.87"
  // The recording lists best-last on both sides; the parser keeps wire order and the book sorts.
  assert.equal(Math.max(...bids.map((l) => l[2]!)), 5110);
  assert.equal(Math.min(...asks.map((l) => l[2]!)), 5140);
  assert.deepEqual(e.slice(-2), ['bookEnd', tok]);
  assert.equal(p.counters.books, 1);
  assert.equal(p.counters.levels, 162);
});

test('price_change, oldest flat format', () => {
  const { p, rec, tokens } = setup();
  assert.equal(p.parse(polyFile('price_change.json')), Status.OK);
  assert.deepEqual(rec.out, ['pc', tokens.get(BOOK_TOKEN), ASK, 5140, 21574.08, NaN, NaN, 1723967931411]);
});

test('price_change, current price_changes[] format with per-entry best bid/ask', () => {
  const { p, rec, tokens } = setup();
  const t = tokens.get(V2_TOKEN)!;
  assert.equal(p.parse(polyFile('price_change_v2.json')), Status.OK);
  assert.deepEqual(rec.out, [
    ...['pc', t, BID, 6000, 3300, 6000, 7000, 1729084877448],
    ...['pc', t, BID, 5000, 3400, 6000, 7000, 1729084877448],
    ...['pc', t, BID, 7000, 3400, 6000, 7000, 1729084877448],
  ]);
});

test('price_change, 2025 changes[] format with top-level asset_id', () => {
  // No recording of this shape exists in shared/data; composed from the
  // protocols.md §2.5 description with the ids and values of price_change.json.
  const frame = `{"asset_id":"${BOOK_TOKEN}","changes":[{"price":"0.514","side":"SELL","size":"21574.08"},{"price":".52","side":"BUY","size":"0"}],"event_type":"price_change","hash":"bf32b3746fff40c76c98021b7f3f07261169dd26","market":"0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917","timestamp":"1723967931411"}`;
  const { p, rec, tokens } = setup();
  const t = tokens.get(BOOK_TOKEN)!;
  assert.equal(p.parse(buf(frame)), Status.OK);
  assert.deepEqual(rec.out, [
    ...['pc', t, ASK, 5140, 21574.08, NaN, NaN, 1723967931411],
    ...['pc', t, BID, 5200, 0, NaN, NaN, 1723967931411],
  ]);
});

test('last_trade_price, tick_size_change, best_bid_ask', () => {
  const { p, rec, tokens } = setup();
  assert.equal(p.parse(polyFile('last_trade_price.json')), Status.OK);
  assert.deepEqual(rec.out, ['trade', tokens.get(TRADE_TOKEN), ASK, 4910, 85.36, 1724564136087]);
  rec.out = [];
  assert.equal(p.parse(polyFile('tick_size_change.json')), Status.OK);
  assert.deepEqual(rec.out, ['tick', tokens.get(TICK_TOKEN), 10, 100, 1739068041853]); // 0.01 → 0.001
  rec.out = [];
  assert.equal(p.parse(polyFile('ws_market_best_bid_ask_msg.json')), Status.OK);
  assert.deepEqual(rec.out, ['bba', tokens.get(BBA_TOKEN), 7300, 7700, 1766789469958]);
  rec.out = [];
  const noSide = `{"event_type":"last_trade_price","asset_id":"${TRADE_TOKEN}","price":"0.55","timestamp":"1"}`;
  assert.equal(p.parse(buf(noSide)), Status.OK);
  assert.deepEqual(rec.out, ['trade', tokens.get(TRADE_TOKEN), NO_SIDE, 5500, NaN, 1]);
});

test('new_market and market_resolved arrive as their JSON', () => {
  const { p } = setup();
  const got: [number, unknown][] = [];
  const rec = new PolyRecorder();
  rec.onMarketEvent = (kind, json) => void got.push([kind, JSON.parse(json)]);
  const q = new PolymarketParser(rec, p.tokens);
  assert.equal(q.parse(polyFile('ws_market_new_market_msg.json')), Status.OK);
  assert.equal(q.parse(polyFile('ws_market_resolved_msg.json')), Status.OK);
  assert.deepEqual(got[0], [MarketEventKind.NEW_MARKET, JSON.parse(polyFile('ws_market_new_market_msg.json').toString())]);
  assert.equal(got[1]![0], MarketEventKind.MARKET_RESOLVED);
  assert.equal((got[1]![1] as { winning_outcome: string }).winning_outcome, 'Yes');
});

test('user-channel and RTDS messages are unknown events: ignored and counted', () => {
  const { p, rec } = setup();
  const others = polyWsFiles().filter((f) => /^(order_|user_|rtds_)/.test(f));
  assert.equal(others.length, 9);
  for (const f of others) assert.equal(p.parse(polyFile(f)), Status.UNKNOWN_EVENT, f);
  assert.equal(p.counters.unknownEvent, 9);
  assert.deepEqual(rec.out, []);
});

test('framing: arrays, PONG, empty and whitespace frames', () => {
  const { p, rec } = setup();
  const book = polyFile('book.json').toString();
  const v2 = polyFile('price_change_v2.json').toString();
  assert.equal(p.parse(buf(`[${book},\n${v2}]`)), Status.OK);
  assert.equal(rec.out[0], 'book');
  assert.equal(rec.out.filter((x) => x === 'pc').length, 3);
  assert.equal(rec.out.lastIndexOf('bookEnd') < rec.out.indexOf('pc'), true, 'array order kept');
  rec.out = [];
  assert.equal(p.parse(buf('PONG')), Status.PONG);
  assert.equal(p.parse(buf('PONG\n')), Status.PONG);
  assert.equal(p.parse(buf('')), Status.EMPTY);
  assert.equal(p.parse(buf(' \r\n\t')), Status.EMPTY);
  assert.equal(p.parse(buf('[]')), Status.OK);
  assert.deepEqual(rec.out, []);
  assert.equal(p.counters.pong, 2);
  assert.equal(p.counters.empty, 2);
});

test('a malformed frame delivers nothing, not even its valid first half', () => {
  const { p, rec } = setup();
  const v2 = polyFile('price_change_v2.json').toString();
  for (const bad of [
    `[${v2}, 7]`,
    `[${v2},]`,
    `${v2} x`,
    v2.slice(0, v2.length - 2),
    v2.replace('"price_changes"', 'price_changes'),
    v2.replace('"0.6"', '"0.6\u0001"'),
    'PONGX',
    'INVALID OPERATION',
    '"book"',
    '{"event_type":"book",}',
  ]) {
    assert.equal(p.parse(buf(bad)), Status.MALFORMED, bad.slice(0, 60));
  }
  assert.deepEqual(rec.out, []);
  assert.equal(p.counters.malformed, 10);
});

test('bad fields drop that event only; unregistered tokens drop that entry only', () => {
  const { p, rec, tokens } = setup();
  const [a, b] = [tokens.get(PAIR[0])!, tokens.get(PAIR[1])!];
  const g = priceChangeFrames(1, 7)[0]!.frame;
  assert.equal(p.parse(buf(g.replace('"BUY"', '"HOLD"'))), Status.BAD_FIELD);
  assert.equal(p.parse(buf(g.replace(/"timestamp":"\d+",/, ''))), Status.BAD_FIELD);
  assert.equal(p.parse(buf(g.replace(/"price":"[0-9.]+"/, '"price":"0.5x"'))), Status.BAD_FIELD);
  assert.equal(p.parse(buf(g.replace(/"price":"[0-9.]+"/, '"price":"1.5"'))), Status.BAD_FIELD, 'above 1');
  assert.equal(p.parse(buf(g.replace(/"price":"[0-9.]+"/, '"price":"0.12345"'))), Status.BAD_FIELD, 'off the 1e-4 grid');
  assert.equal(p.counters.badField, 5);
  assert.deepEqual(rec.out, []);
  // Second token unregistered: its entry is dropped and counted, the first still delivered.
  p.unregisterToken(PAIR[1]);
  assert.equal(p.parse(buf(g)), Status.UNKNOWN_ID);
  assert.equal(p.counters.unknownToken, 1);
  assert.equal(rec.out.length, 8);
  assert.equal(rec.out[1], a);
  assert.notEqual(rec.out[1], b);
  // A bad object in an array does not stop the good one.
  rec.out = [];
  assert.equal(p.parse(buf(`[${g.replace('"BUY"', '"HOLD"')},${polyFile('last_trade_price.json')}]`)), Status.BAD_FIELD);
  assert.equal(rec.out[0], 'trade');
});

test('generated price_change traffic parses to the generator values', () => {
  const { p, rec, tokens } = setup();
  const [a, b] = [tokens.get(PAIR[0])!, tokens.get(PAIR[1])!];
  for (const g of priceChangeFrames(2000, 42)) {
    rec.out = [];
    assert.equal(p.parse(buf(g.frame)), Status.OK);
    assert.equal(rec.out.length, 16);
    assert.equal(rec.out[1], a);
    assert.equal(rec.out[2], g.bidOnFirst ? BID : ASK);
    assert.equal(rec.out[3], g.cents * 100);
    assert.equal(rec.out[4], Number(g.size));
    assert.equal(rec.out[9], b);
    assert.equal(rec.out[10], g.bidOnFirst ? ASK : BID);
    assert.equal(rec.out[11], 10000 - g.cents * 100);
  }
  assert.equal(p.counters.priceChanges, 4000);
});

test('differential: scanner equals the JSON.parse reference on every recorded frame', () => {
  const { p, rec, tokens } = setup();
  const files = polyWsFiles();
  const frames = files.map((f) => polyFile(f));
  frames.push(buf(`[${frames.map((f) => f.toString()).join(',')}]`));
  for (const g of priceChangeFrames(500, 9)) frames.push(buf(g.frame));
  for (const f of frames) {
    rec.out = [];
    const status = p.parse(f);
    const ref = refPolymarket(f, tokens);
    assert.equal(status, ref.status);
    assert.equal(firstDifference(rec.out, ref.events), -1, f.toString().slice(0, 80));
  }
});
