import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildBundledMarkets, readChainlinkBtc, WINDOW_MS } from './bundled-updown.js';

test('the bundled capture yields 5-minute BTC Up/Down markets that follow the real path', () => {
  const path = readChainlinkBtc();
  assert.equal(path.length, 1302, 'btc/usd points in the capture (PROVENANCE.md)');
  const s = buildBundledMarkets(path);
  assert.equal(s.markets.length, 4);
  for (const m of s.markets) {
    assert.equal(m.descriptor.endMs - m.descriptor.startMs, WINDOW_MS);
    assert.equal(m.descriptor.startMs % WINDOW_MS, 0);
    const p = m.spec.path!;
    const stepOf = (t: number): number => Math.round((t - s.t0Ms) / 1000);
    // Before the window: even odds. After: resolved the way the real price went.
    if (m.descriptor.startMs > s.t0Ms) assert.equal(p[stepOf(m.descriptor.startMs) - 1], 0.5);
    const open = path.filter((x) => x.tsMs <= m.descriptor.startMs).at(-1)?.price ?? path[0]!.price;
    const close = path.filter((x) => x.tsMs <= m.descriptor.endMs).at(-1)!.price;
    assert.equal(p[stepOf(m.descriptor.endMs) + 1], close >= open ? 0.99 : 0.01);
    assert.equal(m.upWins, close >= open);
    // Inside: Up is above 0.5 exactly when BTC is above the window's open.
    const mid = stepOf(m.descriptor.startMs + WINDOW_MS / 2);
    const priceMid = path.filter((x) => x.tsMs <= s.t0Ms + mid * 1000).at(-1)!.price;
    assert.equal(p[mid]! > 0.5, priceMid > open, `${m.descriptor.slug} mid-window`);
  }
  // Ids are a pure function of the slug: the same session every run.
  assert.deepEqual(buildBundledMarkets(path).markets.map((m) => m.descriptor.tokenIds[0]), s.markets.map((m) => m.descriptor.tokenIds[0]));
});
