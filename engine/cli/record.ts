// `polyedge record`: argument handling only; the recording loop sits in
// engine/feeds/record.ts. Against the real venues by default, or against an
// in-process simulator with --sim, started here and handed over as endpoints.

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { liveEndpoints, parseFeedList, FEED_NAMES } from '../feeds/plan.js';
import { recordFeeds } from '../feeds/record.js';
import { simulatorEndpoints } from '../sim/offline.js';
import { PolyedgeError } from '../errors.js';
import { VenueSimulator } from '../sim/simulator.js';
import { optionalInt, type Command } from './args.js';

export const recordCommand: Command = {
  name: 'record',
  summary:
    'Records every raw frame the feed workers receive, and every REST snapshot they fetch, with\n' +
    'monotonic and wall receive stamps, to msgpackr files rotated by size or time (.pedrec).\n' +
    'Replay them with `polyedge replay --input FILE`.',
  usage: 'record [--feeds polymarket,binance,rtds,deribit] [--sim] [--out DIR] [--duration S] [--max-mb N] [--max-minutes M] [--tokens ID,ID]',
  options: {
    feeds: { type: 'string' },
    sim: { type: 'boolean' },
    out: { type: 'string' },
    duration: { type: 'string' },
    'max-mb': { type: 'string' },
    'max-minutes': { type: 'string' },
    tokens: { type: 'string' },
    config: { type: 'string' },
  },
  help: {
    feeds: `comma list of feeds (default all: ${FEED_NAMES.join(',')})`,
    sim: 'record from an in-process venue simulator on loopback instead of the real venues',
    out: 'directory for the files (default: [record] dir of the config)',
    duration: 'stop after this many seconds (default: until Ctrl-C)',
    'max-mb': 'rotate a file past this size (default: config)',
    'max-minutes': 'rotate a file after this long (default: config)',
    tokens: 'Polymarket token ids (default: [markets] tokens, or the simulator markets with --sim)',
    config: 'config file (default configs/default.toml or $POLYEDGE_CONFIG)',
  },
  async run(v) {
    const cfg = loadConfig(typeof v.config === 'string' ? v.config : undefined);
    const feeds = typeof v.feeds === 'string' ? parseFeedList(v.feeds) : [...FEED_NAMES];
    const duration = optionalInt(v, 'duration', { min: 1 });
    const dir = resolve(typeof v.out === 'string' ? v.out : cfg.record.dir);
    mkdirSync(dir, { recursive: true });
    const maxMb = optionalInt(v, 'max-mb') ?? cfg.record.max_mb;
    const maxMinutes = optionalInt(v, 'max-minutes') ?? cfg.record.max_minutes;
    if (maxMb <= 0 || maxMinutes <= 0) throw new PolyedgeError('PE_USAGE', '--max-mb and --max-minutes must be positive');

    let sim: VenueSimulator | undefined;
    let tokens = typeof v.tokens === 'string' ? v.tokens.split(',').filter(Boolean) : cfg.markets.tokens;
    let endpoints = liveEndpoints(cfg);
    if (v.sim === true) {
      sim = new VenueSimulator({ source: 'recorded', seed: 1 });
      endpoints = simulatorEndpoints(await sim.start());
      if (typeof v.tokens !== 'string') tokens = sim.polymarketMarkets().flatMap((m) => [m.yesTokenId, m.noTokenId]);
    }
    if (feeds.includes('polymarket') && tokens.length === 0) process.stderr.write('polymarket: no tokens configured ([markets] tokens or --tokens); not recorded\n');

    const { files, status } = await recordFeeds(
      { cfg, endpoints, feeds, tokens, dir, maxBytes: maxMb * 1024 * 1024, maxMs: maxMinutes * 60_000, durationS: duration },
      { err: (text) => void process.stderr.write(text) },
    );
    await sim?.stop();
    process.stderr.write(`${status}\n`);
    for (const f of files) process.stdout.write(`${f}\n`);
    return 0;
  },
};
