// Reader for hftbacktest's raw capture format: gzip text, one line per
// received message, `<local_receive_ns> <frame json>`. Frames are Binance
// combined-stream envelopes; a line without a `stream` key is the REST depth
// snapshot the capture took after opening the stream.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

export interface CaptureLine {
  /** Local receive time, ns since the Unix epoch (the capture host's clock). */
  localNs: bigint;
  /** The frame JSON bytes. */
  frame: Buffer;
  /** True for the REST snapshot line. */
  snapshot: boolean;
}

export async function* readHftbacktestCapture(path: string): AsyncGenerator<CaptureLine> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const frame = Buffer.from(line.slice(space + 1), 'latin1');
    yield { localNs: BigInt(line.slice(0, space)), frame, snapshot: !line.startsWith('{"stream"', space + 1) };
  }
}
