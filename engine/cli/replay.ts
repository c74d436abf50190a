// `polyedge replay`: argument handling only; the replays sit in
// engine/feeds/replay.ts (.pedrec) and engine/feeds/replay-capture.ts
// (hftbacktest captures).

import { existsSync } from 'node:fs';
import { COUNTER, readCounters } from '../../workers/counters.js';
import { replayRecordingFile, type TopLine } from '../feeds/replay.js';
import { replayCaptureFile } from '../feeds/replay-capture.js';
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
    const onTop =
      v['print-top'] === true
        ? (t: TopLine) => {
            out.push(
              `{"venue":"${t.venue}","symbol":"${t.symbol}",${t.u === undefined ? '' : `"u":${t.u},`}"ts":${t.ts},` +
                `"bid":"${t.bid}","bidSize":"${t.bidSize}","ask":"${t.ask}","askSize":"${t.askSize}"}\n`,
            );
            if (out.length >= 512) flush();
          }
        : undefined;
    if (input.endsWith('.pedrec')) {
      const r = await replayRecordingFile(input, { pace, onTop });
      flush();
      const c = readCounters(r.counters);
      process.stderr.write(
        `replayed ${r.feed}: ${r.frames} frames, ${r.snapshots} snapshots, ${c.gaps} gaps, ${c.resyncs} resyncs, ${c.parseErrors} parse errors${r.tornBytes ? `, torn tail of ${r.tornBytes} bytes dropped` : ''}\n`,
      );
      return 0;
    }
    const r = await replayCaptureFile(input, { symbol, tickExp, pace, onTop, beforeWait: flush });
    flush();
    const c = readCounters(r.counters);
    process.stderr.write(
      `replayed ${c.frames} frames (${c.restSnapshots} snapshot): ${c.gaps} gaps, ${c.resyncs} resyncs, ${c.parseErrors} parse errors, last u ${r.lastUpdateId}\n`,
    );
    return r.counters[COUNTER.parseErrors]! > 0 ? 1 : 0;
  },
};
