// Control-plane storm: checks that operators hammering the control plane do
// not slow the engine's decisions. 8 clients, each on its own keep-alive
// connection, send a total of 20 requests/s for --duration seconds: GETs over
// every state and report route (seeded choice), and every tenth request a
// POST reload that resends the parameters in force (so the storm changes
// nothing it measures).
// The bar is a tick_to_decision p99 increase under 50 % (ratio < 1.5).
//
// How before and after are measured: the engine publishes tick_to_decision
// per window ([engine] metrics_window_ms, 10 s by default) beside the
// lifetime summary. Polling /metrics four times a second, the script waits
// for a window to close, watches --baseline seconds of quiet (rounded to
// whole windows; default: as long as the storm), and starts the storm right
// as a window closes, so windows do not straddle the two phases. before /
// after = the median of the phase's window p99s; every window is listed in
// the summary. With metrics_window_ms equal to --duration each phase is one
// window and the p99s are pooled over the whole phase (the most robust
// reading when decisions are few). Lifetime quantiles would dilute the storm
// in the whole run, so they are only the fallback for an engine without the
// window metric (method "lifetime": one read before, one after).
//
//   node dist/scripts/control-storm.js --url http://127.0.0.1:7420 [--token T] [--duration 60] [--baseline 60]
//
// Prints one JSON summary on stdout; exits 0 when every request got a 2xx and
// the ratio (if the engine publishes the metric) is within the bar, 1 when not,
// 2 on bad usage.

import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { PolyedgeError } from '../engine/errors.js';
import { LatencyHistogram } from '../engine/metrics/latency.js';
import { CONTROL_TOKEN_ENV } from '../engine/control/server.js';
import { tunableNames } from '../engine/tunables/registry.js';
import { Prng } from '../workers/prng.js';

export interface StormOptions {
  url: string;
  token: string | undefined;
  durationS: number;
  /** Quiet seconds watched before the storm (window method). */
  baselineS: number;
  /** Total requests per second across all clients. */
  rate: number;
  clients: number;
  /** Which reload the POSTs resend: its route name under /control/reload/ (engine/tunables/registry.ts). */
  reload: string;
  seed: number;
  /** Largest acceptable p99 after / before. */
  maxRatio: number;
}

export const DEFAULTS = { durationS: 60, rate: 20, clients: 8, reload: 'strategy/maker', seed: 1, maxRatio: 1.5 } as const;

/** One closed tick_to_decision window as the script saw it. */
export interface WindowSample {
  /** Seconds since the script started when the window was seen closed. */
  seenAtS: number;
  p99S: number;
  decisions: number;
}

export interface StormSummary {
  url: string;
  durationS: number;
  clients: number;
  targetRate: number;
  requests: number;
  /** By HTTP status, plus `error` for requests that got no response. */
  statuses: Record<string, number>;
  posts: number;
  /** Requests that started more than one client interval after their slot. */
  lateStarts: number;
  clientLatencyMs: { p50: number; p99: number; max: number };
  tickToDecisionP99: {
    method: 'window' | 'lifetime';
    windowMs: number | null;
    beforeS: number | null;
    afterS: number | null;
    ratio: number | null;
    maxRatio: number;
    withinBar: boolean | null;
    baselineWindows: WindowSample[];
    stormWindows: WindowSample[];
  };
  ok: boolean;
}

const METRIC = 'polyedge_tick_to_decision_seconds';
const WINDOW_METRIC = 'polyedge_tick_to_decision_window_seconds';
const WINDOWS_TOTAL = 'polyedge_tick_to_decision_windows_total';

/**
 * The `{quantile="0.99"}` sample of a summary (default: the lifetime
 * tick_to_decision) in a Prometheus text exposition; the worst one if
 * several series carry it (other labels), undefined if none does or its
 * value is not finite.
 */
export function parseTickToDecisionP99(text: string, metric: string = METRIC): number | undefined {
  let worst: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (m === null || m[1] !== metric) continue;
    let quantile: string | undefined;
    for (const l of m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)) if (l[1] === 'quantile') quantile = l[2];
    if (quantile === undefined || Number(quantile) !== 0.99) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v) && (worst === undefined || v > worst)) worst = v;
  }
  return worst;
}

interface Reply {
  status: number;
  body: string;
}

function send(agent: Agent, base: URL, method: 'GET' | 'POST', path: string, token: string | undefined, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = request(new URL(path, base), { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const GET_PATHS = [
  '/health',
  '/metrics',
  '/state/positions',
  '/state/pnl',
  '/state/orders',
  '/report/shadow/live',
  '/report/shadow/final',
  '/report/pnl/by_engine',
  '/report/toxicity/live',
  '/report/toxicity/final',
] as const;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const POLL_MS = 250;
/** How far a window's seen close may be from where the phases put it: two polls. */
const SLACK_S = 0.5;

/** An unlabelled sample (`name value`), undefined when absent. */
export function parsePlainSample(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\S+)/.exec(line);
    if (m !== null && m[1] === name) return Number(m[2]);
  }
  return undefined;
}

async function readMetrics(agent: Agent, base: URL, token: string | undefined): Promise<string> {
  const r = await send(agent, base, 'GET', '/metrics', token);
  if (r.status !== 200) throw new PolyedgeError('PE_INTERNAL', `GET /metrics answered ${r.status}: ${r.body.slice(0, 200)}`);
  return r.body;
}

/**
 * Median of the p99s of the windows wholly inside [fromS, toS]: seen closed
 * at least one window after fromS and by toS, give or take `slackS` (the
 * polling period and the engine's loop).
 */
export function phaseP99(windows: readonly WindowSample[], fromS: number, toS: number, windowS: number, slackS: number): { p99S: number | null; used: WindowSample[] } {
  const used = windows.filter((w) => w.seenAtS >= fromS + windowS - slackS && w.seenAtS <= toS + slackS && w.decisions > 0 && Number.isFinite(w.p99S));
  if (used.length === 0) return { p99S: null, used };
  const sorted = used.map((w) => w.p99S).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return { p99S: sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2, used };
}

/** Polls /metrics for closed windows until stopped; one request in flight at a time. */
class WindowWatch {
  readonly windows: WindowSample[] = [];
  private lastTotal: number;
  private running = true;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly done: Promise<void>;

  constructor(
    private readonly agent: Agent,
    private readonly base: URL,
    private readonly token: string | undefined,
    private readonly t0: number,
    firstTotal: number,
  ) {
    this.lastTotal = firstTotal;
    this.done = this.poll();
  }

  private async poll(): Promise<void> {
    while (this.running) {
      const text = await readMetrics(this.agent, this.base, this.token);
      const total = parsePlainSample(text, WINDOWS_TOTAL) ?? this.lastTotal;
      if (total !== this.lastTotal) {
        // More than one window closed between two polls only if the engine stalled; keep the one we can see.
        this.lastTotal = total;
        this.windows.push({
          seenAtS: (performance.now() - this.t0) / 1000,
          p99S: parseTickToDecisionP99(text, WINDOW_METRIC) ?? NaN,
          decisions: parsePlainSample(text, `${WINDOW_METRIC}_count`) ?? 0,
        });
        const due = this.waiters.filter((w) => this.windows.length >= w.count);
        this.waiters = this.waiters.filter((w) => this.windows.length < w.count);
        for (const w of due) w.resolve();
      }
      await sleep(POLL_MS);
    }
  }

  /** Resolves when n more windows have been seen closed. */
  closes(n: number): Promise<void> {
    const count = this.windows.length + n;
    return n <= 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

/** Waits for n window closes; fails instead of hanging when the engine stops closing windows. */
async function closesWithin(watch: WindowWatch, n: number, windowMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limitMs = (n + 2) * windowMs + 5_000;
  try {
    await Promise.race([
      watch.closes(n),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PolyedgeError('PE_INTERNAL', `fewer than ${n} tick_to_decision windows closed in ${limitMs} ms: is the engine running?`)), limitMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runStorm(o: StormOptions): Promise<StormSummary> {
  const control = new Agent({ keepAlive: true, maxSockets: 1 });
  const watch: { current?: WindowWatch } = {};
  try {
    return await storm(o, control, watch);
  } finally {
    // On an error too: a polling loop left running would keep the process alive.
    await watch.current?.stop().catch(() => undefined);
    control.destroy();
  }
}

async function storm(o: StormOptions, control: Agent, holder: { current?: WindowWatch }): Promise<StormSummary> {
  const base = new URL(o.url);
  const reloadPath = `/control/reload/${o.reload}`;
  const current = await send(control, base, 'GET', reloadPath, o.token);
  if (current.status !== 200) throw new PolyedgeError('PE_INTERNAL', `GET ${reloadPath} answered ${current.status}: ${current.body.slice(0, 200)}`);
  const params = current.body;
  const first = await readMetrics(control, base, o.token);
  const windowsTotal = parsePlainSample(first, WINDOWS_TOTAL);
  let windowMs: number | null = null;
  let watch: WindowWatch | undefined;
  const tStart = performance.now();
  if (windowsTotal !== undefined) {
    const perf = await send(control, base, 'GET', '/control/reload/perf', o.token);
    const w = perf.status === 200 ? (JSON.parse(perf.body) as { metrics_window_ms?: unknown }).metrics_window_ms : undefined;
    if (typeof w !== 'number' || !(w > 0)) throw new PolyedgeError('PE_INTERNAL', `the engine publishes ${WINDOWS_TOTAL} but GET /control/reload/perf gave no metrics_window_ms (${perf.status})`);
    windowMs = w;
    watch = new WindowWatch(control, base, o.token, tStart, windowsTotal);
    holder.current = watch;
    await closesWithin(watch, 1, w);
    await closesWithin(watch, Math.round((o.baselineS * 1000) / w), w);
  }
  const beforeLifetime = watch ? null : (parseTickToDecisionP99(first) ?? null);

  const latency = new LatencyHistogram();
  const statuses: Record<string, number> = {};
  let requests = 0;
  let posts = 0;
  let lateStarts = 0;
  const intervalMs = (1000 * o.clients) / o.rate;
  const endMs = o.durationS * 1000;
  const t0 = performance.now();
  const stormFromS = (t0 - tStart) / 1000;

  // Open loop: each client owns fixed slots, staggered so the total is evenly spread.
  const client = async (i: number): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const rng = new Prng(o.seed * 1000 + i);
    try {
      for (let k = 0; ; k++) {
        const due = (i * 1000) / o.rate + k * intervalMs;
        if (due >= endMs) return;
        const wait = t0 + due - performance.now();
        if (wait > 0) await sleep(wait);
        else if (-wait > intervalMs) lateStarts++;
        // Slots in time order are k * clients + i; the first is a POST, so even a short run exercises auth.
        const post = (k * o.clients + i) % 10 === 0;
        const start = process.hrtime.bigint();
        requests++;
        if (post) posts++;
        try {
          const r = post
            ? await send(agent, base, 'POST', reloadPath, o.token, params)
            : await send(agent, base, 'GET', GET_PATHS[rng.int(GET_PATHS.length)]!, o.token);
          latency.recordNs(Number(process.hrtime.bigint() - start));
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        } catch {
          statuses.error = (statuses.error ?? 0) + 1;
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: o.clients }, (_, i) => client(i)));

  const stormToS = (performance.now() - tStart) / 1000;
  // The storm's last window closes about when the storm ends: give it a moment to be seen.
  if (watch) await Promise.race([watch.closes(1), sleep(SLACK_S * 1000 + POLL_MS)]);
  let beforeS: number | null;
  let afterS: number | null;
  let baselineWindows: WindowSample[] = [];
  let stormWindows: WindowSample[] = [];
  if (watch && windowMs !== null) {
    await watch.stop();
    const before = phaseP99(watch.windows, 0, stormFromS, windowMs / 1000, SLACK_S);
    const after = phaseP99(watch.windows, stormFromS, stormToS, windowMs / 1000, SLACK_S);
    beforeS = before.p99S;
    afterS = after.p99S;
    baselineWindows = before.used;
    stormWindows = after.used;
  } else {
    beforeS = beforeLifetime;
    afterS = parseTickToDecisionP99(await readMetrics(control, base, o.token)) ?? null;
  }
  const ratio = beforeS !== null && afterS !== null && beforeS > 0 ? afterS / beforeS : null;
  const withinBar = ratio === null ? null : ratio < o.maxRatio;
  const s = latency.summary();
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  const all2xx = Object.keys(statuses).every((k) => /^2\d\d$/.test(k));
  return {
    url: o.url,
    durationS: o.durationS,
    clients: o.clients,
    targetRate: o.rate,
    requests,
    statuses,
    posts,
    lateStarts,
    clientLatencyMs: { p50: ms(s.p50Ns), p99: ms(s.p99Ns), max: ms(s.maxNs) },
    tickToDecisionP99: { method: watch ? 'window' : 'lifetime', windowMs, beforeS, afterS, ratio, maxRatio: o.maxRatio, withinBar, baselineWindows, stormWindows },
    // A window-method run with an empty phase measured nothing: not a pass.
    ok: all2xx && withinBar !== false && !(watch !== undefined && ratio === null),
  };
}

const USAGE = `usage: node dist/scripts/control-storm.js --url URL [--token T] [--duration S] [--baseline S] [--rate R] [--clients N] [--reload NAME] [--seed N] [--max-ratio X]
  --token defaults to $${CONTROL_TOKEN_ENV}; --reload is one of ${tunableNames().join(', ')} (default ${DEFAULTS.reload})`;

function positive(values: Record<string, string | undefined>, name: string, def: number, integer: boolean): number {
  const raw = values[name];
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new PolyedgeError('PE_USAGE', `--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}\n${USAGE}`, name);
  }
  return v;
}

export function parseStormArgs(argv: string[], env: NodeJS.ProcessEnv): StormOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: Object.fromEntries(
        ['url', 'token', 'duration', 'baseline', 'rate', 'clients', 'reload', 'seed', 'max-ratio'].map((n) => [n, { type: 'string' as const }]),
      ),
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new PolyedgeError('PE_USAGE', `${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const url = values.url;
  if (url === undefined || !/^http:\/\/[^\s/]+/.test(url)) throw new PolyedgeError('PE_USAGE', `--url must be an http:// URL\n${USAGE}`, 'url');
  const reload = values.reload ?? DEFAULTS.reload;
  if (!tunableNames().includes(reload)) throw new PolyedgeError('PE_USAGE', `--reload must be one of ${tunableNames().join(', ')}`, 'reload');
  const token = values.token ?? env[CONTROL_TOKEN_ENV];
  return {
    url,
    token: token === '' ? undefined : token,
    durationS: positive(values, 'duration', DEFAULTS.durationS, false),
    baselineS: values.baseline === '0' ? 0 : positive(values, 'baseline', positive(values, 'duration', DEFAULTS.durationS, false), false),
    rate: positive(values, 'rate', DEFAULTS.rate, false),
    clients: positive(values, 'clients', DEFAULTS.clients, true),
    reload,
    seed: positive(values, 'seed', DEFAULTS.seed, true),
    maxRatio: positive(values, 'max-ratio', DEFAULTS.maxRatio, false),
  };
}

async function main(): Promise<number> {
  try {
    const summary = await runStorm(parseStormArgs(process.argv.slice(2), process.env));
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return summary.ok ? 0 : 1;
  } catch (err) {
    const e = err instanceof PolyedgeError ? err : new PolyedgeError('PE_INTERNAL', err instanceof Error ? err.message : String(err));
    process.stderr.write(`${e.format()}\n`);
    return e.code === 'PE_USAGE' ? 2 : 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
