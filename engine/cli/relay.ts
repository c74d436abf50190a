// `polyedge relay send|recv`: argument handling only. The sender's loop sits in
// engine/feeds/relay/send.ts, the receiver's drain loop in monitor.ts; what
// stays here opens the UDP socket or the receive thread (their errors name a
// flag) and, for --source sim, starts the venue simulator the sender reads.

import { existsSync } from 'node:fs';
import { PolyedgeError } from '../errors.js';
import { allowListOf, allowProblem } from '../feeds/relay/allow.js';
import { DEFAULT_BINANCE_WS } from '../feeds/relay/binance-relay.js';
import { formatEndpoint, parseEndpoint, resolveEndpoint } from '../feeds/relay/endpoint.js';
import { monitorRelay } from '../feeds/relay/monitor.js';
import { relaySend } from '../feeds/relay/send.js';
import { PacketSender, type FrameFormat } from '../feeds/relay/sender.js';
import { RelaySource } from '../feeds/relay/source.js';
import type { TextOut } from '../feeds/stop.js';
import { defaultBinanceCapturePath } from '../sim/recorded.js';
import { VenueSimulator } from '../sim/simulator.js';
import { optionalInt, runCommand, type Command } from './args.js';

type Values = Record<string, string | boolean | undefined>;

function usage(message: string, option?: string): never {
  throw new PolyedgeError('PE_USAGE', message, option);
}

function endpointOption(v: Values, name: string, opts: { required: boolean; allowPortZero?: boolean; allowName?: boolean }) {
  const text = v[name];
  if (typeof text !== 'string') {
    if (opts.required) usage(`--${name} HOST:PORT is required`, name);
    return undefined;
  }
  const ep = parseEndpoint(text, opts);
  if (typeof ep === 'string') usage(`--${name}: ${ep}`, name);
  return ep;
}

function secondsOption(v: Values, name: string): number | undefined {
  const text = v[name];
  if (text === undefined) return undefined;
  const s = typeof text === 'string' && /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(s > 0 && s <= 31_536_000)) usage(`--${name} must be a positive number of seconds, got ${JSON.stringify(text)}`, name);
  return s;
}

const DEFAULT_MAC_KEY_ENV = 'POLYEDGE_RELAY_KEY';

function macKeyEnvOption(v: Values): string {
  const name = v['mac-key-env'] ?? DEFAULT_MAC_KEY_ENV;
  if (typeof name !== 'string' || !/^[A-Z_][A-Z0-9_]*$/.test(name)) usage('--mac-key-env must be an environment variable name such as POLYEDGE_RELAY_KEY', 'mac-key-env');
  return name;
}

function numberOption(v: Values, name: string, min: number, max: number): number | undefined {
  const text = v[name];
  if (text === undefined) return undefined;
  const n = typeof text === 'string' && /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) usage(`--${name} must be a number in [${min}, ${max}], got ${JSON.stringify(text)}`, name);
  return n;
}

function positiveInt(v: Values, name: string): number | undefined {
  const n = optionalInt(v, name);
  if (n === 0) usage(`--${name} must be at least 1`, name);
  return n;
}

const stdio: TextOut = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** The JSON of a summary, with the numbers a run without packets has none of (NaN) as null. */
function summaryJson(summary: object): string {
  return JSON.stringify(summary, (_k, val: unknown) => (typeof val === 'number' && !Number.isFinite(val) ? null : val));
}

const sendCommand: Command = {
  name: 'relay send',
  summary:
    'Subscribes to Binance USD-M <symbol>@bookTicker and sends one UDP packet per update:\n' +
    'the legacy 24-byte packet (ts_micros u64, bid f64, ask f64, little-endian) or the 72-byte extended frame\n' +
    '(magic PEDG, sequence, exchange/receive/send stamps, bid/ask and their sizes). The send stamp is CLOCK_REALTIME,\n' +
    'taken by the native sender right before sendto. --source sim runs the venue simulator in this process\n' +
    '(the hftbacktest BTCUSDT capture when present, a seeded walk otherwise) and connects to it over loopback.\n' +
    '--agg-trade also subscribes to <symbol>@aggTrade (on the /market route) and sends one extended frame per trade on\n' +
    'stream --stream + 1, with its own sequence numbers: bid = ask = the trade price, both sizes = its quantity,\n' +
    'exchange stamp = the trade time. With --json, prints one line per packet sent:\n' +
    '{"stream","seq","ts_micros","bid","ask","bid_qty","ask_qty","exch_ms","bytes"} (stream: the extended-frame stream id).',
  usage:
    'relay send --target HOST:PORT [--symbol btcusdt] [--frame legacy|extended] [--mac] [--agg-trade] [--source binance|sim] [--url WS] [--count N] [--duration S] [--json]',
  options: {
    target: { type: 'string' },
    symbol: { type: 'string' },
    frame: { type: 'string' },
    source: { type: 'string' },
    url: { type: 'string' },
    count: { type: 'string' },
    duration: { type: 'string' },
    json: { type: 'boolean' },
    stream: { type: 'string' },
    'agg-trade': { type: 'boolean' },
    bind: { type: 'string' },
    'sim-speed': { type: 'string' },
    'sim-seed': { type: 'string' },
    mac: { type: 'boolean' },
    'mac-key-env': { type: 'string' },
  },
  help: {
    target: 'receiver address, HOST:PORT (a host name is resolved once at start)',
    mac: `seal every extended frame with a MAC (truncated HMAC-SHA256), keyed by the hex key in $${DEFAULT_MAC_KEY_ENV} (needs --frame extended)`,
    'mac-key-env': `environment variable holding the hex MAC key (default ${DEFAULT_MAC_KEY_ENV}); read by native code, never printed`,
    symbol: 'Binance symbol (default btcusdt)',
    frame: 'legacy (24 B, default) or extended (72 B, with sequence numbers)',
    source: `binance (default: the real venue, ${DEFAULT_BINANCE_WS}) or sim (in-process venue simulator)`,
    url: 'WebSocket base of any Binance-compatible server (default: the real venue, or the simulator)',
    count: 'stop after N packets (all streams together)',
    duration: 'stop after S seconds',
    json: 'print one JSON line per packet sent',
    stream: 'extended-frame stream id of the bookTickers, 0..65535 (default 0)',
    'agg-trade': 'also relay aggTrades, on stream --stream + 1 (needs --frame extended)',
    bind: 'local ADDR:PORT to send from (default: any)',
    'sim-speed': 'simulator pacing: 1 = recorded pace (default), X = X times faster',
    'sim-seed': 'simulator seed (default 1)',
  },
  async run(v) {
    const targetEp = endpointOption(v, 'target', { required: true, allowName: true })!;
    const bindEp = endpointOption(v, 'bind', { required: false, allowPortZero: true });
    const symbol = typeof v.symbol === 'string' ? v.symbol.toLowerCase() : 'btcusdt';
    if (!/^[a-z0-9]{2,30}$/.test(symbol)) usage(`--symbol must be a Binance symbol like btcusdt, got ${JSON.stringify(v.symbol)}`, 'symbol');
    const frame = (v.frame ?? 'legacy') as FrameFormat;
    if (frame !== 'legacy' && frame !== 'extended') usage('--frame must be legacy or extended', 'frame');
    const sourceKind = v.source ?? 'binance';
    if (sourceKind !== 'binance' && sourceKind !== 'sim') usage('--source must be binance or sim', 'source');
    const url = typeof v.url === 'string' ? v.url : undefined;
    if (url !== undefined && !/^wss?:\/\/[^\s/]+(\/[^\s?#]*)?$/.test(url)) usage(`--url must be a ws:// or wss:// base URL, got ${JSON.stringify(url)}`, 'url');
    if (url !== undefined && sourceKind === 'sim') usage('--url and --source sim exclude each other (the simulator has its own address)', 'url');
    const count = positiveInt(v, 'count');
    const duration = secondsOption(v, 'duration');
    const aggTrade = v['agg-trade'] === true;
    if (aggTrade && frame === 'legacy') {
      usage('--agg-trade needs --frame extended: legacy frames carry no stream id, so a receiver could not tell trades from quotes', 'agg-trade');
    }
    const macKeyEnv = macKeyEnvOption(v);
    if (v.mac === true && frame !== 'extended') usage('--mac needs --frame extended: a legacy packet has no room for a MAC', 'mac');
    if (v.mac !== true && v['mac-key-env'] !== undefined) usage('--mac-key-env needs --mac', 'mac-key-env');
    const stream = optionalInt(v, 'stream');
    if (stream !== undefined && stream > 65535) usage('--stream must be in 0..65535', 'stream');
    if (stream === 65535 && aggTrade) usage('--stream must be in 0..65534 with --agg-trade (the trades go on stream + 1)', 'stream');
    const simSpeedText = v['sim-speed'];
    const simSpeed = simSpeedText === undefined ? 1 : Number(simSpeedText);
    if (!(typeof simSpeedText !== 'boolean' && simSpeed > 0 && simSpeed <= 10_000)) usage('--sim-speed must be a number in (0, 10000]', 'sim-speed');
    const simSeed = optionalInt(v, 'sim-seed') ?? 1;
    if (simSeed > 0xffffffff) usage('--sim-seed must be below 2^32', 'sim-seed');
    if (sourceKind === 'binance' && (v['sim-speed'] !== undefined || v['sim-seed'] !== undefined)) usage('--sim-speed and --sim-seed need --source sim', 'source');

    const target = await resolveEndpoint(targetEp).catch((err: unknown) => usage(`--target: cannot resolve ${targetEp.host}: ${(err as Error).message}`, 'target'));
    let sender: PacketSender;
    try {
      sender = new PacketSender(formatEndpoint(target), frame, bindEp ? formatEndpoint(bindEp) : undefined, v.mac === true ? macKeyEnv : undefined);
    } catch (err) {
      const m = (err as Error).message;
      usage(m.startsWith('macKeyEnv') ? `--mac: ${m}` : `cannot open the UDP socket: ${m}`, m.startsWith('macKeyEnv') ? 'mac' : 'target');
    }

    let sim: VenueSimulator | undefined;
    let base = url ?? DEFAULT_BINANCE_WS;
    if (sourceKind === 'sim') {
      const capture = defaultBinanceCapturePath();
      const recorded = existsSync(capture) && symbol === 'btcusdt';
      sim = new VenueSimulator({
        venues: ['binance'],
        source: recorded ? 'recorded' : 'scenario',
        seed: simSeed,
        speed: simSpeed,
        binance: recorded ? {} : { symbol: symbol.toUpperCase() },
        log: (line) => process.stderr.write(`sim: ${line}\n`),
      });
      const urls = await sim.start();
      base = urls.binance!.wsBaseUrl;
      process.stderr.write(`relay send: simulator (${recorded ? `recorded ${capture}` : `seeded ${simSeed}`}) at ${base}\n`);
    }

    const { why, summary } = await relaySend(
      sender,
      { url: base, symbol, aggTrade, stream, count, durationS: duration, json: v.json === true, targetText: formatEndpoint(target) },
      stdio,
    );
    await sim?.stop();
    process.stderr.write(`relay send: stopped (${why}): ${JSON.stringify(summary)}\n`);
    return 0;
  },
};

const recvCommand: Command = {
  name: 'relay recv',
  summary:
    'Receives relay packets on a native thread (SO_BUSY_POLL where the kernel allows it, a large SO_RCVBUF,\n' +
    'pinned with --cpu) that publishes each decoded price into a shared-memory ring; this thread drains it.\n' +
    'Prints packets, rates, garbage (counted and dropped), loss and late frames (from extended-frame sequence\n' +
    'numbers) and one-way latency: sender CLOCK_REALTIME send stamp -> receiver CLOCK_REALTIME when the receive\n' +
    'thread got the datagram (only as good as the two hosts\' clock sync), plus the ring hop to this thread\n' +
    '(receiver CLOCK_MONOTONIC). With --json, one line per packet on stdout: {"ts_micros","bid","ask","seq","latency_us"}\n' +
    '(seq only for extended frames) and status on stderr. The final line on stderr is "relay recv: stopped (...): {json}".',
  usage:
    'relay recv --bind ADDR:PORT [--allow IP,...] [--require-mac] [--max-spread-bps N] [--max-skew-ms N] [--cpu N] [--spin] [--print-every N] [--json] [--count N] [--duration S]',
  options: {
    bind: { type: 'string' },
    allow: { type: 'string' },
    cpu: { type: 'string' },
    spin: { type: 'boolean' },
    'print-every': { type: 'string' },
    json: { type: 'boolean' },
    count: { type: 'string' },
    duration: { type: 'string' },
    'busy-poll': { type: 'string' },
    rcvbuf: { type: 'string' },
    capacity: { type: 'string' },
    'require-mac': { type: 'boolean' },
    'mac-key-env': { type: 'string' },
    'max-spread-bps': { type: 'string' },
    'max-skew-ms': { type: 'string' },
  },
  help: {
    bind: 'address to receive on, ADDR:PORT (IPv6 as [ADDR]:PORT)',
    'require-mac': `accept only extended frames with a valid MAC (key: hex in $${DEFAULT_MAC_KEY_ENV}); legacy packets and unsealed frames are refused and counted`,
    'mac-key-env': `environment variable holding the hex MAC key (default ${DEFAULT_MAC_KEY_ENV}; when it is set, sealed frames are verified even without --require-mac)`,
    'max-spread-bps': 'widest bid-ask spread accepted, basis points of the mid (default 50)',
    'max-skew-ms': "furthest a packet's send stamp may be from this host's clock, either way (default 1000)",
    allow: 'sender IP addresses accepted, comma-separated; others are counted as foreign and dropped. Required unless --bind is a loopback address',
    cpu: 'pin the receive thread to this CPU',
    spin: 'the receive thread busy-polls the socket instead of sleeping (a core at 100 %)',
    'print-every': 'status line every N packets (default 1000)',
    json: 'one JSON line per packet',
    count: 'stop after N packets',
    duration: 'stop after S seconds',
    'busy-poll': 'SO_BUSY_POLL microseconds, 0 = off (default 50)',
    rcvbuf: 'requested SO_RCVBUF bytes (default 8388608)',
    capacity: 'ring slots, a power of two (default 65536)',
  },
  async run(v) {
    const bind = endpointOption(v, 'bind', { required: true, allowPortZero: true })!;
    const allow = typeof v.allow === 'string' ? allowListOf(v.allow) : [];
    const allowWhy = allowProblem(bind.host, allow);
    if (allowWhy !== undefined) usage(`--allow ${allowWhy}`, 'allow');
    const cpu = optionalInt(v, 'cpu');
    const printEvery = positiveInt(v, 'print-every') ?? 1000;
    const count = positiveInt(v, 'count');
    const duration = secondsOption(v, 'duration');
    const busyPollUs = optionalInt(v, 'busy-poll');
    const rcvbufBytes = optionalInt(v, 'rcvbuf');
    const capacity = optionalInt(v, 'capacity');
    if (capacity !== undefined && (capacity < 2 || capacity > 1 << 24 || (capacity & (capacity - 1)) !== 0)) usage('--capacity must be a power of two in [2, 2^24]', 'capacity');
    if (rcvbufBytes !== undefined && (rcvbufBytes < 4096 || rcvbufBytes > 1 << 30)) usage('--rcvbuf must be in [4096, 2^30] bytes', 'rcvbuf');
    if (busyPollUs !== undefined && busyPollUs > 1_000_000) usage('--busy-poll must be at most 1000000 us', 'busy-poll');
    const json = v.json === true;
    const macKeyEnv = macKeyEnvOption(v);
    const requireMac = v['require-mac'] === true;
    const maxSpreadBps = numberOption(v, 'max-spread-bps', 0, 10_000);
    const maxSkewMs = numberOption(v, 'max-skew-ms', 1, 60_000);
    if (maxSkewMs !== undefined && !Number.isInteger(maxSkewMs)) usage('--max-skew-ms must be a whole number of milliseconds', 'max-skew-ms');

    let source: RelaySource;
    try {
      source = RelaySource.start({
        bind: formatEndpoint(bind),
        allow,
        ...(cpu !== undefined ? { cpu } : {}),
        spin: v.spin === true,
        ...(busyPollUs !== undefined ? { busyPollUs } : {}),
        ...(rcvbufBytes !== undefined ? { rcvbufBytes } : {}),
        ...(capacity !== undefined ? { capacity } : {}),
        ...(maxSpreadBps !== undefined ? { maxSpreadBps } : {}),
        ...(maxSkewMs !== undefined ? { maxSkewMs } : {}),
        // `in`: whether the key is set, without reading it into a JS string.
        ...(requireMac || macKeyEnv in process.env ? { macKeyEnv } : {}),
        requireMac,
      });
    } catch (err) {
      const m = (err as Error).message;
      usage(`cannot start the receiver: ${m}`, /macKeyEnv|requireMac/.test(m) ? 'require-mac' : 'bind');
    }
    const { why, summary } = await monitorRelay(source, { printEvery, count, durationS: duration, json, cpu, spin: v.spin === true }, stdio);
    process.stderr.write(`relay recv: stopped (${why}): ${summaryJson(summary)}\n`);
    return 0;
  },
};

export async function relayCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'send') return runCommand(sendCommand, rest);
  if (sub === 'recv') return runCommand(recvCommand, rest);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(
      'usage: polyedge relay send|recv [options]\n\nsubcommands:\n' +
        '  send   Binance bookTicker (and aggTrade) -> one UDP packet per update (legacy 24 B or extended 72 B)\n' +
        '  recv   receive packets on a native thread; print latency, loss and rates, or JSON lines\n',
    );
    return sub === undefined ? 2 : 0;
  }
  throw new PolyedgeError('PE_USAGE', `unknown subcommand "relay ${sub}" (try: polyedge relay send --help)`);
}
