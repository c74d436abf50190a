// Soak: the bundled offline session as `npm start` runs it (a child process,
// `polyedge run`: paper engine on the venue simulator), with random feed
// faults switched on in the simulator (POST /_sim/fault) and control-plane
// GETs (default 20/s over /health, /metrics and /state/*), for --minutes.
// Every --sample-ms the script reads the engine's own process metrics from
// /metrics (RSS, main-thread heap, external, array buffers, event-loop lag,
// GC) and reports: memory at start and end, the memory slope in MB/min (least
// squares over the samples after --warmup-minutes), event-loop lag, faults
// the simulator injected (GET /_sim/stats), the feeds' reconnects, requests
// served. Loopback only; stops the engine and itself after the run (the
// engine is killed if it does not stop within 30 s).
//
//   node dist/scripts/soak.js --minutes 30 [--fault-rate 0.02] [--rate 20] [--json soak.json]
//
// Prints a summary and the JSON on stdout; exits 0 when the run completed
// and every control request got a 2xx, 1 otherwise, 2 on bad usage.

import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runScript } from './script-main.js';
import { PolyedgeError } from '../engine/errors.js';

const MAIN = fileURLToPath(new URL('../engine/cli/main.js', import.meta.url));
const ROUTES = ['/health', '/metrics', '/state/positions', '/state/markets', '/state/pnl', '/state/orders'] as const;
const USAGE =
  'usage: node dist/scripts/soak.js [--minutes N] [--fault-rate P] [--rate GET_PER_S] [--sample-ms MS] [--warmup-minutes M] [--seed N] [--speed X] [--config FILE] [--json FILE] [--engine-log FILE] [--node-arg=FLAG ...]';

export interface SoakOptions {
  minutes: number;
  /** Probability of a fault per outgoing data frame, per connection (simulator random faults). */
  faultRate: number;
  /** Control-plane GETs per second. */
  rate: number;
  sampleMs: number;
  /** Samples before this are left out of the slopes. */
  warmupMinutes: number;
  seed: number;
  speed: number;
  config: string | undefined;
  jsonPath: string;
  /** Engine stdout and stderr go to this file instead of our stderr (diagnosis: NODE_OPTIONS=--trace-gc lands here). */
  engineLog: string | undefined;
  /** Node flags for the engine process (diagnosis: --trace-gc, --heapsnapshot-signal=SIGUSR2). */
  nodeArgs: string[];
}

export interface MemorySample {
  /** Minutes since the first sample. */
  tMin: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  /** The engine's last closed 10 s lag window at this sample, ms. */
  lagP99Ms: number;
  lagMaxMs: number;
}

export interface SoakReport {
  command: string;
  machine: { cpus: number; model: string; node: string };
  minutes: number;
  warmupMinutes: number;
  samples: number;
  start: MemorySample;
  end: MemorySample;
  /** MB per minute, least squares over the samples after the warm-up. */
  slopeMbPerMin: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
  /** RSS slope (MB/min) per consecutive segment of the run after the warm-up (up to 6): growth that flattens shows here. */
  rssSlopeBySegment: { fromMin: number; toMin: number; mbPerMin: number }[];
  /**
   * Seconds. p99S and maxS: since the engine started (polyedge_event_loop_lag_lifetime_seconds, start-up included);
   * p99MedianS and p99WorstS: over the engine's 10 s windows seen during the run (polyedge_event_loop_lag_seconds).
   */
  eventLoopLag: { p99S: number; maxS: number; windows: number; p99MedianS: number; p99WorstS: number };
  gc: { minor: number; major: number; pauseS: number };
  faults: { rate: number; injected: number; byVenue: Record<string, Record<string, number>> };
  reconnects: Record<string, number>;
  requests: { sent: number; served: number; failed: number; skipped: number };
  /** Every sample, for plotting the curve. */
  series: MemorySample[];
}

export function parseSoakArgs(argv: string[]): SoakOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        minutes: { type: 'string' },
        'fault-rate': { type: 'string' },
        rate: { type: 'string' },
        'sample-ms': { type: 'string' },
        'warmup-minutes': { type: 'string' },
        seed: { type: 'string' },
        speed: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'string' },
        'engine-log': { type: 'string' },
        'node-arg': { type: 'string', multiple: true },
      },
      strict: true,
    });
  } catch (err) {
    throw new PolyedgeError('PE_USAGE', `${(err as Error).message}\n${USAGE}`);
  }
  const v = parsed.values;
  const num = (key: keyof typeof v, dflt: number, min: number, max: number, integer = false): number => {
    const text = v[key];
    if (text === undefined) return dflt;
    const n = Number(text);
    if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new PolyedgeError('PE_USAGE', `--${key} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]\n${USAGE}`, key);
    }
    return n;
  };
  const minutes = num('minutes', 5, 0.05, 24 * 60);
  return {
    minutes,
    faultRate: num('fault-rate', 0.02, 0, 1),
    rate: num('rate', 20, 0, 1000),
    sampleMs: num('sample-ms', 5000, 200, 600_000, true),
    // Allocator and JIT warm-up: a fifth of the run, at most 2 minutes.
    warmupMinutes: num('warmup-minutes', Math.min(2, minutes / 5), 0, minutes),
    seed: num('seed', 1, 0, 0xffffffff, true),
    speed: num('speed', 1, 0.01, 1000),
    config: v.config,
    jsonPath: v.json ?? 'soak.json',
    engineLog: v['engine-log'],
    nodeArgs: v['node-arg'] ?? [],
  };
}

/** Least-squares slope of y over x; NaN with fewer than two distinct x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

/** Samples of one Prometheus text exposition: `name{labels}` → value. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number | undefined): number => Math.round(((bytes ?? NaN) / 2 ** 20) * 100) / 100;
const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

interface Http {
  get(url: string): Promise<{ status: number; body: string }>;
  post(url: string, body: unknown): Promise<{ status: number; body: string }>;
  close(): void;
}

function http(): Http {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const call = (method: string, url: string, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, { method, agent, timeout: 10_000, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in 10 s`)));
      req.on('error', reject);
      req.end(body);
    });
  return { get: (url) => call('GET', url), post: (url, b) => call('POST', url, JSON.stringify(b)), close: () => agent.destroy() };
}

/** Starts `polyedge run` and resolves with the control plane's and the simulator's base URLs, read from its log. */
function startEngine(o: SoakOptions, journal: string, log: (line: string) => void): { child: ChildProcess; urls: Promise<{ control: string; sim: string }> } {
  const args = [...o.nodeArgs, MAIN, 'run', '--port', '0', '--journal', journal, '--seed', String(o.seed), '--speed', String(o.speed), ...(o.config ? ['--config', o.config] : [])];
  const out = o.engineLog === undefined ? 'ignore' : openSync(o.engineLog, 'w');
  const child = spawn(process.execPath, args, { stdio: ['ignore', out, 'pipe'] });
  if (typeof out === 'number') closeSync(out);
  const urls = new Promise<{ control: string; sim: string }>((resolve, reject) => {
    let control: string | undefined;
    let sim: string | undefined;
    let partial = '';
    child.stderr!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (o.engineLog === undefined) log(line);
        else appendFileSync(o.engineLog, `${line}\n`);
        control ??= /control plane on (http:\/\/[^\s]+)/.exec(line)?.[1];
        // The simulator serves /_sim/* on every venue port: the polymarket one will do.
        sim ??= /polymarket ws:\/\/([^/\s]+)\//.exec(line)?.[1];
        if (control && sim) resolve({ control: control.replace(/\/$/, ''), sim: `http://${sim}` });
      }
    });
    child.once('exit', (code) => reject(new PolyedgeError('PE_INTERNAL', `soak: the engine exited (code ${code}) before its control plane was up`)));
    child.once('error', reject);
  });
  return { child, urls };
}

async function stopEngine(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => false), sleep(30_000).then(() => true)]);
  if (killed) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** `stop` ends the run early (SIGINT/SIGTERM on the CLI): the report covers what was sampled, and the engine is stopped. */
export async function runSoak(o: SoakOptions, log: (line: string) => void = () => {}, stop?: Promise<void>): Promise<SoakReport> {
  let stopped = false;
  let wake: () => void = () => {};
  void stop?.then(() => {
    stopped = true;
    wake();
  });
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-soak-'));
  const { child, urls } = startEngine(o, join(dir, 'journal.log'), log);
  const client = http();
  const series: MemorySample[] = [];
  const lagWindows = new Map<number, number>();
  const requests = { sent: 0, served: 0, failed: 0, skipped: 0 };
  let traffic: NodeJS.Timeout | undefined;
  try {
    const { control, sim } = await Promise.race([urls, sleep(120_000).then(() => Promise.reject(new PolyedgeError('PE_INTERNAL', 'soak: the engine did not start within 120 s')))]);
    if (o.faultRate > 0) {
      const r = await client.post(`${sim}/_sim/fault`, { fault: 'random', rate: o.faultRate, seed: o.seed, stallMs: 2_000 });
      if (r.status !== 200) throw new PolyedgeError('PE_INTERNAL', `soak: the simulator refused random faults: ${r.status} ${r.body}`);
    }
    let inFlight = 0;
    let next = 0;
    if (o.rate > 0) {
      traffic = setInterval(() => {
        // A slow engine must not get a growing queue of requests from us: skip, and count it.
        if (inFlight >= 16) return void requests.skipped++;
        const route = ROUTES[next++ % ROUTES.length]!;
        inFlight++;
        requests.sent++;
        client.get(`${control}${route}`).then(
          (r) => (r.status >= 200 && r.status < 300 ? requests.served++ : requests.failed++),
          () => requests.failed++,
        ).finally(() => inFlight--);
      }, 1000 / o.rate);
    }
    const metrics = async (): Promise<Map<string, number>> => {
      const r = await client.get(`${control}/metrics`);
      if (r.status !== 200) throw new PolyedgeError('PE_INTERNAL', `soak: GET /metrics answered ${r.status}`);
      return parseExposition(r.body);
    };
    const t0 = Date.now();
    const endAt = t0 + o.minutes * 60_000;
    let last = new Map<string, number>();
    for (;;) {
      last = await metrics();
      series.push({
        tMin: (Date.now() - t0) / 60_000,
        rssMb: mb(last.get('polyedge_process_resident_memory_bytes')),
        heapUsedMb: mb(last.get('polyedge_process_heap_used_bytes')),
        heapTotalMb: mb(last.get('polyedge_process_heap_total_bytes')),
        externalMb: mb(last.get('polyedge_process_external_memory_bytes')),
        arrayBuffersMb: mb(last.get('polyedge_process_array_buffers_bytes')),
        lagP99Ms: round((last.get('polyedge_event_loop_lag_seconds{stat="p99"}') ?? NaN) * 1e3, 2),
        lagMaxMs: round((last.get('polyedge_event_loop_lag_seconds{stat="max"}') ?? NaN) * 1e3, 2),
      });
      const w = last.get('polyedge_event_loop_lag_windows_total') ?? 0;
      const p99 = last.get('polyedge_event_loop_lag_seconds{stat="p99"}');
      if (w > 0 && p99 !== undefined && Number.isFinite(p99)) lagWindows.set(w, p99);
      if (child.exitCode !== null) throw new PolyedgeError('PE_INTERNAL', `soak: the engine exited (code ${child.exitCode}) during the run`);
      if (Date.now() >= endAt || stopped) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(o.sampleMs, endAt - Date.now()));
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    if (traffic) clearInterval(traffic);
    // Requests still on the wire are answered (or time out) before the counts are read.
    for (const deadline = Date.now() + 15_000; inFlight > 0 && Date.now() < deadline; ) await sleep(20);
    const stats = JSON.parse((await client.get(`${sim}/_sim/stats`)).body) as { totalFaults: number; faults: Record<string, Record<string, number>> };
    const byVenue: Record<string, Record<string, number>> = {};
    for (const [venue, kinds] of Object.entries(stats.faults)) {
      const hit = Object.entries(kinds).filter(([, n]) => n > 0);
      if (hit.length) byVenue[venue] = Object.fromEntries(hit);
    }
    const reconnects: Record<string, number> = {};
    for (const [key, n] of last) {
      const m = /^polyedge_feed_reconnects_total\{source="([^"]+)"\}$/.exec(key);
      if (m) reconnects[m[1]!] = n;
    }
    const warm = series.filter((s) => s.tMin >= o.warmupMinutes);
    const fit = (f: (s: MemorySample) => number) => round(slope(warm.map((s) => s.tMin), warm.map(f)), 3);
    const segments = Math.min(6, Math.max(1, Math.floor(warm.length / 10)));
    const span = (series[series.length - 1]!.tMin - o.warmupMinutes) / segments;
    const rssSlopeBySegment = Array.from({ length: segments }, (_, i) => {
      const from = o.warmupMinutes + i * span;
      const part = warm.filter((s) => s.tMin >= from && (i === segments - 1 || s.tMin < from + span));
      return { fromMin: round(from, 2), toMin: round(from + span, 2), mbPerMin: round(slope(part.map((s) => s.tMin), part.map((s) => s.rssMb)), 3) };
    });
    const p99s = [...lagWindows.values()].sort((a, b) => a - b);
    const g = (k: string) => last.get(k) ?? 0;
    return {
      command: `node dist/scripts/soak.js --minutes ${o.minutes} --fault-rate ${o.faultRate} --rate ${o.rate} --seed ${o.seed}`,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      minutes: round(series[series.length - 1]!.tMin, 2),
      warmupMinutes: o.warmupMinutes,
      samples: series.length,
      start: series[0]!,
      end: series[series.length - 1]!,
      slopeMbPerMin: { rss: fit((s) => s.rssMb), heapUsed: fit((s) => s.heapUsedMb), external: fit((s) => s.externalMb), arrayBuffers: fit((s) => s.arrayBuffersMb) },
      rssSlopeBySegment,
      eventLoopLag: {
        p99S: round(g('polyedge_event_loop_lag_lifetime_seconds{stat="p99"}'), 6),
        maxS: round(g('polyedge_event_loop_lag_lifetime_seconds{stat="max"}'), 6),
        windows: p99s.length,
        p99MedianS: p99s.length ? round(p99s[Math.floor(p99s.length / 2)]!, 6) : NaN,
        p99WorstS: p99s.length ? round(p99s[p99s.length - 1]!, 6) : NaN,
      },
      gc: {
        minor: g('polyedge_gc_total{kind="minor"}'),
        major: g('polyedge_gc_total{kind="major"}'),
        pauseS: round(['minor', 'major', 'incremental', 'weakcb'].reduce((a, k) => a + g(`polyedge_gc_pause_seconds_total{kind="${k}"}`), 0), 3),
      },
      faults: { rate: o.faultRate, injected: stats.totalFaults, byVenue },
      reconnects,
      requests,
      series,
    };
  } finally {
    if (traffic) clearInterval(traffic);
    client.close();
    await stopEngine(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatReport(r: SoakReport): string {
  const s = (v: number) => (Number.isFinite(v) ? `${(v * 1e3).toFixed(1)} ms` : '-');
  return [
    `soak: ${r.minutes} min, ${r.samples} samples, warm-up ${r.warmupMinutes} min; ${r.machine.cpus} cores (${r.machine.model}), node ${r.machine.node}`,
    `RSS          ${r.start.rssMb} -> ${r.end.rssMb} MB, slope ${r.slopeMbPerMin.rss} MB/min`,
    `RSS slope by segment  ${r.rssSlopeBySegment.map((g) => `${g.fromMin}-${g.toMin} min: ${g.mbPerMin}`).join(', ')} MB/min`,
    `heap used    ${r.start.heapUsedMb} -> ${r.end.heapUsedMb} MB, slope ${r.slopeMbPerMin.heapUsed} MB/min (heap total ${r.start.heapTotalMb} -> ${r.end.heapTotalMb} MB)`,
    `external     ${r.start.externalMb} -> ${r.end.externalMb} MB, slope ${r.slopeMbPerMin.external} MB/min (array buffers ${r.start.arrayBuffersMb} -> ${r.end.arrayBuffersMb} MB)`,
    `loop lag     p99 ${s(r.eventLoopLag.p99S)}, max ${s(r.eventLoopLag.maxS)} since engine start; window p99 median ${s(r.eventLoopLag.p99MedianS)}, worst ${s(r.eventLoopLag.p99WorstS)} over ${r.eventLoopLag.windows} windows of 10 s`,
    `gc           ${r.gc.minor} minor, ${r.gc.major} major, ${r.gc.pauseS} s paused`,
    `faults       ${r.faults.injected} injected at rate ${r.faults.rate} (${JSON.stringify(r.faults.byVenue)}); reconnects ${JSON.stringify(r.reconnects)}`,
    `requests     ${r.requests.served} served, ${r.requests.failed} failed, ${r.requests.skipped} skipped of ${r.requests.sent} sent`,
  ].join('\n');
}

async function main(): Promise<number> {
  const o = parseSoakArgs(process.argv.slice(2));
  const stop = new Promise<void>((r) => {
    process.once('SIGINT', () => r());
    process.once('SIGTERM', () => r());
  });
  const report = await runSoak(o, (line) => void process.stderr.write(`engine: ${line}\n`), stop);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(o.jsonPath, json);
  process.stdout.write(`${formatReport(report)}\n\n${json}JSON: ${o.jsonPath}\n`);
  return report.requests.failed === 0 ? 0 : 1;
}

await runScript(import.meta.url, main);
