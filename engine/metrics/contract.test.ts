import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { METRICS, type MetricDecl } from './catalog.js';
import { LatencyHistogram } from './latency.js';
import { ProcessCollector, registerProcessMetrics } from './process.js';
import { MetricsRegistry } from './registry.js';

const DOC = fileURLToPath(new URL('../../../engine/metrics/METRICS.md', import.meta.url));

interface DocRow {
  name: string;
  type: string;
  unit: string;
  labels: string[];
  formula: string;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The rows of the first table whose header starts with "Name". */
function parseDoc(text: string): DocRow[] {
  const rows: DocRow[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    const cells = line.slice(1, line.endsWith('|') ? -1 : undefined).split('|').map((c) => c.trim());
    if (!inTable) {
      inTable = cells[0] === 'Name';
      continue;
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    assert.equal(cells.length, 5, `METRICS.md row needs 5 cells: ${line}`);
    const [name, type, unit, labels, formula] = cells as [string, string, string, string, string];
    rows.push({
      name: name.replace(/`/g, ''),
      type,
      unit,
      labels: labels === '—' || labels === '' ? [] : labels.split(',').map((l) => l.trim()),
      formula: squash(formula),
    });
  }
  return rows;
}

function row(d: MetricDecl): string {
  return `| \`${d.name}\` | ${d.type} | ${d.unit} | ${d.labels.length ? d.labels.join(', ') : '—'} | ${d.formula} |`;
}

test('METRICS.md and the declarations agree on every metric name, type, unit, labels and formula', () => {
  const doc = parseDoc(readFileSync(DOC, 'utf8'));
  assert.ok(doc.length > 0, 'no metrics table found in METRICS.md');
  const docByName = new Map(doc.map((r) => [r.name, r]));
  assert.equal(docByName.size, doc.length, 'METRICS.md lists a metric twice');
  const problems: string[] = [];
  for (const d of METRICS) {
    const r = docByName.get(d.name);
    if (!r) {
      problems.push(`missing from METRICS.md; add:\n${row(d)}`);
      continue;
    }
    const want = { type: d.type, unit: d.unit, labels: [...d.labels], formula: squash(d.formula) };
    const got = { type: r.type, unit: r.unit, labels: r.labels, formula: r.formula };
    for (const key of Object.keys(want) as (keyof typeof want)[]) {
      if (JSON.stringify(want[key]) !== JSON.stringify(got[key])) problems.push(`${d.name}: ${key} is ${JSON.stringify(got[key])} in METRICS.md, ${JSON.stringify(want[key])} in catalog.ts; the row should read:\n${row(d)}`);
    }
  }
  const declared = new Set<string>(METRICS.map((d) => d.name));
  for (const r of doc) if (!declared.has(r.name)) problems.push(`${r.name}: in METRICS.md but not declared in catalog.ts`);
  assert.deepEqual(problems, []);
});

test('names carry their unit as Prometheus expects', () => {
  for (const d of METRICS) {
    assert.match(d.name, /^polyedge_[a-z0-9_]+$/, d.name);
    const base = d.name.replace(/_total$/, '');
    if (['seconds', 'usd', 'shares', 'bytes'].includes(d.unit)) assert.ok(base.endsWith(`_${d.unit}`), `${d.name} should end in _${d.unit}`);
    if (d.type === 'summary') assert.equal(d.unit, 'seconds', `${d.name}: summaries are latency histograms, in seconds`);
  }
});

test('a fully wired registry renders only documented metrics, each sample well-formed', () => {
  const registry = new MetricsRegistry();
  // Wire every declared metric with one series, the way the engine will.
  const wire = registry as unknown as MetricsRegistry<readonly MetricDecl[]>;
  for (const d of METRICS as readonly MetricDecl[]) {
    const labels = Object.fromEntries(d.labels.map((l) => [l, `x${l}`]));
    if (d.type === 'summary') {
      const h = new LatencyHistogram();
      h.recordNs(1_500);
      wire.register(d.name, labels, h);
    } else wire.register(d.name, labels, () => 3);
  }
  const text = registry.renderPrometheus();
  const documented = new Map(parseDoc(readFileSync(DOC, 'utf8')).map((r) => [r.name, r]));
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")*\})? (NaN|[+-]Inf|-?[0-9.e+-]+)$/;
  const sampled = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const r = documented.get(meta[2]!);
      assert.ok(r, `${meta[2]} is rendered but not in METRICS.md`);
      if (meta[1] === 'TYPE') assert.equal(meta[3], r.type, `${meta[2]} TYPE`);
      continue;
    }
    const m = sample.exec(line);
    assert.ok(m, `malformed sample line: ${line}`);
    const name = m[1]!;
    const family = documented.has(name) ? name : name.replace(/_count$/, '');
    const r = documented.get(family);
    assert.ok(r, `${name} is rendered but not in METRICS.md`);
    if (family !== name) assert.equal(r.type, 'summary', `${name}: only summaries have _count`);
    for (const l of r.labels) assert.ok(m[2]?.includes(`${l}="`), `${name} lacks its label ${l}`);
    sampled.add(family);
  }
  assert.deepEqual([...sampled].sort(), METRICS.map((d) => d.name).sort());
});

test('the process metrics are wired with sane values: memory, event-loop lag, GC counts and pauses, uptime', async () => {
  const collector = new ProcessCollector(50);
  try {
    const registry = new MetricsRegistry();
    registerProcessMetrics(registry, collector);
    // Short-lived garbage forces scavenges; blocking the loop gives the lag window something to see.
    let keep = 0;
    for (let i = 0; i < 200_000; i++) keep += new Array(8).fill(i).length;
    assert.ok(keep > 0);
    const windowsPast = async (n: number): Promise<void> => {
      for (let deadline = Date.now() + 10_000; collector.windows < n && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    };
    // The monitor's timer must be running before a block can count as its lateness.
    await windowsPast(2);
    // A block of B ms shows B − 20 to B − 10 ms of lag (it starts anywhere in a 10 ms timer period, and the 10 ms
    // resolution is taken off): 50 ms keeps it clear of the 30 ms floor asserted below, which 40 ms could miss.
    const t = Date.now();
    while (Date.now() - t < 50);
    await windowsPast(collector.windows + 2);
    const text = registry.renderPrometheus();
    const value = (name: string, labels = ''): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
      assert.ok(line, `${name}{${labels}} has no sample`);
      return Number(line.split(' ')[1]);
    };
    const rss = value('polyedge_process_resident_memory_bytes');
    const used = value('polyedge_process_heap_used_bytes');
    const total = value('polyedge_process_heap_total_bytes');
    assert.ok(rss > used && used > 0 && used <= total, `rss ${rss}, heap used ${used} of ${total}`);
    assert.ok(value('polyedge_process_external_memory_bytes') >= value('polyedge_process_array_buffers_bytes'));
    assert.ok(value('polyedge_process_uptime_seconds') > 0);
    assert.ok(value('polyedge_event_loop_lag_windows_total') >= 2);
    const max = value('polyedge_event_loop_lag_lifetime_seconds', 'stat="max"');
    // The lifetime histogram is never reset: the 50 ms block is in its max, whichever window it fell in.
    assert.ok(max >= 0.03 && max < 60, `lag max ${max}`);
    const p99 = value('polyedge_event_loop_lag_lifetime_seconds', 'stat="p99"');
    assert.ok(p99 >= 0 && p99 <= max, `lifetime p99 ${p99}, max ${max}`);
    for (const stat of ['p50', 'p99', 'max']) assert.ok(value('polyedge_event_loop_lag_seconds', `stat="${stat}"`) >= 0);
    assert.ok(value('polyedge_gc_total', 'kind="minor"') >= 1);
    assert.ok(value('polyedge_gc_pause_seconds_total', 'kind="minor"') > 0);
    const processNames = METRICS.map((d) => d.name).filter((n) => /^polyedge_(process|event_loop|gc)_/.test(n));
    for (const n of processNames) assert.match(text, new RegExp(`^${n}(\\{[^}]*\\})? `, 'm'), `${n} has no sample`);
  } finally {
    collector.stop();
  }
});
