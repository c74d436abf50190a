// Side-by-side benchmark harness. Every measurement is a comparison: a suite
// names its baseline and each contender's ratio is taken against a baseline
// measured in the same process, in the same run, so machine noise moves both
// sides together. Numbers are reported, never asserted.
import { Bench } from 'tinybench';
import * as hdr from 'hdr-histogram-js';

export interface Contender {
  name: string;
  fn: () => unknown;
  /** Operations performed by one call of fn; results are per operation. */
  opsPerCall?: number;
}

export interface Row {
  suite: string;
  case: string;
  name: string;
  baseline: boolean;
  /** Mean cost of one operation, ns. */
  nsPerOp: number;
  opsPerSec: number;
  /** Baseline cost / this cost: 12 means twelve times faster than the baseline. */
  speedup: number;
  p50Ns?: number | undefined;
  p99Ns?: number | undefined;
  samples?: number | undefined;
}

export interface BenchContext {
  quick: boolean;
  rows: Row[];
  log(line: string): void;
}

export interface Suite {
  name: string;
  /** What every ratio in this suite is measured against. */
  baseline: string;
  run(ctx: BenchContext): Promise<void>;
}

/**
 * Throughput comparison with tinybench. Each task runs for a fixed time; per
 * call latency percentiles come from tinybench's own samples.
 */
export async function compareThroughput(
  ctx: BenchContext,
  suite: string,
  caseName: string,
  baseline: Contender,
  contenders: Contender[],
): Promise<Row[]> {
  const bench = new Bench({
    name: `${suite}/${caseName}`,
    time: ctx.quick ? 300 : 2000,
    warmupTime: ctx.quick ? 50 : 300,
  });
  const all = [baseline, ...contenders];
  for (const c of all) bench.add(c.name, c.fn);
  await bench.run();
  const perOp = all.map((c) => {
    const task = bench.getTask(c.name);
    const result = task?.result;
    if (!result || (result.state !== 'completed' && result.state !== 'aborted-with-statistics')) {
      const reason = result && result.state === 'errored' ? result.error.message : 'no result';
      throw new Error(`bench ${suite}/${caseName}/${c.name}: ${reason}`);
    }
    const ops = c.opsPerCall ?? 1;
    return {
      contender: c,
      nsPerOp: (result.latency.mean * 1e6) / ops,
      p50Ns: (result.latency.p50 * 1e6) / ops,
      p99Ns: (result.latency.p99 * 1e6) / ops,
      samples: result.latency.samples?.length,
    };
  });
  const base = perOp[0]!.nsPerOp;
  const rows = perOp.map((m, i) => ({
    suite,
    case: caseName,
    name: m.contender.name,
    baseline: i === 0,
    nsPerOp: m.nsPerOp,
    opsPerSec: 1e9 / m.nsPerOp,
    speedup: base / m.nsPerOp,
    p50Ns: m.p50Ns,
    p99Ns: m.p99Ns,
    samples: m.samples,
  }));
  ctx.rows.push(...rows);
  return rows;
}

export interface LatencySummary {
  name: string;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  count: number;
}

/** Records nanosecond samples in an hdr-histogram (1 ns to 10 s, 3 digits). */
export function latencySummary(name: string, samplesNs: ArrayLike<number>): LatencySummary {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: 3 });
  for (let i = 0; i < samplesNs.length; i++) {
    const v = samplesNs[i]!;
    h.recordValue(v < 1 ? 1 : Math.round(v));
  }
  const out = {
    name,
    p50Ns: h.getValueAtPercentile(50),
    p99Ns: h.getValueAtPercentile(99),
    maxNs: h.maxValue,
    count: h.totalCount,
  };
  h.destroy();
  return out;
}

/** Adds latency rows whose speedup compares p50 against the baseline's p50. */
export function pushLatencyRows(
  ctx: BenchContext,
  suite: string,
  caseName: string,
  baseline: LatencySummary,
  contenders: LatencySummary[],
): Row[] {
  const rows = [baseline, ...contenders].map((s, i) => ({
    suite,
    case: caseName,
    name: s.name,
    baseline: i === 0,
    nsPerOp: s.p50Ns,
    opsPerSec: 1e9 / Math.max(s.p50Ns, 1),
    speedup: baseline.p50Ns / Math.max(s.p50Ns, 1),
    p50Ns: s.p50Ns,
    p99Ns: s.p99Ns,
    samples: s.count,
  }));
  ctx.rows.push(...rows);
  return rows;
}

function fmtNs(ns: number | undefined): string {
  if (ns === undefined || !Number.isFinite(ns)) return '-';
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} us`;
  return `${ns.toFixed(1)} ns`;
}

export function formatTable(rows: Row[]): string {
  const header = ['suite', 'case', 'name', 'per op', 'ops/s', 'p50', 'p99', 'vs baseline'];
  const body = rows.map((r) => [
    r.suite,
    r.case,
    r.baseline ? `${r.name} (baseline)` : r.name,
    fmtNs(r.nsPerOp),
    r.opsPerSec >= 1e6 ? `${(r.opsPerSec / 1e6).toFixed(2)} M` : r.opsPerSec.toFixed(0),
    fmtNs(r.p50Ns),
    fmtNs(r.p99Ns),
    r.baseline ? '1.00x' : `${r.speedup.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
