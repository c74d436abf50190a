import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricDecl } from './catalog.js';
import { LatencyHistogram } from './latency.js';
import { MetricsRegistry } from './registry.js';

const DECLS = [
  { name: 'demo_events_total', type: 'counter', unit: 'events', labels: ['source'], help: 'Events seen.', formula: 'count' },
  { name: 'demo_position_shares', type: 'gauge', unit: 'shares', labels: ['token'], help: 'Position.\nPer token, with a \\.', formula: 'sum' },
  { name: 'demo_latency_seconds', type: 'summary', unit: 'seconds', labels: ['source'], help: 'Latency.', formula: 'ns / 1e9' },
  { name: 'demo_state', type: 'gauge', unit: 'state', labels: [], help: 'State.', formula: 'enum' },
] as const satisfies readonly MetricDecl[];

test('renders declared metrics in order; getters are read at scrape time; unwired metrics have no samples', () => {
  const r = new MetricsRegistry(DECLS);
  let events = 41;
  r.register('demo_events_total', { source: 'binance' }, () => events);
  r.register('demo_events_total', { source: 'polymarket' }, () => 0);
  r.register('demo_state', {}, () => 1);
  events++;
  assert.equal(
    r.renderPrometheus(),
    [
      '# HELP demo_events_total Events seen.',
      '# TYPE demo_events_total counter',
      'demo_events_total{source="binance"} 42',
      'demo_events_total{source="polymarket"} 0',
      '# HELP demo_position_shares Position.\\nPer token, with a \\\\.',
      '# TYPE demo_position_shares gauge',
      '# HELP demo_latency_seconds Latency.',
      '# TYPE demo_latency_seconds summary',
      '# HELP demo_state State.',
      '# TYPE demo_state gauge',
      'demo_state 1',
      '',
    ].join('\n'),
  );
  events = 7;
  assert.match(r.renderPrometheus(), /^demo_events_total\{source="binance"\} 7$/m);
});

test('label values are escaped; collectors add series whose labels appear at run time; special values render as Prometheus spells them', () => {
  const r = new MetricsRegistry(DECLS);
  const held = new Map([['1234', 1.5], ['a"b\\c\nd', -2]]);
  r.collect('demo_position_shares', (emit) => {
    for (const [token, shares] of held) emit({ token }, shares);
  });
  r.register('demo_events_total', { source: 'nan' }, () => Number.NaN);
  r.register('demo_events_total', { source: 'inf' }, () => Number.POSITIVE_INFINITY);
  const text = r.renderPrometheus();
  assert.match(text, /^demo_position_shares\{token="1234"\} 1\.5$/m);
  assert.ok(text.includes('demo_position_shares{token="a\\"b\\\\c\\nd"} -2\n'), text);
  assert.match(text, /^demo_events_total\{source="nan"\} NaN$/m);
  assert.match(text, /^demo_events_total\{source="inf"\} \+Inf$/m);
  held.set('999', 3);
  assert.match(r.renderPrometheus(), /^demo_position_shares\{token="999"\} 3$/m);
});

test('latency histograms render as summaries in seconds with four quantiles and a count', () => {
  const r = new MetricsRegistry(DECLS);
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.recordNs(i * 1000); // 1 µs .. 1 ms
  r.register('demo_latency_seconds', { source: 'binance' }, h);
  r.register('demo_latency_seconds', { source: 'idle' }, new LatencyHistogram());
  const lines = r.renderPrometheus().split('\n').filter((l) => l.startsWith('demo_latency_seconds'));
  const s = h.summary();
  assert.deepEqual(lines, [
    `demo_latency_seconds{source="binance",quantile="0.5"} ${s.p50Ns / 1e9}`,
    `demo_latency_seconds{source="binance",quantile="0.9"} ${s.p90Ns / 1e9}`,
    `demo_latency_seconds{source="binance",quantile="0.99"} ${s.p99Ns / 1e9}`,
    `demo_latency_seconds{source="binance",quantile="0.999"} ${s.p999Ns / 1e9}`,
    'demo_latency_seconds_count{source="binance"} 1000',
    'demo_latency_seconds{source="idle",quantile="0.5"} NaN',
    'demo_latency_seconds{source="idle",quantile="0.9"} NaN',
    'demo_latency_seconds{source="idle",quantile="0.99"} NaN',
    'demo_latency_seconds{source="idle",quantile="0.999"} NaN',
    'demo_latency_seconds_count{source="idle"} 0',
  ]);
  // p99 of 1..1000 µs is ~990 µs: the value is in seconds, not ns or ms.
  assert.ok(Math.abs(s.p99Ns / 1e9 - 0.00099) < 0.00001);
});

test('the sliced rendering gives the same text and lets the event loop run between summaries', async () => {
  const r = new MetricsRegistry(DECLS);
  const hs = Array.from({ length: 3 }, () => new LatencyHistogram());
  hs.forEach((h, i) => h.recordNs(1000 * (i + 1)));
  hs.forEach((h, i) => r.register('demo_latency_seconds', { source: `s${i}` }, h));
  let immediates = 0;
  const count = (): void => {
    immediates++;
    if (immediates < 100) setImmediate(count);
  };
  setImmediate(count);
  const sliced = await r.renderPrometheusSliced();
  assert.equal(sliced, r.renderPrometheus());
  // Rendered in one go, the promise would settle before any immediate ran.
  assert.ok(immediates >= 2, `other callbacks ran while rendering (${immediates})`);
});

test('a series registered twice, and bad declaration tables, are refused', () => {
  const r = new MetricsRegistry(DECLS);
  r.register('demo_state', {}, () => 0);
  assert.throws(() => r.register('demo_state', {}, () => 1), /demo_state is already registered/);
  const bad = (d: Partial<MetricDecl>) => () => new MetricsRegistry([{ name: 'x_total', type: 'counter', unit: 'u', labels: [], help: 'h', formula: 'f', ...d }]);
  assert.throws(bad({ name: 'x_count' }), /must end in _total/);
  assert.throws(bad({ type: 'gauge' }), /only counters end in _total/);
  assert.throws(bad({ name: 'bad-name_total' }), /invalid metric name/);
  assert.throws(bad({ labels: ['a', 'a'] }), /declared twice/);
  assert.throws(bad({ labels: ['__x'] }), /invalid label name/);
  assert.throws(bad({ name: 'x_seconds', type: 'summary', labels: ['quantile'] }), /reserved/);
  assert.throws(bad({ formula: '' }), /required/);
  assert.throws(() => new MetricsRegistry([...DECLS, DECLS[0]]), /declared twice/);
});
