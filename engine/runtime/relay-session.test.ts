// The UDP relay as an engine price source, end to end: `polyedge run --relay`
// as a child process on the bundled session, real datagrams from our native
// sender, and the effect of POST /control/reload/fusion read back from
// /metrics (who wins the reference price, and the relay→decision latency).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { native } from '../native.js';
import { F_ASK, F_BID, F_EXCHANGE_TS_NS, F_SEQ, F_STREAM } from '../feeds/relay/packet.js';
import { PacketSender } from '../feeds/relay/sender.js';
import { sample, until } from './session.fixture.js';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const TOKEN = 'relay-session-token';

test('relay as a price source: packets counted, garbage dropped, fusion wins follow /control/reload/fusion, relay→decision measured', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'polyedge-relay-session-'));
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'run', '--journal', join(dir, 'j.log'), '--port', '0', '--speed', '4', '--relay', '127.0.0.1:0'], {
    env: { ...process.env, POLYEDGE_CONTROL_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  child.stdout!.on('data', (d: Buffer) => stdout.push(d.toString()));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const control = await until('control plane up', async () => /control plane on (http:\/\/[\d.]+:\d+)/.exec(stderr)?.[1]);
    const relayAt = /relay receiver on ([\d.]+:\d+)/.exec(stderr)?.[1];
    assert.ok(relayAt, `the relay receiver's address is logged: ${stderr}`);
    const metrics = async (): Promise<string> => (await fetch(`${control}/metrics`)).text();
    const reloadFusion = async (body: object): Promise<{ status: number; body: unknown }> => {
      const res = await fetch(`${control}/control/reload/fusion`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    };

    // The session's own references must be flowing before the relay competes with them.
    await until('rtds-chainlink wins a price', async () => ((sample(await metrics(), 'polyedge_fusion_wins_total', { source: 'rtds-chainlink' }) ?? 0) > 0 ? true : undefined));
    // And markets discovered: a price moves decisions only where a market trades.
    await until('a market is active', async () => ((sample(await metrics(), 'polyedge_market_slots', { phase: 'active' }) ?? 0) > 0 ? true : undefined));

    const sender = new PacketSender(relayAt, 'extended');
    let seq = 0;
    const sendPrices = async (n: number): Promise<void> => {
      // Realistic prices: a few cents around the session's own reference (the relay gates refuse anything far from it).
      const ref = sample(await metrics(), 'polyedge_fusion_price_usd', { source: 'rtds-chainlink' })!;
      assert.ok(ref > 0, 'chainlink has a price');
      for (let i = 0; i < n; i++) {
        const f = sender.fields;
        f[F_STREAM] = 0;
        f[F_SEQ] = ++seq;
        f[F_EXCHANGE_TS_NS] = Number(native.wallNs());
        f[F_BID] = ref - 0.5 + (seq % 7) * 0.01;
        f[F_ASK] = ref + 0.5 + (seq % 7) * 0.01;
        assert.ok(sender.send() > 0, `packet ${seq} sent`);
        // Spread over event-loop turns: each packet is its own reference update, not one batch.
        await new Promise((r) => setTimeout(r, 2));
      }
    };

    // first: every relay packet is the freshest price, so it wins, and the decisions it triggers are timed.
    await sendPrices(200);
    let text = await until('all 200 packets accepted', async () => {
      const t = await metrics();
      return sample(t, 'polyedge_relay_packets_total') === 200 && sample(t, 'polyedge_fusion_updates_total', { source: 'relay' }) === 200 ? t : undefined;
    });
    assert.equal(sample(text, 'polyedge_relay_rejected_total', { reason: 'band' }), 0, 'prices near the reference pass the band');
    assert.ok(sample(text, 'polyedge_fusion_wins_total', { source: 'relay' })! > 0, 'relay wins under policy first');
    text = await until('relay-triggered decisions', async () => {
      const t = await metrics();
      return (sample(t, 'polyedge_source_to_decision_seconds_count', { source: 'relay' }) ?? 0) > 0 ? t : undefined;
    });
    assert.ok(sample(text, 'polyedge_source_to_decision_seconds', { source: 'relay', quantile: '0.5' })! > 0);
    assert.equal(sample(text, 'polyedge_relay_lost_total'), 0);

    // Garbage on the relay port is counted and dropped; the engine keeps going.
    const junk = createSocket('udp4');
    const [host, port] = [relayAt.slice(0, relayAt.lastIndexOf(':')), Number(relayAt.slice(relayAt.lastIndexOf(':') + 1))];
    await new Promise<void>((r, j) => junk.send(Buffer.from('not a relay packet'), port, host, (e) => (e ? j(e) : r())));
    junk.close();
    await until('garbage counted', async () => (sample(await metrics(), 'polyedge_relay_garbage_total') === 1 ? true : undefined));

    // prefer chainlink (fresh within a minute): relay packets arrive but no longer win.
    const bad = await reloadFusion({ policy: 'prefer', prefer: 'rtds-chainlink', stale_ms: 0 });
    assert.equal(bad.status, 400, 'stale_ms below its minimum is refused');
    const r1 = await reloadFusion({ policy: 'prefer', prefer: 'rtds-chainlink', stale_ms: 60_000 });
    assert.equal(r1.status, 200);
    assert.deepEqual(r1.body, { policy: 'prefer', prefer: 'rtds-chainlink', stale_ms: 60_000 });
    const relayWinsBefore = sample(await metrics(), 'polyedge_fusion_wins_total', { source: 'relay' })!;
    await sendPrices(100);
    await until('the next 100 packets accepted', async () => (sample(await metrics(), 'polyedge_relay_packets_total') === 300 ? true : undefined));
    assert.equal(sample(await metrics(), 'polyedge_fusion_wins_total', { source: 'relay' }), relayWinsBefore, 'relay never wins while chainlink is preferred and fresh');

    // prefer relay: every relay packet wins again, and chainlink's updates stop winning while the relay stays fresh.
    const r2 = await reloadFusion({ policy: 'prefer', prefer: 'relay', stale_ms: 60_000 });
    assert.equal(r2.status, 200);
    const chainlinkBefore = sample(await metrics(), 'polyedge_fusion_wins_total', { source: 'rtds-chainlink' })!;
    await sendPrices(100);
    text = await until('relay wins again', async () => {
      const t = await metrics();
      return sample(t, 'polyedge_relay_packets_total') === 400 && sample(t, 'polyedge_fusion_wins_total', { source: 'relay' }) === relayWinsBefore + 100 ? t : undefined;
    });
    assert.equal(sample(text, 'polyedge_fusion_wins_total', { source: 'rtds-chainlink' }), chainlinkBefore, 'chainlink does not win while the preferred relay is fresh');
    sender.close();

    await until('the status line shows the relay', async () => (/relay \d+ pkts, 0 lost, 1 garbage/.test(stdout.join('')) ? true : undefined));

    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));
    assert.equal(code, 0, stderr);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
