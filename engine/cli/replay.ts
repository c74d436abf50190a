// `polyedge replay`: feeds a recording through exactly the parse and book
// code the live feed workers run, as fast as possible or at recorded pace.

import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BinanceBookWriter, createBinanceBooks } from '../../workers/venues/binance/book.js';
import { COUNTER, createCounters, readCounters } from '../../workers/counters.js';
import { BinanceCore } from '../../workers/venues/binance/feed.js';
import { discardEvents } from '../../workers/event-sink.js';
import { readHftbacktestCapture } from '../../workers/recording/hftbacktest.js';
import { replayRecordingFile } from '../feeds/replay.js';
import { PolyedgeError } from '../errors.js';
import type { Command } from './args.js';

export const replayCommand: Command = {
  name: 'replay',
  summary:
    'Replays a recording through the live parse and book code: our .pedrec files (polyedge record,\n' +
    'any feed) or the hftbacktest capture format (gzip lines "<local_ns> <frame json>", Binance\n' +
    'streams plus the REST snapshot).\n' +
    'With --print-top, writes one JSON line per top-of-book change:\n' +
    '{"venue","symbol","u","ts","bid","bidSize","ask","askSize"} with prices and sizes as the venue writes them.',
  usage: 'replay --input FILE [--pace fast|recorded] [--print-top] [--symbol BTCUSDT] [--tick 0.1]',
  options: {
    input: { type: 'string' },
    pace: { type: 'string' },
    'print-top': { type: 'boolean' },
    symbol: { type: 'string' },
    tick: { type: 'string' },
  },
  help: {
    input: 'recording to replay',
    pace: 'fast (default) or recorded (sleeps the recorded gaps)',
    'print-top': 'print every top-of-book change as a JSON line',
    symbol: 'Binance symbol in the capture (default BTCUSDT)',
    tick: 'tick size of that symbol (default 0.1, USD-M BTCUSDT)',
  },
  async run(v) {
    const input = typeof v.input === 'string' ? v.input : undefined;
    if (!input) throw new PolyedgeError('PE_USAGE', '--input is required', 'input');
    if (!existsSync(input)) throw new PolyedgeError('PE_USAGE', `--input: ${input} does not exist`, 'input');
    const pace = typeof v.pace === 'string' ? v.pace : 'fast';
    if (pace !== 'fast' && pace !== 'recorded') throw new PolyedgeError('PE_USAGE', '--pace must be fast or recorded', 'pace');
    const symbol = (typeof v.symbol === 'string' ? v.symbol : 'BTCUSDT').toUpperCase();
    const tickText = typeof v.tick === 'string' ? v.tick : '0.1';
    const m = /^0\.(0*)1$/.exec(tickText);
    if (!m) throw new PolyedgeError('PE_USAGE', '--tick must be a power of ten below 1, e.g. 0.1 or 0.01', 'tick');
    const tickExp = m[1]!.length + 1;

    const out: string[] = [];
    const flush = () => {
      if (out.length) process.stdout.write(out.join(''));
      out.length = 0;
    };
    if (input.endsWith('.pedrec')) {
      const r = await replayRecordingFile(input, {
        pace,
        onTop:
          v['print-top'] === true
            ? (t) => {
                out.push(
                  `{"venue":"${t.venue}","symbol":"${t.symbol}",${t.u === undefined ? '' : `"u":${t.u},`}"ts":${t.ts},` +
                    `"bid":"${t.bid}","bidSize":"${t.bidSize}","ask":"${t.ask}","askSize":"${t.askSize}"}\n`,
                );
                if (out.length >= 512) flush();
              }
            : undefined,
      });
      flush();
      const c = readCounters(r.counters);
      process.stderr.write(
        `replayed ${r.feed}: ${r.frames} frames, ${r.snapshots} snapshots, ${c.gaps} gaps, ${c.resyncs} resyncs, ${c.parseErrors} parse errors${r.tornBytes ? `, torn tail of ${r.tornBytes} bytes dropped` : ''}\n`,
      );
      return 0;
    }
    const counters = createCounters();
    const core: BinanceCore = new BinanceCore({
      symbols: [{ symbol, tickExp }],
      books: new BinanceBookWriter(createBinanceBooks([{ tickValue: 10 ** -tickExp }])),
      events: discardEvents,
      counters,
      source: 0,
      // The capture carries its own snapshot; nothing to fetch.
      requestSnapshot: () => {},
      onTopChange:
        v['print-top'] === true
          ? (t) => {
              out.push(
                `{"venue":"binance-usdm","symbol":"${symbol}","u":${t.u},"ts":${t.eventMs},` +
                  `"bid":"${core.formatPrice(0, t.bidTicks)}","bidSize":"${core.formatQty(0, t.bidQty)}",` +
                  `"ask":"${core.formatPrice(0, t.askTicks)}","askSize":"${core.formatQty(0, t.askQty)}"}\n`,
              );
              if (out.length >= 512) flush();
            }
          : undefined,
    });
    core.start();
    let prevNs: bigint | undefined;
    for await (const line of readHftbacktestCapture(input)) {
      if (pace === 'recorded' && prevNs !== undefined && line.localNs > prevNs) {
        flush();
        await sleep(Number(line.localNs - prevNs) / 1e6);
      }
      prevNs = line.localNs;
      const recvNs = Number(line.localNs % 1_000_000_000_000n);
      if (line.snapshot) core.onSnapshot(0, line.frame, recvNs);
      else core.onFrame(line.frame, recvNs);
    }
    flush();
    const c = readCounters(counters);
    process.stderr.write(
      `replayed ${c.frames} frames (${c.restSnapshots} snapshot): ${c.gaps} gaps, ${c.resyncs} resyncs, ${c.parseErrors} parse errors, last u ${core.lastUpdateId(0)}\n`,
    );
    return counters[COUNTER.parseErrors]! > 0 ? 1 : 0;
  },
};
