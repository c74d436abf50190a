// Relay packet encode + decode: the native codec over a field array and
// packet buffer bound once per thread (the relay's hot-loop API) against
// msgpackr packing and unpacking an object of the same fields.
import { Packr } from 'msgpackr';
import { native } from '../engine/native.js';
import { compareThroughput, type Suite } from './harness.js';

const BATCH = 256;

export const suite: Suite = {
  name: 'packet',
  baseline: 'msgpackr pack+unpack of the same fields',
  async run(ctx) {
    const packr = new Packr();
    const fields = new Float64Array(11);
    const buf = Buffer.alloc(128);
    native.bindPacketScratch(fields, buf);
    const prices = Array.from({ length: BATCH }, (_, i) => 97_000 + i * 0.1);

    const legacyObjects = prices.map((bid, i) => ({ ts_micros: 1_732_180_000_000_000 + i, bid, ask: bid + 0.1 }));
    const extendedObjects = prices.map((bid, i) => ({
      stream: 1,
      seq: i,
      exchange_ts_ns: 1_732_180_000_000_000_000 + i * 1000,
      recv_ts_ns: 1_732_180_000_000_100_000 + i * 1000,
      send_ts_ns: 1_732_180_000_000_120_000 + i * 1000,
      bid,
      ask: bid + 0.1,
      bid_size: 1.5,
      ask_size: 2.5,
    }));
    let sink = 0;

    await compareThroughput(
      ctx,
      'packet',
      'legacy 24 B',
      {
        name: 'msgpackr',
        opsPerCall: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) sink += (packr.unpack(packr.pack(legacyObjects[i])) as { bid: number }).bid;
        },
      },
      [
        {
          name: 'native',
          opsPerCall: BATCH,
          fn: () => {
            for (let i = 0; i < BATCH; i++) {
              fields[5] = (1_732_180_000_000_000 + i) * 1000;
              fields[6] = prices[i]!;
              fields[7] = prices[i]! + 0.1;
              native.encodeScratchLegacy();
              fields[6] = 0;
              native.decodeScratch();
              sink += fields[6]!;
            }
          },
        },
      ],
    );
    await compareThroughput(
      ctx,
      'packet',
      'extended 72 B',
      {
        name: 'msgpackr',
        opsPerCall: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) sink += (packr.unpack(packr.pack(extendedObjects[i])) as { bid: number }).bid;
        },
      },
      [
        {
          name: 'native',
          opsPerCall: BATCH,
          fn: () => {
            for (let i = 0; i < BATCH; i++) {
              const o = extendedObjects[i]!;
              fields[1] = o.stream;
              fields[2] = o.seq;
              fields[3] = o.exchange_ts_ns;
              fields[4] = o.recv_ts_ns;
              fields[5] = o.send_ts_ns;
              fields[6] = o.bid;
              fields[7] = o.ask;
              fields[8] = o.bid_size;
              fields[9] = o.ask_size;
              native.encodeScratchExtended();
              fields[6] = 0;
              native.decodeScratch();
              sink += fields[6]!;
            }
          },
        },
      ],
    );
    if (Number.isNaN(sink)) ctx.log('unreachable: keeps results observable');
  },
};
