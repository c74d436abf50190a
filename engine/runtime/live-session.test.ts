// `polyedge run --feeds live` end to end with the venues on loopback: the
// live code path (wall clock, Gamma discovery, Polymarket + Binance futures +
// RTDS + Deribit workers, the futures book as a reference) pointed by config
// at the venue simulator in scenario mode, which lists BTC Up/Down windows of
// the real clock on its Gamma lookup. Only the URLs differ from a real live
// session; nothing here reaches the network.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WINDOW_MS } from '../sim/bundled-updown.js';
import { listedWindows } from '../sim/bundled-updown.fixture.js';
import { VenueSimulator } from '../sim/simulator.js';
import { sample, until as untilWithin } from './session.fixture.js';

const until = <T>(what: string, f: () => T | undefined | Promise<T | undefined>): Promise<T> => untilWithin(what, f, 45_000, 200);

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

test('--feeds live: discovers the windows of the real clock on Gamma, runs all four live feeds and trades on paper', async () => {
  // The window in progress and the two after it, as Gamma would list them today.
  const { specs, listings } = listedWindows(Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS, [{}, {}, {}]);
  const sim = new VenueSimulator({ source: 'scenario', seed: 11, polymarket: { markets: specs, stepMs: 200, gamma: listings } });
  const e = await sim.start();
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-live-'));
  const config = join(dir, 'live.toml');
  writeFileSync(
    config,
    [
      '[venue]',
      `clob_url = "${e.polymarket!.restUrl}"`,
      `market_ws_url = "${e.polymarket!.wsUrl}"`,
      `gamma_url = "${e.polymarket!.restUrl}"`,
      `rtds_url = "${e.rtds!.wsUrl}"`,
      `binance_ws_url = "${e.binance!.wsBaseUrl}"`,
      `binance_rest_url = "${e.binance!.restUrl}"`,
      `deribit_ws_url = "${e.deribit!.wsUrl}"`,
      '[cpu]',
      'pin = false',
      '[engine]',
      'strategies = ["maker", "complete_set", "directional"]',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [MAIN, 'run', '--feeds', 'live', '--config', config, '--journal', join(dir, 'j.log'), '--port', '0'], {
    env: { ...process.env, POLYEDGE_CONTROL_TOKEN: 'live-test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  try {
    const control = await until('control plane up', async () => /control plane on (http:\/\/[\d.]+:\d+)/.exec(stderr)?.[1]);
    const get = async (path: string): Promise<any> => (await fetch(control + path)).json();
    for (const feed of ['polymarket', 'binance', 'rtds', 'deribit']) assert.match(stderr, new RegExp(`${feed} feed worker thread \\d+`), `${feed} worker started`);

    // Discovery on the real clock: the three listed windows take slots, the current one first.
    const slots = await until('three windows discovered', async () => {
      const s = (await get('/state/markets')).slots as Array<{ phase: string; slug: string }>;
      const active = s.filter((x) => x.phase === 'active');
      return active.length === 3 ? active : undefined;
    });
    assert.deepEqual(slots.map((x) => x.slug).sort(), listings.map((l) => l.slug).sort());

    // Trading on paper, priced off the live references (the futures book among them).
    await until('orders and fills', async () => {
      const s = await get('/report/shadow/live');
      return s.counts.ordersSent > 0 && s.counts.fills > 0 ? true : undefined;
    });
    const metrics = await (await fetch(`${control}/metrics`)).text();
    const wins = (source: string) => sample(metrics, 'polyedge_fusion_wins_total', { source }) ?? 0;
    assert.ok(wins('rtds-chainlink') + wins('rtds-binance') + wins('binance-futures') > 0, 'reference prices flow');
    assert.ok((sample(metrics, 'polyedge_feed_frames_total', { source: 'binance' }) ?? 0) > 0, 'the futures feed delivers frames');
    assert.doesNotMatch(stderr, /discovery: .*(HTTP|gamma:|clob-markets:)/, 'no discovery errors');

    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /stopped\. orders \d+/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
