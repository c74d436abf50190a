// End-to-end latency suite: the venue simulator and the engine (the bundled
// paper session, as `npm start` runs it) in this process, plus the UDP relay
// receiver; then N relay ticks sent through a real UDP socket by our native
// sender while the simulator streams the Polymarket books and RTDS prices
// over real WebSockets. Reports, from the engine's own hdr-histograms:
//
//   tick → decision             feed receive stamp of the event that made a market dirty → decide() returns
//   tick → decision, by source  the same, split by that event's feed (polymarket, rtds, deribit, relay)
//   relay receive → decision    the relay row of the above: native receive thread stamp → decide() returns
//   decision → paper ack        order sent by a decision → its ack handled (includes the paper venue's
//                               modelled post + ack latency, [paper] in the config)
//   relay send → receive        sender's CLOCK_REALTIME send stamp → receiver's CLOCK_REALTIME at receipt
//
// Histograms are cleared after a warm-up, so start-up is not in the figures.
// Output: a table on stdout and a JSON file (--json, default e2e-latency.json).
//
//   node dist/scripts/e2e-latency.js [--ticks 2000] [--rate 200] [--speed 4] [--wait async|spin] [--json FILE]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../engine/config/load.js';
import { runScript } from './script-main.js';
import { PolyedgeError } from '../engine/errors.js';
import type { LatencyHistogram, LatencySummary } from '../engine/metrics/latency.js';
import { native } from '../engine/native.js';
import { F_ASK, F_BID, F_EXCHANGE_TS_NS, F_SEQ, F_STREAM } from '../engine/feeds/relay/packet.js';
import { PacketSender } from '../engine/feeds/relay/sender.js';
import { startSession, type Session } from '../engine/runtime/session.js';
import { bundledVenues } from '../engine/sim/offline.js';

export interface E2eOptions {
  ticks: number;
  /** Relay packets per second. */
  rate: number;
  /** Simulator pace (1 = the capture's own). */
  speed: number;
  wait: 'async' | 'spin';
  warmupMs: number;
  jsonPath: string;
  log: (line: string) => void;
}

export interface E2eRow {
  name: string;
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

export interface E2eReport {
  ticks: number;
  ratePerS: number;
  durationS: number;
  wait: 'async' | 'spin';
  machine: { cpus: number; model: string; node: string };
  layout: string[];
  relay: { sent: number; received: number; lost: number; garbage: number };
  rows: E2eRow[];
}

const USAGE = 'usage: node dist/scripts/e2e-latency.js [--ticks N] [--rate PER_S] [--speed X] [--wait async|spin] [--warmup MS] [--json FILE]';

const us = (ns: number): number => Math.round(ns / 10) / 100;

function row(name: string, s: LatencySummary): E2eRow {
  return { name, count: s.count, p50Us: us(s.p50Ns), p90Us: us(s.p90Ns), p99Us: us(s.p99Ns), p999Us: us(s.p999Ns), maxUs: us(s.maxNs) };
}

export function formatRows(rows: readonly E2eRow[]): string {
  const head = ['measure', 'count', 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'max µs'];
  const cells = rows.map((r) => [r.name, String(r.count), ...[r.p50Us, r.p90Us, r.p99Us, r.p999Us, r.maxUs].map((v) => (Number.isFinite(v) ? v.toFixed(2) : '-'))]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(width[i]!) : v.padStart(width[i]!))).join('  ');
  return [line(head), line(width.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new PolyedgeError('PE_INTERNAL', `e2e-latency: timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function runE2e(o: E2eOptions): Promise<E2eReport> {
  const cfg = loadConfig();
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-e2e-'));
  const layout: string[] = [];
  let session: Session | undefined;
  try {
    session = await startSession({
      cfg: { ...cfg, engine: { ...cfg.engine, wait: o.wait } },
      offline: bundledVenues(),
      speed: o.speed,
      seed: 1,
      journalPath: join(dir, 'journal.log'),
      controlPort: 0,
      relayBind: '127.0.0.1:0',
      log: (line) => {
        if (/pinned|relay receiver|unpinned/.test(line)) layout.push(line);
        o.log(line);
      },
    });
    const { engine, relay } = session;
    if (!relay) throw new PolyedgeError('PE_INTERNAL', 'e2e-latency: the session started without the relay receiver');
    const chainlink = engine.fusion.sources.find((s) => s.name === 'rtds-chainlink');
    if (!chainlink) throw new PolyedgeError('PE_INTERNAL', 'e2e-latency: the session has no rtds-chainlink reference');
    await until('the first Chainlink price', () => chainlink.price > 0, 30_000);
    await sleep(o.warmupMs);

    // The ring has one consumer, the engine; relay one-way latency is therefore read from the
    // hub's exchange→receive of the relay source: each packet's venue-time field is set to the
    // wall clock right before sendto, and the native thread stamps the receipt.
    const relaySource = engine.hub.sourceIndex('relay');
    const hists: LatencyHistogram[] = [engine.latency.tickToDecision, engine.orders.decisionToAck, ...engine.latency.sourceToDecision, engine.hub.latency(relaySource).exchangeToReceive];
    for (const h of hists) h.reset();

    const sender = new PacketSender(relay.address, 'extended');
    const packetsBefore = relay.counters().packets;
    const intervalMs = 1000 / o.rate;
    const t0 = performance.now();
    for (let i = 0; i < o.ticks; i++) {
      const f = sender.fields;
      const p = chainlink.price;
      f[F_STREAM] = 0;
      f[F_SEQ] = i + 1;
      f[F_EXCHANGE_TS_NS] = Number(native.wallNs());
      // A cent of movement per tick, so every packet changes the fused price and reaches a decision.
      f[F_BID] = p - 0.5 + (i % 2) * 0.01;
      f[F_ASK] = p + 0.5 + (i % 2) * 0.01;
      if (sender.send() <= 0) throw new PolyedgeError('PE_INTERNAL', `e2e-latency: relay send failed (errno ${sender.lastError})`);
      const wait = t0 + (i + 1) * intervalMs - performance.now();
      if (wait >= 1) await sleep(wait);
    }
    await until('every relay packet received', () => relay.counters().packets - packetsBefore >= o.ticks, 10_000);
    // Let the last decisions and acks land.
    await sleep(500);
    const durationS = (performance.now() - t0) / 1000;
    sender.close();

    const c = relay.counters();
    const rows: E2eRow[] = [row('tick → decision (all sources)', engine.latency.tickToDecision.summary())];
    for (let s = 0; s < engine.hub.sourceCount; s++) {
      const sum = engine.latency.sourceToDecision[s]!.summary();
      if (sum.count > 0) rows.push(row(`tick → decision, ${engine.hub.sourceName(s)}${engine.hub.sourceName(s) === 'relay' ? ' (relay receive → decision)' : ''}`, sum));
    }
    rows.push(row('decision → paper ack', engine.orders.decisionToAck.summary()));
    rows.push(row('relay send → receive (wall clocks, loopback)', engine.hub.latency(relaySource).exchangeToReceive.summary()));
    return {
      ticks: o.ticks,
      ratePerS: o.rate,
      durationS: Math.round(durationS * 100) / 100,
      wait: o.wait,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      layout,
      relay: { sent: o.ticks, received: c.packets - packetsBefore, lost: c.lost, garbage: c.garbage },
      rows,
    };
  } finally {
    await session?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseE2eArgs(argv: string[]): Omit<E2eOptions, 'log'> {
  let v: Record<string, string | undefined>;
  try {
    v = parseArgs({ args: argv, strict: true, options: Object.fromEntries(['ticks', 'rate', 'speed', 'wait', 'warmup', 'json'].map((n) => [n, { type: 'string' as const }])) }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new PolyedgeError('PE_USAGE', `${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const num = (name: string, def: number, integer: boolean, min: number): number => {
    const raw = v[name];
    if (raw === undefined) return def;
    const x = Number(raw);
    if (!Number.isFinite(x) || x < min || (integer && !Number.isInteger(x))) throw new PolyedgeError('PE_USAGE', `--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(raw)}\n${USAGE}`, name);
    return x;
  };
  const wait = v.wait ?? 'async';
  if (wait !== 'async' && wait !== 'spin') throw new PolyedgeError('PE_USAGE', `--wait must be async or spin\n${USAGE}`, 'wait');
  return {
    ticks: num('ticks', 2000, true, 1),
    rate: num('rate', 200, false, 1),
    speed: num('speed', 4, false, 0.01),
    wait,
    warmupMs: num('warmup', 2000, true, 0),
    jsonPath: v.json ?? 'e2e-latency.json',
  };
}

async function main(): Promise<number> {
  const opts = parseE2eArgs(process.argv.slice(2));
  const report = await runE2e({ ...opts, log: (line) => void process.stderr.write(`${line}\n`) });
  writeFileSync(opts.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    `${report.ticks} relay ticks at ${report.ratePerS}/s over ${report.durationS} s, engine wait ${report.wait}, ${report.machine.cpus} cores (${report.machine.model}), node ${report.machine.node}\n` +
      `${report.layout.map((l) => `  ${l}`).join('\n')}\n` +
      `relay: ${report.relay.received}/${report.relay.sent} received, ${report.relay.lost} lost, ${report.relay.garbage} garbage\n\n` +
      `${formatRows(report.rows)}\n\nJSON: ${opts.jsonPath}\n`,
  );
  return 0;
}

await runScript(import.meta.url, main);
