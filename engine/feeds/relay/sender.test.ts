// The sender half of bit compatibility: the relay reads bookTicker from a
// real simulator over a real WebSocket, and the datagrams it sends, decoded
// by hand with DataView from the documented layouts (not with our codec),
// carry exactly the values a second, independent client read from the same
// stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { native } from '../../native.js';
import { defaultBinanceCapturePath } from '../../sim/recorded.js';
import { WsProbe, withSim } from '../../sim/testkit.js';
import { BinanceRelay, bookTickerUrl } from './binance-relay.js';
import { listen, until } from './relay-cli.fixture.js';
import { PacketSender, type FrameFormat } from './sender.js';

interface BookTickerJson {
  stream: string;
  data: { e: string; E?: number; b: string; B: string; a: string; A: string };
}

const recorded = existsSync(defaultBinanceCapturePath());

for (const frame of ['legacy', 'extended'] as FrameFormat[]) {
  test(`${frame}: the sender's datagrams decode by hand to the bookTicker values it read`, async () => {
    await withSim({ venues: ['binance'], source: recorded ? 'recorded' : 'scenario', speed: 'manual', seed: 11 }, async (sim, urls) => {
      const base = urls.binance!.wsBaseUrl;
      const rx = await listen();
      const sender = new PacketSender(`127.0.0.1:${rx.port}`, frame);
      let opened = false;
      const relay = new BinanceRelay({ url: base, symbol: 'BTCUSDT', sender, onOpen: () => (opened = true) });
      relay.start();
      const probe = await WsProbe.open(bookTickerUrl(base, 'btcusdt'));
      await until(() => opened && sim.stats().venues.binance!.connections === 2, 'both clients connected');
      const wallBefore = native.wallNs();
      sim.advance('binance', 1500);
      const read = () => (probe.json() as BookTickerJson[]).filter((m) => m.data.e === 'bookTicker').map((m) => m.data);
      await until(() => read().length > 0 && rx.datagrams.length === read().length && sender.sent === read().length, () => `every update relayed (read ${read().length}, sent ${sender.sent}, received ${rx.datagrams.length})`);
      const wallAfter = native.wallNs();
      const tickers = read();
      assert.ok(tickers.length >= 100, `${tickers.length} bookTicker updates in 1500 source events`);
      tickers.forEach((t, i) => {
        const d = rx.datagrams[i]!;
        const v = new DataView(d.buffer, d.byteOffset, d.length);
        if (frame === 'legacy') {
          // ts_micros u64 | bid f64 | ask f64, little-endian.
          assert.equal(d.length, 24);
          const ts = v.getBigUint64(0, true) * 1000n;
          assert.ok(ts >= wallBefore / 1000n * 1000n && ts <= wallAfter, 'ts_micros is the send time');
          assert.equal(v.getFloat64(8, true), Number(t.b), `bid of update ${i}`);
          assert.equal(v.getFloat64(16, true), Number(t.a), `ask of update ${i}`);
        } else {
          assert.equal(d.length, 72);
          assert.equal(d.toString('latin1', 0, 4), 'PEDG');
          assert.equal(v.getUint8(4), 1, 'version');
          assert.equal(v.getUint16(6, true), 0, 'stream');
          assert.equal(v.getBigUint64(8, true), BigInt(i + 1), 'sequence');
          // Venue ms → ns travels as float64 through the field array: exact to 256 ns.
          const exch = v.getBigUint64(16, true);
          const want = BigInt(t.E!) * 1_000_000n;
          assert.ok(exch - want <= 256n && want - exch <= 256n, `exchange stamp ${exch} vs E ${t.E}`);
          const recvTs = v.getBigUint64(24, true);
          const sendTs = v.getBigUint64(32, true);
          assert.ok(recvTs <= sendTs + 256n && recvTs >= wallBefore - 1_000_000n, 'received before sent');
          assert.ok(sendTs >= wallBefore && sendTs <= wallAfter, 'send stamp is the send time');
          assert.equal(v.getFloat64(40, true), Number(t.b), `bid of update ${i}`);
          assert.equal(v.getFloat64(48, true), Number(t.a), `ask of update ${i}`);
          assert.equal(v.getFloat64(56, true), Number(t.B), `bid size of update ${i}`);
          assert.equal(v.getFloat64(64, true), Number(t.A), `ask size of update ${i}`);
        }
      });
      assert.equal(sender.errors, 0);
      relay.stop();
      sender.close();
      await probe.close();
      rx.sock.close();
    });
  });
}

test('send failures are counted, not thrown', async () => {
  const rx = await listen();
  const sender = new PacketSender(`127.0.0.1:${rx.port}`, 'extended');
  sender.fields[6] = Number.NaN;
  assert.equal(sender.send(), 0);
  assert.equal(sender.lastError, -5, 'PE_PACKET_BAD_VALUE from the codec');
  sender.fields[6] = 1;
  assert.equal(sender.send(), 72);
  sender.close();
  assert.equal(sender.send(), 0);
  assert.equal(sender.lastError, 9, 'EBADF after close');
  assert.deepEqual([sender.sent, sender.errors], [1, 2]);
  assert.throws(() => new PacketSender('nowhere', 'legacy'), /target/);
  rx.sock.close();
});
