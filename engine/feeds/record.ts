// `polyedge record`'s work: runs the planned feed workers with recording on,
// drains their rings (nobody consumes the events), reports progress, and at
// the end stops them and returns the files they wrote.

import { COUNTER } from '../../workers/counters.js';
import type { FeedName } from '../../workers/feed-init.js';
import type { Config } from '../config/config.js';
import { MarketDataHub } from './hub.js';
import { planFeeds, tuningOf, type FeedEndpoints } from './plan.js';
import { createFeedRing, startFeed, type FeedHandle } from './spawn.js';
import { StopSignal, type TextOut } from './stop.js';

export interface RecordOptions {
  cfg: Config;
  /** Where the feeds connect: the live venues, or a simulator the caller started. */
  endpoints: FeedEndpoints;
  feeds: readonly FeedName[];
  /** Polymarket token ids. */
  tokens: readonly string[];
  /** An existing directory for the files. */
  dir: string;
  /** Rotate a file past this many bytes, or after this many ms. */
  maxBytes: number;
  maxMs: number;
  /** Stop after this many seconds (at least 1); until a signal when undefined. */
  durationS: number | undefined;
}

export interface RecordResult {
  /** Every file written, in feed order. */
  files: string[];
  /** The final counters line (the same as the periodic ones). */
  status: string;
}

/** How often the rings are drained, and progress reported. */
const DRAIN_MS = 50;
const STATUS_MS = 5_000;

/** Records until the duration passes or a signal arrives. */
export async function recordFeeds(opts: RecordOptions, io: Pick<TextOut, 'err'>): Promise<RecordResult> {
  const { cfg, dir } = opts;
  const hub = new MarketDataHub();
  const handles: FeedHandle[] = [];
  const cpu = cfg.cpu.pin ? cfg.cpu.feeds : -1;
  for (const spec of planFeeds(cfg, opts.endpoints, opts.feeds, opts.tokens)) {
    const ring = createFeedRing();
    const source = hub.addSource({ name: spec.feed, ring });
    handles.push(
      startFeed({
        spec,
        source,
        ring,
        cpu,
        tuning: tuningOf(cfg),
        record: { dir, maxBytes: opts.maxBytes, maxMs: opts.maxMs },
        onError: (m) => io.err(`${spec.feed}: ${m}\n`),
      }),
    );
  }
  for (const h of handles) {
    const r = await h.ready;
    io.err(`${r.feed}: worker thread ${r.tid} pinned to core ${r.cpu < 0 ? 'none' : r.cpu} (affinity ${r.affinity.join(',')})\n`);
  }
  io.err(`recording to ${dir}${opts.durationS !== undefined ? ` for ${opts.durationS} s` : '; Ctrl-C stops'}\n`);

  const stop = new StopSignal(opts.durationS);
  const drainer = setInterval(() => hub.drain(undefined), DRAIN_MS);
  const status = setInterval(() => io.err(`${statusLine(handles)}\n`), STATUS_MS);
  await stop.promise;
  clearInterval(drainer);
  clearInterval(status);
  const files = (await Promise.all(handles.map((h) => h.stop()))).flat();
  return { files, status: statusLine(handles) };
}

function statusLine(handles: readonly FeedHandle[]): string {
  return handles
    .map((h) => {
      const c = h.counters;
      return `${h.name}: ${c[COUNTER.frames]} frames ${(c[COUNTER.bytes]! / 1e6).toFixed(1)} MB ${c[COUNTER.restSnapshots]} snapshots ${c[COUNTER.parseErrors]} bad`;
    })
    .join(' | ');
}
