import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { VenueSimulator, VenueSimError } from './simulator.js';
import { WsProbe, getJson, upgradeStatus } from './testkit.js';

const SIMULATOR = fileURLToPath(new URL('./simulator.js', import.meta.url));
const WS = fileURLToPath(new URL('../../../node_modules/ws/wrapper.mjs', import.meta.url));

/** Runs an ES module snippet in a fresh node; resolves with its exit code, stdout, and ms from "stopped" to exit. */
function runChild(source: string, timeoutMs: number): Promise<{ code: number | null; out: string; exitAfterStopMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stoppedAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!stoppedAt && out.includes('stopped')) stoppedAt = performance.now();
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not exit within ${timeoutMs} ms; output:\n${out}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, exitAfterStopMs: stoppedAt ? performance.now() - stoppedAt : -1 });
    });
  });
}

test('stop() leaves no open handles: a process with live clients, heartbeats and a stall exits by itself', async () => {
  const source = `
    import { VenueSimulator } from ${JSON.stringify(SIMULATOR)};
    import WebSocket from ${JSON.stringify(WS)};
    const open = (url) => new Promise((res, rej) => { const ws = new WebSocket(url); ws.on('open', () => res(ws)); ws.on('error', rej); });
    const sim = new VenueSimulator({ speed: 20, seed: 3, deribit: { heartbeatUnitMs: 5 } });
    const urls = await sim.start();
    const [m] = sim.polymarketMarkets();
    const pm = await open(urls.polymarket.wsUrl);
    pm.send(JSON.stringify({ assets_ids: [m.yesTokenId] }));
    const bn = await open(urls.binance.wsBaseUrl + '/stream?streams=btcusdt@depth@0ms');
    const rt = await open(urls.rtds.wsUrl);
    rt.send(JSON.stringify({ action: 'subscribe', subscriptions: [{ topic: 'crypto_prices', type: 'update' }] }));
    const db = await open(urls.deribit.wsUrl);
    db.send(JSON.stringify({ id: 1, method: 'public/set_heartbeat', params: { interval: 10 } }));
    await fetch(urls.polymarket.restUrl + '/book?token_id=' + m.yesTokenId).then((r) => r.text());
    await fetch(urls.binance.restUrl + '/fapi/v1/depth?symbol=BTCUSDT').then((r) => r.text());
    sim.injectFault('rtds', 'stall', { durationMs: 60000 });
    sim.setRandomFaults({ rate: 0.01, seed: 1, kinds: ['duplicate'] });
    await new Promise((r) => setTimeout(r, 200));
    await sim.stop();
    console.log('stopped');
  `;
  const r = await runChild(source, 10_000);
  assert.equal(r.code, 0, r.out);
  assert.ok(r.exitAfterStopMs >= 0 && r.exitAfterStopMs < 2000, `exited ${r.exitAfterStopMs} ms after stop; output:\n${r.out}`);
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

test('portBase puts each venue at its fixed offset; a busy port fails start() cleanly', async () => {
  let sim: VenueSimulator | undefined;
  let base = 0;
  for (let attempt = 0; attempt < 5 && !sim; attempt++) {
    base = Math.min(await freePort(), 65_000);
    const candidate = new VenueSimulator({ portBase: base, speed: 'manual' });
    try {
      await candidate.start();
      sim = candidate;
    } catch {
      await candidate.stop();
    }
  }
  assert.ok(sim, 'found a free port range');
  try {
    assert.equal(sim.urls.polymarket?.port, base);
    assert.equal(sim.urls.binance?.port, base + 1);
    assert.equal(sim.urls.rtds?.port, base + 2);
    assert.equal(sim.urls.deribit?.port, base + 3);
    assert.equal(sim.urls.controlUrl, `http://127.0.0.1:${base}`);
    // Same ports again while the first simulator holds them.
    const clash = new VenueSimulator({ portBase: base, speed: 'manual' });
    try {
      await assert.rejects(clash.start(), /cannot listen/);
    } finally {
      await clash.stop();
    }
  } finally {
    await sim.stop();
  }
  // Released: the ports are reusable right away.
  const again = new VenueSimulator({ portBase: base, speed: 'manual', venues: ['deribit'] });
  await again.start();
  assert.equal(again.urls.deribit?.port, base + 3);
  await again.stop();
});

test('lifecycle and option validation', async () => {
  assert.throws(() => new VenueSimulator({ speed: 0 }), VenueSimError);
  assert.throws(() => new VenueSimulator({ venues: [] }), VenueSimError);
  assert.throws(() => new VenueSimulator({ venues: ['kraken' as 'rtds'] }), /unknown venue/);
  assert.throws(() => new VenueSimulator({ seed: -1 }), VenueSimError);
  assert.throws(() => new VenueSimulator({ portBase: 70_000 }), VenueSimError);
  assert.throws(() => new VenueSimulator({ faults: { rate: 3, seed: 1 } }), /rate/);
  const sim = new VenueSimulator({ venues: ['polymarket', 'rtds'], speed: 'manual' });
  assert.throws(() => sim.urls, /not started/);
  const urls = await sim.start();
  await assert.rejects(sim.start(), /running/);
  assert.equal(urls.binance, undefined);
  assert.throws(() => sim.injectFault('binance', 'drop'), /not running/);
  assert.throws(() => sim.injectFault('rtds', 'crossed_book'), /not supported/);
  assert.throws(() => sim.advance('deribit'), /not running/);
  const p = await WsProbe.open(urls.rtds!.wsUrl);
  const stats = sim.stats();
  assert.equal(stats.venues.rtds?.connections, 1);
  assert.equal(stats.venues.polymarket?.connections, 0);
  // The control surface is on every venue port.
  assert.equal((await getJson(`http://127.0.0.1:${urls.rtds!.port}/_sim/stats`)).status, 200);
  await sim.stop();
  await sim.stop();
  assert.equal((await p.waitForClose()).code, 1006);
  await assert.rejects(upgradeStatus(urls.polymarket!.wsUrl), /ECONNREFUSED/);
});

test('startWhenConnected: a recorded replay waits for its client, then every venue starts together, the generated one without a client of its own', async () => {
  const sim = new VenueSimulator({ venues: ['rtds', 'deribit'], source: 'recorded', speed: 50, seed: 3, startWhenConnected: true });
  const urls = await sim.start();
  const emitted = () => [sim.stats().venues.rtds!.eventsEmitted, sim.stats().venues.deribit!.eventsEmitted];
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(emitted(), [0, 0], 'nothing is played to nobody');
    const rt = await WsProbe.open(urls.rtds!.wsUrl);
    rt.send({ action: 'subscribe', subscriptions: [{ topic: 'crypto_prices', type: 'update' }] });
    await rt.waitForMore(3, 'the capture from its first message');
    for (const deadline = Date.now() + 3_000; emitted()[1] === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    const [rtds, deribit] = emitted();
    assert.ok(rtds! > 0 && deribit! > 0, `both venues play once the recording has its client (rtds ${rtds}, deribit ${deribit})`);
    await rt.close();
  } finally {
    await sim.stop();
  }
});
