// The aggTrade leg of the relay: trades read from the simulator's `/market`
// route go out as extended frames on stream + 1, each stream numbered on its
// own. The datagrams are decoded by hand with DataView from the documented
// layout (native/src/packet.rs), not with our codec, and compared with what
// two independent clients read from the same streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { COUNTER } from '../../../workers/counters.js';
import { defaultBinanceCapturePath } from '../../sim/recorded.js';
import { WsProbe, withSim } from '../../sim/testkit.js';
import { aggTradeUrl, BinanceRelay, bookTickerUrl } from './binance-relay.js';
import { listen, until } from './relay-cli.fixture.js';
import { PacketSender } from './sender.js';

interface Envelope<T> {
  stream: string;
  data: T;
}
interface AggTradeJson {
  e: string;
  p: string;
  q: string;
  T: number;
}
interface BookTickerJson {
  e: string;
  b: string;
  B: string;
  a: string;
  A: string;
}

/** The extended frame, field by field, as native/src/packet.rs draws it (little-endian). */
function decodeByHand(d: Buffer) {
  assert.equal(d.length, 72);
  assert.equal(d.toString('latin1', 0, 4), 'PEDG');
  const v = new DataView(d.buffer, d.byteOffset, d.length);
  assert.equal(v.getUint8(4), 1, 'version');
  return {
    stream: v.getUint16(6, true),
    seq: v.getBigUint64(8, true),
    exchangeNs: v.getBigUint64(16, true),
    bid: v.getFloat64(40, true),
    ask: v.getFloat64(48, true),
    bidSize: v.getFloat64(56, true),
    askSize: v.getFloat64(64, true),
  };
}

const recorded = existsSync(defaultBinanceCapturePath());

test('every aggTrade goes out on stream 1 with its exact price, quantity and time; each stream is numbered gap-free on its own', async () => {
  await withSim({ venues: ['binance'], source: recorded ? 'recorded' : 'scenario', speed: 'manual', seed: 7 }, async (sim, urls) => {
    const base = urls.binance!.wsBaseUrl;
    const rx = await listen();
    const sender = new PacketSender(`127.0.0.1:${rx.port}`, 'extended');
    const opened = new Set<string>();
    const relay = new BinanceRelay({ url: base, symbol: 'btcusdt', sender, aggTrade: true, onOpen: (url) => opened.add(url) });
    assert.deepEqual(
      relay.streams().map((s) => [s.events, s.stream, s.url]),
      [
        ['bookTicker', 0, `${base}/public/stream?streams=btcusdt@bookTicker`],
        ['aggTrade', 1, `${base}/market/stream?streams=btcusdt@aggTrade`],
      ],
    );
    relay.start();
    const trades = await WsProbe.open(aggTradeUrl(base, 'btcusdt'));
    const quotes = await WsProbe.open(bookTickerUrl(base, 'btcusdt'));
    await until(() => opened.size === 2 && sim.stats().venues.binance!.connections === 4, 'relay legs and probes connected');

    // The venue counts frames as it writes them: half of what one advance()
    // writes goes to the probes, the other half to the relay's two legs.
    const framesBefore = sim.stats().venues.binance!.framesSent;
    sim.advance('binance', 1500);
    const written = sim.stats().venues.binance!.framesSent - framesBefore;
    assert.equal(written % 2, 0);
    const expected = written / 2;
    const readTrades = () => (trades.json() as Envelope<AggTradeJson>[]).map((m) => m.data);
    const readQuotes = () => (quotes.json() as Envelope<BookTickerJson>[]).map((m) => m.data);
    await until(
      () => trades.frames.length + quotes.frames.length === expected && rx.datagrams.length === expected,
      () => `${expected} updates relayed (probes read ${trades.frames.length} + ${quotes.frames.length}, sent ${sender.sent}, received ${rx.datagrams.length})`,
    );
    const aggs = readTrades();
    const tickers = readQuotes();
    assert.ok(aggs.every((t) => t.e === 'aggTrade') && tickers.every((t) => t.e === 'bookTicker'));
    assert.ok(aggs.length >= 20, `${aggs.length} aggTrades in 1500 source events`);
    assert.ok(tickers.length >= 100, `${tickers.length} bookTickers in 1500 source events`);

    const frames = rx.datagrams.map(decodeByHand);
    const onTrades = frames.filter((f) => f.stream === 1);
    const onQuotes = frames.filter((f) => f.stream === 0);
    assert.equal(onTrades.length + onQuotes.length, frames.length, 'nothing on other streams');
    assert.equal(onTrades.length, aggs.length);
    assert.equal(onQuotes.length, tickers.length);
    onTrades.forEach((f, i) => {
      const t = aggs[i]!;
      assert.equal(f.seq, BigInt(i + 1), `stream 1 sequence at trade ${i}`);
      assert.equal(f.bid, Number(t.p), `price of trade ${i}`);
      assert.equal(f.ask, Number(t.p), `price of trade ${i}`);
      assert.equal(f.bidSize, Number(t.q), `quantity of trade ${i}`);
      assert.equal(f.askSize, Number(t.q), `quantity of trade ${i}`);
      // Venue ms → ns travels as float64 through the field array: exact to 256 ns.
      const want = BigInt(t.T) * 1_000_000n;
      assert.ok(f.exchangeNs - want <= 256n && want - f.exchangeNs <= 256n, `exchange stamp ${f.exchangeNs} vs T ${t.T} of trade ${i}`);
    });
    onQuotes.forEach((f, i) => {
      const t = tickers[i]!;
      assert.equal(f.seq, BigInt(i + 1), `stream 0 sequence at update ${i}`);
      assert.deepEqual([f.bid, f.ask, f.bidSize, f.askSize], [Number(t.b), Number(t.a), Number(t.B), Number(t.A)], `bookTicker ${i}`);
    });
    assert.deepEqual(
      relay.streams().map((s) => s.sequence),
      [tickers.length, aggs.length],
    );
    assert.equal(sender.errors, 0);
    assert.equal(relay.counters[COUNTER.frames], expected, 'frames counted over both connections');
    relay.stop();
    sender.close();
    await trades.close();
    await quotes.close();
    rx.sock.close();
  });
});

test('aggTrade needs extended frames and room for stream + 1', async () => {
  const rx = await listen();
  const legacy = new PacketSender(`127.0.0.1:${rx.port}`, 'legacy');
  const extended = new PacketSender(`127.0.0.1:${rx.port}`, 'extended');
  const url = 'ws://127.0.0.1:9';
  assert.throws(() => new BinanceRelay({ url, symbol: 'btcusdt', sender: legacy, aggTrade: true }), /aggTrade needs extended frames/);
  assert.throws(() => new BinanceRelay({ url, symbol: 'btcusdt', sender: extended, aggTrade: true, stream: 65535 }), /stream must be an integer in 0\.\.65534/);
  assert.throws(() => new BinanceRelay({ url, symbol: 'btcusdt', sender: extended, stream: 65536 }), /0\.\.65535/);
  assert.deepEqual(
    new BinanceRelay({ url, symbol: 'btcusdt', sender: extended, aggTrade: true, stream: 65534 }).streams().map((s) => s.stream),
    [65534, 65535],
  );
  assert.deepEqual(
    new BinanceRelay({ url, symbol: 'btcusdt', sender: legacy }).streams().map((s) => s.events),
    ['bookTicker'],
  );
  legacy.close();
  extended.close();
  rx.sock.close();
});
